//! Which input an invalid-input error is about, as a value a program can match on, so that no
//! caller parses an error code to find out (the code's second part names it; `codes.rs` is the
//! one list, and a test checks that every invalid-input code there has its field).

use std::fmt;

/// The input that an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) error is about:
/// see [`Error::field`](crate::Error::field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The billing account name.
    AccountName,
    /// A callback service's name.
    ServiceName,
    /// The listener's URL in a registration.
    CallbackUrl,
    /// The callback username in a registration.
    Username,
    /// The callback password in a registration.
    Password,
    /// The fixed OAuth bearer token.
    BearerToken,
    /// The fixed session token.
    SessionToken,
    /// The OAuth client id.
    ClientId,
    /// The OAuth client secret.
    ClientSecret,
    /// The session login's username.
    LoginUsername,
    /// The session login's password.
    LoginPassword,
    /// The API's base URL.
    BaseUrl,
    /// The `User-Agent` header.
    UserAgent,
    /// One of the timeouts.
    Timeout,
    /// A CA certificate file or PEM text.
    CaFile,
    /// The proxy URL.
    Proxy,
    /// An allowed source address or CIDR block of a callback verifier.
    SourceAddress,
    /// A fleet's desired state or its options.
    Fleet,
    /// An argument of a binding or the command line (missing, or not UTF-8).
    Argument,
    /// The client itself: closed, or called from the wrong kind of code (inside or outside an
    /// async runtime).
    Client,
}

impl Field {
    /// The field named by an invalid-input code (`Tscb.INPUT_INVALID.<Field>.<Detail>`).
    pub(crate) fn of_code(code: &str) -> Option<Field> {
        let name = code.strip_prefix("Tscb.INPUT_INVALID.")?.split('.').next()?;
        Some(match name {
            "AccountName" => Field::AccountName,
            "ServiceName" => Field::ServiceName,
            "CallbackUrl" => Field::CallbackUrl,
            "Username" => Field::Username,
            "Password" => Field::Password,
            "BearerToken" => Field::BearerToken,
            "SessionToken" => Field::SessionToken,
            "ClientId" => Field::ClientId,
            "ClientSecret" => Field::ClientSecret,
            "LoginUsername" => Field::LoginUsername,
            "LoginPassword" => Field::LoginPassword,
            "BaseUrl" => Field::BaseUrl,
            "UserAgent" => Field::UserAgent,
            "Timeout" => Field::Timeout,
            "CaFile" => Field::CaFile,
            "Proxy" => Field::Proxy,
            "SourceAddress" => Field::SourceAddress,
            "Fleet" => Field::Fleet,
            "Argument" => Field::Argument,
            "Client" => Field::Client,
            _ => return None,
        })
    }

    /// The name as the error codes spell it (`AccountName`).
    pub fn as_str(self) -> &'static str {
        match self {
            Field::AccountName => "AccountName",
            Field::ServiceName => "ServiceName",
            Field::CallbackUrl => "CallbackUrl",
            Field::Username => "Username",
            Field::Password => "Password",
            Field::BearerToken => "BearerToken",
            Field::SessionToken => "SessionToken",
            Field::ClientId => "ClientId",
            Field::ClientSecret => "ClientSecret",
            Field::LoginUsername => "LoginUsername",
            Field::LoginPassword => "LoginPassword",
            Field::BaseUrl => "BaseUrl",
            Field::UserAgent => "UserAgent",
            Field::Timeout => "Timeout",
            Field::CaFile => "CaFile",
            Field::Proxy => "Proxy",
            Field::SourceAddress => "SourceAddress",
            Field::Fleet => "Fleet",
            Field::Argument => "Argument",
            Field::Client => "Client",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invalid_input_code_names_its_field_and_the_name_round_trips() {
        let invalid: Vec<&str> =
            crate::codes::ALL.iter().copied().filter(|c| c.starts_with("Tscb.INPUT_INVALID.")).collect();
        assert!(invalid.len() > 30, "{invalid:?}");
        for code in invalid {
            let field = Field::of_code(code).unwrap_or_else(|| panic!("{code} names no Field"));
            assert!(code.starts_with(&format!("Tscb.INPUT_INVALID.{field}.")), "{code} vs {field}");
        }
        assert_eq!(Field::of_code("Tscb.REQUEST_FAILED.Timeout"), None);
        assert_eq!(Field::of_code("UnifiedWebService.INPUT_INVALID.AccountName.Foo"), None);
    }
}
