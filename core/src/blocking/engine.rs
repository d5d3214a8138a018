//! The blocking client's engines (a current-thread runtime and a connection pool each) and the
//! list of those no call is using, which also makes a client survive `fork()`.
//!
//! After a fork the child's copy of an engine is not an engine of its own: its runtime's epoll
//! instance and its sockets are the parent's, shared in the kernel. Driving it in the child
//! takes the parent's I/O events (edge-triggered: the parent never sees them again) and adds
//! the child's sockets to the parent's epoll instance with tokens that are pointers into the
//! child's memory (the parent then hung in, or crashed out of, tokio's `ScheduledIo::wake`);
//! two processes send on one keep-alive connection and read each other's answers. Dropping it
//! normally is as bad: the runtime's shutdown deregisters its sockets (`EPOLL_CTL_DEL` acts on
//! the shared instance, so the parent's sockets go silent) and waking a connection's task
//! writes to the parent's eventfd. So a child never drives nor drops an engine made in another
//! process: it leaks them, knowingly, and builds its own. The parent keeps using its engines
//! as before: an epoll instance that only the parent drives and changes works as before, and
//! the child's copies of the sockets stay open, unused, until the child exits. Each engine
//! records the pid of the process that built it; the sign-in state lives elsewhere (`Auth`)
//! and is kept, tokens included.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use crate::async_client::AsyncClient;
use crate::error::Result;

/// The engines no call is using now, all built in one process.
pub(crate) struct Engines {
    /// The most recently returned is taken first, so a client used by one thread at a time keeps
    /// using one runtime and one connection.
    idle: Mutex<Vec<Engine>>,
    /// The process whose engines `idle` holds (changed under the lock; read outside it only to
    /// choose how to take the lock).
    pid: AtomicU32,
}

impl Engines {
    pub(crate) fn new(first: Engine) -> Engines {
        Engines { pid: AtomicU32::new(first.pid), idle: Mutex::new(vec![first]) }
    }

    /// An idle engine built in this process, if there is one.
    pub(crate) fn take(&self) -> Option<Engine> {
        let here = std::process::id();
        let mut idle = self.lock(here)?;
        self.forget_foreign(&mut idle, here);
        idle.pop()
    }

    /// Returns an engine after its call, and lets go of those unused for too long.
    pub(crate) fn give_back(&self, engine: Engine) {
        let here = std::process::id();
        let unused = {
            // Without the list (see `lock`), the engine is simply dropped: it is this process's.
            let Some(mut idle) = self.lock(here) else { return };
            self.forget_foreign(&mut idle, here);
            idle.push(engine);
            let stale = unused_for(idle.iter().map(|e| e.last_used), Instant::now(), ENGINE_IDLE_LIMIT);
            idle.drain(..stale).collect::<Vec<_>>()
        };
        // Shut down outside the lock.
        drop(unused);
    }

    /// The list, locked. In a process forked from the one whose engines it holds, another thread
    /// of the parent may have held the lock at the moment of the fork, and no thread here will
    /// ever release it: there the lock is only tried, and a call that does not get it builds
    /// an engine for itself (a new connection) rather than wait forever.
    fn lock(&self, here: u32) -> Option<MutexGuard<'_, Vec<Engine>>> {
        // A panic never happens while the lock is held, but a poisoned list is still a list.
        if self.pid.load(Ordering::Relaxed) == here {
            return Some(self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        }
        match self.idle.try_lock() {
            Ok(idle) => Some(idle),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Leaks the engines of the process this one was forked from (see the module's comment),
    /// the list's lock held.
    fn forget_foreign(&self, idle: &mut Vec<Engine>, here: u32) {
        if self.pid.load(Ordering::Relaxed) != here {
            std::mem::forget(std::mem::take(idle));
            self.pid.store(here, Ordering::Relaxed);
        }
    }
}

/// How long an engine may sit unused before the client lets it go, and its connections with it:
/// reqwest's own limit for an idle connection, which the engine's runtime cannot enforce while
/// nobody drives it. So a burst of many calls at once does not leave as many runtimes and open
/// (or half-closed) connections behind for the life of the client.
const ENGINE_IDLE_LIMIT: Duration = Duration::from_secs(90);

/// How many engines at the front of the idle list have been unused for `limit` or longer at
/// `now`. The list is in the order the engines were returned, so by when they were last used:
/// they are a prefix. The last one (just returned) always stays.
fn unused_for(last_used: impl ExactSizeIterator<Item = Instant>, now: Instant, limit: Duration) -> usize {
    let keep_last = last_used.len().saturating_sub(1);
    last_used.take(keep_last).take_while(|at| now.saturating_duration_since(*at) >= limit).count()
}

/// A current-thread runtime and a connection pool of its own: its I/O driver, its timers and
/// the tasks that reqwest spawns for its connections all run inside `block_on`, on the thread
/// of the one call that has borrowed it. Building it starts no thread; tokio's blocking pool
/// (which would) is never used.
pub(crate) struct Engine {
    pub(crate) client: AsyncClient,
    runtime: Option<tokio::runtime::Runtime>,
    /// When its last call ended.
    last_used: Instant,
    /// The process that built it, the only one that may drive or drop it.
    pid: u32,
}

impl Engine {
    pub(crate) fn new(client: AsyncClient) -> Result<Engine> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| crate::error::setup_error("the client's runtime", e))?;
        Ok(Engine { client, runtime: Some(runtime), last_used: Instant::now(), pid: std::process::id() })
    }

    pub(crate) fn block_on<T>(&mut self, call: impl Future<Output = Result<T>>) -> Result<T> {
        let Some(runtime) = &self.runtime else {
            // Taken only when the engine is dropped, so never seen here.
            return Err(crate::error::setup_error("the client's runtime", "it was shut down"));
        };
        // Nobody drove this runtime since its last call, so a keep-alive connection that the
        // server closed meanwhile (servers and load balancers close idle ones) still looks open
        // to the pool, and the call would be sent on it and fail. Yielding twice first makes
        // tokio poll the I/O driver (the close becomes visible) and then run the connection's
        // task (which sees it and leaves the pool), so the call opens a new connection instead.
        // That costs about 2 µs, so it is skipped when the last call ended moments ago: no
        // server closes a keep-alive connection that soon after an answer.
        let check = self.last_used.elapsed() >= IDLE_CHECK_AFTER;
        let outcome = runtime.block_on(async {
            if check {
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
            }
            call.await
        });
        self.last_used = Instant::now();
        outcome
    }
}

/// How long an engine may have been idle before a call first lets its connections notice a
/// close (see [`Engine::block_on`]).
const IDLE_CHECK_AFTER: Duration = Duration::from_millis(10);

impl Drop for Engine {
    /// Shuts down without waiting, so that dropping the last clone of a client is fine anywhere,
    /// even inside someone else's async code (a plain drop there would panic).
    /// An engine built in another process (the one this was forked from) is leaked instead
    /// (see the module's comment): its runtime, and a clone of its client, so that the pool's
    /// last reference is never dropped here either.
    fn drop(&mut self) {
        if self.pid != std::process::id() {
            std::mem::forget(self.runtime.take());
            std::mem::forget(self.client.clone());
            return;
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_unused_for_the_limit_are_let_go_but_never_the_last() {
        let start = Instant::now();
        let now = start + Duration::from_secs(1000);
        let ago = |secs| now - Duration::from_secs(secs);
        let limit = Duration::from_secs(90);
        let unused = |list: &[Instant]| unused_for(list.iter().copied(), now, limit);
        assert_eq!(unused(&[ago(300), ago(120), ago(10), ago(0)]), 2);
        assert_eq!(unused(&[ago(300), ago(90), ago(89), ago(0)]), 2);
        assert_eq!(unused(&[ago(10), ago(0)]), 0);
        // All stale (the client sat idle): the one just returned stays.
        assert_eq!(unused(&[ago(500), ago(400)]), 1);
        assert_eq!(unused(&[ago(500)]), 0);
        assert_eq!(unused(&[]), 0);
    }
}
