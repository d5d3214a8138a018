//! The client's configuration: [`ClientBuilder`], its defaults, and the HTTP and TLS set-up
//! that [`ClientBuilder::build`] does.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, USER_AGENT};

use url::Url;

use crate::credentials::{ClientCredentials, Login};
use crate::error::{setup_error, Result};
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::validate;

/// ThingSpace's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://thingspace.verizon.com/api";
/// How long a connection may take to open, unless set otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one HTTP request (connect, send, and read the whole answer) may take, unless set
/// otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one call (sign-in, renewals, retries and their waits included) may take, unless set
/// otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Configures a [`Client`](crate::Client) (or an [`AsyncClient`](crate::AsyncClient)); get one from [`Client::builder`](crate::Client::builder).
///
/// Setters only store; [`ClientBuilder::build`] and [`ClientBuilder::build_async`] check
/// everything and return an error for the first problem they find. `Debug` never shows the tokens.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    bearer_token: Option<Secret>,
    session_token: Option<Secret>,
    connect_timeout: Duration,
    timeout: Duration,
    call_timeout: Duration,
    user_agent: String,
    check_callback_port: bool,
    allow_insecure_http: bool,
    client_credentials: Option<ClientCredentials>,
    login: Option<Login>,
    retry: RetryPolicy,
    extra_cas: Vec<ExtraCa>,
    proxy: ProxySetting,
    login_guard_file: Option<PathBuf>,
    ignore_login_guard: bool,
    name_server: Option<std::net::SocketAddr>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            bearer_token: None,
            session_token: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            user_agent: concat!("tscb/", env!("CARGO_PKG_VERSION")).to_owned(),
            check_callback_port: true,
            allow_insecure_http: false,
            client_credentials: None,
            login: None,
            retry: RetryPolicy::default(),
            extra_cas: Vec::new(),
            proxy: ProxySetting::default(),
            login_guard_file: None,
            ignore_login_guard: false,
            name_server: None,
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
    /// when the service says the session expired (see [`Client`](crate::Client)).
    pub fn credentials(
        self,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        login_username: impl Into<String>,
        login_password: impl Into<Secret>,
    ) -> Self {
        self.client_credentials(ClientCredentials::new(client_id, client_secret))
            .login(Login::new(login_username, login_password))
    }

    /// Sets whichever credentials are given, for callers whose settings are all optional
    /// (environment variables, keyword arguments). A pair given by halves is passed on as it is,
    /// so that [`ClientBuilder::build`] names the missing half (e.g. `ClientSecret.Invalid`).
    pub fn credentials_from(
        mut self,
        client_id: Option<String>,
        client_secret: Option<impl Into<Secret>>,
        login_username: Option<String>,
        login_password: Option<impl Into<Secret>>,
    ) -> Self {
        if client_id.is_some() || client_secret.is_some() {
            self = self.client_credentials(ClientCredentials::new(
                client_id.unwrap_or_default(),
                client_secret.map_or_else(|| Secret::new(""), Into::into),
            ));
        }
        if login_username.is_some() || login_password.is_some() {
            let password = login_password.map_or_else(|| Secret::new(""), Into::into);
            self = self.login(Login::new(login_username.unwrap_or_default(), password));
        }
        self
    }

    /// The OAuth client credentials, used to get (and renew) the bearer token. With a fixed
    /// [`ClientBuilder::bearer_token`] as well, that token is used first.
    pub fn client_credentials(mut self, credentials: ClientCredentials) -> Self {
        self.client_credentials = Some(credentials);
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
    /// (default 30 s; at most a day). A call can send more than one request (a sign-in, one
    /// renewal of each token, and the retries of the [`RetryPolicy`] with their waits); each
    /// gets this or what is left of the [`ClientBuilder::call_timeout`], whichever is shorter.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long one call may take in all (default [`DEFAULT_CALL_TIMEOUT`], 120 s; at most a
    /// day): the sign-in or renewals it needs, waiting for another thread's sign-in, its
    /// requests, and the retries with their `Retry-After` or backoff waits. When it runs out
    /// the call fails with [`crate::codes::TIMEOUT`]; a wait that does not fit in what is left
    /// is not started (the failure that asked for it is returned instead).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Remembers refused logins across clients and runs, in this file (off by default).
    ///
    /// A client keeps a login that was refused, or whose outcome is unknown, from being sent
    /// again; with a guard file, so does every later client (and process) using the same
    /// file, for an hour: the call fails with [`crate::codes::LOGIN_BLOCKED`] (kind auth)
    /// instead, since five failed logins in a row lock the account. The file records a keyed
    /// hash (HMAC-SHA256, with a random key kept in the file) of the base URL, login username
    /// and password, never the password; a successful login removes the entry. A client that
    /// finds the same credentials' login in flight in another client or process waits for its
    /// outcome (within its [`ClientBuilder::call_timeout`]) rather than sending them at the
    /// same time. It is created 0600 (with a lock file beside it), and its directory 0700; a
    /// directory not owned by the user (or root), or writable by group or others, is not used
    /// (as ssh does with `~/.ssh`), and links there are never followed. The lock is waited for
    /// within half of what is left of the call timeout, then the call goes on without the file.
    /// A file that cannot be read, parsed or written never stops a login: see
    /// [`Client::login_guard_warning`](crate::Client::login_guard_warning).
    pub fn login_guard_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.login_guard_file = Some(path.into());
        self
    }

    /// Sends a login even when the [`ClientBuilder::login_guard_file`] says the same
    /// credentials were refused within the hour (default off). Its outcome is still recorded.
    pub fn ignore_login_guard(mut self, ignore: bool) -> Self {
        self.ignore_login_guard = ignore;
        self
    }

    /// The `User-Agent` header (default `tscb/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Whether a callback URL's port must be one that ThingSpace documents ([`crate::CALLBACK_PORTS`]).
    /// On by default; turn it off if Verizon changes the list.
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

    /// For tests: the blocking client asks only this DNS server (UDP), instead of those of
    /// `/etc/resolv.conf`, to look host names up. Not for production use.
    #[doc(hidden)]
    pub fn name_server_for_tests(mut self, server: std::net::SocketAddr) -> Self {
        self.name_server = Some(server);
        self
    }

    /// Trusts the CA certificates in `pem` (one or more `BEGIN CERTIFICATE` blocks) besides the
    /// platform's roots, e.g. a corporate proxy's CA. Text that holds no certificate makes
    /// [`ClientBuilder::build`] fail with [`crate::codes::CA_FILE_INVALID`]. (`SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` work as well, but for the whole process.)
    pub fn add_root_certificate_pem(mut self, pem: &[u8]) -> Self {
        self.extra_cas.push(ExtraCa::Pem(pem.to_vec()));
        self
    }

    /// Trusts the CA certificates in the PEM file at `path` besides the platform's roots. The
    /// file is read by [`ClientBuilder::build`], which fails with [`crate::codes::CA_FILE_INVALID`] when
    /// it is missing, unreadable or holds no certificate.
    pub fn add_ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.extra_cas.push(ExtraCa::File(path.into()));
        self
    }

    /// Goes through the proxy at `url` (`http://[user:password@]host:port`, or `https://`),
    /// whatever the environment says; credentials in it are sent as `Proxy-Authorization` and
    /// never shown. An empty `url` means no proxy. By default the proxy comes from
    /// `https_proxy`/`HTTPS_PROXY` or `all_proxy`/`ALL_PROXY`, minus the hosts in
    /// `no_proxy`/`NO_PROXY`, as curl reads them. Plain `http` to loopback never uses a proxy.
    pub fn proxy(mut self, url: impl Into<Secret>) -> Self {
        self.proxy = ProxySetting::Url(url.into());
        self
    }

    /// Connects directly, whatever the environment's proxy variables say.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxySetting::Off;
        self
    }

    /// Checks every setting and returns them as one immutable value, or the first problem
    /// found. [`ClientBuilder::build`] and [`ClientBuilder::build_async`] make their client
    /// from it.
    pub(crate) fn config(self) -> Result<Config> {
        let base = validate::base_url(&self.base_url, self.allow_insecure_http)?;
        validate::user_agent(&self.user_agent)?;
        validate::timeout(self.timeout)?;
        validate::timeout(self.connect_timeout)?;
        validate::timeout(self.call_timeout)?;
        let mut headers = HeaderMap::new();
        // The tokens are set per request (they are renewed); these never change.
        // The documentation lists Content-Type as required on every call of this API, with or
        // without a body; Verizon's SDK adds Accept.
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        // Checked to be printable ASCII, so this cannot fail.
        let agent = HeaderValue::from_str(&self.user_agent).map_err(|e| setup_error("a header value", e))?;
        headers.insert(USER_AGENT, agent);
        Ok(Config {
            base,
            bearer_token: self.bearer_token,
            session_token: self.session_token,
            client_credentials: self.client_credentials,
            login: self.login,
            login_guard_file: self.login_guard_file,
            ignore_login_guard: self.ignore_login_guard,
            retry: self.retry,
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            call_timeout: self.call_timeout,
            headers,
            check_callback_port: self.check_callback_port,
            extra_cas: self.extra_cas,
            proxy: self.proxy,
            name_server: self.name_server,
        })
    }
}

/// A client's settings, checked ([`ClientBuilder::config`]) and from then on unchanged. The
/// credentials are checked further when the sign-in state is made from them.
pub(crate) struct Config {
    /// `https` (or plain `http` where allowed), ending in `/`.
    pub(crate) base: Url,
    pub(crate) bearer_token: Option<Secret>,
    pub(crate) session_token: Option<Secret>,
    pub(crate) client_credentials: Option<ClientCredentials>,
    pub(crate) login: Option<Login>,
    pub(crate) login_guard_file: Option<PathBuf>,
    pub(crate) ignore_login_guard: bool,
    pub(crate) retry: RetryPolicy,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) call_timeout: Duration,
    /// The headers every request carries (content type, accept, user agent).
    pub(crate) headers: HeaderMap,
    pub(crate) check_callback_port: bool,
    pub(crate) extra_cas: Vec<ExtraCa>,
    pub(crate) proxy: ProxySetting,
    pub(crate) name_server: Option<std::net::SocketAddr>,
}

/// A CA to trust besides the platform's roots, as given to the builder; read and parsed only
/// when the client is built, so that a bad one is an error there.
#[derive(Clone)]
pub(crate) enum ExtraCa {
    Pem(Vec<u8>),
    File(PathBuf),
}

impl std::fmt::Debug for ExtraCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // Certificates are public, but a few kilobytes of base64 help nobody in a Debug dump.
            ExtraCa::Pem(pem) => write!(f, "Pem({} bytes)", pem.len()),
            ExtraCa::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// The builder's proxy setting (`Debug`, which never shows credentials, is in
/// [`crate::transport::proxy`], with the URL parsing it needs).
#[derive(Clone, Default)]
pub(crate) enum ProxySetting {
    /// As curl reads the environment.
    #[default]
    Environment,
    Off,
    /// May hold credentials, hence a [`Secret`].
    Url(Secret),
}
