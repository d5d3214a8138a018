//! The sign-in credentials: the OAuth client credentials and the session login, and the checks
//! they pass before anything is sent. Their secrets are [`Secret`]s: never printed.

use crate::codes;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The OAuth client credentials (client id and client secret; ThingSpace's portal calls them the
/// key and secret of a developer-portal project). The
/// client uses them to get its bearer token (`POST {base}/ts/v1/oauth2/token`) and to get a new
/// one when it runs out.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
}

impl ClientCredentials {
    /// The OAuth client id and secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> Self {
        ClientCredentials { client_id: client_id.into(), client_secret: client_secret.into() }
    }
}

/// The session login: the login username and login password of the account's
/// connectivity-management user (not the callback's `username`/`password`, which ThingSpace
/// echoes to your listener). The client sends them in the session login request
/// (`POST {base}/m2m/v1/session/login`) for its session token, and again when the session expires.
///
/// A login that was refused, or whose outcome is unknown, is never sent again by the same client:
/// five failed logins in a row lock the account until Verizon support unlocks it.
#[derive(Clone, Debug)]
pub struct Login {
    pub(crate) username: String,
    pub(crate) password: Secret,
}

impl Login {
    /// The login username and login password of the account's connectivity-management user.
    pub fn new(login_username: impl Into<String>, login_password: impl Into<Secret>) -> Self {
        Login { username: login_username.into(), password: login_password.into() }
    }
}

pub(crate) fn validate_client_credentials(key: &ClientCredentials) -> Result<()> {
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
