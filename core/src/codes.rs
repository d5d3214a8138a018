//! The library's own error codes: one list, from which the constants, [`ALL`], [`TABLE`] and
//! its documentation are generated. `docs/errors.md`, the C header's list and Python's
//! `tscb.ERROR_CODES` are generated from it or checked against it by tests.
//!
//! The codes follow the API's own `<Service>.<CLASS>.<Detail>` form with the service `Tscb`.
//! They are part of the API: a code never changes meaning and is never reused. Errors that the
//! service sends keep the service's own code (for example
//! `UnifiedWebService.REQUEST_FAILED.AccountNotFound`).

/// One of the library's codes, with the kind of error it comes with and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The code, e.g. `Tscb.INPUT_INVALID.AccountName.Empty`.
    pub code: &'static str,
    /// The [`crate::ErrorKind`] name (`invalid_input`, …), or two names and when each applies.
    pub kind: &'static str,
    /// What it means, in a few words.
    pub meaning: &'static str,
}

macro_rules! codes {
    ($($name:ident = $code:literal, $kind:literal, $meaning:literal;)*) => {
        $(
            #[doc = concat!("`", $code, "` (", $kind, "): ", $meaning, ".")]
            pub const $name: &str = $code;
        )*

        /// Every code, in the order of [`TABLE`].
        pub const ALL: &[&str] = &[$($name),*];

        #[doc = concat!(
            "Every code with its kind and meaning:\n\n| code | kind | meaning |\n|---|---|---|\n",
            $("| `", $code, "` | ", $kind, " | ", $meaning, " |\n",)*
        )]
        pub const TABLE: &[CodeInfo] = &[$(CodeInfo { code: $code, kind: $kind, meaning: $meaning }),*];
    };
}

codes! {
    ACCOUNT_NAME_EMPTY = "Tscb.INPUT_INVALID.AccountName.Empty", "invalid_input", "the account name is empty";
    ACCOUNT_NAME_INVALID_CHARACTER = "Tscb.INPUT_INVALID.AccountName.InvalidCharacter", "invalid_input", "the account name has a control character";
    ACCOUNT_NAME_DOT_SEGMENT = "Tscb.INPUT_INVALID.AccountName.DotSegment", "invalid_input", "the account name is `.` or `..`";
    SERVICE_NAME_EMPTY = "Tscb.INPUT_INVALID.ServiceName.Empty", "invalid_input", "the service name is empty";
    SERVICE_NAME_INVALID_CHARACTER = "Tscb.INPUT_INVALID.ServiceName.InvalidCharacter", "invalid_input", "the service name is not only ASCII letters and digits";
    CALLBACK_URL_MALFORMED = "Tscb.INPUT_INVALID.CallbackUrl.Malformed", "invalid_input", "the callback URL is not an absolute URL, or has white space";
    CALLBACK_URL_SCHEME = "Tscb.INPUT_INVALID.CallbackUrl.Scheme", "invalid_input", "the callback URL is not `http` or `https`";
    CALLBACK_URL_HOST = "Tscb.INPUT_INVALID.CallbackUrl.Host", "invalid_input", "the callback URL has no host";
    CALLBACK_URL_CREDENTIALS = "Tscb.INPUT_INVALID.CallbackUrl.Credentials", "invalid_input", "the callback URL has a user name or password in it";
    CALLBACK_URL_PORT = "Tscb.INPUT_INVALID.CallbackUrl.Port", "invalid_input", "the callback URL's port is not 80, 443, 9001–9006, 50551–50559 or 28200–28220";
    USERNAME_TOO_LONG = "Tscb.INPUT_INVALID.Username.TooLong", "invalid_input", "the callback username has more than 40 characters";
    USERNAME_INVALID_CHARACTER = "Tscb.INPUT_INVALID.Username.InvalidCharacter", "invalid_input", "the callback username has a control character";
    PASSWORD_TOO_LONG = "Tscb.INPUT_INVALID.Password.TooLong", "invalid_input", "the callback password has more than 40 characters";
    PASSWORD_INVALID_CHARACTER = "Tscb.INPUT_INVALID.Password.InvalidCharacter", "invalid_input", "the callback password has a control character";
    BEARER_TOKEN_MISSING = "Tscb.INPUT_INVALID.BearerToken.Missing", "invalid_input", "no bearer token";
    BEARER_TOKEN_INVALID_CHARACTER = "Tscb.INPUT_INVALID.BearerToken.InvalidCharacter", "invalid_input", "the bearer token is not visible ASCII";
    SESSION_TOKEN_MISSING = "Tscb.INPUT_INVALID.SessionToken.Missing", "invalid_input", "no session token";
    SESSION_TOKEN_INVALID_CHARACTER = "Tscb.INPUT_INVALID.SessionToken.InvalidCharacter", "invalid_input", "the session token is not visible ASCII";
    BASE_URL_MALFORMED = "Tscb.INPUT_INVALID.BaseUrl.Malformed", "invalid_input", "the base URL is not an absolute URL without credentials, query or fragment";
    BASE_URL_INSECURE = "Tscb.INPUT_INVALID.BaseUrl.Insecure", "invalid_input", "the base URL is plain `http` to a host that is not loopback";
    USER_AGENT_INVALID_CHARACTER = "Tscb.INPUT_INVALID.UserAgent.InvalidCharacter", "invalid_input", "the user agent is empty or not printable ASCII";
    TIMEOUT_ZERO = "Tscb.INPUT_INVALID.Timeout.Zero", "invalid_input", "a timeout of zero";
    TIMEOUT_INVALID = "Tscb.INPUT_INVALID.Timeout.Invalid", "invalid_input", "a timeout that is negative, NaN, infinite or longer than a day";
    CA_FILE_INVALID = "Tscb.INPUT_INVALID.CaFile.Invalid", "invalid_input", "a CA file (or PEM text) that is missing, unreadable or holds no certificate";
    PROXY_INVALID = "Tscb.INPUT_INVALID.Proxy.Invalid", "invalid_input", "a proxy URL (given, or from `HTTPS_PROXY`/`ALL_PROXY`) that is not an `http` or `https` URL with a host";
    CLIENT_ID_INVALID = "Tscb.INPUT_INVALID.ClientId.Invalid", "invalid_input", "the OAuth client id is empty, or has a `:` or a control character";
    CLIENT_SECRET_INVALID = "Tscb.INPUT_INVALID.ClientSecret.Invalid", "invalid_input", "the OAuth client secret is empty or has a control character";
    LOGIN_USERNAME_INVALID = "Tscb.INPUT_INVALID.LoginUsername.Invalid", "invalid_input", "the session login's username is empty or has a control character";
    LOGIN_PASSWORD_INVALID = "Tscb.INPUT_INVALID.LoginPassword.Invalid", "invalid_input", "the session login's password is empty or has a control character";
    SOURCE_ADDRESS_MALFORMED = "Tscb.INPUT_INVALID.SourceAddress.Malformed", "invalid_input", "a callback source is not an IP address, or an allowed source is not an IP address or CIDR block";
    CLIENT_CLOSED = "Tscb.INPUT_INVALID.Client.Closed", "invalid_input", "(Python) a call on a client after `close()`";
    INSIDE_ASYNC_RUNTIME = "Tscb.INPUT_INVALID.Client.InsideAsyncRuntime", "invalid_input", "(Rust) a call of the blocking `tscb::Client` from inside a tokio runtime; use `tscb::AsyncClient` there";
    NO_ASYNC_RUNTIME = "Tscb.INPUT_INVALID.Client.NoAsyncRuntime", "invalid_input", "(Rust) a call of `tscb::AsyncClient` outside a tokio runtime; use `tscb::Client` there";
    ARGUMENT_ENCODING = "Tscb.INPUT_INVALID.Argument.Encoding", "invalid_input", "(C, Python, CLI) a string is not valid UTF-8 (C; an environment variable, CLI) or has a lone surrogate (Python)";
    ARGUMENT_MISSING = "Tscb.INPUT_INVALID.Argument.Missing", "invalid_input", "(C) a required pointer is NULL; (CLI) a required setting is missing";
    FLEET_DUPLICATE = "Tscb.INPUT_INVALID.Fleet.Duplicate", "invalid_input", "(fleet) the desired state names an account twice, or a service twice for one account";
    FLEET_OPTION_INVALID = "Tscb.INPUT_INVALID.Fleet.Option", "invalid_input", "(fleet) a concurrency of 0, or a maximum rate that is not a positive number";
    FLEET_FILE_INVALID = "Tscb.INPUT_INVALID.Fleet.File", "invalid_input", "the desired state (the CLI's fleet file, Python's dict) lacks an account's url or services or names a bad password_env; (CLI) the file cannot be read, is not TOML, or has an unknown or mistyped setting";
    CLIENT_SETUP = "Tscb.REQUEST_FAILED.ClientSetup", "transport", "the HTTP client or TLS could not be set up";
    CONNECT = "Tscb.REQUEST_FAILED.Connect", "transport", "no connection could be made; nothing was sent";
    TLS = "Tscb.REQUEST_FAILED.Tls", "transport", "the TLS handshake failed (unknown issuer, a certificate for another name, an expired certificate, a handshake refused); nothing was sent";
    PROXY = "Tscb.REQUEST_FAILED.Proxy", "transport", "the proxy could not be reached or refused the tunnel (407, a failed `CONNECT`); nothing was sent";
    TRANSPORT = "Tscb.REQUEST_FAILED.Transport", "transport", "the connection broke; the request may have arrived";
    TIMEOUT = "Tscb.REQUEST_FAILED.Timeout", "timeout", "no complete answer within the timeout, or the call ran out of its call timeout; a request may have arrived";
    LOGIN_BLOCKED = "Tscb.REQUEST_FAILED.LoginBlocked", "auth", "a login with the same base URL and credentials was refused, or its outcome is unknown, in the last hour (recorded in the login guard file); nothing was sent";
    HTTP_STATUS = "Tscb.REQUEST_FAILED.HttpStatus", "api, or auth for 401/403", "an HTTP error status with a body in no known error form (the message has the status and a short, cleaned excerpt)";
    RESPONSE_REDIRECT = "Tscb.RESPONSE_INVALID.Redirect", "invalid_response", "a redirect, which is never followed";
    RESPONSE_TOO_LARGE = "Tscb.RESPONSE_INVALID.TooLarge", "invalid_response", "an answer over 1 MiB";
    RESPONSE_NOT_JSON = "Tscb.RESPONSE_INVALID.NotJson", "invalid_response", "a success answer that is empty or not JSON";
    RESPONSE_UNEXPECTED_SHAPE = "Tscb.RESPONSE_INVALID.UnexpectedShape", "invalid_response", "a success answer without the documented fields";
    CALLBACK_REJECTED_SOURCE = "Tscb.CALLBACK_REJECTED.Source", "callback_rejected", "a received callback came from an address that is not an allowed source";
    CALLBACK_REJECTED_CREDENTIALS = "Tscb.CALLBACK_REJECTED.Credentials", "callback_rejected", "a received callback's username or password is not the expected one (nor the previous password within its window)";
    CALLBACK_NOT_JSON = "Tscb.CALLBACK_INVALID.NotJson", "callback_invalid", "a received callback's body is empty or not JSON";
    CALLBACK_UNEXPECTED_SHAPE = "Tscb.CALLBACK_INVALID.UnexpectedShape", "callback_invalid", "a received callback's body is not a JSON object, or a known field has the wrong type";
    CALLBACK_TOO_LARGE = "Tscb.CALLBACK_INVALID.TooLarge", "callback_invalid", "a received callback's body is over 1 MiB";
    PANIC = "Tscb.REQUEST_FAILED.Panic", "internal", "(C, Python) a panic was caught at the language boundary";
    INTERNAL = "Tscb.REQUEST_FAILED.Internal", "internal", "(CLI) the command could not run: the simulator could not start, the output could not be written";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_in_the_documented_form() {
        let mut seen = std::collections::HashSet::new();
        for info in TABLE {
            let code = info.code;
            assert!(seen.insert(code), "duplicate code {code}");
            let parts: Vec<&str> = code.split('.').collect();
            assert!(parts.len() == 3 || parts.len() == 4, "{code}");
            assert_eq!(parts[0], "Tscb");
            assert!([
                "INPUT_INVALID",
                "REQUEST_FAILED",
                "RESPONSE_INVALID",
                "CALLBACK_REJECTED",
                "CALLBACK_INVALID"
            ]
            .contains(&parts[1]));
            assert!(!info.meaning.is_empty() && !info.kind.is_empty());
        }
        assert_eq!(ALL.len(), TABLE.len());
    }
}
