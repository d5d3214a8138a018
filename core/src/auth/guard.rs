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
//! An entry is written *before* the login is sent, as `pending` with the time by which the
//! writer's call must be over, and removed when the answer shows the login was not counted as a
//! failure (success, a busy answer, no connection); it becomes `refused` when the login was
//! refused or its outcome is unknown. A client that finds the same credentials pending waits
//! (the file unlocked meanwhile, within its own call deadline) until the entry goes (then it
//! sends its own login) or turns refused (then it is blocked): two processes never send the same
//! credentials at once, so five parallel runs with a wrong password send one login, and runs
//! with the right one do not block each other. A pending entry past its time belongs to a
//! process killed mid-login: its outcome is unknown, and it blocks like a refusal. So does one
//! whose writer is known to be gone (on Linux: same boot and pid namespace, and no process with
//! its id), without waiting for its time: a run interrupted during its login and started again
//! says so at once rather than after the interrupted call's timeout.
//!
//! Each read-modify-write holds an exclusive lock on a file beside it (`<name>.lock`, see
//! [`file::open_lock`]; std's `File::try_lock`, hence Rust 1.89), so that a process never
//! writes back another's stale entry. The lock is never waited for without limit: another
//! process may hold it for ever (stopped, or hostile), and a call has a deadline. Before a
//! login it is waited for within half of what is left of the call's time (the login keeps the
//! other half); after it, for [`UPDATE_WAIT`]. Past that, the call goes on without the guard.
//!
//! Problems with the files (unreadable, corrupt, unwritable, unlockable, a directory others can
//! write to) never stop a login: they are kept as one warning for
//! [`crate::Client::login_guard_warning`], since the library never prints.

mod file;
mod lock;

use std::fs;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::credentials::Login;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use file::{Entries, Entry, Writer};

/// How long a refused login stays refused (public, as `tscb::LOGIN_GUARD_BLOCK`, so that the
/// bindings export it rather than restate it).
pub const BLOCK_FOR: Duration = Duration::from_secs(60 * 60);

/// How often a client waiting for another's login with the same credentials looks again.
const POLL: Duration = Duration::from_millis(100);

/// How long recording a login's outcome waits for the lock. This blocks the thread (the
/// callers are not async), so it is short; a pending entry left behind blocks like an unknown
/// outcome, which keeps the account safe.
const UPDATE_WAIT: Duration = Duration::from_secs(2);

/// Added to a pending entry's time, for the writer to record its outcome after its deadline
/// (whole seconds are stored, and writing the file takes a moment).
const PENDING_GRACE: u64 = 2;

/// The guard of one client.
pub(crate) struct LoginGuard {
    path: PathBuf,
    /// Send even a login that the file has as refused (the outcome is still recorded).
    ignore_guard: bool,
    /// The first problem with the file, until it is taken; `reported` stops later ones.
    warning: Mutex<(Option<String>, bool)>,
}

/// For tests of `fork()`: holds both locks of the guard file at `path`, as a read-modify-write
/// does, until the returned value is dropped (`None` if they could not be had within 10 s).
#[doc(hidden)]
pub fn hold_lock_for_tests(path: &std::path::Path) -> Option<impl Drop> {
    LoginGuard::new(path.to_owned(), false).lock_blocking(Duration::from_secs(10))
}

/// What the file says about one set of credentials.
enum Found {
    /// Nothing that stops a login: it may be sent (an entry is written first).
    Send,
    /// Another client's login with them is in flight: wait for its outcome.
    Wait,
    /// Refused, or an unknown outcome, at this time.
    Blocked(u64),
}

impl LoginGuard {
    pub(crate) fn new(path: PathBuf, ignore_guard: bool) -> LoginGuard {
        LoginGuard { path, ignore_guard, warning: Mutex::new((None, false)) }
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
    /// outcome) within the last hour; waits, within `deadline`, while another client's login
    /// with them is in flight; otherwise records them as pending until `deadline` (the latest
    /// this call can still be sending its login), before the login is sent.
    ///
    /// Async so that the wait does not block the thread, which may be driving other calls' I/O.
    pub(crate) async fn before_login(&self, base: &str, login: &Login, deadline: Deadline) -> Result<()> {
        let message = message(base, login);
        loop {
            {
                // Half of what is left: the login itself needs the rest.
                let Some(_lock) = self.lock(deadline.half_of_what_is_left()).await else { return Ok(()) };
                let now = unix_now();
                let mut file = self.read().unwrap_or_else(Entries::fresh);
                file.entries.retain(|e| blocks(e.at, now));
                let key = hmac::Key::new(hmac::HMAC_SHA256, &file.key);
                let tag = sign(&key, &message);
                match self.look_up(&file, &tag, now) {
                    Found::Blocked(at) => return Err(self.blocked(at, now)),
                    Found::Send => {
                        let until = now + deadline.left().as_secs() + PENDING_GRACE;
                        file.entries.retain(|e| e.tag != tag);
                        let writer = this_process();
                        file.entries.push(Entry { tag, at: now, pending_until: Some(until), writer });
                        self.write(&file);
                        return Ok(());
                    }
                    Found::Wait => {}
                }
            }
            let left = deadline.left();
            if left.is_zero() {
                return Err(deadline.passed(
                    "waiting for another login with the same credentials to end (it is in flight, \
                     as recorded in the login guard file)",
                ));
            }
            tokio::time::sleep(POLL.min(left)).await;
        }
    }

    fn look_up(&self, file: &Entries, tag: &[u8; 32], now: u64) -> Found {
        let Some(entry) = file.entries.iter().find(|e| e.tag == *tag) else { return Found::Send };
        match entry.pending_until {
            Some(until) if in_flight(entry.at, until, now) && !entry.writer.is_some_and(gone) => Found::Wait,
            _ if self.ignore_guard => Found::Send,
            _ => Found::Blocked(entry.at),
        }
    }

    /// Removes the entry of these credentials: the login succeeded, or was not looked at.
    pub(crate) fn clear(&self, base: &str, login: &Login) {
        self.update(base, login, |_| None);
    }

    /// Marks the entry of these credentials refused from now: the login was refused, or its
    /// outcome is unknown.
    pub(crate) fn refused(&self, base: &str, login: &Login) {
        let now = unix_now();
        self.update(base, login, |entry| Some(Entry { at: now, pending_until: None, writer: None, ..entry }));
    }

    fn update(&self, base: &str, login: &Login, change: impl Fn(Entry) -> Option<Entry>) {
        let message = message(base, login);
        let position = |file: &Entries| {
            let tag = sign(&hmac::Key::new(hmac::HMAC_SHA256, &file.key), &message);
            file.entries.iter().position(|e| e.tag == tag)
        };
        // Looked up first without the lock (the file is replaced whole, never seen half
        // written): a call that went on without the guard left no entry, and then nothing waits.
        if self.read().as_ref().and_then(position).is_none() {
            return;
        }
        let Some(_lock) = self.lock_blocking(UPDATE_WAIT) else { return };
        let Some(mut file) = self.read() else { return };
        let Some(i) = position(&file) else { return };
        match change(file.entries[i]) {
            Some(entry) => file.entries[i] = entry,
            None => {
                file.entries.remove(i);
            }
        }
        self.write(&file);
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
                 anyway, delete {path} or ignore the login guard (ignore_login_guard)",
                httpdate::fmt_http_date(since),
            ),
        }
    }

    /// The file's entries; `None` when there is no file yet or it cannot be used (then with a
    /// warning, and a fresh file replaces it at the next write).
    fn read(&self) -> Option<Entries> {
        let text = match file::read(&self.path) {
            Ok(Some(text)) => text,
            Ok(None) => return None,
            Err(e) => {
                self.warn(format!("the login guard file {} cannot be read ({e})", self.path.display()));
                return None;
            }
        };
        let parsed = file::parse(&text);
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
        if let Err(e) = file::write(&self.path, file) {
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

/// Whether a pending entry written at `at`, to be over by `until`, may still be in flight at
/// `now`. An `until` further ahead than the longest call allows (a day) comes from a clock that
/// was turned back, and is not waited for.
fn in_flight(at: u64, until: u64, now: u64) -> bool {
    now < until && until - at.min(now) <= 24 * 60 * 60 + PENDING_GRACE
}

/// This process as a pending entry names it; `None` where that cannot be known (not Linux, or
/// `/proc` not readable), and then its entries are waited for until their time. The pid is read
/// each time (a process forked after the first login has its own); the boot and the pid
/// namespace are not expected to change.
fn this_process() -> Option<Writer> {
    static PLACE: std::sync::OnceLock<Option<(u64, u128)>> = std::sync::OnceLock::new();
    let (namespace, boot) = (*PLACE.get_or_init(|| {
        if !cfg!(target_os = "linux") {
            return None;
        }
        // "pid:[4026531836]"
        let namespace = fs::read_link("/proc/self/ns/pid").ok()?;
        let namespace = namespace.to_str()?.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()?;
        let boot = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        let boot = u128::from_str_radix(&boot.trim().replace('-', ""), 16).ok()?;
        Some((namespace, boot))
    }))?;
    Some(Writer { pid: std::process::id(), namespace, boot })
}

/// Whether the process that wrote a pending entry has ended. Only a process of this boot and
/// pid namespace can be judged (a pid means nothing elsewhere, e.g. on another machine sharing
/// the file), and only when `/proc` shows this pid namespace (it may be another's, e.g. after
/// `unshare --pid` without a new `/proc`); one whose id a new process has taken since counts as
/// running.
fn gone(writer: Writer) -> bool {
    let Some(here) = this_process() else { return false };
    let proc_is_ours =
        fs::read_link("/proc/self").is_ok_and(|pid| pid.to_str() == Some(&here.pid.to_string()));
    proc_is_ours
        && writer.boot == here.boot
        && writer.namespace == here.namespace
        && writer.pid != 0
        && fs::symlink_metadata(format!("/proc/{}", writer.pid))
            .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
}

/// The entries' tag of these credentials.
fn sign(key: &hmac::Key, message: &[u8]) -> [u8; 32] {
    let mut tag = [0u8; 32];
    tag.copy_from_slice(hmac::sign(key, message).as_ref());
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_block_for_an_hour_and_clock_jumps_do_not_extend_it() {
        assert!(blocks(1000, 1000));
        assert!(blocks(1000, 1000 + 3599));
        assert!(!blocks(1000, 1000 + 3600));
        assert!(blocks(5000, 1000));
    }

    #[test]
    fn a_pending_entry_is_in_flight_until_its_time_and_never_for_more_than_a_day() {
        assert!(in_flight(1000, 1122, 1000));
        assert!(in_flight(1000, 1122, 1121));
        assert!(!in_flight(1000, 1122, 1122));
        assert!(!in_flight(1000, 1000 + 2 * 24 * 60 * 60, 1001));
    }
}
