//! The login guard file: remembers, across clients and processes, a login that was refused or
//! whose outcome is unknown, so that a script run again and again does not lock the account
//! (five failed logins in a row lock it until Verizon support unlocks it).
//!
//! The file holds no password: each entry is an HMAC-SHA256 of the base URL, the login username
//! and the password, keyed with a random key kept in the same file, and the time it was written.
//! The key makes the tags useless for guessing a password elsewhere (without it a plain hash
//! of a weak password could be looked up); anyone who can read the file can still test guesses
//! against it, which is why it is 0600 in a 0700 directory.
//!
//! An entry is written *before* the login is sent and removed when the answer shows the login
//! was not counted as a failure (success, a busy answer, no connection): a process killed while
//! its login is in flight leaves the entry behind, since its outcome is unknown.
//!
//! Problems with the file itself (unreadable, corrupt, unwritable) never stop a login: they
//! are kept as one warning for [`crate::Client::login_guard_warning`], since the library never
//! prints. Two processes writing at the same moment can lose one's entry (the file is replaced
//! whole, never left half-written); the guard narrows the risk of a lockout, it cannot close it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::auth::Login;
use crate::error::{Error, Result};

/// How long a refused login stays refused.
pub(crate) const BLOCK_FOR: Duration = Duration::from_secs(60 * 60);

const HEADER: &str = "tscb refused logins v1";

/// The guard of one client.
pub(crate) struct LoginGuard {
    path: PathBuf,
    /// Send even a login that the file has (the outcome is still recorded).
    retry_refused: bool,
    /// The first problem with the file, until it is taken; `reported` stops later ones.
    warning: Mutex<(Option<String>, bool)>,
}

/// One process-wide lock around read-modify-write of guard files, so that two clients of the
/// same process never lose each other's entries.
static FILE_LOCK: Mutex<()> = Mutex::new(());

/// The file's contents: the key and the entries (tag, unix seconds).
struct Entries {
    key: [u8; 32],
    entries: Vec<([u8; 32], u64)>,
}

impl LoginGuard {
    pub(crate) fn new(path: PathBuf, retry_refused: bool) -> LoginGuard {
        LoginGuard { path, retry_refused, warning: Mutex::new((None, false)) }
    }

    /// The first problem with the guard file, once: later calls return `None`.
    pub(crate) fn take_warning(&self) -> Option<String> {
        self.warning.lock().unwrap_or_else(|p| p.into_inner()).0.take()
    }

    fn warn(&self, problem: String) {
        let mut warning = self.warning.lock().unwrap_or_else(|p| p.into_inner());
        if !warning.1 {
            *warning = (Some(problem), true);
        }
    }

    /// Fails with [`Error::LoginBlocked`] when these credentials were refused (or had an unknown
    /// outcome) within the last hour; otherwise records them as in flight, before the login is
    /// sent.
    pub(crate) fn before_login(&self, base: &str, login: &Login) -> Result<()> {
        let _lock = FILE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let now = unix_now();
        let mut file = self.read().unwrap_or_else(Entries::fresh);
        file.entries.retain(|(_, at)| blocks(*at, now));
        let key = hmac::Key::new(hmac::HMAC_SHA256, &file.key);
        let message = message(base, login);
        if !self.retry_refused {
            if let Some((_, at)) =
                file.entries.iter().find(|(tag, _)| hmac::verify(&key, &message, tag).is_ok())
            {
                return Err(self.blocked(*at, now));
            }
        }
        let tag = hmac::sign(&key, &message);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(tag.as_ref());
        file.entries.retain(|(t, _)| *t != bytes);
        file.entries.push((bytes, now));
        self.write(&file);
        Ok(())
    }

    /// Removes the entry of these credentials: the login succeeded, or was not looked at.
    pub(crate) fn clear(&self, base: &str, login: &Login) {
        let _lock = FILE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let Some(mut file) = self.read() else { return };
        let key = hmac::Key::new(hmac::HMAC_SHA256, &file.key);
        let message = message(base, login);
        let before = file.entries.len();
        file.entries.retain(|(tag, _)| hmac::verify(&key, &message, tag).is_err());
        if file.entries.len() != before {
            self.write(&file);
        }
    }

    fn blocked(&self, at: u64, now: u64) -> Error {
        let since = UNIX_EPOCH + Duration::from_secs(at);
        let minutes = now.saturating_sub(at) / 60;
        let path = self.path.display();
        Error::LoginBlocked {
            message: format!(
                "not sent: a login with these credentials to this base URL was refused, or its \
                 outcome is unknown, at {} ({minutes} min ago), as recorded in {path}; five failed \
                 logins in a row lock the account until Verizon support unlocks it, so tscb does not \
                 send the same credentials again for an hour. Check the credentials; to send them \
                 anyway, delete {path} (the tscb command: pass --retry-refused-login)",
                httpdate::fmt_http_date(since),
            ),
        }
    }

    /// The file's entries; `None` when there is no file yet or it cannot be used (then with a
    /// warning, and a fresh file replaces it at the next write).
    fn read(&self) -> Option<Entries> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                self.warn(format!("the login guard file {} cannot be read ({e})", self.path.display()));
                return None;
            }
        };
        let parsed = parse(&text);
        if parsed.is_none() {
            self.warn(format!(
                "the login guard file {} is not in the expected form; it is replaced",
                self.path.display()
            ));
        }
        parsed
    }

    /// Replaces the file with `file` (0600, in a 0700 directory); a failure becomes the warning.
    fn write(&self, file: &Entries) {
        if let Err(e) = write_file(&self.path, file) {
            self.warn(format!(
                "the login guard file {} cannot be written ({e}): refused logins are not remembered \
                 across runs",
                self.path.display()
            ));
        }
    }
}

impl Entries {
    fn fresh() -> Entries {
        let mut key = [0u8; 32];
        // The system's random source failing is so rare that a fixed key (which still keeps
        // the password out of the file) is an acceptable fallback.
        let _ = SystemRandom::new().fill(&mut key);
        Entries { key, entries: Vec::new() }
    }
}

/// Whether an entry written at `at` still blocks at `now` (a time ahead of the clock, after the
/// clock was turned back, counts from now rather than blocking for longer).
fn blocks(at: u64, now: u64) -> bool {
    at.min(now) + BLOCK_FOR.as_secs() > now
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// What the tag covers: the base URL, the login username and the password, each ended by a NUL
/// (which none of them can contain), so that no two triples give the same bytes.
fn message(base: &str, login: &Login) -> Vec<u8> {
    let mut message = Vec::new();
    for part in [base, login.username.as_str(), login.password.expose()] {
        message.extend_from_slice(part.as_bytes());
        message.push(0);
    }
    message
}

fn parse(text: &str) -> Option<Entries> {
    let mut lines = text.lines();
    if lines.next()? != HEADER {
        return None;
    }
    let key = from_hex(lines.next()?.strip_prefix("key ")?)?;
    let mut entries = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let (tag, at) = line.split_once(' ')?;
        entries.push((from_hex(tag)?, at.parse().ok()?));
    }
    Some(Entries { key, entries })
}

fn write_file(path: &Path, file: &Entries) -> std::io::Result<()> {
    let mut text = format!("{HEADER}\nkey {}\n", to_hex(&file.key));
    for (tag, at) in &file.entries {
        text.push_str(&format!("{} {at}\n", to_hex(tag)));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    // Written beside it and renamed over it, so that a reader never sees half a file.
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
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
    fn entries_block_for_an_hour_and_clock_jumps_do_not_extend_it() {
        assert!(blocks(1000, 1000));
        assert!(blocks(1000, 1000 + 3599));
        assert!(!blocks(1000, 1000 + 3600));
        assert!(blocks(5000, 1000));
    }
}
