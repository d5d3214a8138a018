//! The client: builds the documented requests, sends them, and turns every answer into either
//! the documented result or an [`Error`].

use std::fmt;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::blocking::Response;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, USER_AGENT,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{codes, is_session_code, BoxError, Error, ErrorKind, Result};
use crate::model::{CallbackAck, CallbackRegistration, RegisteredCallback};
use crate::secret::{redact, Secret};
use crate::validate;

/// ThingSpace's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://thingspace.verizon.com/api";
/// How long a connection may take to open, unless set otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole call (connect, send, and read the answer) may take, unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The most bytes of an answer's body that are read; a larger answer is an error
/// ([`codes::RESPONSE_TOO_LARGE`]), so a broken or hostile server cannot exhaust memory.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Everything but the unreserved characters is escaped, so an account name is always exactly
/// one path segment (`/`, `?`, `#`, `%` and space cannot change the path), as in Verizon's SDK.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

const VZ_M2M_TOKEN: HeaderName = HeaderName::from_static("vz-m2m-token");

/// Configures a [`Client`]; get one from [`Client::builder`].
///
/// Setters only store; [`ClientBuilder::build`] checks everything and returns an error for the
/// first problem it finds. `Debug` never shows the tokens.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    bearer_token: Option<Secret>,
    session_token: Option<Secret>,
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: String,
    check_callback_port: bool,
    allow_insecure_http: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            bearer_token: None,
            session_token: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            user_agent: concat!("tscb/", env!("CARGO_PKG_VERSION")).to_owned(),
            check_callback_port: true,
            allow_insecure_http: false,
        }
    }
}

impl ClientBuilder {
    /// The API's base URL, up to and including `/api` (default [`DEFAULT_BASE_URL`]). It must be
    /// `https`; plain `http` is accepted only for loopback hosts (the simulator) unless
    /// [`ClientBuilder::allow_insecure_http`] is set.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The OAuth access token, sent as `Authorization: Bearer …`.
    pub fn bearer_token(mut self, token: impl Into<Secret>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// The session token from the session login, sent as `VZ-M2M-Token`.
    pub fn session_token(mut self, token: impl Into<Secret>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    /// How long opening a connection may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a whole call may take, from connecting to the last byte of the answer (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `tscb/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Whether a callback URL's port must be one that ThingSpace documents (80, 443, 9001–9006,
    /// 50551–50559, 28200–28220). On by default; turn it off if Verizon changes the list.
    pub fn check_callback_port(mut self, check: bool) -> Self {
        self.check_callback_port = check;
        self
    }

    /// Allows a plain `http` base URL to a host that is not loopback. The tokens then cross the
    /// network unencrypted: only for a test service on a network you control.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Checks the configuration and builds the client. Never panics.
    pub fn build(self) -> Result<Client> {
        let base = validate::base_url(&self.base_url, self.allow_insecure_http)?;
        let bearer = self
            .bearer_token
            .ok_or_else(|| Error::invalid(codes::BEARER_TOKEN_MISSING, "no bearer token was given"))?;
        validate::token(
            bearer.expose(),
            "bearer token",
            codes::BEARER_TOKEN_MISSING,
            codes::BEARER_TOKEN_INVALID_CHARACTER,
        )?;
        let session = self
            .session_token
            .ok_or_else(|| Error::invalid(codes::SESSION_TOKEN_MISSING, "no session token was given"))?;
        validate::token(
            session.expose(),
            "session token",
            codes::SESSION_TOKEN_MISSING,
            codes::SESSION_TOKEN_INVALID_CHARACTER,
        )?;
        validate::user_agent(&self.user_agent)?;
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::invalid(codes::TIMEOUT_ZERO, "a timeout must be longer than zero"));
        }

        let mut headers = HeaderMap::new();
        // All three values were checked to be visible ASCII, so these conversions cannot fail.
        let header = |v: String| HeaderValue::from_str(&v).map_err(|e| setup_error("a header value", e));
        let mut auth = header(format!("Bearer {}", bearer.expose()))?;
        auth.set_sensitive(true);
        let mut m2m = header(session.expose().to_owned())?;
        m2m.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(VZ_M2M_TOKEN, m2m);
        // The documentation lists Content-Type as required on every call of this API, with or
        // without a body; Verizon's SDK adds Accept.
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, header(self.user_agent)?);

        let mut http = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls_config()?)
            // Never follow a redirect: it would carry both tokens to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .tcp_nodelay(true)
            .default_headers(headers);
        if base.scheme() == "http" {
            // A plain-text request must not be handed to a proxy from the environment either.
            http = http.no_proxy();
        }
        let http = http.build().map_err(|e| setup_error("the HTTP client", e))?;

        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: base.as_str().trim_end_matches('/').to_owned(),
                bearer,
                session,
                timeout: self.timeout,
                check_callback_port: self.check_callback_port,
            }),
        })
    }
}

fn tls_config() -> Result<rustls::ClientConfig> {
    use rustls_platform_verifier::BuilderVerifierExt;
    // An explicit provider, so that the library neither needs nor installs a process-wide default.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| setup_error("TLS", e))?
        .with_platform_verifier()
        .map_err(|e| setup_error("TLS certificate verification", e))?
        .with_no_client_auth();
    Ok(config)
}

fn setup_error(what: &str, e: impl Into<BoxError>) -> Error {
    let source = e.into();
    Error::Transport {
        code: codes::CLIENT_SETUP,
        message: format!("could not set up {what}: {source}"),
        source,
    }
}

/// A ThingSpace callback API client.
///
/// Cheap to clone (clones share one connection pool) and safe to share between threads
/// (`Send + Sync`). Every call checks its input before anything is sent, and never follows a
/// redirect.
///
/// ```
/// use tscb::{services, CallbackRegistration, Client};
/// # let sim = tscb_sim::Simulator::start().unwrap();
/// # let base_url = sim.base_url();
/// let client = Client::builder()
///     .base_url(base_url) // e.g. the simulator's "http://127.0.0.1:PORT/api"
///     .bearer_token("sim-bearer-token")
///     .session_token("sim-session-token")
///     .build()?;
///
/// let reg = CallbackRegistration::new(services::CARRIER_SERVICE, "https://listener.example.com/tscb");
/// let ack = client.register_callback("TestAccount-2", &reg)?;
/// assert_eq!(ack.service_name, "CarrierService");
///
/// let listed = client.list_callbacks("TestAccount-2")?;
/// assert_eq!(listed[0].url, "https://listener.example.com/tscb");
///
/// client.deregister_callback("TestAccount-2", services::CARRIER_SERVICE)?;
/// # Ok::<(), tscb::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::blocking::Client,
    base: String,
    bearer: Secret,
    session: Secret,
    timeout: Duration,
    check_callback_port: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base)
            .field("bearer_token", &self.inner.bearer)
            .field("session_token", &self.inner.session)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder with the defaults: production base URL, 10 s connect timeout, 30 s timeout.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL in use, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Registers a callback listener: `POST {base}/m2m/v1/callbacks/{account}`.
    ///
    /// ThingSpace keeps one listener per service per account; Verizon advises deregistering
    /// before registering a service again.
    pub fn register_callback(
        &self,
        account: &str,
        registration: &CallbackRegistration,
    ) -> Result<CallbackAck> {
        validate::account_name(account)?;
        validate::service_name(registration.service_name())?;
        validate::callback_url(registration.url(), self.inner.check_callback_port)?;
        if let Some(username) = registration.username() {
            validate::username(username)?;
        }
        let password = registration.password().map(Secret::expose);
        if let Some(password) = password {
            validate::password(password)?;
        }
        let url = self.callbacks_url(account);
        let call = Call { client: self, extra_secret: password.unwrap_or("") };
        let (status, body) = call.send(Method::POST, &url, Some(registration.to_wire()))?;
        call.parse(status, &body)
    }

    /// Lists the listeners registered through this API: `GET {base}/m2m/v1/callbacks/{account}`.
    /// An empty answer (empty body, `null` or `[]`) is an empty list.
    pub fn list_callbacks(&self, account: &str) -> Result<Vec<RegisteredCallback>> {
        validate::account_name(account)?;
        let url = self.callbacks_url(account);
        let call = Call { client: self, extra_secret: "" };
        let (status, body) = call.send(Method::GET, &url, None)?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        Ok(call.parse::<Option<Vec<RegisteredCallback>>>(status, &body)?.unwrap_or_default())
    }

    /// Removes the listener of one service:
    /// `DELETE {base}/m2m/v1/callbacks/{account}/name/{service_name}`.
    pub fn deregister_callback(&self, account: &str, service_name: &str) -> Result<CallbackAck> {
        validate::account_name(account)?;
        validate::service_name(service_name)?;
        // The service name is letters and digits only, so it needs no escaping.
        let url = format!("{}/name/{}", self.callbacks_url(account), service_name);
        let call = Call { client: self, extra_secret: "" };
        let (status, body) = call.send(Method::DELETE, &url, None)?;
        call.parse(status, &body)
    }

    fn callbacks_url(&self, account: &str) -> String {
        format!("{}/m2m/v1/callbacks/{}", self.inner.base, utf8_percent_encode(account, PATH_SEGMENT))
    }
}

/// One call in flight: knows the secrets to keep out of whatever the answer makes us say.
struct Call<'a> {
    client: &'a Client,
    extra_secret: &'a str,
}

impl Call<'_> {
    fn redact(&self, text: &str) -> String {
        let inner = &self.client.inner;
        redact(text, &[inner.bearer.expose(), inner.session.expose(), self.extra_secret])
    }

    /// Sends the request and returns the status and body of a 2xx answer; every other outcome is
    /// an error.
    fn send(&self, method: Method, url: &str, body: Option<Vec<u8>>) -> Result<(StatusCode, Vec<u8>)> {
        let inner = &self.client.inner;
        let deadline = Instant::now() + inner.timeout;
        let mut request = inner.http.request(method, url);
        if let Some(body) = body {
            request = request.body(body);
        }
        let mut response = request.send().map_err(|e| self.send_error(e))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .map(|v| excerpt(&self.redact(&String::from_utf8_lossy(v.as_bytes()))))
                .unwrap_or_else(|| "nowhere".to_owned());
            return Err(Error::InvalidResponse {
                status: status.as_u16(),
                code: codes::RESPONSE_REDIRECT,
                message: format!(
                    "the service answered HTTP {status} pointing to \"{location}\"; redirects are \
                     not followed, so that the tokens go only to the configured base URL"
                ),
                source: None,
            });
        }
        let body = self.read_body(&mut response, status, deadline)?;
        if status.is_success() {
            Ok((status, body))
        } else {
            Err(self.error_answer(status, &body))
        }
    }

    fn send_error(&self, e: reqwest::Error) -> Error {
        let message = self.redact(&chain(&e));
        if e.is_timeout() {
            Error::Timeout {
                message: format!("no answer within {:?}: {message}", self.client.inner.timeout),
                source: Some(Box::new(e)),
            }
        } else if e.is_connect() {
            Error::Transport { code: codes::CONNECT, message, source: Box::new(e) }
        } else {
            Error::Transport { code: codes::TRANSPORT, message, source: Box::new(e) }
        }
    }

    fn read_body(&self, response: &mut Response, status: StatusCode, deadline: Instant) -> Result<Vec<u8>> {
        let too_large = || Error::InvalidResponse {
            status: status.as_u16(),
            code: codes::RESPONSE_TOO_LARGE,
            message: format!("the answer's body is larger than {MAX_RESPONSE_BYTES} bytes"),
            source: None,
        };
        let declared = response.content_length().unwrap_or(0);
        if declared > MAX_RESPONSE_BYTES as u64 {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(declared as usize);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let n = match response.read(&mut chunk) {
                Ok(0) => return Ok(body),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.read_error(e)),
            };
            if body.len() + n > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk[..n]);
            // reqwest's timeout already bounds the call; this guards a server that trickles bytes.
            if Instant::now() > deadline {
                return Err(Error::Timeout {
                    message: format!("the answer did not finish within {:?}", self.client.inner.timeout),
                    source: None,
                });
            }
        }
    }

    fn read_error(&self, e: std::io::Error) -> Error {
        let timed_out = e.kind() == std::io::ErrorKind::TimedOut
            || e.get_ref()
                .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
                .is_some_and(reqwest::Error::is_timeout);
        let message = self.redact(&chain(&e));
        if timed_out {
            Error::Timeout {
                message: format!(
                    "the answer did not finish within {:?}: {message}",
                    self.client.inner.timeout
                ),
                source: Some(Box::new(e)),
            }
        } else {
            Error::Transport {
                code: codes::TRANSPORT,
                message: format!("the connection broke while the answer was read: {message}"),
                source: Box::new(e),
            }
        }
    }

    /// Turns a non-2xx answer into an error: the service's own code and message when the body is
    /// in one of its documented forms, else the status and an excerpt.
    fn error_answer(&self, status: StatusCode, body: &[u8]) -> Error {
        if let Some((code, message)) = known_error_shape(body) {
            return self.api_error(status, code, message);
        }
        let text = self.redact(&String::from_utf8_lossy(&body[..body.len().min(4096)]));
        Error::HttpStatus {
            status: status.as_u16(),
            message: format!("HTTP {status}; {}", describe_body(&text, body.is_empty())),
            kind: auth_or_api(status, ""),
        }
    }

    fn api_error(&self, status: StatusCode, code: String, message: String) -> Error {
        let kind = auth_or_api(status, &code);
        Error::Api { status: status.as_u16(), code: self.redact(&code), message: self.redact(&message), kind }
    }

    /// Parses a 2xx body into `T`. A body that does not fit is an error, never a default value.
    fn parse<T: DeserializeOwned>(&self, status: StatusCode, body: &[u8]) -> Result<T> {
        let err = match serde_json::from_slice::<T>(body) {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        // Some gateways answer errors with a 2xx status: the service's own words beat ours.
        if let Some((code, message)) = known_error_shape(body) {
            return Err(self.api_error(status, code, message));
        }
        let code = if err.is_data() { codes::RESPONSE_UNEXPECTED_SHAPE } else { codes::RESPONSE_NOT_JSON };
        let text = self.redact(&String::from_utf8_lossy(&body[..body.len().min(4096)]));
        let what = if body.is_empty() { "empty".to_owned() } else { self.redact(&err.to_string()) };
        Err(Error::InvalidResponse {
            status: status.as_u16(),
            code,
            message: format!(
                "HTTP {status} answer is not the documented JSON ({what}); {}",
                describe_body(&text, body.is_empty())
            ),
            source: Some(Box::new(err)),
        })
    }
}

fn auth_or_api(status: StatusCode, code: &str) -> ErrorKind {
    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) || is_session_code(code) {
        ErrorKind::Auth
    } else {
        ErrorKind::Api
    }
}

/// Recognises the three error forms ThingSpace is known to send: the connectivity API's
/// `{errorCode, errorMessage}`, the gateway's `{fault: {code, message, description}}` and
/// OAuth's `{error, error_description}`.
fn known_error_shape(body: &[u8]) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = value.as_object()?;
    let text = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    if let Some(code) = obj.get("errorCode").filter(|c| c.is_string() || c.is_number()) {
        return Some((text(Some(code)), text(obj.get("errorMessage"))));
    }
    if let Some(fault) = obj.get("fault").and_then(|f| f.as_object()) {
        let code = text(fault.get("code"));
        let message = text(fault.get("message"));
        let description = text(fault.get("description"));
        let message = match (message.is_empty(), description.is_empty()) {
            (_, true) => message,
            (true, false) => description,
            (false, false) => format!("{message}: {description}"),
        };
        return Some((code, message));
    }
    if let Some(error) = obj.get("error").and_then(|e| e.as_str()) {
        return Some((error.to_owned(), text(obj.get("error_description"))));
    }
    None
}

/// A short, printable excerpt: control characters become spaces and the length is capped, so a
/// hostile body cannot flood a log or play tricks with a terminal.
fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 200;
    let mut out: String =
        text.chars().take(MAX_CHARS).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    out
}

fn describe_body(text: &str, empty: bool) -> String {
    if empty {
        "the body is empty".to_owned()
    } else {
        format!("the body starts: \"{}\"", excerpt(text))
    }
}

/// An error and its causes on one line, without repeats (hyper and reqwest often repeat
/// their source's text).
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_caps_and_cleans() {
        let long = "a\u{1b}[2J".to_owned() + &"x".repeat(500);
        let e = excerpt(&long);
        assert!(e.starts_with("a [2J"));
        assert!(e.ends_with('…'));
        assert_eq!(e.chars().count(), 201);
    }

    #[test]
    fn known_shapes() {
        assert_eq!(
            known_error_shape(br#"{"errorCode":"A.B.C","errorMessage":"m"}"#),
            Some(("A.B.C".into(), "m".into()))
        );
        assert_eq!(
            known_error_shape(
                br#"{"fault":{"code":900901,"message":"Invalid Credentials","description":"d"}}"#
            ),
            Some(("900901".into(), "Invalid Credentials: d".into()))
        );
        assert_eq!(
            known_error_shape(br#"{"error":"invalid_client","error_description":"bad"}"#),
            Some(("invalid_client".into(), "bad".into()))
        );
        assert_eq!(known_error_shape(b"<html>"), None);
        assert_eq!(known_error_shape(br#"{"accountName":"x"}"#), None);
    }

    #[test]
    fn account_is_one_segment() {
        let c = Client::builder().bearer_token("b").session_token("s").build().unwrap();
        assert_eq!(
            c.callbacks_url("../a/b?c#d%e f"),
            "https://thingspace.verizon.com/api/m2m/v1/callbacks/..%2Fa%2Fb%3Fc%23d%25e%20f"
        );
        assert_eq!(
            c.callbacks_url("0000123456-00001"),
            "https://thingspace.verizon.com/api/m2m/v1/callbacks/0000123456-00001"
        );
    }
}
