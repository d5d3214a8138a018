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

use std::sync::Arc;

mod flight;
pub(crate) mod guard;
mod keys;
mod token;

pub(crate) use crate::credentials::{validate_client_credentials, validate_login, ClientCredentials, Login};
pub(crate) use keys::SignIn;
pub(crate) use token::{Snapshot, Token};

use crate::auth::guard::LoginGuard;
use crate::codes;
use crate::deadline::Deadline;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::{joined, Secret};
use crate::validate;
use flight::{Bearer, Flight, InProgress, Start, State, Step};
use keys::Keys;

/// What to renew after a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stale {
    Bearer,
    Session,
}

pub(crate) struct Auth {
    keys: Keys,
    flight: Flight,
}

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
        Ok(Auth {
            keys: Keys { client_credentials, login, guard: None },
            flight: Flight::new(bearer, session),
        })
    }

    /// The login guard file to consult around every login.
    pub(crate) fn with_guard(mut self, guard: Option<LoginGuard>) -> Auth {
        self.keys.guard = guard;
        self
    }

    pub(crate) fn guard(&self) -> Option<&LoginGuard> {
        self.keys.guard.as_ref()
    }

    /// Every secret the client holds, for redacting what servers say.
    pub(crate) fn long_lived_secrets(&self) -> Vec<&str> {
        let mut secrets = Vec::new();
        if let Some(key) = &self.keys.client_credentials {
            secrets.push(key.client_secret.expose());
        }
        if let Some(login) = &self.keys.login {
            secrets.push(login.password.expose());
        }
        secrets
    }

    fn bearer(&self, state: &State) -> Bearer {
        match &state.bearer {
            Some(token) if self.keys.client_credentials.is_none() || !token.stale() => {
                Bearer::Fresh(token.clone())
            }
            Some(token) if !token.expired() => Bearer::Early(token.clone()),
            _ => Bearer::Unusable,
        }
    }

    /// The tokens for the next call, signing in first when a token is missing or about to run
    /// out. Many calls cause one sign-in; a call that waited for a sign-in that failed gets
    /// that failure instead of trying again.
    pub(crate) async fn snapshot(&self, sign_in: &impl SignIn, deadline: Deadline) -> Result<Snapshot> {
        let mut seen = None;
        loop {
            let step = {
                let mut state = self.flight.lock();
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
                    self.flight.wait_step()
                } else if let Some(error) = state.failed_since(seen) {
                    return Err(error);
                } else {
                    self.start(&mut state, false)
                }
            };
            match step {
                Step::Wait(notified) => self.flight.wait(notified, seen.unwrap_or(0), deadline).await?,
                Step::SignIn(in_progress, start) => {
                    return self.sign_in(in_progress, start, sign_in, deadline).await
                }
            }
        }
    }

    /// The tokens in hand, without signing in.
    pub(crate) fn current(&self) -> Option<Snapshot> {
        let state = self.flight.lock();
        Some(Snapshot { bearer: state.bearer.clone()?, session: state.session.clone()? })
    }

    /// Which token an error says is stale, if that token can be renewed here.
    pub(crate) fn stale(&self, error: &Error) -> Option<Stale> {
        if self.keys.login.is_some() && error.is_session_error() {
            return Some(Stale::Session);
        }
        if self.keys.client_credentials.is_some()
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
                let mut state = self.flight.lock();
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
                    self.flight.wait_step()
                } else if let Some(error) = state.failed_since(seen) {
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
                Step::Wait(notified) => self.flight.wait(notified, seen.unwrap_or(0), deadline).await?,
                Step::SignIn(in_progress, start) => {
                    return self.sign_in(in_progress, start, sign_in, deadline).await.map(|_| ())
                }
            }
        }
    }

    /// Forgets the session after a logout; a client with a login logs in again when next used.
    pub(crate) fn forget_session(&self, ended: &Snapshot) {
        let mut state = self.flight.lock();
        if self.keys.login.is_some()
            && state.session.as_ref().is_some_and(|t| t.generation == ended.session.generation)
        {
            state.session = None;
        }
    }
}

/// A sign-in's work: started under the lock, done unlocked (the bearer token, then the session
/// login), its outcome left in [`InProgress`] for the calls that waited.
impl Auth {
    /// Marks a sign-in in progress for what `state` lacks (a bearer token that is missing, due,
    /// or `refused`; a session).
    fn start<'a>(&'a self, state: &mut State, refused: bool) -> Step<'a> {
        let bearer = if refused { Bearer::Unusable } else { self.bearer(state) };
        let start = Start {
            bearer,
            session: state.session.clone(),
            blocked: state.login_blocked.as_ref().map(|e| e.replay("")),
        };
        self.flight.start(state, start)
    }

    /// Signs in, with the lock released while the requests run, and returns the tokens to use.
    async fn sign_in(
        &self,
        mut in_progress: InProgress<'_>,
        start: Start,
        sign_in: &impl SignIn,
        deadline: Deadline,
    ) -> Result<Snapshot> {
        let outcome = self.sign_in_unlocked(start, sign_in, deadline, &mut in_progress).await;
        in_progress.result = Some(outcome.as_ref().map(|_| ()).map_err(|e| e.replay("")));
        outcome
    }

    async fn sign_in_unlocked(
        &self,
        start: Start,
        sign_in: &impl SignIn,
        deadline: Deadline,
        in_progress: &mut InProgress<'_>,
    ) -> Result<Snapshot> {
        let progress = &mut in_progress.progress;
        let bearer = match start.bearer {
            Bearer::Fresh(token) => token,
            Bearer::Unusable => self.keys.fetch_bearer(sign_in, deadline, progress).await?,
            // A failed early renewal is no reason to fail the call: the old token still works.
            Bearer::Early(old) => {
                crate::events::signing_in("renewing the bearer token early: it runs out soon");
                self.keys
                    .fetch_bearer(sign_in, deadline.half_of_what_is_left(), progress)
                    .await
                    .unwrap_or(old)
            }
        };
        let session = match start.session {
            Some(session) => session,
            None => self.keys.log_in(sign_in, bearer.clone(), start.blocked, deadline, progress).await?,
        };
        // Logging in may have renewed the bearer token too.
        let bearer = progress.bearer.clone().unwrap_or(bearer);
        Ok(Snapshot { bearer, session })
    }
}
