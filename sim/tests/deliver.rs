//! The simulator as ThingSpace's sender: `Simulator::deliver` and `POST /__admin/deliver`.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{call, register};
use serde_json::{json, Value};
use tscb_sim::{Delivery, DeliveryAttempt, Simulator};

const ACCOUNT: &str = "TestAccount-2";

/// A listener that answers each request with the next status of `statuses` and returns the
/// bodies it got.
fn listener(statuses: Vec<u16>) -> (u16, std::thread::JoinHandle<Vec<(String, Value)>>) {
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let mut got = Vec::new();
        for status in statuses {
            let (mut conn, _) = socket.accept().unwrap();
            let mut request = Vec::new();
            let mut chunk = [0u8; 4096];
            // Connection: close is sent, but the sender waits for the answer: read the head and
            // Content-Length bytes.
            loop {
                let n = conn.read(&mut chunk).unwrap();
                request.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.parse().ok())
                        .unwrap();
                    if body.len() >= length {
                        got.push((head.to_owned(), serde_json::from_str(body).unwrap()));
                        break;
                    }
                }
            }
            write!(conn, "HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n").unwrap();
        }
        got
    });
    (port, thread)
}

fn wait_for_last(sim: &Simulator, id: u64) -> Vec<DeliveryAttempt> {
    let start = Instant::now();
    loop {
        let attempts: Vec<_> = sim.deliveries().into_iter().filter(|a| a.delivery_id == id).collect();
        if attempts.iter().any(|a| a.last) {
            return attempts;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "the delivery did not end: {attempts:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn resends_with_a_higher_count_until_a_2xx_and_carries_the_registered_credentials() {
    let sim = Simulator::start().unwrap();
    let (port, received) = listener(vec![503, 200]);
    let url = format!("http://127.0.0.1:{port}/cb");
    register(
        &sim,
        ACCOUNT,
        &json!({"name": "CarrierService", "url": url, "username": "u", "password": "pw"}).to_string(),
    );
    let mut delivery = Delivery::new(ACCOUNT, "CarrierService");
    delivery.interval = Duration::from_millis(50);
    delivery.message = json!({"requestId": "r-7"}).as_object().cloned();
    let id = sim.deliver(delivery).unwrap();
    let attempts = wait_for_last(&sim, id);
    let statuses: Vec<_> = attempts.iter().map(|a| (a.attempt, a.status, a.last)).collect();
    assert_eq!(statuses, [(1, Some(503), false), (2, Some(200), true)]);
    let got = received.join().unwrap();
    assert!(got[0].0.starts_with("POST /cb HTTP/1.1\r\n"), "{}", got[0].0);
    let (first, second) = (&got[0].1, &got[1].1);
    assert_eq!((first["callbackCount"].clone(), second["callbackCount"].clone()), (json!(1), json!(2)));
    assert_eq!((first["username"].clone(), first["password"].clone()), (json!("u"), json!("pw")));
    assert_eq!(first["requestId"], "r-7");
    assert!(first["deviceResponse"].is_object());
    let mut same = second.clone();
    same["callbackCount"] = json!(1);
    assert_eq!(&same, first, "a resend differs only in callbackCount");
}

#[test]
fn a_listener_that_is_down_uses_up_the_attempts_with_the_error_logged() {
    let sim = Simulator::start().unwrap();
    let free = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    register(
        &sim,
        ACCOUNT,
        &json!({"name": "NiddService", "url": format!("http://127.0.0.1:{free}/")}).to_string(),
    );
    let body = json!({"account": ACCOUNT, "service": "NiddService", "attempts": 3, "interval_ms": 10});
    let answer = call(
        &sim,
        "POST",
        "/__admin/deliver",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(answer.status, 202, "{}", answer.text());
    let id = answer.json()["deliveryId"].as_u64().unwrap();
    let attempts = wait_for_last(&sim, id);
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a.status.is_none() && a.error.is_some()), "{attempts:?}");
    let listed = call(&sim, "GET", "/__admin/deliveries", &[], b"").json();
    assert_eq!(listed.as_array().unwrap().len(), 3);
    assert_eq!(listed[2]["last"], true);
}

#[test]
fn never_delivers_beyond_loopback_nor_without_a_registration() {
    let sim = Simulator::start().unwrap();
    for url in ["http://192.0.2.1:9001/cb", "https://127.0.0.1:9001/cb", "http://example.com:9001/cb"] {
        register(&sim, ACCOUNT, &json!({"name": "CarrierService", "url": url}).to_string());
        let body = json!({"account": ACCOUNT, "service": "CarrierService"}).to_string();
        let answer =
            call(&sim, "POST", "/__admin/deliver", &[("Content-Type", "application/json")], body.as_bytes());
        assert_eq!(answer.status, 400, "{url}: {}", answer.text());
    }
    let err = sim.deliver(Delivery::new(ACCOUNT, "DeviceUsage")).unwrap_err();
    assert!(err.contains("no callback registered"), "{err}");
    let mut too_many = Delivery::new(ACCOUNT, "CarrierService");
    too_many.attempts = 11;
    assert!(sim.deliver(too_many).is_err());
    assert!(sim.deliveries().is_empty(), "nothing was sent");
}
