//! What goes over the wire and what comes back.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::input::{CallbackCredentials, CallbackUrl, ServiceName};
use crate::secret::Secret;

/// A callback listener to register: the service to subscribe to and the listener's URL, with an
/// optional username and password that ThingSpace echoes in every message it sends. Each is
/// checked when it is set ([`ServiceName`], [`CallbackUrl`], [`CallbackCredentials`]); only the
/// URL's port is left to the call, since the client decides whether it is checked.
///
/// ```
/// use tscb::{services, CallbackRegistration};
/// let reg = CallbackRegistration::new(services::CARRIER_SERVICE, "https://listener.example.com/tscb")?
///     .with_username("fleet-7")?
///     .with_password("s3cret")?;
/// assert_eq!(reg.service_name(), "CarrierService");
/// assert!(!format!("{reg:?}").contains("s3cret"));
/// # Ok::<(), tscb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRegistration {
    service_name: ServiceName,
    url: CallbackUrl,
    credentials: CallbackCredentials,
}

impl CallbackRegistration {
    /// A registration for `service_name` (see [`crate::services`]; any name of ASCII letters and
    /// digits is accepted) delivering to `url`; fails as [`ServiceName::new`] and
    /// [`CallbackUrl::new`] do.
    pub fn new(
        service_name: impl TryInto<ServiceName, Error: Into<Error>>,
        url: impl TryInto<CallbackUrl, Error: Into<Error>>,
    ) -> Result<Self> {
        Ok(CallbackRegistration {
            service_name: service_name.try_into().map_err(Into::into)?,
            url: url.try_into().map_err(Into::into)?,
            credentials: CallbackCredentials::default(),
        })
    }

    /// Sets the username ThingSpace echoes in each callback (at most 40 characters, no control
    /// character).
    pub fn with_username(mut self, username: impl Into<String>) -> Result<Self> {
        self.credentials = self.credentials.with_username(username)?;
        Ok(self)
    }

    /// Sets the password ThingSpace echoes in each callback (at most 40 characters, no control
    /// character; never the account's own login password: ThingSpace sends it back in plain
    /// text).
    pub fn with_password(mut self, password: impl Into<Secret>) -> Result<Self> {
        self.credentials = self.credentials.with_password(password)?;
        Ok(self)
    }

    /// Sets the username and password, replacing both.
    pub fn with_credentials(mut self, credentials: CallbackCredentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// The service name.
    pub fn service_name(&self) -> &str {
        self.service_name.as_str()
    }

    /// The listener's URL.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The listener's URL, checked.
    pub(crate) fn callback_url(&self) -> &CallbackUrl {
        &self.url
    }

    /// The username, if set.
    pub fn username(&self) -> Option<&str> {
        self.credentials.username()
    }

    /// The password, if set.
    pub fn password(&self) -> Option<&Secret> {
        self.credentials.password()
    }

    /// The request body, which holds the password: wiped when dropped, and sized up front (JSON
    /// escapes at most double a byte of text without control characters, which the checked
    /// values have none of; the room for `\uXXXX` in the others costs little and keeps the
    /// bound true without relying on that) so that no reallocation leaves a copy behind.
    pub(crate) fn to_wire(&self) -> Zeroizing<Vec<u8>> {
        #[derive(Serialize)]
        struct Wire<'a> {
            name: &'a str,
            url: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            username: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            password: Option<&'a str>,
        }
        let wire = Wire {
            name: self.service_name(),
            url: self.url(),
            username: self.username(),
            password: self.password().map(Secret::expose),
        };
        let text = self.service_name().len() + self.url().len() + self.username().map_or(0, str::len);
        let password = self.password().map_or(0, |p| p.expose().len());
        let mut body = Zeroizing::new(Vec::with_capacity(64 + 6 * text + 2 * password));
        // Serialising plain strings into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *body, &wire);
        body
    }
}

/// ThingSpace's answer to a register or deregister: which account and service it acted on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[non_exhaustive]
pub struct CallbackAck {
    /// `accountName` as the service returned it.
    #[serde(rename = "accountName")]
    pub account_name: String,
    /// `serviceName` as the service returned it.
    #[serde(rename = "serviceName")]
    pub service_name: String,
}

/// One registered listener, as `list_callbacks` returns it.
///
/// The password is the callback password in clear text; it is a [`Secret`], so `Debug` hides it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[non_exhaustive]
pub struct RegisteredCallback {
    /// `accountName`.
    #[serde(rename = "accountName")]
    pub account_name: String,
    /// `serviceName`.
    #[serde(rename = "serviceName")]
    pub service_name: String,
    /// `url`.
    pub url: String,
    /// `username`; `None` when the service sent none or an empty string.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub username: Option<String>,
    /// `password`; `None` when the service sent none or an empty string.
    #[serde(default, deserialize_with = "empty_secret_as_none")]
    pub password: Option<Secret>,
}

fn empty_as_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

fn empty_secret_as_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(empty_as_none(d)?.map(Secret::new))
}
