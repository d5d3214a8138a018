//! The login guard file on disk: its text form, the lock that makes each read-modify-write of
//! it whole across processes, and the private, never half-written replacement of it.
//!
//! Version 2 (this one) tells an in-flight login from a refused one:
//!
//! ```text
//! tscb refused logins v2
//! key <64 hex digits>
//! <tag, 64 hex digits> <unix seconds written> refused
//! <tag, 64 hex digits> <unix seconds written> pending <unix seconds it must be over by> [<writer>]
//! ```
//!
//! `<writer>` (left out where it cannot be known) is the process that sends the login:
//! `<pid>:<pid namespace inode>:<boot id, 32 hex digits>`, so that a process on the same machine,
//! boot and pid namespace can tell that the writer is gone (see [`Writer`]).
//!
//! Version 1 had no state word; its entries are read as refused, as they meant then.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};

use crate::files::{read_bounded, Links};

/// The most the file may hold (and is read of): a few hundred entries.
const MAX_BYTES: u64 = 64 * 1024;

const HEADER_V1: &str = "tscb refused logins v1";
const HEADER: &str = "tscb refused logins v2";

/// The file's contents: the HMAC key and the entries.
pub(super) struct Entries {
    pub(super) key: [u8; 32],
    pub(super) entries: Vec<Entry>,
}

/// One set of credentials: its tag, when the entry was written, and, while its login is in
/// flight, the time by which that login must be over (the writer's call deadline) and, where
/// known, the process sending it.
#[derive(Clone, Copy)]
pub(super) struct Entry {
    pub(super) tag: [u8; 32],
    pub(super) at: u64,
    pub(super) pending_until: Option<u64>,
    pub(super) writer: Option<Writer>,
}

/// A process, named so that another can tell whether it still runs: its id, which is only
/// meaningful within one pid namespace of one boot of one machine, with those.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Writer {
    pub(super) pid: u32,
    pub(super) namespace: u64,
    pub(super) boot: u128,
}

impl Writer {
    fn parse(text: &str) -> Option<Writer> {
        let mut parts = text.split(':');
        let writer = Writer {
            pid: parts.next()?.parse().ok()?,
            namespace: parts.next()?.parse().ok()?,
            boot: u128::from_str_radix(parts.next().filter(|b| b.len() == 32)?, 16).ok()?,
        };
        parts.next().is_none().then_some(writer)
    }

    fn render(&self) -> String {
        format!("{}:{}:{:032x}", self.pid, self.namespace, self.boot)
    }
}

pub(super) fn parse(text: &str) -> Option<Entries> {
    let mut lines = text.lines();
    let v1 = match lines.next()? {
        HEADER => false,
        HEADER_V1 => true,
        _ => return None,
    };
    let key = from_hex(lines.next()?.strip_prefix("key ")?)?;
    let mut entries = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let mut words = line.split(' ');
        let tag = from_hex(words.next()?)?;
        let at = words.next()?.parse().ok()?;
        let (pending_until, writer) = match (v1, words.next()) {
            (true, None) | (false, Some("refused")) => (None, None),
            (false, Some("pending")) => {
                let until = words.next()?.parse().ok()?;
                let writer = match words.next() {
                    Some(word) => Some(Writer::parse(word)?),
                    None => None,
                };
                (Some(until), writer)
            }
            _ => return None,
        };
        if words.next().is_some() {
            return None;
        }
        entries.push(Entry { tag, at, pending_until, writer });
    }
    Some(Entries { key, entries })
}

fn render(file: &Entries) -> String {
    let mut text = format!("{HEADER}\nkey {}\n", to_hex(&file.key));
    for entry in &file.entries {
        let state = match (entry.pending_until, entry.writer) {
            (Some(until), Some(writer)) => format!("pending {until} {}", writer.render()),
            (Some(until), None) => format!("pending {until}"),
            (None, _) => "refused".to_owned(),
        };
        text.push_str(&format!("{} {} {state}\n", to_hex(&entry.tag), entry.at));
    }
    text
}

/// The lock file beside the data file (`refused-logins.lock`). The data file is replaced by a
/// rename, so a lock on it would be a lock on a file that is no longer there; this one is
/// never replaced nor removed (removing it would let two processes lock two different files).
pub(super) fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

/// Opens (creating it) the lock file of the guard file at `path`, for [`fs::File::try_lock`].
/// Never through a link, never blocking (`O_NONBLOCK`: a FIFO planted there would block the
/// open), and only a regular file: a planted link must not make a run create or lock a file
/// elsewhere.
pub(super) fn open_lock(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    let file = options.open(lock_path(path)).map_err(not_followed)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "it is not a regular file"));
    }
    Ok(file)
}

/// The guard file's directory, created 0700 if it is missing, and checked the way ssh checks
/// `~/.ssh`: owned by this user or by root, and not writable by group or others. Whoever else
/// can write there could plant links or files under the names this code writes, or swap the
/// file for one that unblocks refused credentials. Only this directory is checked, not its
/// ancestors: the guard's names are all created in it, and where ssh stops walking up (the home
/// directory) has no counterpart for an arbitrary path. The files in it need no check of their
/// own: in such a directory only its owner (or root) can have put them there.
pub(super) fn private_dir(path: &Path) -> io::Result<()> {
    let dir = create_dir(path)?;
    let meta = fs::metadata(dir)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let unsafe_because = if meta.uid() != me && meta.uid() != 0 {
        format!("it is owned by another user (uid {})", meta.uid())
    } else if meta.mode() & 0o022 != 0 {
        format!("it is writable by group or others (mode {:o})", meta.mode() & 0o7777)
    } else {
        return Ok(());
    };
    Err(io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("its directory {}: {unsafe_because}", dir.display()),
    ))
}

/// The file's directory, created 0700 if it is missing.
fn create_dir(path: &Path) -> io::Result<&Path> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true).mode(0o700);
    builder.create(dir)?;
    Ok(dir)
}

/// The guard file's text; `None` when there is none. Bounded and never through a link nor from
/// anything but a regular file (see [`crate::files::read_bounded`]): text that is not UTF-8 is
/// read as a file not in the expected form.
pub(super) fn read(path: &Path) -> io::Result<Option<String>> {
    match read_bounded(path, MAX_BYTES, Links::Refuse) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces the file at `path` with `file`, leaving out its oldest entries if it would not be
/// read back within [`MAX_BYTES`] (it takes hundreds of credentials refused within an hour).
pub(super) fn write(path: &Path, file: &Entries) -> io::Result<()> {
    let dir = create_dir(path)?;
    let mut text = render(file);
    if text.len() as u64 > MAX_BYTES {
        let mut entries = file.entries.clone();
        entries.sort_by_key(|e| std::cmp::Reverse(e.at));
        while text.len() as u64 > MAX_BYTES && entries.pop().is_some() {
            text = render(&Entries { key: file.key, entries: entries.clone() });
        }
    }
    // Written beside it and renamed over it, so that a reader never sees half a file. The name
    // is random and created anew (`O_EXCL`: an existing name, a link included, is an error), so
    // that a link planted under a name known in advance cannot redirect the write.
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut random = [0u8; 8];
    SystemRandom::new()
        .fill(&mut random)
        .map_err(|_| io::Error::other("no random name for the temporary file"))?;
    let temporary = dir.join(format!(".{name}.{}.tmp", to_hex(&random)));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true).mode(0o600).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    let written = options.open(&temporary).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.sync_all()
    });
    match written.and_then(|()| fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&temporary);
            Err(e)
        }
    }
}

/// An error opening a file with `O_NOFOLLOW` that is a link, said in words.
fn not_followed(e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        io::Error::new(io::ErrorKind::InvalidInput, "it is a symbolic link, which is not followed here")
    } else {
        e
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<[u8; 32]> {
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 7) as u8);
        assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes));
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn both_states_round_trip_and_version_1_entries_are_refused() {
        let tag = [7u8; 32];
        let file = Entries {
            key: [1u8; 32],
            entries: vec![
                Entry { tag, at: 10, pending_until: None, writer: None },
                Entry { tag, at: 20, pending_until: Some(150), writer: None },
                Entry { tag, at: 25, pending_until: Some(160), writer: Some(WRITER) },
            ],
        };
        let back = parse(&render(&file)).unwrap();
        let states: Vec<_> = back.entries.iter().map(|e| (e.at, e.pending_until, e.writer)).collect();
        assert_eq!(states, [(10, None, None), (20, Some(150), None), (25, Some(160), Some(WRITER))]);

        let v1 = format!("{HEADER_V1}\nkey {}\n{} 30\n", to_hex(&[1; 32]), to_hex(&tag));
        let back = parse(&v1).unwrap();
        assert_eq!(back.entries.iter().map(|e| (e.at, e.pending_until)).collect::<Vec<_>>(), [(30, None)]);
        // A v1 line in a v2 file, an unknown state, a malformed writer or a trailing word is not
        // the expected form.
        let boot = "0123456789abcdef0123456789abcdef";
        for line in [
            "30".to_owned(),
            "30 maybe".to_owned(),
            "30 pending".to_owned(),
            "30 refused extra".to_owned(),
            "30 pending 40 12".to_owned(),
            format!("30 pending 40 12:34:{boot}:5"),
            format!("30 pending 40 12:34:{boot} extra"),
            "30 pending 40 12:34:0123".to_owned(),
        ] {
            let text = format!("{HEADER}\nkey {}\n{} {line}\n", to_hex(&[1; 32]), to_hex(&tag));
            assert!(parse(&text).is_none(), "{line}");
        }
    }

    const WRITER: Writer =
        Writer { pid: 4242, namespace: 4026531836, boot: 0x0123_4567_89ab_cdef_0123_4567_89ab_cdef };

    #[test]
    fn the_lock_file_sits_beside_the_data_file() {
        assert_eq!(lock_path(Path::new("/s/tscb/refused-logins")), Path::new("/s/tscb/refused-logins.lock"));
    }
}
