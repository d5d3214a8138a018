//! `tscb listen --nats`: two listener instances publishing into one JetStream stream, with a real
//! `nats-server` (`common::nats`) started and stopped by the tests; TLS and credentials are in
//! `listen_nats_auth.rs`.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::listener::{message, post, scratch, Listener, PASSWORD, PATIENCE};
use common::nats::{create_stream, stored, NatsServer, SUBJECT};

fn nats_listener(server: &NatsServer, more: &[&str]) -> Listener {
    let url = server.url();
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--any-source",
        "--password-env",
        "CB_PW",
        "--nats",
        &url,
        "--nats-subject",
        SUBJECT,
    ];
    args.extend_from_slice(more);
    Listener::start(&args)
}

/// A POST that may meet a listener that is gone or killed mid-request: the status, if any.
fn try_post(addr: SocketAddr, body: &str) -> Option<u16> {
    let mut conn = TcpStream::connect(addr).ok()?;
    conn.set_read_timeout(Some(PATIENCE)).unwrap();
    let head =
        format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    conn.write_all(head.as_bytes()).ok()?;
    conn.write_all(body.as_bytes()).ok()?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer).ok()?;
    answer.get(9..12)?.parse().ok()
}

#[test]
fn two_instances_store_every_acknowledged_message_exactly_once_across_a_kill() {
    let dir = scratch("nats-two");
    let Some(server) = NatsServer::start(&dir, None) else { return };
    create_stream(&server, Duration::from_secs(30 * 60));
    let a = nats_listener(&server, &[]);
    let mut b = nats_listener(&server, &[]);
    let mut acked = HashSet::new();
    let mut refused = 0;
    for i in 0..1000 {
        let id = format!("m-{i}");
        // The first attempt to one instance, the resend to the other.
        let (first, second) = if i % 2 == 0 { (a.addr, b.addr) } else { (b.addr, a.addr) };
        for (attempt, addr) in [(1, first), (2, second)] {
            match try_post(addr, &message(&id, attempt, PASSWORD)) {
                Some(200) => {
                    acked.insert(id.clone());
                }
                _ => refused += 1,
            }
        }
        if i == 500 {
            // Killed with requests in flight: those that got no 200 are resent to the other.
            // Five surely are (half their body sent), the burst may be.
            let addr = b.addr;
            let mut halves = Vec::new();
            for j in 20..25 {
                let body = message(&format!("k-{j}"), 1, PASSWORD);
                let mut conn = TcpStream::connect(addr).unwrap();
                let head = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", body.len());
                conn.write_all(head.as_bytes()).unwrap();
                conn.write_all(&body.as_bytes()[..10]).unwrap();
                halves.push(conn);
            }
            let burst: Vec<_> = (0..20)
                .map(|j| {
                    std::thread::spawn(move || (j, try_post(addr, &message(&format!("k-{j}"), 1, PASSWORD))))
                })
                .collect();
            b.child.kill().unwrap();
            b.child.wait().unwrap();
            let cut = (20..25).map(|j| (j, None));
            for (j, status) in burst.into_iter().map(|sender| sender.join().unwrap()).chain(cut) {
                if status == Some(200) {
                    acked.insert(format!("k-{j}"));
                } else {
                    refused += 1;
                }
                if try_post(a.addr, &message(&format!("k-{j}"), 2, PASSWORD)) == Some(200) {
                    acked.insert(format!("k-{j}"));
                }
            }
            drop(halves);
            b = nats_listener(&server, &[]);
        }
    }
    assert_eq!(acked.len(), 1025, "every message was acknowledged by one instance or the other");
    let stored = stored(&server);
    let mut times: HashMap<&str, usize> = HashMap::new();
    for (id, key) in &stored {
        *times.entry(id.as_str()).or_default() += 1;
        assert!(key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()), "Nats-Msg-Id {key:?}");
    }
    let twice: Vec<_> = times.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let missing: Vec<_> = acked.iter().filter(|id| !times.contains_key(id.as_str())).collect();
    assert!(missing.is_empty(), "acknowledged but not stored: {missing:?}");
    eprintln!("{} stored, {} acknowledged, {refused} attempts without a 200", stored.len(), acked.len());
}

#[test]
fn a_stream_whose_duplicate_window_is_too_short_stops_the_start() {
    let dir = scratch("nats-window");
    let Some(server) = NatsServer::start(&dir, None) else { return };
    create_stream(&server, Duration::from_secs(120));
    let out = common::command(
        &[],
        &["listen", "--listen", "127.0.0.1:0", "--nats", &server.url(), "--nats-subject", SUBJECT],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the stream TSCB drops a duplicate only within 120 s"), "{stderr}");
    assert!(stderr.contains("`nats stream edit TSCB --dupe-window 30m`"), "{stderr}");
    // And with no stream for the subject at all.
    let out = common::command(
        &[],
        &["listen", "--listen", "127.0.0.1:0", "--nats", &server.url(), "--nats-subject", "elsewhere"],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no JetStream stream captures \"elsewhere\""), "{stderr}");
    assert!(stderr.contains("nats stream add"), "{stderr}");
}

#[test]
fn without_nats_server_messages_get_500_and_it_is_unready_until_it_is_back() {
    let dir = scratch("nats-down");
    let Some(server) = NatsServer::start(&dir, None) else { return };
    create_stream(&server, Duration::from_secs(30 * 60));
    let listener = nats_listener(&server, &["--admin-listen", "127.0.0.1:0"]);
    assert_eq!(post(listener.addr, "/", &message("d-1", 1, PASSWORD)).0, 200);
    assert_eq!(listener.admin_get("/readyz").0, 200);
    let (port, store) = (server.port, server.dir.clone());
    drop(server);
    let start = Instant::now();
    while listener.admin_get("/readyz").0 != 503 {
        assert!(start.elapsed() < PATIENCE, "still ready without nats-server");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(listener.admin_get("/readyz").1.trim(), "not ready: the sink is not connected");
    // Refused at once, and nothing left behind in the client's buffer to be published later:
    // a 500 while NATS is away must not be stored after the reconnect behind ThingSpace's back.
    assert_eq!(post(listener.addr, "/", &message("d-2", 1, PASSWORD)).0, 500);

    let server = NatsServer::start(&store, Some(port)).unwrap();
    let start = Instant::now();
    while listener.admin_get("/readyz").0 != 200 {
        assert!(start.elapsed() < PATIENCE * 2, "not ready again after nats-server came back");
        std::thread::sleep(Duration::from_millis(100));
    }
    // A buffered publish would be sent right after the reconnect; give it the time to land.
    std::thread::sleep(Duration::from_secs(1));
    let ids: Vec<String> = stored(&server).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["d-1"], "a message answered 500 was stored after the reconnect");
    assert_eq!(try_post(listener.addr, &message("d-2", 2, PASSWORD)), Some(200));
    let metrics = listener.admin_get("/metrics").1;
    assert!(metrics.contains("\ntscb_listen_duplicates_total 0\n"), "the resend was a duplicate: {metrics}");
    let ids: Vec<String> = stored(&server).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["d-1", "d-2"]);
}
