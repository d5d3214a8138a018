//! The async client and its public calls, which the blocking [`crate::Client`] drives too: each
//! checks its input, builds the documented request and hands it to [`crate::transport::send`] with fresh
//! tokens, renewing a stale token once.

mod signin;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use reqwest::StatusCode;

use crate::auth::guard::LoginGuard;
use crate::auth::{Auth, Snapshot, Stale};
use crate::codes;
use crate::config::{ClientBuilder, Config};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::input::{AccountName, ServiceName};
use crate::model::{CallbackAck, CallbackRegistration, RegisteredCallback};
use crate::protocol::{self, Request};
use crate::secret::Redactor;
use crate::secret::Secret;
use crate::transport::http::{HttpRecipe, Lookups};
use crate::transport::send::{Call, Settings};

pub(crate) const VZ_M2M_TOKEN: HeaderName = HeaderName::from_static("vz-m2m-token");

/// A ThingSpace callback API client for async Rust code on tokio: the same calls as
/// [`crate::Client`], as `async fn`s, sharing all of its logic (sign-in, renewals, retries,
/// deadlines, errors). Get one from [`ClientBuilder::build_async`].
///
/// Cheap to clone (clones share one connection pool and one sign-in) and `Send + Sync`; its
/// futures are `Send`, so calls can be spawned. It needs a tokio runtime with I/O and timers
/// enabled (as `#[tokio::main]` makes); called outside one, a call fails with
/// [`crate::codes::NO_ASYNC_RUNTIME`] rather than panicking. Host names are looked up on the
/// runtime's blocking pool, as tokio does. Dropping a call's future cancels it (a sign-in it
/// was doing is left to the next call).
///
/// ```
/// use tscb::{services, AsyncClient, CallbackRegistration};
/// # let sim = tscb_sim::Simulator::start().unwrap();
/// # let base_url = sim.base_url();
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let client = AsyncClient::builder()
///     .base_url(base_url)
///     .bearer_token(tscb_sim::SIM_BEARER_TOKEN)
///     .session_token(tscb_sim::SIM_SESSION_TOKEN)
///     .build_async()?;
///
/// let reg = CallbackRegistration::new(services::CARRIER_SERVICE, "https://listener.example.com/tscb")?;
/// client.register_callback("TestAccount-2", &reg).await?;
/// let listed = client.list_callbacks("TestAccount-2").await?;
/// assert_eq!(listed[0].url, "https://listener.example.com/tscb");
/// client.deregister_callback("TestAccount-2", services::CARRIER_SERVICE).await?;
/// # Ok::<(), tscb::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct AsyncClient {
    /// What all clones share: configuration, sign-in state.
    pub(crate) inner: Arc<Inner>,
    /// The connection pool this handle sends on (shared by its clones).
    pub(crate) http: reqwest::Client,
    /// How to build another pool like `http` (see [`AsyncClient::with_new_connections`]).
    pub(crate) recipe: Arc<HttpRecipe>,
}

/// What every handle on one client shares, whichever connection pool it sends on.
pub(crate) struct Inner {
    pub(crate) base: String,
    pub(crate) auth: Auth,
    pub(crate) call_timeout: Duration,
    pub(crate) check_callback_port: bool,
    /// The request timeout, the retry policy and the proxy.
    pub(crate) send: Settings,
}

impl Inner {
    /// The shared part of a client made from checked settings, and the recipe of its HTTP
    /// client (`lookups`: how it looks host names up).
    pub(crate) fn new(config: Config, lookups: Lookups) -> Result<(Arc<Inner>, HttpRecipe)> {
        let auth =
            Auth::new(config.bearer_token, config.session_token, config.client_credentials, config.login)?
                .with_guard(
                    config.login_guard_file.map(|path| LoginGuard::new(path, config.ignore_login_guard)),
                );
        let recipe = HttpRecipe {
            tls: crate::transport::tls::client_config(&config.extra_cas)?,
            headers: config.headers,
            connect_timeout: config.connect_timeout,
            timeout: config.timeout,
            lookups,
            name_server: config.name_server,
        };
        let proxy = crate::transport::proxy::resolve(&config.proxy, &config.base)?;
        let inner = Inner {
            base: config.base.as_str().trim_end_matches('/').to_owned(),
            auth,
            call_timeout: config.call_timeout,
            check_callback_port: config.check_callback_port,
            send: Settings { timeout: config.timeout, retry: config.retry, proxy },
        };
        Ok((Arc::new(inner), recipe))
    }

    /// The secrets a call must keep out of what it says: the client's own, `tokens` (those it
    /// sent) and `extra` (its own, e.g. a callback password).
    pub(crate) fn redactor<'a>(
        &'a self,
        tokens: Option<&'a Snapshot>,
        extra: Option<&'a str>,
    ) -> Redactor<'a> {
        let mut secrets = self.auth.long_lived_secrets();
        if let Some(proxy) = &self.send.proxy {
            secrets.extend(proxy.secrets.iter().map(|s| s.expose()));
        }
        if let Some(tokens) = tokens {
            secrets.push(tokens.bearer.value.expose());
            secrets.push(tokens.session.value.expose());
        }
        secrets.extend(extra);
        Redactor::new(secrets)
    }
}

impl ClientBuilder {
    /// Checks the configuration and builds the client for async code on tokio. Never panics.
    pub fn build_async(self) -> Result<AsyncClient> {
        let (inner, recipe) = Inner::new(self.config()?, Lookups::BlockingPool)?;
        let http = recipe.build(inner.send.proxy.as_ref())?;
        Ok(AsyncClient { inner, http, recipe: Arc::new(recipe) })
    }
}

impl fmt::Debug for AsyncClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncClient")
            .field("base_url", &self.inner.base)
            .field("timeout", &self.inner.send.timeout)
            .field("call_timeout", &self.inner.call_timeout)
            .field("retry", &self.inner.send.retry)
            .finish_non_exhaustive()
    }
}

impl AsyncClient {
    /// A builder with the defaults: production base URL, 10 s connect timeout, 30 s timeout
    /// for each request, 120 s for each call.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL in use, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The same client (configuration and sign-in state, tokens included) on a connection pool
    /// of its own, for another tokio runtime: a connection belongs to the runtime whose I/O
    /// driver opened it. A process forked from one that used this client, whose runtime it
    /// cannot use (nor drop), calls this on its new runtime (the Python binding does) and
    /// leaks the old handle with `std::mem::forget`.
    pub fn with_new_connections(&self) -> Result<AsyncClient> {
        let http = self.recipe.build(self.inner.send.proxy.as_ref())?;
        Ok(AsyncClient { inner: Arc::clone(&self.inner), http, recipe: Arc::clone(&self.recipe) })
    }

    /// Registers a callback listener: `POST {base}/m2m/v1/callbacks/{account}`.
    ///
    /// ThingSpace keeps one listener per service per account; Verizon advises deregistering
    /// before registering a service again.
    pub async fn register_callback(
        &self,
        account: impl TryInto<AccountName, Error: Into<Error>>,
        registration: &CallbackRegistration,
    ) -> Result<CallbackAck> {
        runtime_present()?;
        let account = account.try_into().map_err(Into::into)?;
        // The registration's values were checked when it was made; only the port rule depends on
        // this client.
        if self.inner.check_callback_port {
            registration.callback_url().check_port()?;
        }
        let password = registration.password().map(Secret::expose);
        let (tokens, status, body) = self.call(protocol::register(&account, registration), password).await?;
        protocol::ack(&self.inner.redactor(Some(&tokens), password), status, &body)
    }

    /// Lists the listeners registered through this API: `GET {base}/m2m/v1/callbacks/{account}`.
    /// An empty answer (empty body, `null` or `[]`) is an empty list.
    pub async fn list_callbacks(
        &self,
        account: impl TryInto<AccountName, Error: Into<Error>>,
    ) -> Result<Vec<RegisteredCallback>> {
        runtime_present()?;
        let account = account.try_into().map_err(Into::into)?;
        let (tokens, status, body) = self.call(protocol::list(&account), None).await?;
        protocol::listed(&self.inner.redactor(Some(&tokens), None), status, &body)
    }

    /// Removes the listener of one service:
    /// `DELETE {base}/m2m/v1/callbacks/{account}/name/{service_name}`.
    pub async fn deregister_callback(
        &self,
        account: impl TryInto<AccountName, Error: Into<Error>>,
        service_name: impl TryInto<ServiceName, Error: Into<Error>>,
    ) -> Result<CallbackAck> {
        runtime_present()?;
        let account = account.try_into().map_err(Into::into)?;
        let service_name = service_name.try_into().map_err(Into::into)?;
        let (tokens, status, body) = self.call(protocol::deregister(&account, &service_name), None).await?;
        protocol::ack(&self.inner.redactor(Some(&tokens), None), status, &body)
    }

    /// Signs in now, if the client has credentials and no valid tokens yet: gets the OAuth
    /// token and logs in for a session. Calls do this by themselves when needed; this checks
    /// the credentials up front. With fixed tokens it sends nothing.
    pub async fn login(&self) -> Result<()> {
        runtime_present()?;
        self.inner.auth.snapshot(self, self.deadline()).await.map(|_| ())
    }

    /// A problem with the login guard file ([`ClientBuilder::login_guard_file`]) that this
    /// client met: unreadable, not in the expected form (then replaced), or not writable (then
    /// refused logins are not remembered across runs). Such a problem never stops a login; it is
    /// returned once, for the program to show, since the library never prints.
    pub fn login_guard_warning(&self) -> Option<String> {
        self.inner.auth.guard().and_then(|guard| guard.take_warning())
    }

    fn deadline(&self) -> Deadline {
        Deadline::after(self.inner.call_timeout)
    }

    /// Ends the session: `POST {base}/m2m/v1/session/logout`. A client with a session login
    /// logs in again when it is next used; one with a fixed session token cannot use it again.
    /// Without a session (never signed in, or logged out already) it sends nothing.
    pub async fn logout(&self) -> Result<()> {
        runtime_present()?;
        let Some(snapshot) = self.inner.auth.current() else { return Ok(()) };
        let request = protocol::logout();
        let url = format!("{}{}", self.inner.base, request.path);
        let headers = auth_headers(&snapshot);
        let redactor = self.inner.redactor(Some(&snapshot), None);
        self.sender(&redactor, self.deadline())
            .send_with_retry(request.operation, request.method, &url, &headers, None)
            .await?;
        self.inner.auth.forget_session(&snapshot);
        Ok(())
    }

    /// Sends a callbacks request with fresh tokens; when the service says a token is stale and
    /// the client can renew it, renews it (each token at most once) and repeats the call, all
    /// within one deadline.
    /// The answer comes back with the tokens it was sent with, which decoding must redact.
    async fn call(
        &self,
        request: Request,
        extra_secret: Option<&str>,
    ) -> Result<(Snapshot, StatusCode, Vec<u8>)> {
        let url = format!("{}{}", self.inner.base, request.path);
        let body = request.body.as_deref().map(Vec::as_slice);
        let auth = &self.inner.auth;
        let deadline = self.deadline();
        let mut renewed: Vec<Stale> = Vec::new();
        loop {
            let snapshot = auth.snapshot(self, deadline).await?;
            let headers = auth_headers(&snapshot);
            let redactor = self.inner.redactor(Some(&snapshot), extra_secret);
            let sent = self
                .sender(&redactor, deadline)
                .send_with_retry(request.operation, request.method.clone(), &url, &headers, body)
                .await;
            match sent {
                Ok((status, answer)) => return Ok((snapshot, status, answer)),
                Err(error) => match auth.stale(&error) {
                    Some(what) if !renewed.contains(&what) => {
                        auth.renew(what, &snapshot, self, deadline).await?;
                        renewed.push(what);
                    }
                    _ => return Err(error),
                },
            }
        }
    }

    /// The requests of one call, on this handle's connection pool.
    pub(crate) fn sender<'a>(&'a self, redactor: &'a Redactor<'a>, deadline: Deadline) -> Call<'a> {
        Call { http: &self.http, settings: &self.inner.send, redactor, deadline }
    }
}

/// Calls need a tokio runtime (reqwest's I/O and timers live there): without one, say so
/// rather than let tokio panic.
fn runtime_present() -> Result<()> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => Ok(()),
        Err(_) => Err(Error::invalid(
            codes::NO_ASYNC_RUNTIME,
            "tscb::AsyncClient was called outside a tokio runtime; call it from tokio (e.g. under \
             #[tokio::main]), or use the blocking tscb::Client",
        )),
    }
}

/// The two token headers of a callbacks request (cloning a `HeaderValue` only counts a reference).
pub(crate) fn auth_headers(tokens: &Snapshot) -> [(HeaderName, HeaderValue); 2] {
    [(AUTHORIZATION, tokens.bearer.header.clone()), (VZ_M2M_TOKEN, tokens.session.header.clone())]
}
