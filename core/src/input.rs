//! The names and values a call is made with, each checked once when it is made, by the rules in
//! [`crate::validate`]: a value of one of these types is valid, so no call checks it again and
//! none can forget to. Every call takes `impl TryInto<…>`, so a `&str` works as before and is
//! checked before anything is sent; a checked value (owned or borrowed) is taken as it is.
//! The front ends (CLI, C, Python) build these first, so a bad value is refused before any work.

use std::fmt;

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::validate;

/// The conversions every checked type has: from the strings it is made of (checked), and from a
/// reference to one already checked (a clone).
macro_rules! conversions {
    ($type:ident) => {
        impl TryFrom<&str> for $type {
            type Error = Error;
            fn try_from(value: &str) -> Result<$type> {
                $type::new(value)
            }
        }

        impl TryFrom<&String> for $type {
            type Error = Error;
            fn try_from(value: &String) -> Result<$type> {
                $type::new(value.as_str())
            }
        }

        impl TryFrom<String> for $type {
            type Error = Error;
            fn try_from(value: String) -> Result<$type> {
                $type::new(value)
            }
        }

        /// Already checked: a clone.
        impl From<&$type> for $type {
            fn from(value: &$type) -> $type {
                value.clone()
            }
        }
    };
}

/// A billing account name (`0000123456-00001`): not empty, no control character, not `.` or
/// `..`. It is always sent as exactly one path segment, whatever it holds.
///
/// ```
/// let account = tscb::AccountName::new("0000123456-00001")?;
/// assert_eq!(account.as_str(), "0000123456-00001");
/// assert_eq!(tscb::AccountName::new("").unwrap_err().error_code(), tscb::codes::ACCOUNT_NAME_EMPTY);
/// # Ok::<(), tscb::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AccountName(String);

/// A callback service's name (`CarrierService`): ASCII letters and digits only. Names ThingSpace
/// does not list are accepted (see [`crate::services`]).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ServiceName(String);

/// A callback listener's URL (`https://listener.example.com/tscb`): absolute, `http` or
/// `https`, with a host, no user name or password, no white space or control character; it is
/// sent exactly as given. Whether ThingSpace calls its port is checked by the call, since that
/// depends on the client ([`crate::ClientBuilder::check_callback_port`]).
///
/// ```
/// let url = tscb::CallbackUrl::new("https://listener.example.com/tscb")?;
/// assert_eq!(url.as_str(), "https://listener.example.com/tscb");
/// assert_eq!(tscb::CallbackUrl::new("ftp://a.example").unwrap_err().error_code(), tscb::codes::CALLBACK_URL_SCHEME);
/// # Ok::<(), tscb::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CallbackUrl {
    url: String,
    /// Its port, explicit or the scheme's, for the client's port check.
    port: u16,
}

impl CallbackUrl {
    /// Checks `value`: an [`Error`] of kind invalid input, with the rule's own code, if it
    /// breaks one. Never shows a user part, query or fragment of a refused URL.
    pub fn new(value: impl Into<String>) -> Result<CallbackUrl> {
        let url = value.into();
        let port = validate::callback_url(&url)?;
        Ok(CallbackUrl { url, port })
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The one rule a URL cannot be checked by alone: the port must be one ThingSpace calls,
    /// unless the client's `check_callback_port` is off.
    pub(crate) fn check_port(&self) -> Result<()> {
        validate::callback_port(self.port)
    }
}

impl fmt::Debug for CallbackUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.url, f)
    }
}

impl fmt::Display for CallbackUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl AsRef<str> for CallbackUrl {
    fn as_ref(&self) -> &str {
        &self.url
    }
}

conversions!(CallbackUrl);

/// The username and password a registration asks ThingSpace to echo in every callback, each
/// optional and each checked when set: at most [`crate::MAX_CREDENTIAL_CHARS`] characters, no
/// control character. `Debug` never shows the password.
///
/// ```
/// let creds = tscb::CallbackCredentials::new(Some("fleet-7"), Some("s3cret"))?;
/// assert_eq!(creds.username(), Some("fleet-7"));
/// assert!(!format!("{creds:?}").contains("s3cret"));
/// # Ok::<(), tscb::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CallbackCredentials {
    username: Option<String>,
    password: Option<Secret>,
}

impl CallbackCredentials {
    /// The username and password where given (`None` leaves that one out), each checked.
    pub fn new(username: Option<&str>, password: Option<&str>) -> Result<CallbackCredentials> {
        let mut credentials = CallbackCredentials::default();
        if let Some(username) = username {
            credentials = credentials.with_username(username)?;
        }
        if let Some(password) = password {
            credentials = credentials.with_password(password)?;
        }
        Ok(credentials)
    }

    /// Sets the username, checked.
    pub fn with_username(mut self, username: impl Into<String>) -> Result<CallbackCredentials> {
        let username = username.into();
        validate::username(&username)?;
        self.username = Some(username);
        Ok(self)
    }

    /// Sets the password, checked (a refused one is wiped with its [`Secret`]).
    pub fn with_password(mut self, password: impl Into<Secret>) -> Result<CallbackCredentials> {
        let password = password.into();
        validate::password(password.expose())?;
        self.password = Some(password);
        Ok(self)
    }

    /// The username, if set.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The password, if set.
    pub fn password(&self) -> Option<&Secret> {
        self.password.as_ref()
    }
}

macro_rules! checked {
    ($type:ident, $rule:path) => {
        impl $type {
            /// Checks `value`: an [`Error`] of kind invalid input, with the rule's own code, if
            /// it breaks one.
            pub fn new(value: impl Into<String>) -> Result<$type> {
                let value = value.into();
                $rule(&value)?;
                Ok($type(value))
            }

            /// The name as given.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $type {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        conversions!($type);
    };
}

checked!(AccountName, validate::account_name);
checked!(ServiceName, validate::service_name);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes;

    #[test]
    fn each_name_is_checked_once_by_the_rules_and_then_trusted() {
        assert_eq!(AccountName::new("..").unwrap_err().error_code(), codes::ACCOUNT_NAME_DOT_SEGMENT);
        assert_eq!(
            AccountName::try_from("a\u{7}b").unwrap_err().error_code(),
            codes::ACCOUNT_NAME_INVALID_CHARACTER
        );
        assert_eq!(
            ServiceName::try_from("Carrier Service").unwrap_err().error_code(),
            codes::SERVICE_NAME_INVALID_CHARACTER
        );
        let account = AccountName::try_from(&"0000123456-00001".to_owned()).unwrap();
        assert_eq!(AccountName::from(&account), account);
        assert_eq!(format!("{account} {account:?}"), "0000123456-00001 \"0000123456-00001\"");
    }

    #[test]
    fn a_callback_url_is_checked_when_made_and_reports_its_field() {
        let url = CallbackUrl::new("https://listener.example.com/tscb").unwrap();
        assert_eq!((url.as_str(), url.port), ("https://listener.example.com/tscb", 443));
        assert_eq!(CallbackUrl::try_from("http://a.example:9001/cb").unwrap().port, 9001);
        for (bad, code) in [
            ("", codes::CALLBACK_URL_MALFORMED),
            ("listener.example.com/cb", codes::CALLBACK_URL_MALFORMED),
            ("https://a.example/ x", codes::CALLBACK_URL_MALFORMED),
            ("ftp://a.example/cb", codes::CALLBACK_URL_SCHEME),
            ("https://user:pw-SECRET@a.example/cb", codes::CALLBACK_URL_CREDENTIALS),
        ] {
            let err = CallbackUrl::new(bad).unwrap_err();
            assert_eq!(err.error_code(), code, "{bad:?}");
            assert_eq!(err.field(), Some(crate::Field::CallbackUrl), "{bad:?}");
            assert!(!err.to_string().contains("pw-SECRET"), "{err}");
        }
        // The port is the client's to check: a URL on another port is made, and refused by the
        // check the call makes unless the client turned it off.
        let other_port = CallbackUrl::new("https://a.example:8443/cb").unwrap();
        let err = other_port.check_port().unwrap_err();
        assert_eq!(
            (err.error_code(), err.field()),
            (codes::CALLBACK_URL_PORT, Some(crate::Field::CallbackUrl))
        );
        url.check_port().unwrap();
    }

    #[test]
    fn callback_credentials_are_checked_each_when_set_and_report_their_field() {
        let both = CallbackCredentials::new(Some(&"ü".repeat(40)), Some(&"p".repeat(40))).unwrap();
        assert_eq!(both.username(), Some(&*"ü".repeat(40)));
        // Either alone, or neither, as ThingSpace takes them.
        assert_eq!(CallbackCredentials::new(None, Some("pw")).unwrap().username(), None);
        assert_eq!(CallbackCredentials::new(Some("u"), None).unwrap().password(), None);
        assert_eq!(CallbackCredentials::new(None, None).unwrap(), CallbackCredentials::default());
        for (username, password, code, field) in [
            (Some("u".repeat(41)), None, codes::USERNAME_TOO_LONG, crate::Field::Username),
            (Some("a\0b".to_owned()), None, codes::USERNAME_INVALID_CHARACTER, crate::Field::Username),
            (None, Some("p".repeat(41)), codes::PASSWORD_TOO_LONG, crate::Field::Password),
            (
                Some("u".to_owned()),
                Some("a\r\nb".to_owned()),
                codes::PASSWORD_INVALID_CHARACTER,
                crate::Field::Password,
            ),
        ] {
            let err = CallbackCredentials::new(username.as_deref(), password.as_deref()).unwrap_err();
            assert_eq!((err.error_code(), err.field()), (code, Some(field)));
        }
        let shown = format!("{:?}", CallbackCredentials::new(Some("u"), Some("pw-SECRET")).unwrap());
        assert!(!shown.contains("pw-SECRET"), "{shown}");
    }

    #[test]
    fn a_registration_is_made_of_checked_values_only() {
        let reg = crate::CallbackRegistration::new("CarrierService", "https://a.example:8443/cb").unwrap();
        assert_eq!((reg.service_name(), reg.url()), ("CarrierService", "https://a.example:8443/cb"));
        let err = crate::CallbackRegistration::new("Carrier Service", "https://a.example/cb").unwrap_err();
        assert_eq!(err.field(), Some(crate::Field::ServiceName));
        let err = crate::CallbackRegistration::new("CarrierService", "mailto:x@a.example").unwrap_err();
        assert_eq!(
            (err.error_code(), err.field()),
            (codes::CALLBACK_URL_SCHEME, Some(crate::Field::CallbackUrl))
        );
        let err = reg.clone().with_password("x".repeat(41)).unwrap_err();
        assert_eq!(err.field(), Some(crate::Field::Password));
        let reg = reg.with_credentials(CallbackCredentials::new(Some("u"), Some("p")).unwrap());
        assert_eq!((reg.username(), reg.password().map(Secret::expose)), (Some("u"), Some("p")));
    }
}
