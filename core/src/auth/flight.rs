//! One sign-in in flight: its start, decided under the lock; its work, done unlocked (the
//! bearer token, then the session login in `login.rs`); and its bookkeeping: what it got, and,
//! however it ends (finished, unwound by a panic, or its future dropped by an async caller that
//! gave up), the state updated and the waiting calls woken.

use std::sync::Arc;

use super::{Auth, Bearer, SignIn, Snapshot, State, Step, Token};
use crate::codes;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::secret::joined;

/// What a sign-in starts from, taken under the lock.
pub(super) struct Start {
    bearer: Bearer,
    session: Option<Arc<Token>>,
    blocked: Option<Error>,
}

impl Auth {
    /// Marks a sign-in in progress for what `state` lacks (a bearer token that is missing, due,
    /// or `refused`; a session). From here on, whatever happens, [`InProgress`] clears the mark.
    pub(super) fn start(&self, state: &mut State, refused: bool) -> Step<'_> {
        let bearer = if refused { Bearer::Unusable } else { self.bearer(state) };
        let start = Start {
            bearer,
            session: state.session.clone(),
            blocked: state.login_blocked.as_ref().map(|e| e.replay("")),
        };
        state.signing_in = Some(std::process::id());
        Step::SignIn(InProgress { auth: self, progress: Progress::default(), result: None }, start)
    }

    /// Signs in, with the lock released while the requests run, and returns the tokens to use.
    pub(super) async fn sign_in(
        &self,
        mut in_progress: InProgress<'_>,
        start: Start,
        sign_in: &impl SignIn,
        deadline: Deadline,
    ) -> Result<Snapshot> {
        let outcome = self
            .sign_in_unlocked(
                start.bearer,
                start.session,
                start.blocked,
                sign_in,
                deadline,
                &mut in_progress.progress,
            )
            .await;
        in_progress.result = Some(outcome.as_ref().map(|_| ()).map_err(|e| e.replay("")));
        outcome
    }

    async fn sign_in_unlocked(
        &self,
        bearer: Bearer,
        session: Option<Arc<Token>>,
        blocked: Option<Error>,
        sign_in: &impl SignIn,
        deadline: Deadline,
        progress: &mut Progress,
    ) -> Result<Snapshot> {
        let bearer = match bearer {
            Bearer::Fresh(token) => token,
            Bearer::Unusable => self.fetch_bearer(sign_in, deadline, progress).await?,
            // A failed early renewal is no reason to fail the call: the old token still works.
            Bearer::Early(old) => {
                crate::events::signing_in("renewing the bearer token early: it runs out soon");
                self.fetch_bearer(sign_in, deadline.half_of_what_is_left(), progress).await.unwrap_or(old)
            }
        };
        let session = match session {
            Some(session) => session,
            None => self.log_in(sign_in, bearer.clone(), blocked, deadline, progress).await?,
        };
        // Logging in may have renewed the bearer token too.
        let bearer = progress.bearer.clone().unwrap_or(bearer);
        Ok(Snapshot { bearer, session })
    }

    pub(super) async fn fetch_bearer(
        &self,
        sign_in: &impl SignIn,
        deadline: Deadline,
        progress: &mut Progress,
    ) -> Result<Arc<Token>> {
        let Some(key) = &self.client_credentials else {
            // Only reachable with a fixed token, which is always present.
            return Err(Error::invalid(codes::BEARER_TOKEN_MISSING, "no bearer token"));
        };
        crate::events::signing_in("fetching an OAuth token");
        let (value, lifetime) = sign_in.fetch_token(key, deadline).await?;
        let text = joined(&["Bearer ", value.expose()]);
        let token = Arc::new(Token::new(value, &text, lifetime)?);
        progress.bearer = Some(token.clone());
        Ok(token)
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
        state.signing_in = None;
        drop(state);
        self.auth.signed_in.notify_waiters();
    }
}
