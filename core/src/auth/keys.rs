//! What a client signs in with (its OAuth client credentials, its session login, the login
//! guard) and the two steps that use them: fetching the OAuth token, and the session login, with
//! the guard file consulted and updated around it, a bearer token refused at the gateway renewed
//! once, and a login that may have counted as a failure never sent again by this client. What
//! a step got goes into the sign-in's [`Progress`]; when to sign in is `auth.rs`'s.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::flight::Progress;
use super::guard::LoginGuard;
use super::token::Token;
use crate::codes;
use crate::credentials::{ClientCredentials, Login};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::secret::{joined, Secret};

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

const NOT_SENT_AGAIN: &str = " (tscb does not send this login again: five failed logins lock the account \
                              until Verizon support unlocks it; check the credentials and make a new client)";

/// The credentials of one client.
pub(super) struct Keys {
    pub(super) client_credentials: Option<ClientCredentials>,
    pub(super) login: Option<Login>,
    pub(super) guard: Option<LoginGuard>,
}

impl Keys {
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

    pub(super) async fn log_in(
        &self,
        sign_in: &impl SignIn,
        mut bearer: Arc<Token>,
        blocked: Option<Error>,
        deadline: Deadline,
        progress: &mut Progress,
    ) -> Result<Arc<Token>> {
        let Some(login) = &self.login else {
            return Err(Error::invalid(codes::SESSION_TOKEN_MISSING, "no session token"));
        };
        if let Some(blocked) = blocked {
            crate::events::login_blocked(&blocked);
            return Err(blocked);
        }
        if let Some(guard) = &self.guard {
            guard.before_login(sign_in.base(), login, deadline).await.inspect_err(|e| {
                // Its other failure is running out of time, which is no refusal.
                if e.error_code() == codes::LOGIN_BLOCKED {
                    crate::events::login_blocked(e)
                }
            })?;
        }
        crate::events::signing_in("logging in (session login)");
        let mut bearer_renewed = false;
        loop {
            // Out of time before sending: say so, rather than let a timeout that sent nothing
            // pass for a login with an unknown outcome (which would block the login).
            if deadline.left().is_zero() {
                self.clear_guard(sign_in, login);
                return Err(deadline.passed("before the login could be sent"));
            }
            let error = match sign_in.log_in(&bearer, login, deadline).await {
                Ok(value) => {
                    self.clear_guard(sign_in, login);
                    let text = joined(&[value.expose()]);
                    let token = Arc::new(Token::new(value, &text, None)?);
                    progress.session = Some(token.clone());
                    return Ok(token);
                }
                Err(error) => error,
            };
            match login_failure(&error) {
                // The gateway refused the bearer token, not the login: renew it, once.
                LoginFailure::BearerRefused if self.client_credentials.is_some() && !bearer_renewed => {
                    bearer_renewed = true;
                    bearer = self.fetch_bearer(sign_in, deadline, progress).await.inspect_err(|_| {
                        self.clear_guard(sign_in, login);
                    })?;
                }
                LoginFailure::BearerRefused | LoginFailure::NotCounted => {
                    self.clear_guard(sign_in, login);
                    return Err(error);
                }
                LoginFailure::MayHaveCounted => {
                    // This call reports the service's own words; later ones say why they
                    // sent nothing. The guard file's entry turns from pending to refused.
                    if let Some(guard) = &self.guard {
                        guard.refused(sign_in.base(), login);
                    }
                    progress.block_login = Some(error.replay(NOT_SENT_AGAIN));
                    return Err(error);
                }
            }
        }
    }

    fn clear_guard(&self, sign_in: &impl SignIn, login: &Login) {
        if let Some(guard) = &self.guard {
            guard.clear(sign_in.base(), login);
        }
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
