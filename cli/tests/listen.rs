//! `tscb listen` as a user runs it: the built binary, fed by raw HTTP requests and by the
//! simulator's deliveries (issue 10's loop: register, deliver, stop, resend, restart). Over 400
//! lines: one file per command; the helpers of its own (a listener, and a simulator process that
//! reads the fixed tokens) are its first part, the listener and the shared ones are in common/.

mod common;

use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::listener::{message, post, request, Listener, PASSWORD, PATIENCE};
use common::{command, spawn_sim, KillOnDrop, BIN};
use serde_json::{json, Value};

const CHECKED: [&str; 7] =
    ["--listen", "127.0.0.1:0", "--allow-source", "127.0.0.1", "--username", "fleet-7", "--password-env"];

fn checked_listener(more: &[&str]) -> Listener {
    let mut args = CHECKED.to_vec();
    args.push("CB_PW");
    args.extend_from_slice(more);
    Listener::start(&args)
}

#[test]
fn each_answer_and_only_accepted_messages_are_written_without_their_password() {
    let l = checked_listener(&["--path", "/cb"]);
    let (status, _) = post(l.addr, "/cb", &message("r-1", 1, PASSWORD));
    assert_eq!(status, 200);
    let line = l.next_message();
    assert_eq!(line["requestId"], "r-1");
    assert_eq!(line["source"], "127.0.0.1");
    assert_eq!(line["deviceResponse"]["activateResponse"]["state"], "active");
    assert!(line.get("password").is_none(), "{line}");
    let received = line["receivedAt"].as_str().unwrap();
    assert!(received.len() == 24 && received.ends_with('Z') && received.as_bytes()[10] == b'T', "{received}");

    let (status, answer) = post(l.addr, "/cb", &message("r-2", 1, "wrong"));
    assert_eq!(status, 401);
    assert!(answer.contains("Tscb.CALLBACK_REJECTED.Credentials"), "{answer}");
    assert_eq!(post(l.addr, "/cb", "{not json").0, 400);
    assert_eq!(post(l.addr, "/cb", "[1,2]").0, 400);
    assert_eq!(post(l.addr, "/elsewhere", &message("r-3", 1, PASSWORD)).0, 404);
    let (status, answer) = request(l.addr, "GET /cb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", b"");
    assert_eq!(status, 405);
    assert!(answer.to_ascii_lowercase().contains("allow: post"), "{answer}");
    // Over 1 MiB: refused on the declared length, and on the bytes when none is declared.
    let declared = "POST /cb HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\nConnection: close\r\n\r\n";
    assert_eq!(request(l.addr, declared, b"").0, 413);
    let big = vec![b' '; 1024 * 1024 + 1];
    let chunked = format!(
        "POST /cb HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n",
        big.len()
    );
    let mut body = big.clone();
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(request(l.addr, &chunked, &body).0, 413);
    l.assert_no_more_lines();
    assert!(!l.stderr().contains(PASSWORD));
    assert!(l.stderr().contains("accepting messages from: 127.0.0.1"), "{}", l.stderr());
}

#[test]
fn a_source_not_allowed_gets_no_answer_and_the_default_is_verizons_list() {
    let l = Listener::start(&["--listen", "127.0.0.1:0"]);
    // Closed at once, without a byte (cli/tests/listen_strangers.rs has more).
    let mut conn = TcpStream::connect(l.addr).unwrap();
    conn.set_read_timeout(Some(PATIENCE)).unwrap();
    let _ = conn.write_all(message("r-1", 1, "").as_bytes());
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert!(l.stderr().contains("3.87.163.45"), "the start-up text names the sources: {}", l.stderr());
    l.assert_no_more_lines();
    let any = Listener::start(&["--listen", "127.0.0.1:0", "--any-source"]);
    assert_eq!(post(any.addr, "/any/path", &message("r-1", 1, "")).0, 200);
    assert_eq!(any.next_message()["requestId"], "r-1");
}

#[test]
fn a_resend_is_answered_200_and_not_written_again() {
    let l = checked_listener(&[]);
    for count in 1..=3 {
        assert_eq!(post(l.addr, "/cb", &message("r-1", count, PASSWORD)).0, 200);
    }
    assert_eq!(l.next_message()["callbackCount"], 1);
    l.assert_no_more_lines();
    assert_eq!(post(l.addr, "/cb", &message("r-2", 1, PASSWORD)).0, 200);
    assert_eq!(l.next_message()["requestId"], "r-2", "another message is written");
}

#[test]
fn output_appends_to_the_file_before_answering() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("listen-output.jsonl");
    std::fs::write(&path, "{\"earlier\":true}\n").unwrap();
    let mut l = checked_listener(&["--output", path.to_str().unwrap()]);
    assert_eq!(post(l.addr, "/cb", &message("r-1", 1, PASSWORD)).0, 200);
    // Answered means written: read at once, before any stop.
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["earlier"], true);
    assert_eq!(lines[1]["requestId"], "r-1");
    assert!(!text.contains(PASSWORD));
    assert!(l.stop().success());
    l.assert_no_more_lines();
}

#[test]
fn a_stalled_client_does_not_block_the_others() {
    let l = checked_listener(&[]);
    // One sends its headers and half a body, another half a request line; both then stall.
    let mut stalled_body = TcpStream::connect(l.addr).unwrap();
    stalled_body
        .write_all(b"POST /cb HTTP/1.1\r\nHost: x\r\nContent-Length: 400\r\n\r\n{\"requestId\":")
        .unwrap();
    let mut stalled_head = TcpStream::connect(l.addr).unwrap();
    stalled_head.write_all(b"POST /cb HT").unwrap();
    // Well within the listener's own timeouts (10 s for headers, 30 s for a body).
    let start = Instant::now();
    assert_eq!(post(l.addr, "/cb", &message("r-1", 1, PASSWORD)).0, 200);
    assert!(start.elapsed() < Duration::from_secs(5), "answered only after {:?}", start.elapsed());
    assert_eq!(l.next_message()["requestId"], "r-1");
}

#[test]
fn a_stop_finishes_the_request_in_flight() {
    let mut l = checked_listener(&[]);
    let body = message("r-1", 1, PASSWORD);
    let (first, rest) = body.split_at(10);
    let mut conn = TcpStream::connect(l.addr).unwrap();
    conn.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(conn, "POST /cb HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{first}", body.len()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    Command::new("kill").args(["-TERM", &l.child.id().to_string()]).status().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    conn.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert_eq!(l.next_message()["requestId"], "r-1");
    assert!(l.child.wait().unwrap().success());
    assert!(l.stderr().contains("stopping"), "{}", l.stderr());
}

#[test]
fn a_password_variable_that_is_not_set_is_bad_input() {
    let out = Command::new(BIN)
        .args(["listen", "--listen", "127.0.0.1:0", "--password-env", "TSCB_TEST_UNSET_VARIABLE"])
        .env_remove("TSCB_TEST_UNSET_VARIABLE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(BIN)
        .args(["listen", "--listen", "127.0.0.1:0", "--allow-source", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(BIN).args(["listen", "--listen", "not-an-address"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `tscb sim` in the background; its admin API and its fixed tokens.
struct Sim {
    _child: KillOnDrop,
    base_url: String,
    bearer: String,
    session: String,
}

impl Sim {
    fn start() -> Sim {
        let (child, mut out) = spawn_sim(&["--listen", "127.0.0.1:0"]);
        let mut banner = Vec::new();
        for _ in 0..3 {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            banner.push(line.trim().to_owned());
        }
        // Keep draining, so that the simulator never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let after = |prefix: &str| banner.iter().find_map(|l| l.strip_prefix(prefix)).unwrap().to_owned();
        Sim {
            base_url: after("listening on "),
            bearer: after("bearer token: "),
            session: after("session token: "),
            _child: child,
        }
    }

    fn admin(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let addr = self.base_url.trim_start_matches("http://").trim_end_matches("/api").parse().unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (status, answer) = request(addr, &head, body.as_bytes());
        (status, serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap_or(Value::Null))
    }

    fn deliver(&self, body: Value) -> u64 {
        let (status, answer) = self.admin("POST", "/__admin/deliver", &body.to_string());
        assert_eq!(status, 202, "{answer}");
        answer["deliveryId"].as_u64().unwrap()
    }

    /// The attempts of one delivery so far.
    fn attempts(&self, id: u64) -> Vec<Value> {
        let all = self.admin("GET", "/__admin/deliveries", "").1;
        all.as_array().unwrap().iter().filter(|a| a["deliveryId"] == id).cloned().collect()
    }

    fn wait_for(&self, id: u64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let attempts = self.attempts(id);
            if done(&attempts) {
                return attempts;
            }
            assert!(start.elapsed() < PATIENCE, "{attempts:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A listener on the first free port that a callback URL may use (ThingSpace allows only a
/// few), so that the CLI can register it.
fn listener_on_an_allowed_port(more: &[&str]) -> (Listener, u16) {
    let ports = (9001..=9006).chain(50551..=50559).chain(28200..=28220);
    for port in ports {
        if TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["--listen", &listen, "--allow-source", "127.0.0.1", "--username", "fleet-7"];
        args.extend_from_slice(&["--password-env", "CB_PW"]);
        args.extend_from_slice(more);
        if let Some(listener) = Listener::try_start(&args) {
            return (listener, port);
        }
    }
    panic!("no free port among those a callback URL may use");
}

#[test]
fn the_whole_loop_register_deliver_stop_and_a_resend_arrives_once() {
    let sim = Sim::start();
    let (mut listener, port) = listener_on_an_allowed_port(&[]);
    let url = format!("http://127.0.0.1:{port}/cb");
    let env = [
        ("THINGSPACE_BEARER_TOKEN", sim.bearer.as_str()),
        ("THINGSPACE_SESSION_TOKEN", sim.session.as_str()),
        ("CB_PW", PASSWORD),
    ];
    let registered = command(&env, &["register", "--base-url", &sim.base_url])
        .args(["--account", "TestAccount-2", "--service", "CarrierService", "--url", &url])
        .args(["--username", "fleet-7", "--password-env", "CB_PW"])
        .output()
        .unwrap();
    assert!(registered.status.success(), "{}", String::from_utf8_lossy(&registered.stderr));

    // Delivered at once: the listener prints it.
    let id = sim.deliver(json!({"account": "TestAccount-2", "service": "CarrierService",
                                "message": {"requestId": "loop-1"}}));
    let line = listener.next_message();
    assert_eq!((line["requestId"].as_str(), line["callbackCount"].as_u64()), (Some("loop-1"), Some(1)));
    assert_eq!(line["username"], "fleet-7");
    assert!(line.get("password").is_none());
    let attempts = sim.wait_for(id, |a| a.iter().any(|a| a["last"] == true));
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["status"], 200);

    // The listener is down for the first attempt(s); restarted, it gets the message once. (1 s
    // between attempts leaves 3 s to restart it on a loaded CI machine.)
    assert!(listener.stop().success());
    let id = sim.deliver(json!({"account": "TestAccount-2", "service": "CarrierService",
                                "message": {"requestId": "loop-2"}, "attempts": 4, "interval_ms": 1000}));
    let failed = sim.wait_for(id, |a| !a.is_empty());
    assert!(failed[0]["status"].is_null() && failed[0]["error"].is_string(), "{failed:?}");
    let listen = format!("127.0.0.1:{port}");
    let again = Listener::start(&[
        "--listen",
        &listen,
        "--allow-source",
        "127.0.0.1",
        "--username",
        "fleet-7",
        "--password-env",
        "CB_PW",
    ]);
    let line = again.next_message();
    assert_eq!(line["requestId"], "loop-2");
    assert!(line["callbackCount"].as_u64().unwrap() >= 2, "{line}");
    let attempts = sim.wait_for(id, |a| a.iter().any(|a| a["last"] == true));
    assert_eq!(attempts.last().unwrap()["status"], 200, "{attempts:?}");
    assert!(attempts.len() >= 2 && attempts.len() <= 4, "{attempts:?}");
    again.assert_no_more_lines();
}

#[test]
fn tls_with_a_certificate_and_key_from_pem_files() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let (cert, key) = (data.join("listener-cert.pem"), data.join("listener-key.pem"));
    let l = checked_listener(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    assert!(l.stderr().starts_with("listening on https://"), "{}", l.stderr());

    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls_pki_types::CertificateDer::from_pem_file(data.join("test-ca.pem")).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tcp = TcpStream::connect(l.addr).unwrap();
    tcp.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut stream = rustls::Stream::new(&mut tls, &mut tcp);
    let body = message("r-tls", 1, PASSWORD);
    write!(
        stream,
        "POST /cb HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = Vec::new();
    // The server may close without a TLS close_notify after Connection: close; what came is enough.
    let _ = stream.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
    assert_eq!(l.next_message()["requestId"], "r-tls");

    // Plain HTTP to the TLS port gets no answer and writes nothing.
    let mut plain = TcpStream::connect(l.addr).unwrap();
    plain.set_read_timeout(Some(PATIENCE)).unwrap();
    let _ = write!(plain, "POST /cb HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    let mut got = String::new();
    let _ = plain.read_to_string(&mut got);
    assert!(!got.starts_with("HTTP/1.1 200"));
    l.assert_no_more_lines();
}

#[test]
fn a_tls_key_that_cannot_be_read_is_named_without_its_content() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let out = Command::new(BIN)
        .args(["listen", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(data.join("listener-cert.pem"))
        .arg("--tls-key")
        .arg(data.join("test-ca.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("test-ca.pem") && !stderr.contains("BEGIN"), "{stderr}");
    // A device is refused before it is read: it aborted on out-of-memory, reading for ever.
    for (cert, key, named) in [
        (data.join("listener-cert.pem"), "/dev/zero", "the private key in /dev/zero"),
        ("/dev/zero".into(), "/dev/zero", "the certificates in /dev/zero"),
    ] {
        let out = Command::new(BIN)
            .args(["listen", "--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(cert)
            .args(["--tls-key", key])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = format!("could not read {named}: it is not a regular file (a character device)");
        assert!(stderr.contains(&expected), "{stderr}");
    }
    // A key whose base64 does not decode: the parser's error named the character at fault
    // ("InvalidCharacter(37)"), a piece of the key.
    let bad = std::env::temp_dir().join(format!("tscb-bad-key-{}.pem", std::process::id()));
    std::fs::write(
        &bad,
        "-----BEGIN PRIVATE KEY-----\nMIIEv%QIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["listen", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(data.join("listener-cert.pem"))
        .arg("--tls-key")
        .arg(&bad)
        .output()
        .unwrap();
    std::fs::remove_file(&bad).unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("could not read the private key in {}", bad.display())), "{stderr}");
    assert!(!stderr.contains("InvalidCharacter") && !stderr.contains('%'), "{stderr}");
}
