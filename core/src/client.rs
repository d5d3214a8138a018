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
//! once in the last 90 s ([`ENGINE_IDLE_LIMIT`]). Sharing one runtime instead, one caller drives the I/O for all and wakes the others,
//! which costs a thread hand-off per call again. The sign-in state is shared by all engines.
//! Host names are looked up without a thread too ([`crate::dns`]), so no thread is ever started.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::async_client::AsyncClient;
use crate::builder::ClientBuilder;
use crate::codes;
use crate::error::{Error, Result};
use crate::model::{CallbackAck, CallbackRegistration, RegisteredCallback};

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
    /// The engines no call is using now; the most recently returned is taken first, so a
    /// client used by one thread at a time keeps using one runtime and one connection.
    idle: Arc<Mutex<Vec<Engine>>>,
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

    /// Wraps an async client built for the caller's thread (see [`crate::dns`]); its
    /// connection pool goes to the first engine.
    pub(crate) fn new(inner: AsyncClient) -> Result<Client> {
        let first = Engine::new(inner.clone())?;
        Ok(Client { inner, idle: Arc::new(Mutex::new(vec![first])) })
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
        self.run(|c| async move { c.register_callback(account, registration).await })
    }

    /// Lists the listeners registered through this API: `GET {base}/m2m/v1/callbacks/{account}`.
    /// An empty answer (empty body, `null` or `[]`) is an empty list.
    pub fn list_callbacks(&self, account: &str) -> Result<Vec<RegisteredCallback>> {
        self.run(|c| async move { c.list_callbacks(account).await })
    }

    /// Removes the listener of one service:
    /// `DELETE {base}/m2m/v1/callbacks/{account}/name/{service_name}`.
    pub fn deregister_callback(&self, account: &str, service_name: &str) -> Result<CallbackAck> {
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
        // A panic never happens while the lock is held, but a poisoned list is still a list.
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut engine = match idle {
            Some(engine) => engine,
            None => Engine::new(self.inner.with_own_connections()?)?,
        };
        let outcome = engine.block_on(call(engine.client.clone()));
        let unused = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            idle.push(engine);
            let stale = unused_for(idle.iter().map(|e| e.last_used), Instant::now(), ENGINE_IDLE_LIMIT);
            idle.drain(..stale).collect::<Vec<_>>()
        };
        // Shut down outside the lock.
        drop(unused);
        outcome
    }
}

/// How long an engine may sit unused before the client lets it go, and its connections with it:
/// reqwest's own limit for an idle connection, which the engine's runtime cannot enforce while
/// nobody drives it. So a burst of many calls at once does not leave as many runtimes and open
/// (or half-closed) connections behind for the life of the client.
const ENGINE_IDLE_LIMIT: Duration = Duration::from_secs(90);

/// How many engines at the front of the idle list have been unused for `limit` or longer at
/// `now`. The list is in the order the engines were returned, so by when they were last used:
/// they are a prefix. The last one (just returned) always stays.
fn unused_for(last_used: impl ExactSizeIterator<Item = Instant>, now: Instant, limit: Duration) -> usize {
    let keep_last = last_used.len().saturating_sub(1);
    last_used.take(keep_last).take_while(|at| now.saturating_duration_since(*at) >= limit).count()
}

/// A current-thread runtime and a connection pool of its own: its I/O driver, its timers and
/// the tasks that reqwest spawns for its connections all run inside `block_on`, on the thread
/// of the one call that has borrowed it. Building it starts no thread; tokio's blocking pool
/// (which would) is never used.
struct Engine {
    client: AsyncClient,
    runtime: Option<tokio::runtime::Runtime>,
    /// When its last call ended.
    last_used: Instant,
}

impl Engine {
    fn new(client: AsyncClient) -> Result<Engine> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| crate::builder::setup_error("the client's runtime", e))?;
        Ok(Engine { client, runtime: Some(runtime), last_used: Instant::now() })
    }

    fn block_on<T>(&mut self, call: impl Future<Output = Result<T>>) -> Result<T> {
        let Some(runtime) = &self.runtime else {
            // Taken only when the engine is dropped, so never seen here.
            return Err(crate::builder::setup_error("the client's runtime", "it was shut down"));
        };
        // Nobody drove this runtime since its last call, so a keep-alive connection that the
        // server closed meanwhile (servers and load balancers close idle ones) still looks open
        // to the pool, and the call would be sent on it and fail. Yielding twice first makes
        // tokio poll the I/O driver (the close becomes visible) and then run the connection's
        // task (which sees it and leaves the pool), so the call opens a new connection instead.
        // That costs about 2 µs, so it is skipped when the last call ended moments ago: no
        // server closes a keep-alive connection that soon after an answer.
        let check = self.last_used.elapsed() >= IDLE_CHECK_AFTER;
        let outcome = runtime.block_on(async {
            if check {
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
            }
            call.await
        });
        self.last_used = Instant::now();
        outcome
    }
}

/// How long an engine may have been idle before a call first lets its connections notice a
/// close (see [`Engine::block_on`]).
const IDLE_CHECK_AFTER: Duration = Duration::from_millis(10);

impl Drop for Engine {
    /// Shuts down without waiting, so that dropping the last clone of a client is fine anywhere,
    /// even inside someone else's async code (a plain drop there would panic).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_unused_for_the_limit_are_let_go_but_never_the_last() {
        let start = Instant::now();
        let now = start + Duration::from_secs(1000);
        let ago = |secs| now - Duration::from_secs(secs);
        let limit = Duration::from_secs(90);
        let unused = |list: &[Instant]| unused_for(list.iter().copied(), now, limit);
        assert_eq!(unused(&[ago(300), ago(120), ago(10), ago(0)]), 2);
        assert_eq!(unused(&[ago(300), ago(90), ago(89), ago(0)]), 2);
        assert_eq!(unused(&[ago(10), ago(0)]), 0);
        // All stale (the client sat idle): the one just returned stays.
        assert_eq!(unused(&[ago(500), ago(400)]), 1);
        assert_eq!(unused(&[ago(500)]), 0);
        assert_eq!(unused(&[]), 0);
    }
}
