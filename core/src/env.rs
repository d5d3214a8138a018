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

/// The settings the `THINGSPACE_*` variables give, each `None` when its variable is unset.
/// Callers with settings of their own (command-line options, keyword arguments) give them as
/// data to [`EnvSettings::with_overrides`], so that the rules on the result (one credential at
/// least: [`EnvSettings::require_credentials`]) are applied once, here. `Debug` never shows a
/// secret.
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

    /// These settings with `overrides` winning: each field set in `overrides` replaces this
    /// one's, whatever it was; a field `None` there leaves this one's. Nothing is checked here:
    /// see [`EnvSettings::require_credentials`] and [`EnvSettings::builder`].
    ///
    /// ```
    /// use tscb::env::EnvSettings;
    /// let env = EnvSettings { base_url: Some("https://gw.example/api".into()), ..Default::default() };
    /// let given = EnvSettings { bearer_token: Some("b".into()), ..Default::default() };
    /// let settings = env.with_overrides(given).require_credentials()?;
    /// assert_eq!(settings.base_url.as_deref(), Some("https://gw.example/api"));
    /// # Ok::<(), tscb::Error>(())
    /// ```
    pub fn with_overrides(self, overrides: EnvSettings) -> EnvSettings {
        EnvSettings {
            client_id: overrides.client_id.or(self.client_id),
            client_secret: overrides.client_secret.or(self.client_secret),
            login_username: overrides.login_username.or(self.login_username),
            login_password: overrides.login_password.or(self.login_password),
            bearer_token: overrides.bearer_token.or(self.bearer_token),
            session_token: overrides.session_token.or(self.session_token),
            base_url: overrides.base_url.or(self.base_url),
            ca_file: overrides.ca_file.or(self.ca_file),
        }
    }

    /// These settings, or [`no_credentials`] when none of the credentials is set (the base URL
    /// and CA file alone cannot sign in). Half a pair, or an empty value, passes, so that
    /// [`ClientBuilder::build`] names the setting (e.g. `ClientSecret.Invalid`).
    pub fn require_credentials(self) -> Result<EnvSettings> {
        if self.has_credentials() {
            Ok(self)
        } else {
            Err(no_credentials())
        }
    }

    /// A builder with these settings and the defaults for the rest; fails as
    /// [`EnvSettings::require_credentials`] does.
    pub fn builder(self) -> Result<ClientBuilder> {
        let settings = self.require_credentials()?;
        let mut builder = ClientBuilder::default();
        if let Some(url) = settings.base_url {
            builder = builder.base_url(url);
        }
        if let Some(path) = settings.ca_file {
            builder = builder.add_ca_file(path);
        }
        builder = builder.credentials_from(
            settings.client_id,
            settings.client_secret,
            settings.login_username,
            settings.login_password,
        );
        if let Some(token) = settings.bearer_token {
            builder = builder.bearer_token(token);
        }
        if let Some(token) = settings.session_token {
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
    /// that lists them. See [`ClientBuilder::from_env_with`] to replace some of them first.
    pub fn from_env() -> Result<Self> {
        EnvSettings::read()?.builder()
    }

    /// [`ClientBuilder::from_env`] with `overrides` winning over the variables (see
    /// [`EnvSettings::with_overrides`]); the credential rule applies to the result, so
    /// credentials given only in `overrides` are enough.
    pub fn from_env_with(overrides: EnvSettings) -> Result<Self> {
        EnvSettings::read()?.with_overrides(overrides).builder()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str) -> Option<Secret> {
        Some(Secret::from(value))
    }

    #[test]
    fn overrides_win_field_by_field_and_the_credential_rule_applies_to_the_result() {
        let env = EnvSettings {
            bearer_token: token("env-bearer"),
            base_url: Some("https://env.example/api".to_owned()),
            ..EnvSettings::default()
        };
        let given = EnvSettings { bearer_token: token("kw-bearer"), ..EnvSettings::default() };
        let merged = env.clone().with_overrides(given);
        assert_eq!(merged.bearer_token.as_ref().map(Secret::expose), Some("kw-bearer"));
        assert_eq!(merged.base_url.as_deref(), Some("https://env.example/api"));
        // Not given: the variable's value stays.
        let merged = env.with_overrides(EnvSettings::default());
        assert_eq!(merged.bearer_token.as_ref().map(Secret::expose), Some("env-bearer"));

        // No credential in the variables: one given as an override is enough...
        let no_credentials =
            EnvSettings { base_url: Some("https://env.example/api".to_owned()), ..Default::default() };
        let given = EnvSettings { session_token: token("kw-session"), ..EnvSettings::default() };
        no_credentials.clone().with_overrides(given).require_credentials().unwrap();
        // ...and overrides that give none (the base URL, the CA file) are refused with the list
        // of variables to set.
        let given = EnvSettings {
            base_url: Some("https://kw.example/api".to_owned()),
            ca_file: Some(PathBuf::from("/etc/ca.pem")),
            ..EnvSettings::default()
        };
        let err = no_credentials.with_overrides(given).require_credentials().unwrap_err();
        assert_eq!(err.error_code(), codes::BEARER_TOKEN_MISSING);
        assert_eq!(err.error_message(), NO_CREDENTIALS);
        assert_eq!(err.field(), Some(crate::Field::BearerToken));
        // An empty credential is a credential: the builder names it, never "unset".
        let empty = EnvSettings { bearer_token: token(""), ..EnvSettings::default() };
        empty.require_credentials().unwrap();
    }
}
