use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// The boxed cause kept in an error's source chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The codes of the errors that the library itself finds.
///
/// They follow the API's own `<Service>.<CLASS>.<Detail>` form with the service `Tscb`. They are
/// part of the API: a code never changes meaning and is never reused. Errors that the service
/// sends keep the service's own code (for example
/// `UnifiedWebService.REQUEST_FAILED.AccountNotFound`).
pub mod codes {
    /// The account name is empty.
    pub const ACCOUNT_NAME_EMPTY: &str = "Tscb.INPUT_INVALID.AccountName.Empty";
    /// The account name contains a control character.
    pub const ACCOUNT_NAME_INVALID_CHARACTER: &str = "Tscb.INPUT_INVALID.AccountName.InvalidCharacter";
    /// The account name is `.` or `..`, which would change the request path whatever the encoding.
    pub const ACCOUNT_NAME_DOT_SEGMENT: &str = "Tscb.INPUT_INVALID.AccountName.DotSegment";
    /// The service name is empty.
    pub const SERVICE_NAME_EMPTY: &str = "Tscb.INPUT_INVALID.ServiceName.Empty";
    /// The service name has a character other than an ASCII letter or digit.
    pub const SERVICE_NAME_INVALID_CHARACTER: &str = "Tscb.INPUT_INVALID.ServiceName.InvalidCharacter";
    /// The callback URL is not an absolute URL.
    pub const CALLBACK_URL_MALFORMED: &str = "Tscb.INPUT_INVALID.CallbackUrl.Malformed";
    /// The callback URL's scheme is not `http` or `https`.
    pub const CALLBACK_URL_SCHEME: &str = "Tscb.INPUT_INVALID.CallbackUrl.Scheme";
    /// The callback URL has no host.
    pub const CALLBACK_URL_HOST: &str = "Tscb.INPUT_INVALID.CallbackUrl.Host";
    /// The callback URL has a user name or password in it.
    pub const CALLBACK_URL_CREDENTIALS: &str = "Tscb.INPUT_INVALID.CallbackUrl.Credentials";
    /// The callback URL's port is not one that ThingSpace calls.
    pub const CALLBACK_URL_PORT: &str = "Tscb.INPUT_INVALID.CallbackUrl.Port";
    /// The callback username is longer than 40 characters.
    pub const USERNAME_TOO_LONG: &str = "Tscb.INPUT_INVALID.Username.TooLong";
    /// The callback username contains a control character.
    pub const USERNAME_INVALID_CHARACTER: &str = "Tscb.INPUT_INVALID.Username.InvalidCharacter";
    /// The callback password is longer than 40 characters.
    pub const PASSWORD_TOO_LONG: &str = "Tscb.INPUT_INVALID.Password.TooLong";
    /// The callback password contains a control character.
    pub const PASSWORD_INVALID_CHARACTER: &str = "Tscb.INPUT_INVALID.Password.InvalidCharacter";
    /// Neither an OAuth bearer token nor OAuth client credentials were given.
    pub const BEARER_TOKEN_MISSING: &str = "Tscb.INPUT_INVALID.BearerToken.Missing";
    /// The bearer token has a character that cannot go into an HTTP header.
    pub const BEARER_TOKEN_INVALID_CHARACTER: &str = "Tscb.INPUT_INVALID.BearerToken.InvalidCharacter";
    /// Neither a session token (`VZ-M2M-Token`) nor a session login was given.
    pub const SESSION_TOKEN_MISSING: &str = "Tscb.INPUT_INVALID.SessionToken.Missing";
    /// The session token has a character that cannot go into an HTTP header.
    pub const SESSION_TOKEN_INVALID_CHARACTER: &str = "Tscb.INPUT_INVALID.SessionToken.InvalidCharacter";
    /// The base URL is not an absolute URL without credentials, query or fragment.
    pub const BASE_URL_MALFORMED: &str = "Tscb.INPUT_INVALID.BaseUrl.Malformed";
    /// The base URL is not `https`, or is plain `http` to a host that is not loopback.
    pub const BASE_URL_INSECURE: &str = "Tscb.INPUT_INVALID.BaseUrl.Insecure";
    /// The user agent has a character that cannot go into an HTTP header.
    pub const USER_AGENT_INVALID_CHARACTER: &str = "Tscb.INPUT_INVALID.UserAgent.InvalidCharacter";
    /// A timeout of zero was given.
    pub const TIMEOUT_ZERO: &str = "Tscb.INPUT_INVALID.Timeout.Zero";
    /// A timeout that is negative, not a number, infinite, or longer than a day.
    pub const TIMEOUT_INVALID: &str = "Tscb.INPUT_INVALID.Timeout.Invalid";
    /// The OAuth client id is empty, has a control character or a `:`.
    pub const CLIENT_ID_INVALID: &str = "Tscb.INPUT_INVALID.ClientId.Invalid";
    /// The OAuth client secret is empty or has a control character.
    pub const CLIENT_SECRET_INVALID: &str = "Tscb.INPUT_INVALID.ClientSecret.Invalid";
    /// The session login's username is empty or has a control character.
    pub const LOGIN_USERNAME_INVALID: &str = "Tscb.INPUT_INVALID.LoginUsername.Invalid";
    /// The session login's password is empty or has a control character.
    pub const LOGIN_PASSWORD_INVALID: &str = "Tscb.INPUT_INVALID.LoginPassword.Invalid";
    /// A client that was closed was used (language bindings whose clients can be closed).
    pub const CLIENT_CLOSED: &str = "Tscb.INPUT_INVALID.Client.Closed";
    /// A text argument passed through a language binding is not valid UTF-8 or has an interior NUL.
    pub const ARGUMENT_ENCODING: &str = "Tscb.INPUT_INVALID.Argument.Encoding";
    /// A required argument passed through a language binding is missing (NULL).
    pub const ARGUMENT_MISSING: &str = "Tscb.INPUT_INVALID.Argument.Missing";

    /// The HTTP client could not be set up (for example, TLS could not be initialised).
    pub const CLIENT_SETUP: &str = "Tscb.REQUEST_FAILED.ClientSetup";
    /// No connection could be made: nothing was sent.
    pub const CONNECT: &str = "Tscb.REQUEST_FAILED.Connect";
    /// The connection failed after it was made: the request may have reached the service.
    pub const TRANSPORT: &str = "Tscb.REQUEST_FAILED.Transport";
    /// No complete answer came within the timeout: the request may have reached the service.
    pub const TIMEOUT: &str = "Tscb.REQUEST_FAILED.Timeout";
    /// The service answered with an HTTP error status and a body in no known error form.
    pub const HTTP_STATUS: &str = "Tscb.REQUEST_FAILED.HttpStatus";

    /// The service answered with a redirect, which is never followed (it would carry the tokens
    /// to another address).
    pub const RESPONSE_REDIRECT: &str = "Tscb.RESPONSE_INVALID.Redirect";
    /// The answer's body is larger than the library reads (1 MiB).
    pub const RESPONSE_TOO_LARGE: &str = "Tscb.RESPONSE_INVALID.TooLarge";
    /// A success answer's body is empty or not JSON.
    pub const RESPONSE_NOT_JSON: &str = "Tscb.RESPONSE_INVALID.NotJson";
    /// A success answer's body is JSON without the documented fields.
    pub const RESPONSE_UNEXPECTED_SHAPE: &str = "Tscb.RESPONSE_INVALID.UnexpectedShape";
    /// A panic inside the library was caught at a language boundary (C or Python).
    pub const PANIC: &str = "Tscb.REQUEST_FAILED.Panic";
    /// The command line could not do its work for a reason of its own (the simulator could not
    /// start, the output could not be written).
    pub const INTERNAL: &str = "Tscb.REQUEST_FAILED.Internal";

    /// Every code above, for documentation checks and for bindings that list them.
    pub const ALL: &[&str] = &[
        ACCOUNT_NAME_EMPTY,
        ACCOUNT_NAME_INVALID_CHARACTER,
        ACCOUNT_NAME_DOT_SEGMENT,
        SERVICE_NAME_EMPTY,
        SERVICE_NAME_INVALID_CHARACTER,
        CALLBACK_URL_MALFORMED,
        CALLBACK_URL_SCHEME,
        CALLBACK_URL_HOST,
        CALLBACK_URL_CREDENTIALS,
        CALLBACK_URL_PORT,
        USERNAME_TOO_LONG,
        USERNAME_INVALID_CHARACTER,
        PASSWORD_TOO_LONG,
        PASSWORD_INVALID_CHARACTER,
        BEARER_TOKEN_MISSING,
        BEARER_TOKEN_INVALID_CHARACTER,
        SESSION_TOKEN_MISSING,
        SESSION_TOKEN_INVALID_CHARACTER,
        BASE_URL_MALFORMED,
        BASE_URL_INSECURE,
        USER_AGENT_INVALID_CHARACTER,
        TIMEOUT_ZERO,
        TIMEOUT_INVALID,
        CLIENT_ID_INVALID,
        CLIENT_SECRET_INVALID,
        LOGIN_USERNAME_INVALID,
        LOGIN_PASSWORD_INVALID,
        CLIENT_CLOSED,
        ARGUMENT_ENCODING,
        ARGUMENT_MISSING,
        CLIENT_SETUP,
        CONNECT,
        TRANSPORT,
        TIMEOUT,
        HTTP_STATUS,
        RESPONSE_REDIRECT,
        RESPONSE_TOO_LARGE,
        RESPONSE_NOT_JSON,
        RESPONSE_UNEXPECTED_SHAPE,
        PANIC,
        INTERNAL,
    ];
}

/// Where a failure happened: a small, stable classification to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input was rejected before anything was sent.
    InvalidInput,
    /// The service answered with an error of its own (code and message are the service's).
    Api,
    /// The service refused the credentials: a bearer token refused by the gateway (401/403), or a
    /// session token that is missing, invalid or expired.
    Auth,
    /// The connection could not be made or broke.
    Transport,
    /// No complete answer came within the timeout.
    Timeout,
    /// An answer came but could not be understood (not JSON, wrong shape, too large, a redirect).
    InvalidResponse,
}

impl ErrorKind {
    /// A stable lower-case name: `invalid_input`, `api`, `auth`, `transport`, `timeout`,
    /// `invalid_response`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Api => "api",
            ErrorKind::Auth => "auth",
            ErrorKind::Transport => "transport",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InvalidResponse => "invalid_response",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every failure of the library, in the API's own terms: a code and a message.
///
/// `Display` is `"<error_code>: <error_message>"`. Secrets (tokens, passwords) never appear in
/// either: messages that come from the server are redacted before they are kept.
///
/// ```
/// # fn main() {
/// let client = tscb::Client::builder().bearer_token("t").session_token("s").build().unwrap();
/// let reg = tscb::CallbackRegistration::new("CarrierService", "https://example.com:8080/cb");
/// let err = client.register_callback("0000123456-00001", &reg).unwrap_err();
/// assert_eq!(err.kind(), tscb::ErrorKind::InvalidInput);
/// assert_eq!(err.error_code(), tscb::codes::CALLBACK_URL_PORT);
/// assert_eq!(err.http_status(), None);
/// assert!(err.to_json().starts_with(r#"{"errorCode":"Tscb.INPUT_INVALID.CallbackUrl.Port","#));
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input was rejected before anything was sent.
    #[error("{code}: {message}")]
    InvalidInput {
        /// One of the `Tscb.INPUT_INVALID.*` [`codes`].
        code: &'static str,
        /// What was wrong, without the rejected value when it may be secret.
        message: String,
    },
    /// The service answered with an error in one of its documented forms.
    #[error("{code}: {message}")]
    Api {
        /// The HTTP status of the answer.
        status: u16,
        /// The service's code, verbatim (`errorCode`, the gateway's `fault.code`, or OAuth's `error`).
        code: String,
        /// The service's message, with any secret of ours redacted.
        message: String,
        /// [`ErrorKind::Auth`] or [`ErrorKind::Api`].
        kind: ErrorKind,
        /// The answer's `Retry-After`, if it had one in seconds.
        retry_after: Option<std::time::Duration>,
    },
    /// The service answered with an HTTP error status but no error body that we understand.
    #[error("{code}: {message}", code = codes::HTTP_STATUS)]
    HttpStatus {
        /// The HTTP status of the answer.
        status: u16,
        /// The status and a short, sanitised excerpt of the body.
        message: String,
        /// [`ErrorKind::Auth`] for 401 and 403, else [`ErrorKind::Api`].
        kind: ErrorKind,
        /// The answer's `Retry-After`, if it had one in seconds.
        retry_after: Option<std::time::Duration>,
    },
    /// The connection could not be made or broke, or the HTTP client could not be set up.
    #[error("{code}: {message}")]
    Transport {
        /// [`codes::CONNECT`], [`codes::TRANSPORT`] or [`codes::CLIENT_SETUP`].
        code: &'static str,
        /// What failed.
        message: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// No complete answer came within the timeout.
    #[error("{code}: {message}", code = codes::TIMEOUT)]
    Timeout {
        /// What timed out.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// An answer came but could not be understood.
    #[error("{code}: {message}")]
    InvalidResponse {
        /// The HTTP status of the answer.
        status: u16,
        /// One of the `Tscb.RESPONSE_INVALID.*` [`codes`].
        code: &'static str,
        /// What was wrong, with a short, sanitised excerpt of the body.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// A panic was caught at a language boundary (used by the C and Python bindings).
    #[error("{code}: {message}", code = codes::PANIC)]
    Panic {
        /// What is known about the panic.
        message: String,
    },
}

impl Error {
    pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput { code, message: message.into() }
    }

    /// An input error found by a language binding (for example a string that is not UTF-8).
    pub fn invalid_argument(code: &'static str, message: impl Into<String>) -> Self {
        Error::invalid(code, message)
    }

    /// A panic caught by a language binding.
    pub fn panic(message: impl Into<String>) -> Self {
        Error::Panic { message: message.into() }
    }

    /// The error's code: the service's own (e.g. `UnifiedWebService.REQUEST_FAILED.AccountNotFound`)
    /// or one of the library's [`codes`].
    pub fn error_code(&self) -> &str {
        match self {
            Error::InvalidInput { code, .. }
            | Error::Transport { code, .. }
            | Error::InvalidResponse { code, .. } => code,
            Error::Api { code, .. } => code,
            Error::HttpStatus { .. } => codes::HTTP_STATUS,
            Error::Timeout { .. } => codes::TIMEOUT,
            Error::Panic { .. } => codes::PANIC,
        }
    }

    /// The error's message. Never parse it: match on [`Error::error_code`].
    pub fn error_message(&self) -> &str {
        match self {
            Error::InvalidInput { message, .. }
            | Error::Api { message, .. }
            | Error::HttpStatus { message, .. }
            | Error::Transport { message, .. }
            | Error::Timeout { message, .. }
            | Error::InvalidResponse { message, .. }
            | Error::Panic { message } => message,
        }
    }

    /// The HTTP status of the answer, when an answer came.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. }
            | Error::HttpStatus { status, .. }
            | Error::InvalidResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Where the failure happened.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Api { kind, .. } | Error::HttpStatus { kind, .. } => *kind,
            Error::Transport { .. } | Error::Panic { .. } => ErrorKind::Transport,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::InvalidResponse { .. } => ErrorKind::InvalidResponse,
        }
    }

    /// How long the service asked to wait before trying again (`Retry-After`, in seconds), when
    /// it said.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Api { retry_after, .. } | Error::HttpStatus { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The same error, but of kind [`ErrorKind::Auth`] when the service refused it with 400, 401
    /// or 403: what the OAuth token and session login endpoints answer for bad credentials.
    pub(crate) fn refused_as_auth(mut self) -> Self {
        if let Error::Api { status, kind, .. } | Error::HttpStatus { status, kind, .. } = &mut self {
            if matches!(*status, 400 | 401 | 403) {
                *kind = ErrorKind::Auth;
            }
        }
        self
    }

    /// A copy with the same code, message, status and kind but no source, for handing one
    /// failure to every thread that waited on it.
    pub(crate) fn replay(&self, note: &str) -> Error {
        let message = format!("{}{note}", self.error_message());
        match self {
            Error::InvalidInput { code, .. } => Error::InvalidInput { code, message },
            Error::Api { status, code, kind, retry_after, .. } => Error::Api {
                status: *status,
                code: code.clone(),
                message,
                kind: *kind,
                retry_after: *retry_after,
            },
            Error::HttpStatus { status, kind, retry_after, .. } => {
                Error::HttpStatus { status: *status, message, kind: *kind, retry_after: *retry_after }
            }
            Error::Transport { code, .. } => Error::Transport { code, message, source: note.trim().into() },
            Error::Timeout { .. } => Error::Timeout { message, source: None },
            Error::InvalidResponse { status, code, .. } => {
                Error::InvalidResponse { status: *status, code, message, source: None }
            }
            Error::Panic { .. } => Error::Panic { message },
        }
    }

    /// True when the service said the session token is missing, malformed, invalid or expired
    /// (`SessionToken.Format`, `.Invalid`, `.Expired`), whatever the HTTP status and the service
    /// prefix. The cure is a new session login.
    pub fn is_session_error(&self) -> bool {
        match self {
            Error::Api { code, .. } => is_session_code(code),
            _ => false,
        }
    }

    /// The documented JSON form: `{"errorCode":"...","errorMessage":"..."}`.
    pub fn to_json(&self) -> String {
        // Serialising two strings into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Error", 2)?;
        s.serialize_field("errorCode", self.error_code())?;
        s.serialize_field("errorMessage", self.error_message())?;
        s.end()
    }
}

/// Matches `…SessionToken.Expired|Invalid|Format` on the code's last two parts, so that the
/// service prefix and class (which Verizon says not to rely on) do not matter.
pub(crate) fn is_session_code(code: &str) -> bool {
    let mut parts = code.rsplit('.');
    let detail = parts.next().unwrap_or("");
    let subject = parts.next().unwrap_or("");
    subject == "SessionToken" && matches!(detail, "Expired" | "Invalid" | "Format")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_codes_match_without_prefix() {
        assert!(is_session_code("UnifiedWebService.REQUEST_FAILED.SessionToken.Expired"));
        assert!(is_session_code("REQUEST_FAILED.SessionToken.Format"));
        assert!(is_session_code("Other.INPUT_INVALID.SessionToken.Invalid"));
        assert!(!is_session_code("UnifiedWebService.REQUEST_FAILED.AccountNotFound"));
        assert!(!is_session_code("SessionToken"));
        assert!(!is_session_code("Tscb.INPUT_INVALID.SessionToken.Missing"));
    }

    #[test]
    fn codes_are_unique_and_in_the_documented_form() {
        let mut seen = std::collections::HashSet::new();
        for code in codes::ALL {
            assert!(seen.insert(code), "duplicate code {code}");
            let parts: Vec<&str> = code.split('.').collect();
            assert!(parts.len() == 3 || parts.len() == 4, "{code}");
            assert_eq!(parts[0], "Tscb");
            assert!(["INPUT_INVALID", "REQUEST_FAILED", "RESPONSE_INVALID"].contains(&parts[1]));
        }
    }
}
