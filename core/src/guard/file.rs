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
use std::io::Write;
use std::path::{Path, PathBuf};

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

/// Takes the exclusive lock of the guard file at `path` (blocking: holders only read and write
/// the small file, never wait on the network), released when the returned file is dropped.
pub(super) fn lock(path: &Path) -> std::io::Result<fs::File> {
    create_dir(path)?;
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(lock_path(path))?;
    file.lock()?;
    Ok(file)
}

/// The file's directory, created 0700 if it is missing.
fn create_dir(path: &Path) -> std::io::Result<&Path> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    Ok(dir)
}

pub(super) fn write(path: &Path, file: &Entries) -> std::io::Result<()> {
    let dir = create_dir(path)?;
    // Written beside it and renamed over it, so that a reader never sees half a file.
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temporary).and_then(|mut f| {
        f.write_all(render(file).as_bytes())?;
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
