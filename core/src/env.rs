//! The `THINGSPACE_*` environment variables: their names, written once here, and the one way
//! they are read, by [`crate::ClientBuilder::from_env`], the C `tscb_client_builder_from_env`,
//! Python's `tscb.Client.from_env` and the `tscb` command.

use std::path::PathBuf;

use crate::codes;
use crate::config::ClientBuilder;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The OAuth client id ([`ClientBuilder::credentials`]).
pub const CLIENT_ID: &str = "THINGSPACE_CLIENT_ID";
/// The OAuth client secret.
pub const CLIENT_SECRET: &str = "THINGSPACE_CLIENT_SECRET";
/// The session login's username.
pub const LOGIN_USERNAME: &str = "THINGSPACE_LOGIN_USERNAME";
/// The session login's password.
pub const LOGIN_PASSWORD: &str = "THINGSPACE_LOGIN_PASSWORD";
/// A fixed bearer token ([`ClientBuilder::bearer_token`]).
pub const BEARER_TOKEN: &str = "THINGSPACE_BEARER_TOKEN";
/// A fixed session token ([`ClientBuilder::session_token`]).
pub const SESSION_TOKEN: &str = "THINGSPACE_SESSION_TOKEN";
/// The base URL ([`ClientBuilder::base_url`]).
pub const BASE_URL: &str = "THINGSPACE_BASE_URL";
/// A PEM file of CA certificates to trust as well ([`ClientBuilder::add_ca_file`]).
pub const CA_FILE: &str = "THINGSPACE_CA_FILE";

/// What a builder made from the environment says when no credential variable is set (code
/// [`codes::BEARER_TOKEN_MISSING`], what a builder without credentials says).
pub const NO_CREDENTIALS: &str = "no credentials: set THINGSPACE_CLIENT_ID, THINGSPACE_CLIENT_SECRET, \
     THINGSPACE_LOGIN_USERNAME and THINGSPACE_LOGIN_PASSWORD (or THINGSPACE_BEARER_TOKEN and \
     THINGSPACE_SESSION_TOKEN)";

/// The error for [`NO_CREDENTIALS`].
pub fn no_credentials() -> Error {
    Error::invalid_argument(codes::BEARER_TOKEN_MISSING, NO_CREDENTIALS)
}

/// The variable `name`, `None` when it is unset. One that is set but not UTF-8 is refused with
/// [`codes::ARGUMENT_ENCODING`], naming the variable and never its value: taken as unset, a
/// broken `THINGSPACE_BEARER_TOKEN` would silently switch to the OAuth credentials. An empty one
/// is returned as it is, for the same reason: the builder then says which setting is empty.
pub fn var(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::invalid_argument(
            codes::ARGUMENT_ENCODING,
            format!("the environment variable {name} is not valid UTF-8"),
        )),
    }
}

/// The settings the `THINGSPACE_*` variables give, each `None` when its variable is unset;
/// callers with settings of their own (command-line options, keyword arguments) replace fields
/// before [`EnvSettings::builder`]. `Debug` never shows a secret.
#[derive(Debug, Clone, Default)]
pub struct EnvSettings {
    /// [`CLIENT_ID`].
    pub client_id: Option<String>,
    /// [`CLIENT_SECRET`].
    pub client_secret: Option<Secret>,
    /// [`LOGIN_USERNAME`].
    pub login_username: Option<String>,
    /// [`LOGIN_PASSWORD`].
    pub login_password: Option<Secret>,
    /// [`BEARER_TOKEN`].
    pub bearer_token: Option<Secret>,
    /// [`SESSION_TOKEN`].
    pub session_token: Option<Secret>,
    /// [`BASE_URL`].
    pub base_url: Option<String>,
    /// [`CA_FILE`].
    pub ca_file: Option<PathBuf>,
}

impl EnvSettings {
    /// Reads the variables (see [`var`] for what is refused).
    pub fn read() -> Result<EnvSettings> {
        Ok(EnvSettings {
            client_id: var(CLIENT_ID)?,
            client_secret: var(CLIENT_SECRET)?.map(Secret::from),
            login_username: var(LOGIN_USERNAME)?,
            login_password: var(LOGIN_PASSWORD)?.map(Secret::from),
            bearer_token: var(BEARER_TOKEN)?.map(Secret::from),
            session_token: var(SESSION_TOKEN)?.map(Secret::from),
            base_url: var(BASE_URL)?,
            ca_file: var(CA_FILE)?.map(PathBuf::from),
        })
    }

    /// Whether any credential (not the base URL or CA file) is set.
    pub fn has_credentials(&self) -> bool {
        self.client_id.is_some()
            || self.client_secret.is_some()
            || self.login_username.is_some()
            || self.login_password.is_some()
            || self.bearer_token.is_some()
            || self.session_token.is_some()
    }

    /// A builder with these settings and the defaults for the rest; [`no_credentials`] when no
    /// credential is set. Half a pair, or an empty value, is passed on as it is, so that
    /// [`ClientBuilder::build`] names the setting (e.g. `ClientSecret.Invalid`).
    pub fn builder(self) -> Result<ClientBuilder> {
        if !self.has_credentials() {
            return Err(no_credentials());
        }
        let mut builder = ClientBuilder::default();
        if let Some(url) = self.base_url {
            builder = builder.base_url(url);
        }
        if let Some(path) = self.ca_file {
            builder = builder.add_ca_file(path);
        }
        builder = builder.credentials_from(
            self.client_id,
            self.client_secret,
            self.login_username,
            self.login_password,
        );
        if let Some(token) = self.bearer_token {
            builder = builder.bearer_token(token);
        }
        if let Some(token) = self.session_token {
            builder = builder.session_token(token);
        }
        Ok(builder)
    }
}

impl ClientBuilder {
    /// A builder from the `THINGSPACE_*` environment variables (the names are in
    /// [`tscb::env`](crate::env)): the credentials (`THINGSPACE_CLIENT_ID`, `THINGSPACE_CLIENT_SECRET`,
    /// `THINGSPACE_LOGIN_USERNAME`, `THINGSPACE_LOGIN_PASSWORD`, or `THINGSPACE_BEARER_TOKEN` and
    /// `THINGSPACE_SESSION_TOKEN`), `THINGSPACE_BASE_URL` and `THINGSPACE_CA_FILE`; later setters
    /// replace (or, for [`ClientBuilder::add_ca_file`], add to) what they set. A variable that is
    /// not UTF-8 fails with [`crate::codes::ARGUMENT_ENCODING`], naming it; an empty one is kept, so
    /// [`ClientBuilder::build`] says which setting is empty (it never means "unset"); with no
    /// credential variable at all it fails with [`crate::codes::BEARER_TOKEN_MISSING`] and a message
    /// that lists them. See [`EnvSettings`] to replace some of them first.
    pub fn from_env() -> Result<Self> {
        EnvSettings::read()?.builder()
    }
}
