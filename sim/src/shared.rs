//! What the [`Simulator`](crate::Simulator) handle and every server thread share: the
//! configuration, the state, the open connections and the stop signal.

use std::collections::HashMap;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::SimConfig;
use crate::fault::FaultAction;
use crate::http;
use crate::record::RecordedRequest;
use crate::state::State;
use crate::sync::lock;

/// State shared by the [`Simulator`](crate::Simulator) handle and all server threads.
pub(crate) struct Shared {
    pub(crate) config: SimConfig,
    /// Required by the admin endpoints when listening beyond loopback.
    pub(crate) admin_token: Option<String>,
    state: Mutex<State>,
    /// Checked between requests; `stop_requested` + `stop_signal` wake sleepers in `Delay`.
    stopping: AtomicBool,
    stop_requested: Mutex<bool>,
    stop_signal: Condvar,
    pub(crate) connections: Mutex<Connections>,
    /// Set for HTTPS: every connection is TLS with this configuration.
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
}

/// Open connections, kept so that shutdown can cut them and wait for their threads.
#[derive(Default)]
pub(crate) struct Connections {
    /// Set at shutdown; afterwards no new connection is taken on.
    pub(crate) closed: bool,
    pub(crate) next_id: u64,
    pub(crate) open: HashMap<u64, OpenConnection>,
}

pub(crate) struct OpenConnection {
    /// A second handle to the socket, only for `shutdown` from another thread.
    pub(crate) stream: TcpStream,
    pub(crate) thread: Option<JoinHandle<()>>,
}

impl Shared {
    pub(crate) fn new(config: SimConfig, admin_token: Option<String>) -> Shared {
        let state = State::new(&config, Instant::now());
        Shared {
            config,
            admin_token,
            state: Mutex::new(state),
            stopping: AtomicBool::new(false),
            stop_requested: Mutex::new(false),
            stop_signal: Condvar::new(),
            connections: Mutex::new(Connections::default()),
            tls: None,
        }
    }

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Sleeps for `duration` unless shutdown begins first; true when the full time passed.
    pub(crate) fn sleep_unless_stopping(&self, duration: Duration) -> bool {
        let deadline = Instant::now().checked_add(duration);
        let mut stopped = lock(&self.stop_requested);
        while !*stopped {
            let wait = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return true,
                },
                // Too far in the future to represent: wait in long steps until shutdown.
                None => Duration::from_secs(3600),
            };
            stopped = self.stop_signal.wait_timeout(stopped, wait).unwrap_or_else(PoisonError::into_inner).0;
        }
        false
    }

    /// Stops the accept loop (once woken) and every connection thread, then waits for the
    /// connection threads. Their blocking points all end on a socket shutdown or the stop signal.
    pub(crate) fn stop_connections(&self) {
        let open = {
            let mut connections = lock(&self.connections);
            connections.closed = true;
            std::mem::take(&mut connections.open)
        };
        for connection in open.values() {
            let _ = connection.stream.shutdown(Shutdown::Both);
        }
        for (_, connection) in open {
            if let Some(thread) = connection.thread {
                let _ = thread.join();
            }
        }
    }

    pub(crate) fn begin_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        *lock(&self.stop_requested) = true;
        self.stop_signal.notify_all();
    }

    /// Records a non-admin request and takes the fault that answers it, if any.
    pub(crate) fn record_and_match_fault(
        &self,
        req: &http::Request,
        connection_id: u64,
    ) -> Option<FaultAction> {
        let mut state = self.lock_state();
        state.requests.push(RecordedRequest {
            method: req.method.clone(),
            path: req.target.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
            connection_id,
        });
        state.faults.take_match(&req.method, &req.target)
    }
}
