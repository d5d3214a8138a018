//! The HTTP side of `tscb listen`, on hyper: limits, TLS, the connection cap, the answers and
//! a graceful stop.
//!
//! A stranger (a source that is not allowed) is told nothing: its connection is closed right
//! after `accept()`, before it takes a slot or a TLS handshake, and it gets no HTTP answer at
//! all. What was refused, and why, goes to the (aggregated, bounded) log only; the answers that
//! allowed sources get are fixed texts, except a 400's, which describes their own body.

use std::convert::Infallible;
use std::future::poll_fn;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tscb::{callback_answer_status, codes, CallbackVerifier, MAX_CALLBACK_BYTES};

use super::admin::{Health, Metrics};
use super::exec::Exec;
use super::log::Log;
use super::writer::{Writer, Written};

/// A client must send its request line and headers within this (hyper then closes the
/// connection), and its body within `BODY_TIMEOUT`: a trickling client cannot hold a slot long.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const BODY_TIMEOUT: Duration = Duration::from_secs(30);
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// hyper's read buffer, which bounds the request line and headers together (its minimum is 8 KiB).
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// How long a stop waits for the requests in flight (a message in one is answered only once
/// written, so waiting loses nothing; one that is cut was never acknowledged and is resent).
pub(super) const SHUTDOWN_GRACE: Duration = Duration::from_secs(35);

/// The verifier in force; SIGHUP replaces it (new passwords) while requests use the old one.
pub type Verifier = Arc<RwLock<Arc<CallbackVerifier>>>;

/// Where accepted messages go.
pub enum Sink {
    /// Lines on stdout or in a file (`--output`).
    Writer(Writer),
    /// A command per message (`--exec`).
    Exec(Arc<Exec>),
    /// JetStream (`--nats`).
    Nats(Arc<super::nats::Nats>),
}

pub struct Settings {
    pub verifier: Verifier,
    pub path: Option<String>,
    pub sink: Sink,
    pub max_connections: usize,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub log: Log,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
}

struct State {
    verifier: Verifier,
    path: Option<String>,
    sink: Sink,
    log: Log,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
}

impl State {
    fn verifier(&self) -> Arc<CallbackVerifier> {
        self.verifier.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

/// What the log calls a connection closed right after `accept()`.
const CLOSED: &str = "connections closed at once";
/// What the log calls a request answered with a refusal.
const REFUSED: &str = "requests refused";

/// The TLS settings from a PEM certificate chain and key, with the ring provider (as the core).
pub fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    use tscb::files::{read_bounded, Links, MAX_PEM_BYTES};
    // Bounded: `--tls-key /dev/zero` must be an error, not an out-of-memory abort.
    let cert_pem = read_bounded(cert, MAX_PEM_BYTES, Links::Follow)
        .map_err(|e| format!("could not read the certificates in {}: {e}", cert.display()))?;
    let key_pem = read_bounded(key, MAX_PEM_BYTES, Links::Follow)
        .map_err(|e| format!("could not read the private key in {}: {e}", key.display()))?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("could not read the certificates in {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", cert.display()));
    }
    // The error names the file, never its content: the parser's own error can quote a line of
    // it (as --nats-key's check says too).
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| format!("could not read the private key in {}: no PEM private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| format!("unusable TLS certificate or key: {e}"))?;
    Ok(Arc::new(config))
}

/// Serves on `listener` (bound, or inherited from systemd) until SIGINT or SIGTERM; `announce`
/// is called once it is ready.
pub async fn serve(
    listener: std::net::TcpListener,
    settings: Settings,
    announce: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    // Registered before the socket is announced, so that a stop sent right after is not missed.
    let mut stop = crate::stop::Stop::install()?;
    let local = listener.local_addr().map_err(|e| format!("the listening socket: {e}"))?;
    let listener = listener
        .set_nonblocking(true)
        .and_then(|()| TcpListener::from_std(listener))
        .map_err(|e| format!("could not listen on {local}: {e}"))?;
    let Settings { verifier, path, sink, max_connections, tls, log, metrics, health } = settings;
    health.running();
    announce(local);

    let state = Arc::new(State { verifier, path, sink, log: log.clone(), metrics: metrics.clone(), health });
    let tls = tls.map(TlsAcceptor::from);
    let slots = Arc::new(Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT).max_buf_size(MAX_HEADER_BYTES);

    loop {
        let next = poll_fn(|cx| {
            if stop.poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            listener.poll_accept(cx).map(Some)
        })
        .await;
        let (stream, peer) = match next {
            None => break,
            Some(Ok(accepted)) => accepted,
            Some(Err(e)) => {
                // Out of file descriptors, usually: wait for some to be freed rather than spin.
                log.line(format!("accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // A stranger first, so that strangers can never take the slots of the allowed.
        let source = peer.ip().to_canonical();
        if !state.verifier().is_source_allowed(source) {
            log.refused(source, CLOSED, "not an allowed source", "");
            metrics.refused("source_not_allowed", "closed");
            continue;
        }
        // Beyond the cap the connection is closed at once: ThingSpace resends what got no answer.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            log.refused(source, CLOSED, "over --max-connections", "");
            metrics.refused("max_connections", "closed");
            continue;
        };
        let (state, tls, http, watcher) = (state.clone(), tls.clone(), http.clone(), graceful.watcher());
        let open = OpenConnection::new(&metrics);
        tokio::spawn(async move {
            let _slot = (slot, open);
            let service = service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(answer(&state, peer, request).await) }
            });
            match tls {
                None => {
                    let _ = watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await;
                }
                Some(tls) => {
                    if let Ok(Ok(stream)) =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(stream)).await
                    {
                        let _ = watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await;
                    }
                }
            }
        });
    }
    drop(listener);
    state.health.stopping();
    if let Err(e) = super::systemd::notify("STOPPING=1") {
        log.line(e);
    }
    log.line("stopping: finishing the requests in flight".to_owned());
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        log.line("stopped with requests still open (their messages were not acknowledged)".to_owned());
    }
    Ok(())
}

/// Counts an open callback connection while it lives.
struct OpenConnection(Arc<Metrics>);

impl OpenConnection {
    fn new(metrics: &Arc<Metrics>) -> OpenConnection {
        metrics.open_connections.inc();
        OpenConnection(metrics.clone())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open_connections.dec();
    }
}

/// The answer to one request; the message is written before a 200.
async fn answer(state: &State, peer: SocketAddr, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let source = peer.ip().to_canonical();
    // The source before anything else, so that a stranger cannot tell the path (404) or the
    // method (405) apart. A stranger's connection is closed at accept(), so this is only a
    // second line of defence; the body is never read.
    let verifier = state.verifier();
    if let Err(e) = verifier.check_source(source) {
        return refused(state, source, &e);
    }
    if state.path.as_deref().is_some_and(|path| path != request.uri().path()) {
        state.metrics.refused("wrong_path", "404");
        return plain(StatusCode::NOT_FOUND, "not a callback path");
    }
    if request.method() != Method::POST {
        state.metrics.refused("wrong_method", "405");
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "callbacks are POSTed");
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let declared = request.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_CALLBACK_BYTES as u64) {
        return too_large(state, source);
    }
    let body = Limited::new(request.into_body(), MAX_CALLBACK_BYTES);
    let body = match tokio::time::timeout(BODY_TIMEOUT, body.collect()).await {
        Err(_) => {
            state.metrics.refused("body_timeout", "408");
            return plain(StatusCode::REQUEST_TIMEOUT, "the body took too long");
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(state, source),
        Ok(Err(_)) => {
            state.metrics.refused("body_unreadable", "400");
            return plain(StatusCode::BAD_REQUEST, "the body could not be read");
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let message = match verifier.verify(source, &body) {
        Ok(message) => message,
        Err(e) => return refused(state, source, &e),
    };
    let key = message.dedup_key().to_owned();
    // Taken, not cloned: the message is not needed beyond its line and key.
    let mut line = message.into_json_without_password();
    line.insert("receivedAt".into(), rfc3339(SystemTime::now()).into());
    line.insert("source".into(), source.to_string().into());
    let started = Instant::now();
    let kept = match json_line(&line, body.len()) {
        Ok(line) => match &state.sink {
            Sink::Writer(writer) => writer.write(key, line).await,
            // A request waits for a free slot no longer than a slow body may take.
            Sink::Exec(exec) => exec.deliver(&key, &line, BODY_TIMEOUT).await,
            Sink::Nats(nats) => nats.publish(&key, line).await,
        },
        Err(e) => Err(e),
    };
    state.metrics.sink_seconds.observe(started.elapsed().as_secs_f64());
    match kept {
        Ok(Written::Written) => {
            state.metrics.accepted.inc();
            state.health.sink_result(true);
            plain(StatusCode::OK, "ok")
        }
        Ok(Written::Duplicate) => {
            state.metrics.duplicates.inc();
            // JetStream's ack of a duplicate shows it works again (a publish made while it was
            // away may have been stored after all); the other sinks did nothing for it.
            if matches!(state.sink, Sink::Nats(_)) {
                state.health.sink_result(true);
            }
            plain(StatusCode::OK, "ok")
        }
        Err(e) => {
            state.metrics.sink_errors.inc();
            state.health.sink_result(false);
            // 5xx: ThingSpace resends it later, when the output may work again.
            state.log.line(format!("could not keep a message from {source}: {e}"));
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the message could not be kept")
        }
    }
}

fn too_large(state: &State, source: IpAddr) -> Response<Full<Bytes>> {
    state.log.refused(source, REFUSED, "413", &format!("a body over {MAX_CALLBACK_BYTES} bytes"));
    state.metrics.refused("too_large", "413");
    plain(StatusCode::PAYLOAD_TOO_LARGE, "the body is over 1 MiB")
}

/// A refusal by the verifier, logged with its detail (never a password). The answer is
/// `{errorCode, errorMessage}`: for a source or the credentials a fixed one, which does not say
/// what the allowed sources are, nor which of username, password or previous password was
/// wrong; for an invalid message the verifier's own (it describes the sender's body).
fn refused(state: &State, source: IpAddr, error: &tscb::Error) -> Response<Full<Bytes>> {
    state.log.refused(source, REFUSED, error.error_code(), error.error_message());
    let status =
        StatusCode::from_u16(callback_answer_status(error)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // Error codes are the core's fixed set: a bounded label.
    state.metrics.refused(error.error_code(), status.as_str());
    let fixed = match error.error_code() {
        code if code == codes::CALLBACK_REJECTED_SOURCE => Some("this source is not allowed"),
        code if code == codes::CALLBACK_REJECTED_CREDENTIALS => {
            Some("the callback's username or password is not the expected one")
        }
        _ => None,
    };
    let body = match fixed {
        Some(message) => {
            serde_json::json!({"errorCode": error.error_code(), "errorMessage": message}).to_string()
        }
        None => error.to_json(),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// The message as one line of JSON. Straight into a buffer of about the body's size: `Value`'s
/// `Display` goes through `fmt` and grows its string from nothing.
/// It cannot fail (string keys, into memory), but if it did the message is refused with a 500,
/// never kept as an empty line.
fn json_line(map: &serde_json::Map<String, serde_json::Value>, size: usize) -> std::io::Result<String> {
    let mut line = Vec::with_capacity(size + 96);
    serde_json::to_writer(&mut line, map)?;
    String::from_utf8(line).map_err(std::io::Error::other)
}

/// `2026-11-27T11:38:26.123Z`: RFC 3339 in UTC, to the millisecond.
fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let (days, secs) = ((since.as_secs() / 86_400) as i64, since.as_secs() % 86_400);
    // Days to a civil date (proleptic Gregorian), after Howard Hinnant's public-domain method.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{:03}Z", since.subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        let at = |secs: u64| rfc3339(SystemTime::UNIX_EPOCH + Duration::from_millis(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(at(1_795_779_506_000), "2026-11-27T11:38:26.000Z");
    }
}
