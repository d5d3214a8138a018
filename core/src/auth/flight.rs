//! The bookkeeping of one sign-in in flight: what it got, and, however it ends (finished,
//! unwound by a panic, or its future dropped by an async caller that gave up), the state
//! updated and the waiting calls woken.

use std::sync::Arc;

use super::{Auth, Token};
use crate::error::{Error, Result};

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
    pub(super) auth: &'a Auth,
    pub(super) progress: Progress,
    /// The outcome, for the waiters; `None` if the work panicked or was cancelled.
    pub(super) result: Option<Result<()>>,
}

impl Drop for InProgress<'_> {
    fn drop(&mut self) {
        let mut state = self.auth.lock();
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
        state.signing_in = false;
        drop(state);
        self.auth.signed_in.notify_waiters();
    }
}
