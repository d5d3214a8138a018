//! `tscb-connect-proxy`'s limits: a cap on tunnels (503 beyond), tunnels closed when idle, and
//! a request log that keeps only the latest entries.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use tscb_sim::{ConnectProxy, ProxyConfig, MAX_LOGGED_REQUESTS};

/// Long enough for a loaded machine; a correct run takes milliseconds.
const PATIENCE: Duration = Duration::from_secs(15);

/// A loopback server that echoes what each connection sends.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            std::thread::spawn(move || {
                let mut reader = stream.try_clone().unwrap();
                let mut writer = stream;
                let _ = std::io::copy(&mut reader, &mut writer);
            });
        }
    });
    addr
}

/// Sends `CONNECT target` and returns the status and the connection.
fn connect(proxy: &ConnectProxy, target: SocketAddr) -> (u16, TcpStream) {
    let mut stream = TcpStream::connect(proxy.addr()).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(stream, "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").unwrap();
    // The head byte by byte, so that nothing of the tunnel is left in a buffer.
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, stream)
}

fn echoes(stream: &mut TcpStream) -> bool {
    let mut got = [0u8; 4];
    stream.write_all(b"ping").is_ok() && stream.read_exact(&mut got).is_ok() && &got == b"ping"
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn tunnels_beyond_the_cap_are_refused_with_503_until_one_closes() {
    let target = echo_server();
    let config = ProxyConfig { max_tunnels: 2, ..ProxyConfig::default() };
    let proxy = ConnectProxy::start_with(config).unwrap();
    let (first, mut a) = connect(&proxy, target);
    let (second, mut b) = connect(&proxy, target);
    assert_eq!((first, second), (200, 200));
    assert!(echoes(&mut a) && echoes(&mut b));
    let (third, _) = connect(&proxy, target);
    assert_eq!(third, 503, "a third tunnel is refused");
    assert!(echoes(&mut a), "the open tunnels still work");
    drop(a);
    wait_until("the closed tunnel frees its slot", || proxy.open_tunnels() < 2);
    let (again, mut c) = connect(&proxy, target);
    assert_eq!(again, 200);
    assert!(echoes(&mut c));
    let statuses: Vec<u16> = proxy.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 503, 200]);
}

#[test]
fn an_idle_tunnel_is_closed() {
    let target = echo_server();
    let config = ProxyConfig { idle_timeout: Duration::from_secs(2), ..ProxyConfig::default() };
    let proxy = ConnectProxy::start_with(config).unwrap();
    let (status, mut tunnel) = connect(&proxy, target);
    assert_eq!(status, 200);
    assert!(echoes(&mut tunnel));
    // Nothing moves: the proxy closes the tunnel (the read ends) well before our patience does.
    let start = Instant::now();
    let mut rest = Vec::new();
    let _ = tunnel.read_to_end(&mut rest);
    assert!(start.elapsed() < PATIENCE, "the idle tunnel was closed");
    assert!(rest.is_empty());
    wait_until("the slot is given back", || proxy.open_tunnels() == 0);
}

#[test]
fn the_request_log_keeps_only_the_latest_entries() {
    let proxy = ConnectProxy::start().unwrap();
    let total = MAX_LOGGED_REQUESTS + 50;
    for n in 0..total {
        let mut stream = TcpStream::connect(proxy.addr()).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        write!(stream, "GET /{n} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 501"), "{answer}");
    }
    wait_until("every request is counted", || proxy.request_count() == total as u64);
    let kept = proxy.requests();
    assert_eq!(kept.len(), MAX_LOGGED_REQUESTS);
    assert_eq!(kept.last().unwrap().target, format!("/{}", total - 1));
    assert_eq!(kept[0].target, "/50");
    let (new, count) = proxy.requests_since(total as u64 - 3);
    assert_eq!(count, total as u64);
    assert_eq!(new.iter().map(|r| r.target.as_str()).collect::<Vec<_>>(), ["/1047", "/1048", "/1049"]);
}
