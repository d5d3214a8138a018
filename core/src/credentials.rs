//! The sign-in credentials: the OAuth client credentials and the session login, and the checks
//! they pass before anything is sent. Their secrets are [`Secret`]s: never printed.

use crate::codes;
use crate::error::{Error, Result};
use crate::secret::Secret;

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
