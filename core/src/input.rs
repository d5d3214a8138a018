//! The names a call is made with, each checked once when it is made, by the rules in
//! [`crate::validate`]: a value of one of these types is valid, so no call checks it again and
//! none can forget to. Every call takes `impl TryInto<…>`, so a `&str` works as before and is
//! checked before anything is sent; a checked value (owned or borrowed) is taken as it is.

use std::fmt;

use crate::error::{Error, Result};
use crate::validate;

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
}
