//! A small HTTP `CONNECT` proxy for tests of clients behind a corporate proxy: it records what it
//! was asked, can demand credentials (407) or refuse chosen targets, and tunnels only to
//! loopback addresses, so that a test can never reach further than this machine.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use base64::Engine as _;

use crate::server::lock;

/// How a [`ConnectProxy`] behaves.
#[derive(Clone, Debug, Default)]
pub struct ProxyConfig {
    /// When set, a `CONNECT` without `Proxy-Authorization: Basic` for this user and password is
    /// answered `407 Proxy Authentication Required`.
    pub credentials: Option<(String, String)>,
    /// Targets (`host:port`, as in the `CONNECT` line) answered with the given status instead of
    /// a tunnel, e.g. `("127.0.0.1:443".into(), 403)`; `"*"` stands for every target.
    pub refuse: Vec<(String, u16)>,
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
    requests: Mutex<Vec<ProxyRequest>>,
    stopping: AtomicBool,
    /// Second handles of open sockets, to cut them at shutdown, and the threads to wait for.
    open: Mutex<(Vec<TcpStream>, Vec<JoinHandle<()>>)>,
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
            requests: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            open: Mutex::new((Vec::new(), Vec::new())),
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

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<ProxyRequest> {
        lock(&self.shared.requests).clone()
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
        let (streams, threads) = std::mem::take(&mut *lock(&self.shared.open));
        for stream in streams {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for thread in threads {
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
        let for_thread = Arc::clone(shared);
        let Ok(thread) = thread::Builder::new()
            .name("tscb-proxy-conn".to_owned())
            .spawn(move || serve(&for_thread, stream))
        else {
            continue;
        };
        let mut open = lock(&shared.open);
        open.0.push(handle);
        open.1.push(thread);
    }
}

/// Reads the request head (at most 16 KiB), then answers or tunnels.
fn serve(shared: &Shared, mut client: TcpStream) {
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

    let (status, upstream) = decide(shared, &method, &target, proxy_authorization.as_deref());
    lock(&shared.requests).push(ProxyRequest { method, target, proxy_authorization, status });
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
    let _ = client.set_read_timeout(None);
    tunnel(shared, client, upstream);
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

/// Copies bytes both ways until either side closes.
fn tunnel(shared: &Shared, client: TcpStream, upstream: TcpStream) {
    let (Ok(client_read), Ok(upstream_write), Ok(handle)) =
        (client.try_clone(), upstream.try_clone(), upstream.try_clone())
    else {
        return;
    };
    lock(&shared.open).0.push(handle);
    let up = thread::spawn(move || pipe(client_read, upstream_write));
    pipe(upstream, client);
    let _ = up.join();
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

fn reason(status: u16) -> &'static str {
    match status {
        403 => "Forbidden",
        407 => "Proxy Authentication Required",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        _ => "Refused",
    }
}
