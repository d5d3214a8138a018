//! Where the two tokens come from, and keeping them fresh: the OAuth token from client
//! credentials, the session token from a session login, each renewed once when the service
//! says it is stale, and a refused login never sent again.
//!
//! One sign-in at a time per client (single flight), but the state lock is held only to look
//! at and update the tokens, never across network I/O or a wait: the call that signs in marks
//! it in progress and works unlocked; the others wait for it, each no longer than its own
//! call's deadline. The wait is async (a [`Notify`], not a condition variable), so that it
//! works the same for the async client, whose calls share a runtime's threads (a thread parked
//! on a condition variable would stall every other task on it), and for the blocking one.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

mod flight;
pub(crate) mod guard;
mod login;
mod token;

pub(crate) use crate::credentials::{validate_client_credentials, validate_login, ClientCredentials, Login};
pub(crate) use token::{Snapshot, Token};

use crate::auth::guard::LoginGuard;
use crate::codes;
use crate::deadline::Deadline;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::{joined, Secret};
use crate::validate;
use flight::{InProgress, Progress, Start};

/// What to renew after a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stale {
    Bearer,
    Session,
}

/// The sign-in requests, which the client sends on the auth module's behalf. (The futures are
/// `Send`, so that an [`crate::AsyncClient`] call can run on any tokio worker.)
pub(crate) trait SignIn: Sync {
    /// `POST {base}/ts/v1/oauth2/token`; returns the token and its lifetime.
    fn fetch_token(
        &self,
        key: &ClientCredentials,
        deadline: Deadline,
    ) -> impl Future<Output = Result<(Secret, Option<Duration>)>> + Send;
    /// `POST {base}/m2m/v1/session/login` with the given bearer token; returns the session token.
    fn log_in(
        &self,
        bearer: &Token,
        login: &Login,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Secret>> + Send;
    /// The base URL, which the login guard file keys its entries on.
    fn base(&self) -> &str;
}

struct State {
    bearer: Option<Arc<Token>>,
    session: Option<Arc<Token>>,
    /// Set after a login that the service refused, or whose outcome is unknown (it may have
    /// counted as a failure): no login is sent again by this client.
    login_blocked: Option<Error>,
    /// The last sign-in attempt that failed, by attempt number, for the threads that waited on it.
    last_failure: Option<(u64, Error)>,
    /// Finished sign-in attempts.
    attempts: u64,
    /// A call of this process (its pid) is signing in, unlocked; the others wait on
    /// `Auth::signed_in`. In a process forked meanwhile no thread will finish that sign-in or
    /// wake anyone: there it counts as none (see [`State::signing_in_here`]).
    signing_in: Option<u32>,
}

impl State {
    /// Whether a call of this process is signing in.
    fn signing_in_here(&self) -> bool {
        self.signing_in == Some(std::process::id())
    }
}

pub(crate) struct Auth {
    client_credentials: Option<ClientCredentials>,
    login: Option<Login>,
    pub(crate) guard: Option<LoginGuard>,
    state: Mutex<State>,
    /// Woken (all waiters) when a sign-in finishes.
    signed_in: Notify,
}

/// How usable the bearer token in hand is.
enum Bearer {
    /// Good: use it.
    Fresh(Arc<Token>),
    /// Due for an early renewal but still valid: renew it, and use it if the renewal fails.
    Early(Arc<Token>),
    /// Missing, expired or refused: a new one is needed first.
    Unusable,
}

/// What to do next, decided under the lock.
enum Step<'a> {
    /// Another call is signing in: wait for it (registered under the lock, so no wake-up is lost).
    Wait(Notified<'a>),
    /// Sign in: this call has marked it in progress.
    SignIn(InProgress<'a>, Start),
}

const SHARED: &str = " (the sign-in that this call waited for failed)";

impl Auth {
    pub(crate) fn new(
        bearer: Option<Secret>,
        session: Option<Secret>,
        client_credentials: Option<ClientCredentials>,
        login: Option<Login>,
    ) -> Result<Auth> {
        if bearer.is_none() && client_credentials.is_none() {
            return Err(Error::invalid(
                codes::BEARER_TOKEN_MISSING,
                "no bearer token and no OAuth client credentials were given",
            ));
        }
        if session.is_none() && login.is_none() {
            return Err(Error::invalid(
                codes::SESSION_TOKEN_MISSING,
                "no session token and no session login were given",
            ));
        }
        let fixed =
            |value: Option<Secret>, what: &str, missing, bad, prefix: &str| -> Result<Option<Arc<Token>>> {
                let Some(value) = value else { return Ok(None) };
                validate::token(value.expose(), what, missing, bad)?;
                let text = joined(&[prefix, value.expose()]);
                Token::new(value, &text, None).map(|t| Some(Arc::new(t)))
            };
        let bearer = fixed(
            bearer,
            "bearer token",
            codes::BEARER_TOKEN_MISSING,
            codes::BEARER_TOKEN_INVALID_CHARACTER,
            "Bearer ",
        )?;
        let session = fixed(
            session,
            "session token",
            codes::SESSION_TOKEN_MISSING,
            codes::SESSION_TOKEN_INVALID_CHARACTER,
            "",
        )?;
        if let Some(key) = &client_credentials {
            validate_client_credentials(key)?;
        }
        if let Some(login) = &login {
            validate_login(login)?;
        }
        let state =
            State { bearer, session, login_blocked: None, last_failure: None, attempts: 0, signing_in: None };
        Ok(Auth {
            client_credentials,
            login,
            guard: None,
            state: Mutex::new(state),
            signed_in: Notify::new(),
        })
    }

    /// Every secret the client holds, for redacting what servers say.
    pub(crate) fn long_lived_secrets(&self) -> Vec<&str> {
        let mut secrets = Vec::new();
        if let Some(key) = &self.client_credentials {
            secrets.push(key.client_secret.expose());
        }
        if let Some(login) = &self.login {
            secrets.push(login.password.expose());
        }
        secrets
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the tokens as they were: still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn bearer(&self, state: &State) -> Bearer {
        match &state.bearer {
            Some(token) if self.client_credentials.is_none() || !token.stale() => {
                Bearer::Fresh(token.clone())
            }
            Some(token) if !token.expired() => Bearer::Early(token.clone()),
            _ => Bearer::Unusable,
        }
    }

    /// The failure of a sign-in attempt that finished after this thread first looked (attempt
    /// count `seen`), if any: a thread that waited for it shares it rather than trying again.
    fn failed_since(state: &State, seen: u64) -> Option<Error> {
        match &state.last_failure {
            Some((attempt, error)) if *attempt > seen => Some(error.replay(SHARED)),
            _ => None,
        }
    }

    /// Waits for the sign-in in progress to finish, no longer than `deadline`; its failure is
    /// this call's too.
    async fn wait(&self, notified: Notified<'_>, seen: u64, deadline: Deadline) -> Result<()> {
        let left = deadline.left();
        if left.is_zero() {
            return Err(deadline.passed("waiting for another call's sign-in"));
        }
        // Timing out is not an error by itself: the state below says how things stand.
        let _ = tokio::time::timeout(left, notified).await;
        let state = self.lock();
        if let Some(error) = Self::failed_since(&state, seen) {
            return Err(error);
        }
        if state.signing_in_here() && deadline.left().is_zero() {
            return Err(deadline.passed("waiting for another call's sign-in"));
        }
        Ok(())
    }

    /// The tokens for the next call, signing in first when a token is missing or about to run
    /// out. Many calls cause one sign-in; a call that waited for a sign-in that failed gets
    /// that failure instead of trying again.
    pub(crate) async fn snapshot(&self, sign_in: &impl SignIn, deadline: Deadline) -> Result<Snapshot> {
        let mut seen = None;
        loop {
            let step = {
                let mut state = self.lock();
                let seen = *seen.get_or_insert(state.attempts);
                match (self.bearer(&state), &state.session) {
                    (Bearer::Fresh(bearer), Some(session)) => {
                        return Ok(Snapshot { bearer, session: session.clone() })
                    }
                    // Someone renews it already; until it expires the old token is as good.
                    (Bearer::Early(bearer), Some(session)) if state.signing_in_here() => {
                        return Ok(Snapshot { bearer, session: session.clone() })
                    }
                    _ => {}
                }
                if state.signing_in_here() {
                    Step::Wait(self.signed_in.notified())
                } else if let Some(error) = Self::failed_since(&state, seen) {
                    return Err(error);
                } else {
                    self.start(&mut state, false)
                }
            };
            match step {
                Step::Wait(notified) => self.wait(notified, seen.unwrap_or(0), deadline).await?,
                Step::SignIn(in_progress, start) => {
                    return self.sign_in(in_progress, start, sign_in, deadline).await
                }
            }
        }
    }

    /// The tokens in hand, without signing in.
    pub(crate) fn current(&self) -> Option<Snapshot> {
        let state = self.lock();
        Some(Snapshot { bearer: state.bearer.clone()?, session: state.session.clone()? })
    }

    /// Which token an error says is stale, if that token can be renewed here.
    pub(crate) fn stale(&self, error: &Error) -> Option<Stale> {
        if self.login.is_some() && error.is_session_error() {
            return Some(Stale::Session);
        }
        if self.client_credentials.is_some()
            && error.kind() == ErrorKind::Auth
            && error.http_status() == Some(401)
        {
            return Some(Stale::Bearer);
        }
        None
    }

    /// Renews `what` unless another thread already replaced the token that `failed` used (or
    /// tried to, and failed: then that failure is returned).
    pub(crate) async fn renew(
        &self,
        what: Stale,
        failed: &Snapshot,
        sign_in: &impl SignIn,
        deadline: Deadline,
    ) -> Result<()> {
        let mut seen = None;
        loop {
            let step = {
                let mut state = self.lock();
                let seen = *seen.get_or_insert(state.attempts);
                let in_use = match what {
                    Stale::Bearer => {
                        state.bearer.as_ref().map(|t| t.generation) == Some(failed.bearer.generation)
                    }
                    Stale::Session => {
                        state.session.as_ref().map(|t| t.generation) == Some(failed.session.generation)
                    }
                };
                // Replaced by another call already; a missing session is still to be logged in.
                let still_needed = in_use || (what == Stale::Session && state.session.is_none());
                if !still_needed {
                    return Ok(());
                }
                if state.signing_in_here() {
                    Step::Wait(self.signed_in.notified())
                } else if let Some(error) = Self::failed_since(&state, seen) {
                    return Err(error);
                } else {
                    if what == Stale::Session {
                        state.session = None;
                    }
                    crate::events::signing_in(match what {
                        Stale::Bearer => "renewing the bearer token: the service refused it",
                        Stale::Session => {
                            "logging in again: the service says the session expired or is invalid"
                        }
                    });
                    self.start(&mut state, what == Stale::Bearer)
                }
            };
            match step {
                Step::Wait(notified) => self.wait(notified, seen.unwrap_or(0), deadline).await?,
                Step::SignIn(in_progress, start) => {
                    return self.sign_in(in_progress, start, sign_in, deadline).await.map(|_| ())
                }
            }
        }
    }

    /// Forgets the session after a logout; a client with a login logs in again when next used.
    pub(crate) fn forget_session(&self, ended: &Snapshot) {
        let mut state = self.lock();
        if self.login.is_some()
            && state.session.as_ref().is_some_and(|t| t.generation == ended.session.generation)
        {
            state.session = None;
        }
    }
}
