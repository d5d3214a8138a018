//! `tscb listen` facing strangers and a stuck log, as a deployment meets them: real sockets from
//! several loopback addresses (127.0.0.0/8 is all loopback on Linux; a client binds the address
//! it sends from), and a stderr pipe nobody reads.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::BIN;
use serde_json::json;

const PASSWORD: &str = "listener-SECRET-9";
/// Long enough for a loaded CI machine; a correct run takes milliseconds.
const PATIENCE: Duration = Duration::from_secs(15);
/// The allowed sender of these tests; 127.0.0.1 is the stranger.
const ALLOWED: &str = "127.0.0.2";

/// `tscb listen ARGS` in the background, killed when dropped. Its stderr is read up to the end
/// of the start-up text only: `drain_stderr` reads the rest, or nobody does.
struct Listener {
    child: Child,
    addr: SocketAddr,
    stderr: Option<BufReader<ChildStderr>>,
    collected: Arc<Mutex<String>>,
}

impl Listener {
    fn start(more: &[&str]) -> Listener {
        let mut child = Command::new(BIN)
            .args(["listen", "--listen", "127.0.0.1:0", "--username", "fleet-7", "--password-env", "CB_PW"])
            .args(more)
            .env("CB_PW", PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut text = String::new();
        while !text.lines().last().unwrap_or_default().starts_with("writing messages to") {
            assert!(err.read_line(&mut text).unwrap() > 0, "tscb listen did not start: {text}");
        }
        let first = text.lines().next().unwrap();
        let addr = first.split_once("://").unwrap().1.split('/').next().unwrap().parse().unwrap();
        // stdout is read, so that the messages never stall the listener here.
        let mut out = child.stdout.take().unwrap();
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Listener { child, addr, stderr: Some(err), collected: Arc::new(Mutex::new(text)) }
    }

    /// From now on its stderr is read (into `stderr()`).
    fn drain_stderr(&mut self) {
        let mut err = self.stderr.take().expect("drained once");
        let collected = Arc::clone(&self.collected);
        std::thread::spawn(move || {
            let mut line = String::new();
            while err.read_line(&mut line).is_ok_and(|n| n > 0) {
                collected.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
    }

    fn stderr(&self) -> String {
        self.collected.lock().unwrap().clone()
    }

    /// Waits (within PATIENCE) until stderr holds `text`.
    fn wait_for_stderr(&self, text: &str) -> String {
        let until = Instant::now() + PATIENCE;
        loop {
            let seen = self.stderr();
            if seen.contains(text) || Instant::now() > until {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A connection to `to` sent from the loopback address `from`.
fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let local: SocketAddr = format!("{from}:0").parse().unwrap();
    socket.bind(&local.into()).unwrap();
    socket.connect_timeout(&to.into(), PATIENCE).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// POSTs `body` to `path` from `from`: the whole answer, possibly empty (closed at once). A
/// listener that does not answer within PATIENCE fails the test.
fn post_from(from: &str, to: SocketAddr, path: &str, body: &str) -> String {
    try_post_from(from, to, path, body)
        .unwrap_or_else(|| panic!("no answer from {path} and not closed within {PATIENCE:?}"))
}

/// `post_from`, None when the listener neither answers nor closes within PATIENCE.
fn try_post_from(from: &str, to: SocketAddr, path: &str, body: &str) -> Option<String> {
    let mut conn = connect_from(from, to);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    // A listener that closes at once may reset the connection while this is written.
    let _ = conn.write_all(head.as_bytes()).and_then(|()| conn.write_all(body.as_bytes()));
    try_closed_or_answered(&mut conn)
}

/// Everything read until the listener closes; fails if it neither answers nor closes in time.
fn closed_or_answered(conn: &mut TcpStream) -> String {
    try_closed_or_answered(conn).unwrap_or_else(|| panic!("no answer and not closed within {PATIENCE:?}"))
}

fn try_closed_or_answered(conn: &mut TcpStream) -> Option<String> {
    let mut answer = Vec::new();
    match conn.read_to_end(&mut answer) {
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => None,
        // A reset (the listener closed with our bytes unread) is a close.
        _ => Some(String::from_utf8_lossy(&answer).into_owned()),
    }
}

fn status(answer: &str) -> u16 {
    answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status: {answer:?}"))
}

fn message(request_id: &str, username: &str, password: &str) -> String {
    json!({"username": username, "password": password, "requestId": request_id, "status": "Success"})
        .to_string()
}

#[test]
fn idle_strangers_at_the_connection_cap_do_not_lock_out_an_allowed_source() {
    let mut l = Listener::start(&["--allow-source", ALLOWED, "--max-connections", "64"]);
    l.drain_stderr();
    // More idle sockets from a stranger than there are slots.
    let strangers: Vec<TcpStream> = (0..80).map(|_| connect_from("127.0.0.1", l.addr)).collect();
    let started = Instant::now();
    let answer = post_from(ALLOWED, l.addr, "/", &message("r-1", "fleet-7", PASSWORD));
    let took = started.elapsed();
    assert_eq!(status(&answer), 200, "{answer}");
    // The strangers held slots for the 10 s header timeout before; now they hold none.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // Each stranger's connection is closed at once, without a byte.
    for mut stranger in strangers {
        assert_eq!(closed_or_answered(&mut stranger), "");
    }
    // Logged as a count, not a line per connection.
    let log = l.wait_for_stderr("connections closed at once from 127.0.0.1: not an allowed source");
    assert_eq!(log.matches("from 127.0.0.1").count(), 1, "{log}");
}

#[test]
fn a_stranger_gets_no_answer_whatever_the_path_method_or_tls() {
    let l = Listener::start(&["--allow-source", ALLOWED, "--path", "/cb"]);
    // The secret path and another answer the same: nothing.
    assert_eq!(post_from("127.0.0.1", l.addr, "/cb", &message("r-1", "fleet-7", PASSWORD)), "");
    assert_eq!(post_from("127.0.0.1", l.addr, "/elsewhere", &message("r-1", "fleet-7", PASSWORD)), "");
    let mut get = connect_from("127.0.0.1", l.addr);
    let _ = get.write_all(b"GET /cb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(closed_or_answered(&mut get), "");
    // The allowed source still tells them apart.
    assert_eq!(status(&post_from(ALLOWED, l.addr, "/elsewhere", "{}")), 404);
    assert_eq!(status(&post_from(ALLOWED, l.addr, "/cb", &message("r-1", "fleet-7", PASSWORD))), 200);

    // With TLS, a stranger's ClientHello gets no ServerHello.
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let (cert, key) = (data.join("listener-cert.pem"), data.join("listener-key.pem"));
    let tls = Listener::start(&[
        "--allow-source",
        ALLOWED,
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut client = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut hello = Vec::new();
    client.write_tls(&mut hello).unwrap();
    let mut conn = connect_from("127.0.0.1", tls.addr);
    let _ = conn.write_all(&hello);
    assert_eq!(closed_or_answered(&mut conn), "");
}

#[test]
fn one_fixed_401_body_whatever_was_wrong_and_the_detail_only_in_the_log() {
    let mut l = Listener::start(&["--allow-source", ALLOWED]);
    l.drain_stderr();
    let username = post_from(ALLOWED, l.addr, "/", &message("r-1", "someone-else", PASSWORD));
    let password = post_from(ALLOWED, l.addr, "/", &message("r-2", "fleet-7", "wrong"));
    assert_eq!(status(&username), 401);
    let body = |answer: &str| answer.split_once("\r\n\r\n").unwrap().1.to_owned();
    assert_eq!(body(&username), body(&password));
    assert!(body(&username).contains("Tscb.CALLBACK_REJECTED.Credentials"), "{username}");
    assert!(!body(&username).contains("previous"), "{username}");
    let log = l.wait_for_stderr("username is not the expected one");
    assert!(log.contains("requests refused from 127.0.0.2: Tscb.CALLBACK_REJECTED.Credentials"), "{log}");
    assert!(!log.contains(PASSWORD) && !log.contains("wrong"), "{log}");
}

#[test]
fn a_stderr_nobody_reads_does_not_stop_the_listener() {
    // 127.1.0.0/16 sends refused messages (401, 400), 127.2.0.0/16 is a stranger: each from
    // 1,000 addresses, so that even aggregated per source the log is far more than a pipe holds.
    let mut l = Listener::start(&["--allow-source", ALLOWED, "--allow-source", "127.1.0.0/16"]);
    for i in 0..2_000u32 {
        let host = format!("{}.{}", i / 200 + 1, i % 200 + 1);
        let answer = match i % 4 {
            0 => try_post_from(&format!("127.1.{host}"), l.addr, "/", &message("r", "fleet-7", "wrong")),
            1 => try_post_from(&format!("127.1.{host}"), l.addr, "/", "{not json"),
            _ => try_post_from(&format!("127.2.{host}"), l.addr, "/", &message("r", "fleet-7", PASSWORD)),
        };
        let answer = answer.unwrap_or_else(|| panic!("request {i}: no answer within {PATIENCE:?}"));
        let expected = ["HTTP/1.1 401", "HTTP/1.1 400", "", ""][i as usize % 4];
        assert!(answer.starts_with(expected), "request {i}: {answer:?}");
    }
    let answer = post_from(ALLOWED, l.addr, "/", &message("r-ok", "fleet-7", PASSWORD));
    assert_eq!(status(&answer), 200, "{answer}");
    // Once stderr is read again, the log says how much it dropped.
    l.drain_stderr();
    let log = l.wait_for_stderr("log lines were dropped");
    assert!(log.contains("log lines were dropped"), "{log}");
}
