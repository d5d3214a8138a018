//! Where the two tokens come from, and keeping them fresh: the OAuth token from client
//! credentials, the session token from a session login, each renewed once when the service
//! says it is stale, and a refused login never sent again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;

use crate::codes;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use crate::validate;

/// OAuth client credentials: the key and secret of a ThingSpace developer-portal project. The
/// client uses them to get its bearer token (`POST {base}/ts/v1/oauth2/token`) and to get a new
/// one when it runs out.
#[derive(Clone, Debug)]
pub struct ApiKey {
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
}

impl ApiKey {
    /// The OAuth client id and secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> Self {
        ApiKey { client_id: client_id.into(), client_secret: client_secret.into() }
    }
}

/// The account's connectivity-management login. The client uses it for the session token
/// (`POST {base}/m2m/v1/session/login`) and logs in again when the session expires.
///
/// A login that was refused, or whose outcome is unknown, is never sent again by the same client:
/// five failed logins in a row lock the account until Verizon support unlocks it.
#[derive(Clone, Debug)]
pub struct Login {
    pub(crate) username: String,
    pub(crate) password: Secret,
}

impl Login {
    /// The username and password of the account's connectivity-management login.
    pub fn new(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Login { username: username.into(), password: password.into() }
    }
}

pub(crate) fn validate_api_key(key: &ApiKey) -> Result<()> {
    // Basic authentication splits on the first ':', so an id with one cannot be sent.
    if key.client_id.contains(':') {
        return Err(Error::invalid(codes::CLIENT_ID_INVALID, "the OAuth client id must not contain ':'"));
    }
    sign_in_text(&key.client_id, "OAuth client id", codes::CLIENT_ID_INVALID)?;
    sign_in_text(key.client_secret.expose(), "OAuth client secret", codes::CLIENT_SECRET_INVALID)
}

pub(crate) fn validate_login(login: &Login) -> Result<()> {
    sign_in_text(&login.username, "login username", codes::LOGIN_USERNAME_INVALID)?;
    sign_in_text(login.password.expose(), "login password", codes::LOGIN_PASSWORD_INVALID)
}

/// One sign-in credential: non-empty, without control characters. The value is never echoed.
fn sign_in_text(value: &str, what: &str, code: &'static str) -> Result<()> {
    if value.is_empty() || value.chars().any(char::is_control) {
        return Err(Error::invalid(
            code,
            format!("the {what} must be non-empty, without control characters"),
        ));
    }
    Ok(())
}

/// A token in use: its value (kept for redaction), its header, and a generation number that
/// tells a thread whether the token it failed with has been replaced already.
#[derive(Clone)]
pub(crate) struct Token {
    pub(crate) value: Secret,
    pub(crate) header: HeaderValue,
    renew_at: Option<Instant>,
    generation: u64,
}

static GENERATION: AtomicU64 = AtomicU64::new(1);

impl Token {
    pub(crate) fn new(value: Secret, header_text: &str, lifetime: Option<Duration>) -> Result<Token> {
        let mut header = HeaderValue::from_str(header_text).map_err(|_| {
            Error::invalid(codes::BEARER_TOKEN_INVALID_CHARACTER, "a token cannot go into an HTTP header")
        })?;
        header.set_sensitive(true);
        // Renew a little before the service's deadline, so that no call is sent with a token
        // about to run out: a tenth of the lifetime, at most a minute.
        // A lifetime over a day is capped: no token is kept longer, and no deadline can overflow.
        let renew_at = lifetime.map(|l| {
            let l = l.min(Duration::from_secs(24 * 60 * 60));
            Instant::now() + l - (l / 10).min(Duration::from_secs(60))
        });
        Ok(Token { value, header, renew_at, generation: GENERATION.fetch_add(1, Ordering::Relaxed) })
    }

    fn stale(&self) -> bool {
        self.renew_at.is_some_and(|at| Instant::now() >= at)
    }
}

/// The tokens one call uses. Shared, not copied: taking a snapshot costs two reference counts.
#[derive(Clone)]
pub(crate) struct Snapshot {
    pub(crate) bearer: Arc<Token>,
    pub(crate) session: Arc<Token>,
}

/// What to renew after a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stale {
    Bearer,
    Session,
}

/// The sign-in requests, which the client sends on the auth module's behalf.
pub(crate) trait SignIn {
    /// `POST {base}/ts/v1/oauth2/token`; returns the token and its lifetime.
    fn fetch_token(&self, key: &ApiKey) -> Result<(Secret, Option<Duration>)>;
    /// `POST {base}/m2m/v1/session/login` with the given bearer token; returns the session token.
    fn log_in(&self, bearer: &Token, login: &Login) -> Result<Secret>;
}

struct State {
    bearer: Option<Arc<Token>>,
    session: Option<Arc<Token>>,
    /// Set after a login that the service refused, or whose outcome is unknown (it may have
    /// counted as a failure): no login is sent again by this client.
    login_blocked: Option<Error>,
    /// The last sign-in attempt that failed, by attempt number, for the threads that waited on it.
    last_failure: Option<(u64, Error)>,
    attempts: u64,
}

pub(crate) struct Auth {
    api_key: Option<ApiKey>,
    login: Option<Login>,
    state: Mutex<State>,
    /// `State::attempts` (finished sign-in attempts), readable without the lock: a thread notes
    /// it before waiting for the lock, and afterwards knows whether an attempt finished while it
    /// waited.
    attempts: AtomicU64,
}

const NOT_SENT_AGAIN: &str = " (tscb does not send this login again: five failed logins lock the account \
                              until Verizon support unlocks it; check the credentials and make a new client)";
const SHARED: &str = " (the sign-in that this call waited for failed)";

impl Auth {
    pub(crate) fn new(
        bearer: Option<Secret>,
        session: Option<Secret>,
        api_key: Option<ApiKey>,
        login: Option<Login>,
    ) -> Result<Auth> {
        if bearer.is_none() && api_key.is_none() {
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
                let text = format!("{prefix}{}", value.expose());
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
        if let Some(key) = &api_key {
            validate_api_key(key)?;
        }
        if let Some(login) = &login {
            validate_login(login)?;
        }
        let state = State { bearer, session, login_blocked: None, last_failure: None, attempts: 0 };
        Ok(Auth { api_key, login, state: Mutex::new(state), attempts: AtomicU64::new(0) })
    }

    /// Every secret the client holds, for redacting what servers say.
    pub(crate) fn long_lived_secrets(&self) -> Vec<&str> {
        let mut secrets = Vec::new();
        if let Some(key) = &self.api_key {
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

    /// The failure of a sign-in attempt made while this thread waited for the lock, if any: a
    /// waiting thread shares it rather than making the same attempt again.
    fn failed_while_waiting(state: &State, seen: u64) -> Option<Error> {
        match &state.last_failure {
            Some((attempt, error)) if *attempt > seen => Some(error.replay(SHARED)),
            _ => None,
        }
    }

    /// The tokens for the next call, signing in first when a token is missing or about to run
    /// out. The lock is held while signing in, so that many threads cause one sign-in, and a
    /// thread that waited for a sign-in that failed gets that failure instead of trying again.
    pub(crate) fn snapshot(&self, sign_in: &dyn SignIn) -> Result<Snapshot> {
        let seen = self.attempts.load(Ordering::SeqCst);
        let mut state = self.lock();
        let bearer = match &state.bearer {
            Some(token) if !(token.stale() && self.api_key.is_some()) => token.clone(),
            _ => match Self::failed_while_waiting(&state, seen) {
                Some(error) => return Err(error),
                None => self.renew_bearer(&mut state, sign_in)?,
            },
        };
        let session = match &state.session {
            Some(token) => token.clone(),
            None => match Self::failed_while_waiting(&state, seen) {
                Some(error) => return Err(error),
                None => self.renew_session(&mut state, sign_in, bearer.clone())?,
            },
        };
        // Logging in may have renewed the bearer token too.
        let bearer = state.bearer.clone().unwrap_or(bearer);
        Ok(Snapshot { bearer, session })
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
        if self.api_key.is_some() && error.kind() == ErrorKind::Auth && error.http_status() == Some(401) {
            return Some(Stale::Bearer);
        }
        None
    }

    /// Renews `what` unless another thread already replaced the token that `failed` used (or
    /// tried to, and failed: then that failure is returned).
    pub(crate) fn renew(&self, what: Stale, failed: &Snapshot, sign_in: &dyn SignIn) -> Result<()> {
        let seen = self.attempts.load(Ordering::SeqCst);
        let mut state = self.lock();
        match what {
            Stale::Bearer => {
                if state.bearer.as_ref().is_some_and(|t| t.generation == failed.bearer.generation) {
                    if let Some(error) = Self::failed_while_waiting(&state, seen) {
                        return Err(error);
                    }
                    self.renew_bearer(&mut state, sign_in)?;
                }
            }
            Stale::Session => {
                if state.session.as_ref().is_some_and(|t| t.generation == failed.session.generation) {
                    if let Some(error) = Self::failed_while_waiting(&state, seen) {
                        return Err(error);
                    }
                    state.session = None;
                    let bearer = match &state.bearer {
                        Some(token) if !(token.stale() && self.api_key.is_some()) => token.clone(),
                        _ => self.renew_bearer(&mut state, sign_in)?,
                    };
                    self.renew_session(&mut state, sign_in, bearer)?;
                }
            }
        }
        Ok(())
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

    /// Runs a sign-in attempt and counts it when it has finished (so that a thread that started
    /// waiting while it ran sees the count move); a failure is kept for the threads that waited.
    fn attempt<T>(&self, state: &mut State, run: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let outcome = run(state);
        state.attempts += 1;
        if let Err(error) = &outcome {
            state.last_failure = Some((state.attempts, error.replay("")));
        }
        self.attempts.store(state.attempts, Ordering::SeqCst);
        outcome
    }

    fn renew_bearer(&self, state: &mut State, sign_in: &dyn SignIn) -> Result<Arc<Token>> {
        let Some(key) = &self.api_key else {
            // Only reachable with a fixed token, which is always present.
            return Err(Error::invalid(codes::BEARER_TOKEN_MISSING, "no bearer token"));
        };
        self.attempt(state, |state| {
            let (value, lifetime) = sign_in.fetch_token(key)?;
            let text = format!("Bearer {}", value.expose());
            let token = Arc::new(Token::new(value, &text, lifetime)?);
            state.bearer = Some(token.clone());
            Ok(token)
        })
    }

    fn renew_session(
        &self,
        state: &mut State,
        sign_in: &dyn SignIn,
        bearer: Arc<Token>,
    ) -> Result<Arc<Token>> {
        let Some(login) = &self.login else {
            return Err(Error::invalid(codes::SESSION_TOKEN_MISSING, "no session token"));
        };
        if let Some(blocked) = &state.login_blocked {
            return Err(blocked.replay(""));
        }
        self.attempt(state, |state| {
            let mut bearer = bearer;
            let mut bearer_renewed = false;
            loop {
                let error = match sign_in.log_in(&bearer, login) {
                    Ok(value) => {
                        let text = value.expose().to_owned();
                        let token = Arc::new(Token::new(value, &text, None)?);
                        state.session = Some(token.clone());
                        return Ok(token);
                    }
                    Err(error) => error,
                };
                match login_failure(&error) {
                    // The gateway refused the bearer token, not the login: renew it, once.
                    LoginFailure::BearerRefused if self.api_key.is_some() && !bearer_renewed => {
                        bearer_renewed = true;
                        bearer = self.renew_bearer(state, sign_in)?;
                    }
                    LoginFailure::BearerRefused | LoginFailure::NotCounted => return Err(error),
                    LoginFailure::MayHaveCounted => {
                        // This call reports the service's own words; later ones say why they
                        // sent nothing.
                        state.login_blocked = Some(error.replay(NOT_SENT_AGAIN));
                        return Err(error);
                    }
                }
            }
        })
    }
}

/// What a failed login means for the account's count of failed logins.
enum LoginFailure {
    /// The API gateway refused the bearer token (its `fault` form, code 9009xx): the login
    /// itself was never looked at.
    BearerRefused,
    /// Nothing was sent, or the service said it is busy (429, 503): the login was not processed.
    NotCounted,
    /// Refused (wrong credentials), or an outcome we cannot know (a timeout, a broken
    /// connection, a server error, an answer we do not understand): it may count as a failure.
    MayHaveCounted,
}

fn login_failure(error: &Error) -> LoginFailure {
    let code = error.error_code();
    let gateway_code = !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit());
    match error.http_status() {
        Some(401 | 403) if gateway_code || code == "invalid_token" => LoginFailure::BearerRefused,
        Some(429 | 503) => LoginFailure::NotCounted,
        // A failed TLS handshake or a proxy that refused the tunnel: the login never left.
        None if code == codes::CONNECT || code == codes::TLS || code == codes::PROXY => {
            LoginFailure::NotCounted
        }
        _ => LoginFailure::MayHaveCounted,
    }
}
