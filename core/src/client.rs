//! The blocking client: the [`AsyncClient`]'s calls, driven to completion on the caller's own
//! thread by a current-thread tokio runtime that the client owns.
//!
//! Why not `reqwest::blocking`: it runs every request on a hidden runtime thread per client and
//! hands the request and the answer across threads, which on a small machine is most of a
//! call's cost, and C and Python hosts do not expect a library to start threads. Here nothing
//! is handed over: `block_on` polls the call on the caller's thread. Many threads may call at
//! once: one of them drives the runtime's I/O and timers for all, the others wait for their own
//! call's wake-up (tokio's current-thread runtime allows concurrent `block_on`). Host names are
//! looked up on the caller's thread too ([`CallerThreadResolver`]), so no thread is ever started.

use std::fmt;
use std::future::Future;
use std::net::ToSocketAddrs;
use std::sync::Arc;

use crate::async_client::AsyncClient;
use crate::builder::ClientBuilder;
use crate::codes;
use crate::error::{Error, Result};
use crate::model::{CallbackAck, CallbackRegistration, RegisteredCallback};

/// A ThingSpace callback API client.
///
/// Cheap to clone (clones share one connection pool) and safe to share between threads
/// (`Send + Sync`). Every call checks its input before anything is sent, never follows a
/// redirect, and ends within the call timeout ([`ClientBuilder::call_timeout`]), sign-in,
/// renewals, retries and their waits included.
///
/// Calls run on the calling thread: the client starts no thread, neither when built nor when
/// used. It must not be called from async code on a tokio runtime (that would block the
/// runtime's thread): there a call fails with [`crate::codes::INSIDE_ASYNC_RUNTIME`]; use
/// [`crate::AsyncClient`], which has the same calls as `async fn`s. (tokio's own blocking threads,
/// in `spawn_blocking`, count as inside: tokio offers no way to tell them apart.)
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
    pub(crate) inner: AsyncClient,
    runtime: Arc<Runtime>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner.inner;
        f.debug_struct("Client")
            .field("base_url", &inner.base)
            .field("timeout", &inner.timeout)
            .field("call_timeout", &inner.call_timeout)
            .field("retry", &inner.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder with the defaults: production base URL, 10 s connect timeout, 30 s timeout
    /// for each request, 120 s for each call.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Wraps an async client built for the caller's thread (see [`CallerThreadResolver`]).
    pub(crate) fn new(inner: AsyncClient) -> Result<Client> {
        Ok(Client { inner, runtime: Arc::new(Runtime::new()?) })
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
        account: &str,
        registration: &CallbackRegistration,
    ) -> Result<CallbackAck> {
        self.run(self.inner.register_callback(account, registration))
    }

    /// Lists the listeners registered through this API: `GET {base}/m2m/v1/callbacks/{account}`.
    /// An empty answer (empty body, `null` or `[]`) is an empty list.
    pub fn list_callbacks(&self, account: &str) -> Result<Vec<RegisteredCallback>> {
        self.run(self.inner.list_callbacks(account))
    }

    /// Removes the listener of one service:
    /// `DELETE {base}/m2m/v1/callbacks/{account}/name/{service_name}`.
    pub fn deregister_callback(&self, account: &str, service_name: &str) -> Result<CallbackAck> {
        self.run(self.inner.deregister_callback(account, service_name))
    }

    /// Signs in now, if the client has credentials and no valid tokens yet: gets the OAuth
    /// token and logs in for a session. Calls do this by themselves when needed; this checks
    /// the credentials up front. With fixed tokens it sends nothing.
    pub fn login(&self) -> Result<()> {
        self.run(self.inner.login())
    }

    /// Ends the session: `POST {base}/m2m/v1/session/logout`. A client with a session login
    /// logs in again when it is next used; one with a fixed session token cannot use it again.
    /// Without a session (never signed in, or logged out already) it sends nothing.
    pub fn logout(&self) -> Result<()> {
        self.run(self.inner.logout())
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

    /// Runs a call on this thread. Inside a tokio runtime that would block (or, on a
    /// current-thread runtime, deadlock) the runtime's thread, and tokio would panic: refuse.
    fn run<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::invalid(
                codes::INSIDE_ASYNC_RUNTIME,
                "the blocking tscb::Client was called from inside a tokio runtime, where it would \
                 block the runtime's thread; use tscb::AsyncClient there (same calls, as async fn)",
            ));
        }
        match &self.runtime.0 {
            Some(runtime) => runtime.block_on(call),
            // Taken only when the last clone is dropped, so never seen here.
            None => Err(crate::builder::setup_error("the client's runtime", "it was shut down")),
        }
    }
}

/// The client's current-thread runtime: its I/O driver and timers, and the tasks that reqwest
/// spawns for its connections, all run inside `block_on` on whichever caller thread holds it.
/// Building it starts no thread; tokio's blocking pool (which would) is never used.
struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    fn new() -> Result<Runtime> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| crate::builder::setup_error("the client's runtime", e))?;
        Ok(Runtime(Some(runtime)))
    }
}

impl Drop for Runtime {
    /// Shuts down without waiting, so that dropping the last clone of a client is fine anywhere,
    /// even inside someone else's async code (a plain drop there would panic).
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Looks host names up on the caller's thread, with the system's resolver (as `std` does),
/// instead of reqwest's default, which hands each lookup to a thread of tokio's blocking pool.
/// An IP address in the base URL is never looked up (hyper connects to it directly). A lookup
/// happens only when a new connection is opened; while it runs, the thread that drives the
/// runtime for everyone is busy, which the blocking pool would have avoided at the price of a
/// thread.
pub(crate) struct CallerThreadResolver;

impl reqwest::dns::Resolve for CallerThreadResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        // The lookup runs when the future is first polled, on the polling (caller's) thread.
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port in.
            let addrs = (name.as_str(), 0).to_socket_addrs()?;
            Ok(Box::new(addrs) as reqwest::dns::Addrs)
        })
    }
}
