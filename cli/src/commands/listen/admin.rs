//! `--admin-listen`: `/healthz`, `/readyz` and `/metrics` on a socket of their own, never the
//! callback port (which a load balancer exposes to the internet). The metrics carry no secret
//! and no unbounded label: refusals are counted by reason (a fixed text or an error code of the
//! core) and status, never by source address.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::log::DROPPED;

/// Scrapers and probes are few: more connections than this at once are closed.
const MAX_ADMIN_CONNECTIONS: usize = 16;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Refusal {
    /// A fixed text (`source_not_allowed`, `too_large`, …) or a core error code.
    pub reason: String,
    /// The HTTP status, or `closed` for a connection closed without an answer.
    pub status: String,
}

pub struct Metrics {
    registry: Registry,
    pub accepted: Counter,
    pub duplicates: Counter,
    refusals: Family<Refusal, Counter>,
    pub sink_errors: Counter,
    pub sink_seconds: Histogram,
    pub batches: Counter,
    pub open_connections: Gauge,
    dropped_log_lines: Counter,
    /// How much of `DROPPED` is in `dropped_log_lines` already.
    dropped_counted: Mutex<u64>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tscb_listen");
        let accepted = Counter::default();
        let duplicates = Counter::default();
        let refusals = Family::<Refusal, Counter>::default();
        let sink_errors = Counter::default();
        // 1 ms to about 33 s: a sync on a slow disk, or a command near its timeout.
        let sink_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let batches = Counter::default();
        let open_connections = Gauge::default();
        let dropped_log_lines = Counter::default();
        registry.register(
            "messages_accepted",
            "Messages handed to the sink and acknowledged (200), resends not included",
            accepted.clone(),
        );
        registry.register(
            "duplicates",
            "Resends of a message already kept, acknowledged (200) without keeping them again",
            duplicates.clone(),
        );
        registry.register(
            "refusals",
            "Requests refused and connections closed at once, by reason and HTTP status",
            refusals.clone(),
        );
        registry.register(
            "sink_errors",
            "Messages the sink could not keep (answered 500, so resent)",
            sink_errors.clone(),
        );
        registry.register(
            "sink_seconds",
            "How long the sink took to keep a message (write and sync, or the command's run)",
            sink_seconds.clone(),
        );
        registry.register(
            "sync_batches",
            "Batches written by the output writer (one sync each, for a regular file)",
            batches.clone(),
        );
        registry.register("open_connections", "Callback connections open now", open_connections.clone());
        registry.register(
            "dropped_log_lines",
            "Log lines dropped because stderr was not read fast enough",
            dropped_log_lines.clone(),
        );
        Metrics {
            registry,
            accepted,
            duplicates,
            refusals,
            sink_errors,
            sink_seconds,
            batches,
            open_connections,
            dropped_log_lines,
            dropped_counted: Mutex::new(0),
        }
    }

    pub fn refused(&self, reason: &str, status: &str) {
        self.refusals.get_or_create(&Refusal { reason: reason.to_owned(), status: status.to_owned() }).inc();
    }

    /// The OpenMetrics text exposition.
    fn encode(&self) -> String {
        {
            let mut counted = self.dropped_counted.lock().unwrap_or_else(|p| p.into_inner());
            let now = DROPPED.load(Ordering::Relaxed);
            self.dropped_log_lines.inc_by(now.saturating_sub(*counted));
            *counted = now.max(*counted);
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

const STARTING: u8 = 0;
const RUNNING: u8 = 1;
const STOPPING: u8 = 2;

/// What `/readyz` answers from: the phase of the process, and whether the sink's last attempt
/// failed (a write or sync error, a command that failed): a load balancer then sends the
/// callbacks to another instance until a message is kept again.
#[derive(Default)]
pub struct Health {
    phase: AtomicU8,
    sink_failing: AtomicBool,
    /// A sink with a connection (NATS) that has lost it.
    sink_disconnected: AtomicBool,
}

impl Health {
    pub fn running(&self) {
        self.phase.store(RUNNING, Ordering::SeqCst);
    }

    pub fn stopping(&self) {
        self.phase.store(STOPPING, Ordering::SeqCst);
    }

    pub fn sink_connected(&self, connected: bool) {
        self.sink_disconnected.store(!connected, Ordering::SeqCst);
    }

    pub fn sink_result(&self, ok: bool) {
        self.sink_failing.store(!ok, Ordering::SeqCst);
    }

    /// Why the listener is not ready, if it is not.
    fn not_ready(&self) -> Option<&'static str> {
        match self.phase.load(Ordering::SeqCst) {
            STARTING => Some("starting"),
            STOPPING => Some("stopping"),
            _ if self.sink_disconnected.load(Ordering::SeqCst) => Some("the sink is not connected"),
            _ if self.sink_failing.load(Ordering::SeqCst) => Some("the sink failed its last message"),
            _ => None,
        }
    }
}

/// Serves the admin endpoints on `listener` until the runtime ends.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>, health: Arc<Health>) {
    let slots = Arc::new(Semaphore::new(MAX_ADMIN_CONNECTIONS));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(10)).max_buf_size(16 * 1024);
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else { continue };
        let (metrics, health, http) = (metrics.clone(), health.clone(), http.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let service = service_fn(move |request| {
                let answer = answer(&metrics, &health, &request);
                async move { Ok::<_, Infallible>(answer) }
            });
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

fn answer(metrics: &Metrics, health: &Health, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "GET only\n".into());
    }
    match request.uri().path() {
        "/healthz" => text(StatusCode::OK, "text/plain", "ok\n".into()),
        "/readyz" => match health.not_ready() {
            None => text(StatusCode::OK, "text/plain", "ready\n".into()),
            Some(why) => text(StatusCode::SERVICE_UNAVAILABLE, "text/plain", format!("not ready: {why}\n")),
        },
        "/metrics" => text(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics.encode(),
        ),
        _ => text(StatusCode::NOT_FOUND, "text/plain", "/healthz, /readyz or /metrics\n".into()),
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
