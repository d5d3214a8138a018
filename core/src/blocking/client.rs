//! The blocking client: the [`AsyncClient`]'s calls, driven to completion on the caller's own
//! thread by a current-thread tokio runtime that the client owns.
//!
//! Why not `reqwest::blocking`: it runs every request on a hidden runtime thread per client and
//! hands the request and the answer across threads, which on a small machine is most of a
//! call's cost, and C and Python hosts do not expect a library to start threads. Here nothing
//! is handed over: `block_on` polls the call on the caller's thread.
//!
//! Many threads may call at once. Each call borrows an [`Engine`] (a current-thread runtime and
//! a connection pool of its own) that no other call drives meanwhile, and returns it after; a
//! call that finds none idle builds one. So a call never waits for another thread to drive its
//! I/O, and the client holds as many runtimes (and keep-alive connections) as it had calls at
//! once in the last 90 s (see [`crate::engine`]). Sharing one runtime instead, one caller drives
//! the I/O for all and wakes the others, which costs a thread hand-off per call again. The
//! sign-in state is shared by all engines. Host names are looked up without a thread too
//! ([`crate::transport::dns`]), so no thread is ever started. A process forked from one that used the
//! client builds engines of its own (see [`crate::engine`]).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::engine::{Engine, Engines};
use crate::async_client::{AsyncClient, Inner};
use crate::codes;
use crate::config::ClientBuilder;
use crate::error::{Error, Result};
use crate::input::{AccountName, ServiceName};
use crate::model::{CallbackAck, CallbackRegistration, RegisteredCallback};
use crate::transport::http::Lookups;

/// A ThingSpace callback API client.
///
/// Cheap to clone (clones share the connections and the sign-in) and safe to share between
/// threads (`Send + Sync`). Every call checks its input before anything is sent, never follows a
/// redirect, and ends within the call timeout ([`ClientBuilder::call_timeout`]), sign-in,
/// renewals, retries and their waits included.
///
/// Calls run on the calling thread: the client starts no thread, neither when built nor when
/// used. It must not be called from async code on a tokio runtime (that would block the
/// runtime's thread): there a call fails with [`crate::codes::INSIDE_ASYNC_RUNTIME`]; use
/// [`crate::AsyncClient`], which has the same calls as `async fn`s. (tokio's own blocking threads,
/// in `spawn_blocking`, count as inside: tokio offers no way to tell them apart.)
///
/// A client survives `fork()`: the parent and each child may go on using it (and its clones),
/// each process on connections of its own; the tokens it signed in for are kept.
///
/// ```
/// use tscb::{services, CallbackRegistration, Client};
/// # let sim = tscb_sim::Simulator::start().unwrap();
/// # let base_url = sim.base_url();
/// let client = Client::builder()
///     .base_url(base_url) // e.g. the simulator's "http://127.0.0.1:PORT/api"
///     .bearer_token(tscb_sim::SIM_BEARER_TOKEN)
///     .session_token(tscb_sim::SIM_SESSION_TOKEN)
///     .build()?;
///
/// let reg = CallbackRegistration::new(services::CARRIER_SERVICE, "https://listener.example.com/tscb")?;
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
    /// The first engine's handle: the shared configuration and sign-in state, for what needs no
    /// connection, and the recipe of each further engine's connection pool (a connection
    /// belongs to the runtime whose I/O driver opened it, so runtimes must not share a pool).
    pub(crate) inner: AsyncClient,
    /// The engines no call is using now.
    engines: Arc<Engines>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner.inner;
        f.debug_struct("Client")
            .field("base_url", &inner.base)
            .field("timeout", &inner.send.timeout)
            .field("call_timeout", &inner.call_timeout)
            .field("retry", &inner.send.retry)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Checks the configuration and builds the blocking client. Never panics, and starts no
    /// thread (see [`Client`]).
    pub fn build(self) -> Result<Client> {
        // Host names are looked up without a thread: see `crate::transport::dns`.
        let (shared, recipe) = Inner::new(self.config()?, Lookups::CallerThread)?;
        let http = recipe.build(shared.send.proxy.as_ref())?;
        let inner = AsyncClient { inner: shared, http, recipe: Arc::new(recipe) };
        // The first engine sends on the first pool.
        let first = Engine::new(inner.clone())?;
        Ok(Client { inner, engines: Arc::new(Engines::new(first)) })
    }
}

impl Client {
    /// A builder with the defaults: production base URL, 10 s connect timeout, 30 s timeout
    /// for each request, 120 s for each call.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A handle on the shared state with a connection pool of its own, for a new engine.
    fn with_own_connections(&self) -> Result<AsyncClient> {
        self.inner.with_new_connections()
    }

    /// The base URL in use, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.inner.base_url()
    }

    /// Registers a callback listener: `POST {base}/m2m/v1/callbacks/{account}`.
    ///
    /// ThingSpace keeps one listener per service per account; Verizon advises deregistering
    /// before registering a service again.
    pub fn register_callback(
        &self,
        account: impl TryInto<AccountName, Error: Into<Error>>,
        registration: &CallbackRegistration,
    ) -> Result<CallbackAck> {
        let account = account.try_into().map_err(Into::into)?;
        self.run(|c| async move { c.register_callback(account, registration).await })
    }

    /// Lists the listeners registered through this API: `GET {base}/m2m/v1/callbacks/{account}`.
    /// An empty answer (empty body, `null` or `[]`) is an empty list.
    pub fn list_callbacks(
        &self,
        account: impl TryInto<AccountName, Error: Into<Error>>,
    ) -> Result<Vec<RegisteredCallback>> {
        let account = account.try_into().map_err(Into::into)?;
        self.run(|c| async move { c.list_callbacks(account).await })
    }

    /// Removes the listener of one service:
    /// `DELETE {base}/m2m/v1/callbacks/{account}/name/{service_name}`.
    pub fn deregister_callback(
        &self,
        account: impl TryInto<AccountName, Error: Into<Error>>,
        service_name: impl TryInto<ServiceName, Error: Into<Error>>,
    ) -> Result<CallbackAck> {
        let (account, service_name) =
            (account.try_into().map_err(Into::into)?, service_name.try_into().map_err(Into::into)?);
        self.run(|c| async move { c.deregister_callback(account, service_name).await })
    }

    /// Signs in now, if the client has credentials and no valid tokens yet: gets the OAuth
    /// token and logs in for a session. Calls do this by themselves when needed; this checks
    /// the credentials up front. With fixed tokens it sends nothing.
    pub fn login(&self) -> Result<()> {
        self.run(|c| async move { c.login().await })
    }

    /// Ends the session: `POST {base}/m2m/v1/session/logout`. A client with a session login
    /// logs in again when it is next used; one with a fixed session token cannot use it again.
    /// Without a session (never signed in, or logged out already) it sends nothing.
    pub fn logout(&self) -> Result<()> {
        self.run(|c| async move { c.logout().await })
    }

    /// A problem with the login guard file ([`ClientBuilder::login_guard_file`]) that this
    /// client met: unreadable, not in the expected form (then replaced), or not writable (then
    /// refused logins are not remembered across runs). Such a problem never stops a login; it is
    /// returned once, for the program to show, since the library never prints.
    pub fn login_guard_warning(&self) -> Option<String> {
        self.inner.login_guard_warning()
    }

    pub(crate) fn check_callback_port(&self) -> bool {
        self.inner.inner.check_callback_port
    }

    /// Runs a call on this thread, on an engine that no other call is using. Inside a tokio
    /// runtime that would block (or, on a current-thread runtime, deadlock) the runtime's
    /// thread, and tokio would panic: refuse.
    fn run<T, F>(&self, call: impl FnOnce(AsyncClient) -> F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::invalid(
                codes::INSIDE_ASYNC_RUNTIME,
                "the blocking tscb::Client was called from inside a tokio runtime, where it would \
                 block the runtime's thread; use tscb::AsyncClient there (same calls, as async fn)",
            ));
        }
        let mut engine = match self.engines.take() {
            Some(engine) => engine,
            None => Engine::new(self.with_own_connections()?)?,
        };
        let outcome = engine.block_on(call(engine.client.clone()));
        self.engines.give_back(engine);
        outcome
    }
}
