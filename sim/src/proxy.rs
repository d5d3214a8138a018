//! A small HTTP `CONNECT` proxy for tests of clients behind a corporate proxy: it records what it
//! was asked, can demand credentials (407) or refuse chosen targets, and tunnels only to
//! loopback addresses, so that a test can never reach further than this machine.
//!
//! Still a test tool, but one that runs as a process beside others: tunnels are capped (503
//! beyond the cap) and closed when idle, and its log of requests keeps only the latest ones.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::sync::lock;

/// How many requests [`ConnectProxy::requests`] keeps: the latest ones.
pub const MAX_LOGGED_REQUESTS: usize = 1000;

/// How a [`ConnectProxy`] behaves.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// When set, a `CONNECT` without `Proxy-Authorization: Basic` for this user and password is
    /// answered `407 Proxy Authentication Required`.
    pub credentials: Option<(String, String)>,
    /// Targets (`host:port`, as in the `CONNECT` line) answered with the given status instead of
    /// a tunnel, e.g. `("127.0.0.1:443".into(), 403)`; `"*"` stands for every target.
    pub refuse: Vec<(String, u16)>,
    /// The most tunnels open at once; a `CONNECT` beyond is answered `503 Service Unavailable`.
    /// 64 by default.
    pub max_tunnels: usize,
    /// A tunnel in which no byte moved either way for this long is closed. 30 s by default.
    pub idle_timeout: Duration,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            credentials: None,
            refuse: Vec::new(),
            max_tunnels: 64,
            idle_timeout: Duration::from_secs(30),
        }
    }
}

/// One `CONNECT` request (or other request) the proxy received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyRequest {
    /// The method, normally `"CONNECT"`.
    pub method: String,
    /// The request target, e.g. `"127.0.0.1:41234"`.
    pub target: String,
    /// The `Proxy-Authorization` header as received, if any.
    pub proxy_authorization: Option<String>,
    /// The status the proxy answered (200 when it opened the tunnel).
    pub status: u16,
}

struct Shared {
    config: ProxyConfig,
    /// The latest requests, and how many were received in all.
    requests: Mutex<(VecDeque<ProxyRequest>, u64)>,
    stopping: AtomicBool,
    tunnels: AtomicUsize,
    next_id: AtomicU64,
    /// Each connection's second handles of its sockets, to cut them at shutdown, and its thread,
    /// to wait for; removed when the connection ends.
    open: Mutex<HashMap<u64, Connection>>,
}

#[derive(Default)]
struct Connection {
    sockets: Vec<TcpStream>,
    thread: Option<JoinHandle<()>>,
}

/// One open tunnel, counted while it lives.
struct TunnelSlot<'a>(&'a AtomicUsize);

impl Drop for TunnelSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running `CONNECT` proxy on 127.0.0.1; it stops when dropped.
pub struct ConnectProxy {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept_thread: Option<JoinHandle<()>>,
}

impl ConnectProxy {
    /// A proxy that tunnels to any loopback target without asking for credentials.
    pub fn start() -> io::Result<ConnectProxy> {
        ConnectProxy::start_with(ProxyConfig::default())
    }

    /// A proxy configured by `config`, on a free port of 127.0.0.1.
    pub fn start_with(config: ProxyConfig) -> io::Result<ConnectProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            requests: Mutex::new((VecDeque::new(), 0)),
            stopping: AtomicBool::new(false),
            tunnels: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        });
        let for_thread = Arc::clone(&shared);
        let accept_thread = thread::Builder::new()
            .name("tscb-proxy-accept".to_owned())
            .spawn(move || accept_loop(&for_thread, &listener))?;
        Ok(ConnectProxy { shared, addr, accept_thread: Some(accept_thread) })
    }

    /// The proxy's URL, e.g. `"http://127.0.0.1:41235"`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The latest requests received (at most [`MAX_LOGGED_REQUESTS`]), in arrival order.
    pub fn requests(&self) -> Vec<ProxyRequest> {
        lock(&self.shared.requests).0.iter().cloned().collect()
    }

    /// How many requests were received in all, including those no longer kept.
    pub fn request_count(&self) -> u64 {
        lock(&self.shared.requests).1
    }

    /// The requests after the first `seen` that are still kept, and the count to pass next time.
    pub fn requests_since(&self, seen: u64) -> (Vec<ProxyRequest>, u64) {
        let requests = lock(&self.shared.requests);
        let (kept, count) = (&requests.0, requests.1);
        let new = usize::try_from(count.saturating_sub(seen)).unwrap_or(usize::MAX).min(kept.len());
        (kept.iter().skip(kept.len() - new).cloned().collect(), count)
    }

    /// How many tunnels are open now.
    pub fn open_tunnels(&self) -> usize {
        self.shared.tunnels.load(Ordering::SeqCst)
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        if let Some(thread) = self.accept_thread.take() {
            // Wake the blocking accept(); if that fails the thread exits at its next accept.
            if TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok() {
                let _ = thread.join();
            }
        }
        let open = std::mem::take(&mut *lock(&self.shared.open));
        for connection in open.values() {
            for socket in &connection.sockets {
                let _ = socket.shutdown(Shutdown::Both);
            }
        }
        for thread in open.into_values().filter_map(|c| c.thread) {
            let _ = thread.join();
        }
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let Ok(handle) = stream.try_clone() else { continue };
        let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
        lock(&shared.open).insert(id, Connection { sockets: vec![handle], thread: None });
        let for_thread = Arc::clone(shared);
        let spawned = thread::Builder::new().name("tscb-proxy-conn".to_owned()).spawn(move || {
            serve(&for_thread, id, stream);
            lock(&for_thread.open).remove(&id);
        });
        let mut open = lock(&shared.open);
        match spawned {
            // Unless the connection is over already.
            Ok(thread) => {
                if let Some(connection) = open.get_mut(&id) {
                    connection.thread = Some(thread);
                }
            }
            Err(_) => {
                open.remove(&id);
            }
        }
    }
}

/// Reads the request head (at most 16 KiB), then answers or tunnels.
fn serve(shared: &Shared, id: u64, mut client: TcpStream) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match client.read(&mut chunk) {
            Ok(n) if n > 0 && buf.len() + n <= 16 << 10 => buf.extend_from_slice(&chunk[..n]),
            _ => return,
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let Ok(httparse::Status::Complete(_)) = req.parse(&buf[..head_end]) else {
        let _ =
            client.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let method = req.method.unwrap_or_default().to_owned();
    let target = req.path.unwrap_or_default().to_owned();
    let proxy_authorization = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("proxy-authorization"))
        .map(|h| String::from_utf8_lossy(h.value).into_owned());

    // A slot is taken before the decision, so that concurrent CONNECTs cannot pass the cap.
    let taken = shared.tunnels.fetch_add(1, Ordering::SeqCst);
    let slot = TunnelSlot(&shared.tunnels);
    let (status, upstream) = if method == "CONNECT" && taken >= shared.config.max_tunnels {
        (503, None)
    } else {
        decide(shared, &method, &target, proxy_authorization.as_deref())
    };
    log(shared, ProxyRequest { method, target, proxy_authorization, status });
    let Some(mut upstream) = upstream else {
        let extra = if status == 407 { "Proxy-Authenticate: Basic realm=\"tscb-sim\"\r\n" } else { "" };
        let _ = write!(
            client,
            "HTTP/1.1 {status} {}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n",
            reason(status)
        );
        return;
    };
    if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_err()
        || upstream.write_all(&buf[head_end..]).is_err()
    {
        return;
    }
    tunnel(shared, id, client, upstream);
    drop(slot);
}

fn log(shared: &Shared, request: ProxyRequest) {
    let mut requests = lock(&shared.requests);
    if requests.0.len() == MAX_LOGGED_REQUESTS {
        requests.0.pop_front();
    }
    requests.0.push_back(request);
    requests.1 += 1;
}

/// The status to answer, and the connection to the target when it is 200.
fn decide(shared: &Shared, method: &str, target: &str, auth: Option<&str>) -> (u16, Option<TcpStream>) {
    if method != "CONNECT" {
        return (501, None);
    }
    if let Some((user, password)) = &shared.config.credentials {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        if auth != Some(expected.as_str()) {
            return (407, None);
        }
    }
    if let Some((_, status)) = shared.config.refuse.iter().find(|(t, _)| t == target || t == "*") {
        return (*status, None);
    }
    // Only loopback: this proxy must never become a way off the machine.
    let Some(addr) = target.to_socket_addrs().ok().and_then(|mut a| a.find(|a| is_loopback(a.ip()))) else {
        return (403, None);
    };
    match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
        Ok(upstream) => (200, Some(upstream)),
        Err(_) => (502, None),
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

/// Copies bytes both ways until either side closes or no byte moved either way for the idle
/// timeout.
fn tunnel(shared: &Shared, id: u64, client: TcpStream, upstream: TcpStream) {
    let (Ok(client_read), Ok(upstream_write), Ok(handle)) =
        (client.try_clone(), upstream.try_clone(), upstream.try_clone())
    else {
        return;
    };
    match lock(&shared.open).get_mut(&id) {
        Some(connection) => connection.sockets.push(handle),
        // The proxy is stopping and has cut the sockets it knew of.
        None => return,
    }
    let idle = Idle { timeout: shared.config.idle_timeout, start: Instant::now(), last: AtomicU64::new(0) };
    thread::scope(|scope| {
        scope.spawn(|| pipe(client_read, upstream_write, &idle));
        pipe(upstream, client, &idle);
    });
}

/// When a tunnel last moved a byte, either way.
struct Idle {
    timeout: Duration,
    start: Instant,
    /// Milliseconds since `start`.
    last: AtomicU64,
}

impl Idle {
    fn touch(&self) {
        self.last.store(self.start.elapsed().as_millis() as u64, Ordering::SeqCst);
    }

    fn expired(&self) -> bool {
        let last = Duration::from_millis(self.last.load(Ordering::SeqCst));
        self.start.elapsed().saturating_sub(last) >= self.timeout
    }
}

/// One direction of a tunnel. Reads wake up every so often to look at the tunnel's idle time;
/// when one direction gives up it closes both sockets, which ends the other.
fn pipe(mut from: TcpStream, mut to: TcpStream, idle: &Idle) {
    let poll = (idle.timeout / 4).clamp(Duration::from_millis(10), Duration::from_millis(500));
    let _ = from.set_read_timeout(Some(poll));
    let mut buf = [0u8; 16 * 1024];
    let closed = loop {
        match from.read(&mut buf) {
            Ok(0) => break false,
            Ok(n) => {
                idle.touch();
                if to.write_all(&buf[..n]).is_err() {
                    break true;
                }
                idle.touch();
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                if idle.expired() {
                    break true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break true,
        }
    };
    if closed {
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    } else {
        let _ = to.shutdown(Shutdown::Write);
        let _ = from.shutdown(Shutdown::Read);
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        403 => "Forbidden",
        407 => "Proxy Authentication Required",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Refused",
    }
}
