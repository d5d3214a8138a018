//! Fault injection, from Rust and through the admin endpoints.

mod common;

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use common::{call, m2m, Conn, CALLBACKS};
use serde_json::{json, Value};
use tscb_sim::{Fault, FaultAction, Simulator};

fn list_target() -> String {
    format!("{CALLBACKS}/TestAccount-1")
}

fn respond(status: u16, body: &str) -> FaultAction {
    FaultAction::Respond {
        status,
        content_type: Some("text/html".to_owned()),
        body: body.as_bytes().to_vec(),
        headers: Vec::new(),
    }
}

#[test]
fn respond_answers_exactly_and_keeps_the_connection() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(respond(502, "<html>bad gateway</html>")).times(1));
    sim.inject(
        Fault::new(FaultAction::Respond {
            status: 503,
            content_type: None,
            body: Vec::new(),
            headers: vec![("Retry-After".to_owned(), "7".to_owned())],
        })
        .path_contains("/session/"),
    );
    let mut conn = Conn::open(sim.addr());
    let resp = conn.send("GET", &list_target(), &[], b"").unwrap();
    assert_eq!(resp.status, 502);
    assert_eq!(resp.header("content-type"), Some("text/html"));
    assert_eq!(resp.header("content-length"), Some("24"));
    assert_eq!(resp.text(), "<html>bad gateway</html>");

    let resp = conn.send("POST", "/api/m2m/v1/session/login", &[], b"{}").unwrap();
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("content-type"), None);
    assert_eq!(resp.header("content-length"), Some("0"));
    assert_eq!(resp.header("retry-after"), Some("7"));
    assert!(resp.body.is_empty());
}

#[test]
fn delay_then_normal_answer() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(FaultAction::Delay { ms: 200 }).times(1));
    let started = Instant::now();
    let resp = m2m(&sim, "GET", &list_target(), "");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!((resp.status, resp.body.as_slice()), (200, &b"[]"[..]));
}

#[test]
fn drop_closes_without_an_answer() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(FaultAction::Drop).times(1));
    let mut conn = Conn::open(sim.addr());
    let err = conn.send("GET", &list_target(), &[], b"").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");
    assert!(conn.buffered().is_empty());
    assert_eq!(sim.requests().len(), 1, "faulted requests are recorded");
}

#[test]
fn reset_resets_the_connection() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(FaultAction::Reset).times(1));
    let mut conn = Conn::open(sim.addr());
    let err = conn.send("GET", &list_target(), &[], b"").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}

#[test]
fn truncate_declares_more_than_it_sends() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(FaultAction::Truncate { declared: 100, sent: b"{\"acc".to_vec() }).times(1));
    let mut conn = Conn::open(sim.addr());
    conn.write_raw(b"GET /api/x HTTP/1.1\r\n\r\n");
    let (status, headers) = conn.read_head().unwrap();
    assert_eq!(status, 200);
    assert!(headers.contains(&("Content-Length".to_owned(), "100".to_owned())));
    let mut rest = conn.buffered().to_vec();
    conn.stream.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"{\"acc");
}

#[test]
fn reset_mid_answer_sends_part_then_resets() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(FaultAction::ResetMidAnswer { declared: 100, sent: b"{\"acc".to_vec() }).times(1));
    let mut conn = Conn::open(sim.addr());
    conn.write_raw(b"GET /api/x HTTP/1.1\r\n\r\n");
    let (status, headers) = conn.read_head().unwrap();
    assert_eq!(status, 200);
    assert!(headers.contains(&("Content-Length".to_owned(), "100".to_owned())));
    let mut rest = conn.buffered().to_vec();
    let err = conn.stream.read_to_end(&mut rest).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
}

#[test]
fn stall_sends_part_then_nothing_for_a_while() {
    let sim = Simulator::start().unwrap();
    sim.inject(
        Fault::new(FaultAction::Stall { after_ms: 0, declared: 50, sent: b"{".to_vec(), ms: 400 }).times(1),
    );
    let mut conn = Conn::open(sim.addr());
    let started = Instant::now();
    conn.write_raw(b"GET /api/x HTTP/1.1\r\n\r\n");
    let (status, _) = conn.read_head().unwrap();
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_millis(300));
    let mut rest = conn.buffered().to_vec();
    conn.stream.read_to_end(&mut rest).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(390));
    assert_eq!(rest, b"{");
}

#[test]
fn oversized_unframed_has_no_length_and_ends_with_the_connection() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(FaultAction::OversizedUnframed { bytes: 300_000 }).times(1));
    let mut conn = Conn::open(sim.addr());
    conn.write_raw(b"GET /api/x HTTP/1.1\r\n\r\n");
    let (status, headers) = conn.read_head().unwrap();
    assert_eq!(status, 200);
    assert!(!headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-length")));
    let mut rest = conn.buffered().to_vec();
    conn.stream.read_to_end(&mut rest).unwrap();
    assert_eq!(rest.len(), 300_000);
}

#[test]
fn redirect_sends_location() {
    let sim = Simulator::start().unwrap();
    sim.inject(
        Fault::new(FaultAction::Redirect { status: 302, location: "http://127.0.0.1:1/x".to_owned() })
            .times(1),
    );
    let mut conn = Conn::open(sim.addr());
    let resp = conn.send("GET", &list_target(), &[], b"").unwrap();
    assert_eq!(resp.status, 302);
    assert_eq!(resp.header("location"), Some("http://127.0.0.1:1/x"));
    assert_eq!(resp.header("content-length"), Some("0"));
    // The connection stays usable.
    let resp = conn.send("GET", "/api/x", &[], b"").unwrap();
    assert_eq!(resp.status, 404);
}

#[test]
fn oversized_streams_the_declared_length() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(FaultAction::Oversized { bytes: 300_000 }).times(1));
    let mut conn = Conn::open(sim.addr());
    let resp = conn.send("GET", &list_target(), &[], b"").unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.body.len(), 300_000);
    assert_eq!(resp.json()["padding"].as_str().unwrap().len(), 300_000 - 14);
    // Fully sent, so the connection goes on.
    assert_eq!(conn.send("GET", "/api/x", &[], b"").unwrap().status, 404);
}

#[test]
fn oversized_stops_quietly_when_the_client_hangs_up() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(FaultAction::Oversized { bytes: 1 << 30 }).times(1));
    let mut conn = Conn::open(sim.addr());
    conn.write_raw(b"GET /api/x HTTP/1.1\r\n\r\n");
    let (status, headers) = conn.read_head().unwrap();
    assert_eq!(status, 200);
    assert!(headers.contains(&("Content-Length".to_owned(), (1u64 << 30).to_string())));
    conn.fill().unwrap();
    drop(conn);
    // The simulator carries on, and stops promptly although a thread was mid-body.
    assert_eq!(call(&sim, "GET", "/api/x", &[], b"").status, 404);
    let started = Instant::now();
    drop(sim);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn times_counting_filters_and_order() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(respond(500, "first")).method("POST").path_contains("/callbacks/").times(2));
    sim.inject(Fault::new(respond(429, "second")).path_contains("/callbacks/"));
    let target = list_target();

    // GET does not match the first fault, only the second.
    assert_eq!(m2m(&sim, "GET", &target, "").status, 429);
    assert_eq!(m2m(&sim, "POST", &target, "").status, 500);
    assert_eq!(m2m(&sim, "post", &target, "").text(), "first");
    // The first fault is used up; the second is forever.
    assert_eq!(m2m(&sim, "POST", &target, "").status, 429);
    assert_eq!(m2m(&sim, "POST", &target, "").status, 429);
    // Other paths are untouched.
    assert_eq!(m2m(&sim, "GET", "/api/x", "").status, 404);

    sim.clear_faults();
    assert_eq!(m2m(&sim, "GET", &target, "").status, 200);
    assert_eq!(sim.requests().len(), 7);
}

fn admin(sim: &Simulator, method: &str, path: &str, body: &Value) -> common::Resp {
    let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    call(sim, method, path, &[("Content-Type", "application/json")], &body)
}

#[test]
fn admin_faults() {
    let sim = Simulator::start().unwrap();
    let added = admin(
        &sim,
        "POST",
        "/__admin/faults",
        &json!({"method": "GET", "path_contains": "/callbacks/", "times": 1,
                "action": "respond", "status": 502, "content_type": "text/html",
                "body": "<html>proxy</html>"}),
    );
    assert_eq!(added.status, 204);
    assert_eq!(added.header("content-length"), None);
    let resp = m2m(&sim, "GET", &list_target(), "");
    assert_eq!((resp.status, resp.text().as_str()), (502, "<html>proxy</html>"));
    assert_eq!(m2m(&sim, "GET", &list_target(), "").status, 200);

    let faults = [
        json!({"action": "truncate", "declared": 100, "sent": "{\"acc", "times": null}),
        json!({"action": "redirect", "location": "http://127.0.0.1:1/x", "method": null}),
        json!({"action": "delay", "ms": 1, "path_contains": null}),
        json!({"action": "drop"}),
        json!({"action": "reset"}),
        json!({"action": "oversized", "bytes": 10_485_760}),
    ];
    for fault in faults {
        let resp = admin(&sim, "POST", "/__admin/faults", &fault);
        assert_eq!(resp.status, 204, "{fault}: {}", resp.text());
    }
    // The truncate fault came first and stays forever.
    let mut conn = Conn::open(sim.addr());
    conn.write_raw(b"GET /api/x HTTP/1.1\r\n\r\n");
    assert_eq!(conn.read_head().unwrap().0, 200);

    assert_eq!(admin(&sim, "DELETE", "/__admin/faults", &Value::Null).status, 204);
    assert_eq!(m2m(&sim, "GET", &list_target(), "").status, 200);

    for bad in
        ["{", r#"{"action":"explode"}"#, r#"{"action":"delay"}"#, r#"{"action":"drop","colour":"red"}"#]
    {
        let resp =
            call(&sim, "POST", "/__admin/faults", &[("Content-Type", "application/json")], bad.as_bytes());
        assert_eq!(resp.status, 400, "{bad}");
        assert!(resp.header("content-type").unwrap().starts_with("text/plain"));
        assert!(!resp.text().is_empty());
    }
}

#[test]
fn admin_requests_sessions_and_accounts() {
    let sim = Simulator::start().unwrap();
    call(&sim, "POST", "/api/m2m/v1/callbacks/a%2Fb", &[("X-Test", "1")], b"{\"x\":\"\xff\"}");
    let listed = admin(&sim, "GET", "/__admin/requests", &Value::Null);
    assert_eq!(listed.status, 200);
    assert_eq!(listed.header("content-type"), Some("application/json"));
    assert_eq!(
        listed.json(),
        json!([{
            "method": "POST",
            "path": "/api/m2m/v1/callbacks/a%2Fb",
            "headers": [["host", sim.addr().to_string()], ["x-test", "1"], ["content-length", "9"]],
            "body": "{\"x\":\"\u{fffd}\"}",
            "connection_id": 0,
        }])
    );
    assert_eq!(admin(&sim, "DELETE", "/__admin/requests", &Value::Null).status, 204);
    assert_eq!(admin(&sim, "GET", "/__admin/requests", &Value::Null).json(), json!([]));

    assert_eq!(admin(&sim, "POST", "/__admin/expire-sessions", &Value::Null).status, 204);
    assert_eq!(
        m2m(&sim, "GET", &list_target(), "").code(),
        "UnifiedWebService.REQUEST_FAILED.SessionToken.Expired"
    );

    let added = admin(&sim, "POST", "/__admin/accounts", &json!({"name": "a/b"}));
    assert_eq!(added.status, 204);
    let login = m2m(&sim, "POST", "/api/m2m/v1/session/login", &common::own_login());
    let session = login.json()["sessionToken"].as_str().unwrap().to_owned();
    let resp = call(
        &sim,
        "POST",
        "/api/m2m/v1/callbacks/a%2Fb",
        &[("Authorization", common::BEARER.as_str()), ("VZ-M2M-Token", &session)],
        br#"{"name":"S","url":"http://x/"}"#,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(sim.registrations("a/b").len(), 1);

    let bad = admin(&sim, "POST", "/__admin/accounts", &json!({"nom": "x"}));
    assert_eq!(bad.status, 400);
    let unknown = admin(&sim, "GET", "/__admin/nothing", &Value::Null);
    assert_eq!(unknown.status, 404);
    // Admin requests never show up in the log and are never faulted.
    sim.inject(Fault::new(FaultAction::Drop));
    assert_eq!(admin(&sim, "GET", "/__admin/requests", &Value::Null).status, 200);
    assert!(sim.requests().iter().all(|r| !r.path.starts_with("/__admin")));
}

#[test]
fn admin_registrations_are_forgotten_on_delete() {
    let sim = Simulator::start().unwrap();
    let body = r#"{"name":"CarrierService","url":"https://listener.example.com/cb"}"#;
    common::register(&sim, "TestAccount-1", body);
    let listed = m2m(&sim, "GET", &format!("{CALLBACKS}/TestAccount-1"), "");
    assert_eq!(listed.json().as_array().map(Vec::len), Some(1), "{}", listed.text());
    assert_eq!(admin(&sim, "DELETE", "/__admin/registrations", &Value::Null).status, 204);
    let listed = m2m(&sim, "GET", &format!("{CALLBACKS}/TestAccount-1"), "");
    assert_eq!(listed.status, 200);
    assert!(!listed.text().contains("CarrierService"), "{}", listed.text());
    // The count under max_registrations starts again too.
    common::register(&sim, "TestAccount-1", body);
}
