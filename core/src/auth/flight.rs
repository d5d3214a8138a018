//! One sign-in at a time (single flight): the tokens' state behind a lock held only to look at
//! and update them, the mark of a sign-in in progress, the wait for it, and the bookkeeping that,
//! however a sign-in ends (finished, unwound by a panic, or its future dropped by an async caller
//! that gave up), stores what it got and wakes the waiting calls. It knows no credentials and
//! sends nothing: what a sign-in sends is `keys.rs`'s, what it decides is `auth.rs`'s.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use super::token::Token;
use crate::deadline::Deadline;
use crate::error::{Error, Result};

const SHARED: &str = " (the sign-in that this call waited for failed)";

pub(super) struct State {
    pub(super) bearer: Option<Arc<Token>>,
    pub(super) session: Option<Arc<Token>>,
    /// Set after a login that the service refused, or whose outcome is unknown (it may have
    /// counted as a failure): no login is sent again by this client.
    pub(super) login_blocked: Option<Error>,
    /// The last sign-in attempt that failed, by attempt number, for the threads that waited on it.
    last_failure: Option<(u64, Error)>,
    /// Finished sign-in attempts.
    pub(super) attempts: u64,
    /// A call of this process (its pid) is signing in, unlocked; the others wait on
    /// `Flight::signed_in`. In a process forked meanwhile no thread will finish that sign-in or
    /// wake anyone: there it counts as none (see [`State::signing_in_here`]).
    signing_in: Option<u32>,
}

impl State {
    /// Whether a call of this process is signing in.
    pub(super) fn signing_in_here(&self) -> bool {
        self.signing_in == Some(std::process::id())
    }

    /// The failure of a sign-in attempt that finished after this thread first looked (attempt
    /// count `seen`), if any: a thread that waited for it shares it rather than trying again.
    pub(super) fn failed_since(&self, seen: u64) -> Option<Error> {
        match &self.last_failure {
            Some((attempt, error)) if *attempt > seen => Some(error.replay(SHARED)),
            _ => None,
        }
    }
}

/// The state and the wake-up of the calls that wait for a sign-in.
pub(super) struct Flight {
    state: Mutex<State>,
    /// Woken (all waiters) when a sign-in finishes.
    signed_in: Notify,
}

/// How usable the bearer token in hand is.
pub(super) enum Bearer {
    /// Good: use it.
    Fresh(Arc<Token>),
    /// Due for an early renewal but still valid: renew it, and use it if the renewal fails.
    Early(Arc<Token>),
    /// Missing, expired or refused: a new one is needed first.
    Unusable,
}

/// What a sign-in starts from, taken under the lock.
pub(super) struct Start {
    pub(super) bearer: Bearer,
    pub(super) session: Option<Arc<Token>>,
    pub(super) blocked: Option<Error>,
}

/// What to do next, decided under the lock.
pub(super) enum Step<'a> {
    /// Another call is signing in: wait for it (registered under the lock, so no wake-up is lost).
    Wait(Notified<'a>),
    /// Sign in: this call has marked it in progress.
    SignIn(InProgress<'a>, Start),
}

impl Flight {
    pub(super) fn new(bearer: Option<Arc<Token>>, session: Option<Arc<Token>>) -> Flight {
        let state =
            State { bearer, session, login_blocked: None, last_failure: None, attempts: 0, signing_in: None };
        Flight { state: Mutex::new(state), signed_in: Notify::new() }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the tokens as they were: still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The step of a call that finds a sign-in in progress.
    pub(super) fn wait_step(&self) -> Step<'_> {
        Step::Wait(self.signed_in.notified())
    }

    /// Marks a sign-in in progress, starting from `start`. From here on, whatever happens,
    /// [`InProgress`] clears the mark.
    pub(super) fn start(&self, state: &mut State, start: Start) -> Step<'_> {
        state.signing_in = Some(std::process::id());
        Step::SignIn(InProgress { flight: self, progress: Progress::default(), result: None }, start)
    }

    /// Waits for the sign-in in progress to finish, no longer than `deadline`; its failure is
    /// this call's too.
    pub(super) async fn wait(&self, notified: Notified<'_>, seen: u64, deadline: Deadline) -> Result<()> {
        let left = deadline.left();
        if left.is_zero() {
            return Err(deadline.passed("waiting for another call's sign-in"));
        }
        // Timing out is not an error by itself: the state below says how things stand.
        let _ = tokio::time::timeout(left, notified).await;
        let state = self.lock();
        if let Some(error) = state.failed_since(seen) {
            return Err(error);
        }
        if state.signing_in_here() && deadline.left().is_zero() {
            return Err(deadline.passed("waiting for another call's sign-in"));
        }
        Ok(())
    }
}

/// What a sign-in got, kept even when a later step failed (a token fetched before a refused
/// login is still good).
#[derive(Default)]
pub(super) struct Progress {
    pub(super) bearer: Option<Arc<Token>>,
    pub(super) session: Option<Arc<Token>>,
    pub(super) block_login: Option<Error>,
}

/// A sign-in in progress: when dropped (finished, unwound by a panic, or its future dropped by
/// an async caller that gave up), stores what it got, counts the attempt, clears the flag and
/// wakes the waiting calls.
pub(super) struct InProgress<'a> {
    flight: &'a Flight,
    pub(super) progress: Progress,
    /// The outcome, for the waiters; `None` if the work panicked or was cancelled.
    pub(super) result: Option<Result<()>>,
}

impl Drop for InProgress<'_> {
    fn drop(&mut self) {
        let mut state = self.flight.lock();
        let progress = std::mem::take(&mut self.progress);
        if let Some(bearer) = progress.bearer {
            state.bearer = Some(bearer);
        }
        if let Some(session) = progress.session {
            state.session = Some(session);
        }
        if let Some(block) = progress.block_login {
            state.login_blocked = Some(block);
        }
        state.attempts += 1;
        let failure = match self.result.take() {
            Some(Ok(())) => None,
            Some(Err(error)) => Some(error),
            None if std::thread::panicking() => {
                Some(Error::panic("the sign-in that this call waited for panicked"))
            }
            // Cancelled (its caller dropped the call): no failure to share; a waiter signs in.
            None => None,
        };
        if let Some(error) = failure {
            state.last_failure = Some((state.attempts, error));
        }
        state.signing_in = None;
        drop(state);
        self.flight.signed_in.notify_waiters();
    }
}
