//! [`Error`], the one failure type of every call and binding: its variants by where it failed,
//! its kind, [`Sent`] (may the request have reached the service) and its JSON form. About 460
//! lines: the variants' documentation is the reference users read, and the transport codes'
//! one table belongs beside the variant that carries them.

use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::codes;

/// The boxed cause kept in an error's source chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    /// A fault of the library or of the program around it: a panic caught at a language
    /// boundary, or a command that could not do its own work.
    Internal,
    /// A received callback message was refused: it came from a source that is not allowed, or
    /// with the wrong username or password. A listener answers 403 or 401.
    CallbackRejected,
    /// A received callback message could not be read: not JSON, not the documented envelope, or
    /// over 1 MiB. A listener answers 400 or 413.
    CallbackInvalid,
}

impl ErrorKind {
    /// A stable lower-case name: `invalid_input`, `api`, `auth`, `transport`, `timeout`,
    /// `invalid_response`, `internal`, `callback_rejected`, `callback_invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Api => "api",
            ErrorKind::Auth => "auth",
            ErrorKind::Transport => "transport",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InvalidResponse => "invalid_response",
            ErrorKind::Internal => "internal",
            ErrorKind::CallbackRejected => "callback_rejected",
            ErrorKind::CallbackInvalid => "callback_invalid",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a failed request may have reached the service: what decides whether repeating it is
/// harmless (see [`crate::RetryPolicy`]) and whether a register may have taken effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sent {
    /// Nothing reached the service: the input was refused, no connection (or TLS session, or
    /// proxy tunnel) could be made, the client could not be set up, or the call never started.
    No,
    /// It may have reached the service and been acted on: the connection broke, or no answer
    /// came in time.
    Maybe,
    /// The service answered (an error, or an answer that could not be understood).
    Yes,
}

impl Sent {
    /// A stable lower-case name: `no`, `maybe`, `yes` (as the C and Python bindings give it).
    pub fn as_str(self) -> &'static str {
        match self {
            Sent::No => "no",
            Sent::Maybe => "maybe",
            Sent::Yes => "yes",
        }
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
/// let reg = tscb::CallbackRegistration::new("CarrierService", "https://example.com:8080/cb").unwrap();
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
        /// How long the answer's `Retry-After` asked to wait (given in seconds or as an HTTP date).
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
        /// How long the answer's `Retry-After` asked to wait (given in seconds or as an HTTP date).
        retry_after: Option<std::time::Duration>,
    },
    /// The connection could not be made or broke, or the HTTP client could not be set up.
    #[error("{code}: {message}")]
    Transport {
        /// [`codes::CONNECT`], [`codes::TLS`], [`codes::PROXY`], [`codes::TRANSPORT`] or
        /// [`codes::CLIENT_SETUP`].
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
    /// A login was not sent because the same credentials were refused, or had an unknown
    /// outcome, within the last hour (see [`crate::ClientBuilder::login_guard_file`]). Kind
    /// [`ErrorKind::Auth`]; code [`codes::LOGIN_BLOCKED`].
    #[error("{code}: {message}", code = codes::LOGIN_BLOCKED)]
    LoginBlocked {
        /// Why, since when, and how to send the login anyway.
        message: String,
    },
    /// A received callback message was refused (wrong source or credentials). The message never
    /// holds the received or the expected password.
    #[error("{code}: {message}")]
    CallbackRejected {
        /// One of the `Tscb.CALLBACK_REJECTED.*` [`codes`].
        code: &'static str,
        /// Why, without any password.
        message: String,
    },
    /// A received callback message could not be read (not JSON, wrong shape, too large).
    #[error("{code}: {message}")]
    CallbackInvalid {
        /// One of the `Tscb.CALLBACK_INVALID.*` [`codes`].
        code: &'static str,
        /// What was wrong, without the values that were received.
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
            | Error::InvalidResponse { code, .. }
            | Error::CallbackRejected { code, .. }
            | Error::CallbackInvalid { code, .. } => code,
            Error::Api { code, .. } => code,
            Error::HttpStatus { .. } => codes::HTTP_STATUS,
            Error::Timeout { .. } => codes::TIMEOUT,
            Error::Panic { .. } => codes::PANIC,
            Error::LoginBlocked { .. } => codes::LOGIN_BLOCKED,
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
            | Error::CallbackRejected { message, .. }
            | Error::CallbackInvalid { message, .. }
            | Error::Panic { message }
            | Error::LoginBlocked { message } => message,
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

    /// For an invalid-input error, which input it is about (as its code's second part says):
    /// match on this rather than on the code's text. `None` for every other kind.
    ///
    /// ```
    /// let e = tscb::AccountName::new("").unwrap_err();
    /// assert_eq!(e.field(), Some(tscb::Field::AccountName));
    /// ```
    pub fn field(&self) -> Option<crate::field::Field> {
        match self {
            Error::InvalidInput { code, .. } => crate::field::Field::of_code(code),
            _ => None,
        }
    }

    /// Whether the request may have reached the service ([`Sent`]).
    pub fn sent(&self) -> Sent {
        match self {
            Error::InvalidInput { .. } | Error::LoginBlocked { .. } => Sent::No,
            Error::CallbackRejected { .. } | Error::CallbackInvalid { .. } => Sent::No,
            Error::Api { .. } | Error::HttpStatus { .. } | Error::InvalidResponse { .. } => Sent::Yes,
            Error::Transport { code, .. } => transport_cause(code).0,
            Error::Timeout { .. } | Error::Panic { .. } => Sent::Maybe,
        }
    }

    /// A failure to reach the service that a second try may not meet (a refused or unreachable
    /// connection), as opposed to one that will recur (TLS, the proxy's answer, the set-up).
    pub(crate) fn is_unreached(&self) -> bool {
        matches!(self, Error::Transport { code, .. } if transport_cause(code) == (Sent::No, Passing::Yes))
    }

    /// Where the failure happened.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Api { kind, .. } | Error::HttpStatus { kind, .. } => *kind,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Panic { .. } => ErrorKind::Internal,
            Error::LoginBlocked { .. } => ErrorKind::Auth,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::InvalidResponse { .. } => ErrorKind::InvalidResponse,
            Error::CallbackRejected { .. } => ErrorKind::CallbackRejected,
            Error::CallbackInvalid { .. } => ErrorKind::CallbackInvalid,
        }
    }

    /// How long the service asked to wait before trying again (`Retry-After`, given in seconds or
    /// as an HTTP date), when
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
            Error::CallbackRejected { code, .. } => Error::CallbackRejected { code, message },
            Error::CallbackInvalid { code, .. } => Error::CallbackInvalid { code, message, source: None },
            Error::Panic { .. } => Error::Panic { message },
            Error::LoginBlocked { .. } => Error::LoginBlocked { message },
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

/// For the calls that take either a checked value (whose conversion cannot fail) or a text.
impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Error {
        match never {}
    }
}

/// Whether a transport failure can pass by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Passing {
    Yes,
    No,
}

/// What each transport code says of the request: the one table of them.
fn transport_cause(code: &str) -> (Sent, Passing) {
    match code {
        codes::CONNECT => (Sent::No, Passing::Yes),
        codes::TLS | codes::PROXY | codes::CLIENT_SETUP => (Sent::No, Passing::No),
        // codes::TRANSPORT: the connection broke, perhaps after the request went out.
        _ => (Sent::Maybe, Passing::Yes),
    }
}

/// A failure to set the client up (its runtime, TLS, HTTP client or a request that cannot be
/// formed): nothing was sent.
pub(crate) fn setup_error(what: &str, e: impl Into<BoxError>) -> Error {
    let source = e.into();
    Error::Transport {
        code: codes::CLIENT_SETUP,
        message: format!("could not set up {what}: {source}"),
        source,
    }
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
    fn whether_a_request_may_have_been_sent_is_a_property_of_the_error() {
        let transport = |code| Error::Transport { code, message: String::new(), source: "x".into() };
        assert_eq!(Error::invalid(codes::ACCOUNT_NAME_EMPTY, "m").sent(), Sent::No);
        for code in [codes::CONNECT, codes::TLS, codes::PROXY, codes::CLIENT_SETUP] {
            assert_eq!(transport(code).sent(), Sent::No, "{code}");
        }
        assert_eq!(transport(codes::TRANSPORT).sent(), Sent::Maybe);
        assert_eq!(Error::Timeout { message: String::new(), source: None }.sent(), Sent::Maybe);
        let answered = Error::HttpStatus {
            status: 503,
            message: String::new(),
            kind: ErrorKind::Api,
            retry_after: None,
        };
        assert_eq!(answered.sent(), Sent::Yes);
        // Only a connection that could not be made may pass by itself: TLS, the proxy's answer
        // and the set-up would fail the same way again.
        assert!(transport(codes::CONNECT).is_unreached());
        for code in [codes::TLS, codes::PROXY, codes::CLIENT_SETUP, codes::TRANSPORT] {
            assert!(!transport(code).is_unreached(), "{code}");
        }
    }
}
