//! The client: builds the documented requests, sends them, and turns every answer into either
//! the documented result or an [`Error`].

use std::fmt;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::blocking::Response;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER,
    USER_AGENT,
};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::auth::{ApiKey, Auth, Login, LoginAnswer, SignIn, Snapshot, Stale, Token, TokenAnswer};
use crate::error::{codes, is_session_code, BoxError, Error, ErrorKind, Result};
use crate::model::{CallbackAck, CallbackRegistration, RegisteredCallback};
use crate::retry::{Operation, RetryPolicy};
use crate::secret::{redact, Secret};
use crate::validate;

/// ThingSpace's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://thingspace.verizon.com/api";
/// How long a connection may take to open, unless set otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one HTTP request (connect, send, and read the whole answer) may take, unless set
/// otherwise.
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
    api_key: Option<ApiKey>,
    login: Option<Login>,
    retry: RetryPolicy,
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
            api_key: None,
            login: None,
            retry: RetryPolicy::default(),
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

    /// Signs in for the user: the OAuth client credentials for the bearer token and the account's
    /// connectivity-management login for the session token. The client gets both when first
    /// used, gets a new bearer token shortly before the old one runs out, and logs in again
    /// when the service says the session expired (see [`Client`]).
    pub fn credentials(
        self,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        self.api_key(ApiKey::new(client_id, client_secret)).login(Login::new(username, password))
    }

    /// Sets whichever credentials are given, for callers whose settings are all optional
    /// (environment variables, keyword arguments). A pair given by halves is passed on as it is,
    /// so that [`ClientBuilder::build`] names the missing half (e.g. `ClientSecret.Invalid`).
    pub fn credentials_from(
        mut self,
        client_id: Option<String>,
        client_secret: Option<String>,
        username: Option<String>,
        password: Option<String>,
    ) -> Self {
        if client_id.is_some() || client_secret.is_some() {
            self =
                self.api_key(ApiKey::new(client_id.unwrap_or_default(), client_secret.unwrap_or_default()));
        }
        if username.is_some() || password.is_some() {
            self = self.login(Login::new(username.unwrap_or_default(), password.unwrap_or_default()));
        }
        self
    }

    /// The OAuth client credentials, used to get (and renew) the bearer token. With a fixed
    /// [`ClientBuilder::bearer_token`] as well, that token is used first.
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.api_key = Some(key);
        self
    }

    /// The session login, used to get (and renew) the session token. With a fixed
    /// [`ClientBuilder::session_token`] as well, that token is used first.
    pub fn login(mut self, login: Login) -> Self {
        self.login = Some(login);
        self
    }

    /// When calls are repeated after transient failures (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Changes only the retry policy's [`RetryPolicy::max_retries`], keeping its other settings.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry = self.retry.max_retries(retries);
        self
    }

    /// Changes only the retry policy's [`RetryPolicy::retry_register_when_busy`].
    pub fn retry_register_when_busy(mut self, retry: bool) -> Self {
        self.retry = self.retry.retry_register_when_busy(retry);
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

    /// How long each HTTP request may take, from connecting to the last byte of the answer
    /// (default 30 s; at most a day). A call can send more than one request: a sign-in, one
    /// renewal of each token, and the retries of the [`RetryPolicy`] with their waits.
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
        let auth = Auth::new(self.bearer_token, self.session_token, self.api_key, self.login)?;
        validate::user_agent(&self.user_agent)?;
        validate::timeout(self.timeout)?;
        validate::timeout(self.connect_timeout)?;

        let mut headers = HeaderMap::new();
        // The tokens are set per request (they are renewed); these never change.
        // The documentation lists Content-Type as required on every call of this API, with or
        // without a body; Verizon's SDK adds Accept.
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        // Checked to be printable ASCII, so this cannot fail.
        let agent = HeaderValue::from_str(&self.user_agent).map_err(|e| setup_error("a header value", e))?;
        headers.insert(USER_AGENT, agent);

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
                auth,
                retry: self.retry,
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
    auth: Auth,
    retry: RetryPolicy,
    timeout: Duration,
    check_callback_port: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
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
        let body = registration.to_wire();
        let (call, status, body) =
            self.call(Operation::Register, Method::POST, &url, Some(&body), password)?;
        call.parse(status, &body)
    }

    /// Lists the listeners registered through this API: `GET {base}/m2m/v1/callbacks/{account}`.
    /// An empty answer (empty body, `null` or `[]`) is an empty list.
    pub fn list_callbacks(&self, account: &str) -> Result<Vec<RegisteredCallback>> {
        validate::account_name(account)?;
        let url = self.callbacks_url(account);
        let (call, status, body) = self.call(Operation::List, Method::GET, &url, None, None)?;
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
        let (call, status, body) = self.call(Operation::Deregister, Method::DELETE, &url, None, None)?;
        call.parse(status, &body)
    }

    /// Signs in now, if the client has credentials and no valid tokens yet: gets the OAuth
    /// token and logs in for a session. Calls do this by themselves when needed; this checks
    /// the credentials up front. With fixed tokens it sends nothing.
    pub fn login(&self) -> Result<()> {
        self.inner.auth.snapshot(self).map(|_| ())
    }

    /// Ends the session: `POST {base}/m2m/v1/session/logout`. A client with a session login
    /// logs in again when it is next used; one with a fixed session token cannot use it again.
    /// Without a session (never signed in, or logged out already) it sends nothing.
    pub fn logout(&self) -> Result<()> {
        let url = format!("{}/m2m/v1/session/logout", self.inner.base);
        let Some(snapshot) = self.inner.auth.current() else { return Ok(()) };
        let headers = auth_headers(&snapshot);
        let call = Call { client: self, tokens: Some(snapshot), extra_secrets: Vec::new() };
        call.send_with_retry(Operation::Logout, Method::POST, &url, &headers, None)?;
        if let Some(snapshot) = &call.tokens {
            self.inner.auth.forget_session(snapshot);
        }
        Ok(())
    }

    /// Sends a callbacks request with fresh tokens; when the service says a token is stale and
    /// the client can renew it, renews it (each token at most once) and repeats the call.
    fn call<'a>(
        &'a self,
        op: Operation,
        method: Method,
        url: &str,
        body: Option<&[u8]>,
        extra_secret: Option<&'a str>,
    ) -> Result<(Call<'a>, StatusCode, Vec<u8>)> {
        let auth = &self.inner.auth;
        let mut renewed: Vec<Stale> = Vec::new();
        loop {
            let snapshot = auth.snapshot(self)?;
            let headers = auth_headers(&snapshot);
            let extra_secrets = extra_secret.into_iter().collect();
            let call = Call { client: self, tokens: Some(snapshot), extra_secrets };
            match call.send_with_retry(op, method.clone(), url, &headers, body) {
                // The call goes on to parse the answer, still knowing the tokens it must redact.
                Ok((status, answer)) => return Ok((call, status, answer)),
                Err(error) => match (auth.stale(&error), &call.tokens) {
                    (Some(what), Some(snapshot)) if !renewed.contains(&what) => {
                        auth.renew(what, snapshot, self)?;
                        renewed.push(what);
                    }
                    _ => return Err(error),
                },
            }
        }
    }

    fn callbacks_url(&self, account: &str) -> String {
        format!("{}/m2m/v1/callbacks/{}", self.inner.base, utf8_percent_encode(account, PATH_SEGMENT))
    }
}

/// The two token headers of a callbacks request (cloning a `HeaderValue` only counts a reference).
fn auth_headers(tokens: &Snapshot) -> [(HeaderName, HeaderValue); 2] {
    [(AUTHORIZATION, tokens.bearer.header.clone()), (VZ_M2M_TOKEN, tokens.session.header.clone())]
}

/// The sign-in requests, sent for the auth module with the client's HTTP connection pool,
/// timeouts and retry policy.
impl SignIn for Client {
    fn fetch_token(&self, key: &ApiKey) -> Result<(Secret, Option<Duration>)> {
        use base64::Engine as _;
        let url = format!("{}/ts/v1/oauth2/token", self.inner.base);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            key.client_id,
            key.client_secret.expose()
        ));
        let mut authorization = HeaderValue::from_str(&format!("Basic {basic}"))
            .map_err(|e| setup_error("the token request", e))?;
        authorization.set_sensitive(true);
        let headers = [
            (AUTHORIZATION, authorization),
            (CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded")),
        ];
        // A server may echo the Authorization header: its base64 decodes to id:secret.
        let call = Call { client: self, tokens: None, extra_secrets: vec![&basic] };
        let body = b"grant_type=client_credentials";
        let (status, answer) = call
            .send_with_retry(Operation::Token, Method::POST, &url, &headers, Some(body))
            .map_err(Error::refused_as_auth)?;
        let token: TokenAnswer = call.parse(status, &answer)?;
        if !is_header_token(&token.access_token) {
            return Err(call.shape_error(status, "the OAuth token is empty or cannot go into a header"));
        }
        let lifetime = token.lifetime();
        Ok((Secret::new(token.access_token), lifetime))
    }

    fn log_in(&self, bearer: &Token, login: &Login) -> Result<Secret> {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            username: &'a str,
            password: &'a str,
        }
        let url = format!("{}/m2m/v1/session/login", self.inner.base);
        let headers = [(AUTHORIZATION, bearer.header.clone())];
        let body = serde_json::to_vec(&Body { username: &login.username, password: login.password.expose() })
            .unwrap_or_default();
        // The password as it appears inside the JSON body (escaped), should a server echo it.
        let escaped = serde_json::to_string(login.password.expose()).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        let call = Call { client: self, tokens: None, extra_secrets: vec![bearer.value.expose(), escaped] };
        let (status, answer) = call
            .send_with_retry(Operation::Login, Method::POST, &url, &headers, Some(&body))
            .map_err(Error::refused_as_auth)?;
        let session: LoginAnswer = call.parse(status, &answer)?;
        if !is_header_token(&session.session_token) {
            return Err(call.shape_error(status, "the session token is empty or cannot go into a header"));
        }
        Ok(Secret::new(session.session_token))
    }
}

/// A token that a server issued can go into our headers: non-empty visible ASCII.
fn is_header_token(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic())
}

/// One call in flight: knows the secrets to keep out of whatever the answer makes us say.
struct Call<'a> {
    client: &'a Client,
    tokens: Option<Snapshot>,
    /// Secrets of this request beyond the client's own (the callback password, say).
    extra_secrets: Vec<&'a str>,
}

impl Call<'_> {
    fn redact(&self, text: &str) -> String {
        let mut secrets = self.client.inner.auth.long_lived_secrets();
        secrets.extend(&self.extra_secrets);
        if let Some(tokens) = &self.tokens {
            secrets.push(tokens.bearer.value.expose());
            secrets.push(tokens.session.value.expose());
        }
        redact(text, &secrets)
    }

    /// Sends the request, repeating it after a transient failure where the retry policy allows.
    fn send_with_retry(
        &self,
        op: Operation,
        method: Method,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<&[u8]>,
    ) -> Result<(StatusCode, Vec<u8>)> {
        let mut retry = 0;
        loop {
            match self.send(method.clone(), url, headers, body) {
                Err(error) => {
                    retry += 1;
                    match self.client.inner.retry.delay(op, &error, retry) {
                        Some(wait) => std::thread::sleep(wait),
                        None => return Err(error),
                    }
                }
                ok => return ok,
            }
        }
    }

    /// Sends the request once and returns the status and body of a 2xx answer; every other
    /// outcome is an error.
    fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<&[u8]>,
    ) -> Result<(StatusCode, Vec<u8>)> {
        let inner = &self.client.inner;
        // The timeout was checked to be at most a day, so this cannot overflow.
        let deadline = Instant::now() + inner.timeout;
        // A per-request timeout is one deadline for connecting, sending and the whole body;
        // the client-wide one alone would restart for every read of the body.
        let mut request = inner.http.request(method, url).timeout(inner.timeout);
        for (name, value) in headers {
            request = request.header(name, value.clone());
        }
        if let Some(body) = body {
            request = request.body(body.to_vec());
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
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::retry::parse_retry_after);
        let body = self.read_body(&mut response, status, deadline)?;
        if status.is_success() {
            Ok((status, body))
        } else {
            Err(self.error_answer(status, &body, retry_after))
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
    fn error_answer(&self, status: StatusCode, body: &[u8], retry_after: Option<Duration>) -> Error {
        if let Some((code, message)) = known_error_shape(body) {
            return self.api_error(status, code, message, retry_after);
        }
        Error::HttpStatus {
            status: status.as_u16(),
            message: format!("HTTP {status}; {}", self.quote_body(body)),
            kind: auth_or_api(status, ""),
            retry_after,
        }
    }

    /// A short, clean excerpt of a body for an error message: secrets of ours redacted,
    /// `"password"` values masked (a list answer carries callback passwords in clear text),
    /// control characters replaced and the length capped.
    fn quote_body(&self, body: &[u8]) -> String {
        if body.is_empty() {
            return "the body is empty".to_owned();
        }
        let text = self.redact(&String::from_utf8_lossy(&body[..body.len().min(4096)]));
        format!("the body starts: \"{}\"", excerpt(&mask_password_values(&text)))
    }

    fn shape_error(&self, status: StatusCode, what: &str) -> Error {
        Error::InvalidResponse {
            status: status.as_u16(),
            code: codes::RESPONSE_UNEXPECTED_SHAPE,
            message: format!("HTTP {status} answer: {what}"),
            source: None,
        }
    }

    fn api_error(
        &self,
        status: StatusCode,
        code: String,
        message: String,
        retry_after: Option<Duration>,
    ) -> Error {
        let kind = auth_or_api(status, &code);
        // The service's words, verbatim but for control characters (which could rewrite a
        // terminal or forge log lines) and a cap on the length.
        Error::Api {
            status: status.as_u16(),
            code: clean(&self.redact(&code), 200),
            message: clean(&self.redact(&message), 2000),
            kind,
            retry_after,
        }
    }

    /// Parses a 2xx body into `T`. A body that does not fit is an error, never a default value.
    fn parse<T: DeserializeOwned>(&self, status: StatusCode, body: &[u8]) -> Result<T> {
        let err = match serde_json::from_slice::<T>(body) {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        // Some gateways answer errors with a 2xx status: the service's own words beat ours.
        if let Some((code, message)) = known_error_shape(body) {
            return Err(self.api_error(status, code, message, None));
        }
        let code = if err.is_data() { codes::RESPONSE_UNEXPECTED_SHAPE } else { codes::RESPONSE_NOT_JSON };
        let what = if body.is_empty() { "empty".to_owned() } else { self.redact(&json_error(&err)) };
        Err(Error::InvalidResponse {
            status: status.as_u16(),
            code,
            message: format!(
                "HTTP {status} answer is not the documented JSON ({what}); {}",
                self.quote_body(body)
            ),
            // serde's own text for a data error may quote a value from the body.
            source: if err.is_data() { None } else { Some(Box::new(err)) },
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
    // An empty code would defeat matching on the code: such a body is in no known form.
    let non_empty = |c: &&serde_json::Value| c.as_str().map_or(c.is_number(), |s| !s.trim().is_empty());
    if let Some(code) = obj.get("errorCode").filter(non_empty) {
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
    clean(text, 200)
}

/// `text` with control characters as spaces, cut to `max_chars` (with `…` when cut).
fn clean(text: &str, max_chars: usize) -> String {
    let mut out: String =
        text.chars().take(max_chars).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.chars().nth(max_chars).is_some() {
        out.push('…');
    }
    out
}

/// serde's message without the offending value: "invalid type: string \"hunter2\", expected …"
/// could quote a password from a malformed list.
fn json_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    if err.is_data() && (text.starts_with("invalid type") || text.starts_with("invalid value")) {
        let what = text.split(':').next().unwrap_or("invalid value");
        format!("{what} at line {} column {}", err.line(), err.column())
    } else {
        text
    }
}

/// Replaces the value of every `"password": "…"` in (possibly truncated) JSON text with
/// `<redacted>`.
fn mask_password_values(text: &str) -> String {
    const KEY: &str = "\"password\"";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let (before, after_key) = rest.split_at(at + KEY.len());
        out.push_str(before);
        let value = after_key.trim_start();
        let Some(value) = value.strip_prefix(':').map(str::trim_start) else {
            rest = after_key;
            continue;
        };
        let Some(inner) = value.strip_prefix('"') else {
            rest = after_key;
            continue;
        };
        // The value ends at the first quote that is not escaped (or with the text).
        let mut end = inner.len();
        let mut escaped = false;
        for (i, c) in inner.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = i;
                    break;
                }
                _ => escaped = false,
            }
        }
        out.push_str(&after_key[..after_key.len() - value.len()]);
        out.push_str("\"<redacted>");
        rest = &inner[end..];
    }
    out.push_str(rest);
    out
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
    fn password_values_are_masked_even_in_broken_json() {
        assert_eq!(
            mask_password_values(r#"[{"url":"u","password":"hun\"ter2","x":1},{"password" : "p2"}]"#),
            r#"[{"url":"u","password":"<redacted>","x":1},{"password" : "<redacted>"}]"#
        );
        assert_eq!(mask_password_values(r#"{"password":"trunc"#), r#"{"password":"<redacted>"#);
        assert_eq!(
            mask_password_values(r#"{"password":null,"b":"password"}"#),
            r#"{"password":null,"b":"password"}"#
        );
    }

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
        assert_eq!(known_error_shape(br#"{"errorCode":"","errorMessage":"m"}"#), None);
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
