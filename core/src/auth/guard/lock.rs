//! The guard's two locks around each read-modify-write of its file, both only ever tried (the
//! waiting, bounded by a deadline, is the caller's), and both safe to hold across `fork()`.

use std::fs;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::{file, LoginGuard};
use crate::deadline::Deadline;

/// How often a lock held by another thread or process is tried again.
const LOCK_POLL: Duration = Duration::from_millis(10);

/// One process-wide lock around read-modify-write of guard files: the file lock does the same
/// between processes (and threads), but this one still holds when the lock file cannot be used.
/// It holds the id of the process whose thread holds it (0: free) rather than being a mutex,
/// because of `fork()`: a child gets a copy of it as it was, held by a thread that does not
/// exist in the child, and a mutex would stay locked there for ever. A child sees another
/// process's id in it and takes it over.
static PROCESS_LOCK: AtomicU32 = AtomicU32::new(0);

/// [`PROCESS_LOCK`] held, released when dropped.
pub(super) struct ProcessLock;

impl ProcessLock {
    fn try_take() -> Option<ProcessLock> {
        let me = std::process::id();
        match PROCESS_LOCK.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => Some(ProcessLock),
            // Held in the process this one was forked from: by nobody here.
            Err(holder) if holder != me => PROCESS_LOCK
                .compare_exchange(holder, me, Ordering::Acquire, Ordering::Relaxed)
                .ok()
                .map(|_| ProcessLock),
            Err(_) => None,
        }
    }
}

impl Drop for ProcessLock {
    fn drop(&mut self) {
        PROCESS_LOCK.store(0, Ordering::Release);
    }
}

/// Both locks, released together when dropped.
pub(super) struct Locked {
    file: Option<fs::File>,
    _process: ProcessLock,
}

impl Drop for Locked {
    fn drop(&mut self) {
        // Explicitly, not only by closing: a child forked while the lock is held has a copy of
        // the descriptor, and a flock lasts until the last copy is closed.
        if let Some(file) = &self.file {
            let _ = file.unlock();
        }
    }
}

/// Waiting for [`Locked`]: the lock file, once opened (`None`: only the process lock is taken).
pub(super) struct Waiting {
    file: Option<fs::File>,
}

impl LoginGuard {
    /// Both locks, waiting for them within `deadline` without blocking the thread; `None` (with
    /// the warning) when the guard is not to be used for this call.
    pub(super) async fn lock(&self, deadline: Deadline) -> Option<Locked> {
        let mut waiting = self.start_locking()?;
        loop {
            if let Some(locked) = self.try_lock(&mut waiting) {
                return Some(locked);
            }
            let left = deadline.left();
            if left.is_zero() {
                self.warn_locked_out();
                return None;
            }
            tokio::time::sleep(LOCK_POLL.min(left)).await;
        }
    }

    /// [`LoginGuard::lock`] for callers that cannot wait asynchronously: the thread sleeps.
    pub(super) fn lock_blocking(&self, wait: Duration) -> Option<Locked> {
        let deadline = Deadline::after(wait);
        let mut waiting = self.start_locking()?;
        loop {
            if let Some(locked) = self.try_lock(&mut waiting) {
                return Some(locked);
            }
            let left = deadline.left();
            if left.is_zero() {
                self.warn_locked_out();
                return None;
            }
            std::thread::sleep(LOCK_POLL.min(left));
        }
    }

    /// Checks the directory and opens the lock file; `None` when the directory is not safe to
    /// use. A lock file that cannot be used is a warning, and then only the process lock is
    /// taken.
    fn start_locking(&self) -> Option<Waiting> {
        if let Err(e) = file::private_dir(&self.path) {
            let problem = if e.kind() == std::io::ErrorKind::PermissionDenied && e.raw_os_error().is_none() {
                format!("{e}; like ssh, tscb uses only a directory owned by the user (or root) that no one else can write to")
            } else {
                format!("its directory cannot be created ({e})")
            };
            self.warn(format!(
                "the login guard file {} is not used: {problem}; refused logins are not remembered across runs",
                self.path.display()
            ));
            return None;
        }
        let file = file::open_lock(&self.path).inspect_err(|e| self.warn_unlockable(e)).ok();
        Some(Waiting { file })
    }

    /// Both locks if they are free now (neither is held while the other is waited for).
    fn try_lock(&self, waiting: &mut Waiting) -> Option<Locked> {
        try_lock(&mut waiting.file, |e| self.warn_unlockable(e))
    }

    fn warn_unlockable(&self, e: &std::io::Error) {
        self.warn(format!(
            "the login guard file {} cannot be locked with {} ({e}): refused logins may not \
             be remembered, and processes running at the same time may lose each other's entries",
            self.path.display(),
            file::lock_path(&self.path).display()
        ))
    }

    fn warn_locked_out(&self) {
        self.warn(format!(
            "the login guard file {} was not used for a login: its lock {} stayed held by another \
             process or thread for too long (a stopped or stuck tscb?), and the call could not wait longer",
            self.path.display(),
            file::lock_path(&self.path).display()
        ))
    }
}

/// Both locks if they are free now; neither is held while the other is waited for. A lock file
/// that cannot be locked (an error, not "held") is reported to `unusable` and let go of: then
/// only the process lock is taken, now and for the rest of this wait.
fn try_lock(file: &mut Option<fs::File>, unusable: impl FnOnce(&io::Error)) -> Option<Locked> {
    let process = ProcessLock::try_take()?;
    match file.as_ref().map(fs::File::try_lock) {
        None | Some(Ok(())) => {}
        Some(Err(fs::TryLockError::WouldBlock)) => return None,
        Some(Err(fs::TryLockError::Error(e))) => {
            unusable(&e);
            *file = None;
        }
    }
    Some(Locked { file: file.take(), _process: process })
}
