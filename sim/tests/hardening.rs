//! The simulator is safe to leave running: who may use the admin API, what it shows of
//! credentials, and the bounds that keep a long-running simulator from being worn down.

mod common;

use std::io::{ErrorKind, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{call, m2m, Conn, Resp, BEARER, CALLBACKS};
use serde_json::json;
use tscb_sim::{Fault, FaultAction, SimConfig, Simulator, SIM_BEARER_TOKEN};

/// One raw request on a fresh connection to `addr`, sent exactly as written.
fn raw(addr: SocketAddr, request: &str) -> Resp {
    let mut conn = Conn::open(addr);
    conn.write_raw(request.as_bytes());
    conn.read_response().unwrap_or_else(|e| panic!("{request:?}: {e}"))
}

fn admin_post(addr: SocketAddr, path: &str, headers: &str, body: &str) -> Resp {
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    raw(addr, &request)
}

#[test]
fn an_admin_post_without_a_json_content_type_is_refused() {
    let sim = Simulator::start().unwrap();
    let addr = sim.addr();
    let fault = r#"{"action":"respond","status":500}"#;
    // What a web page can send without a CORS preflight: a form or text/plain, or nothing.
    for content_type in
        ["Content-Type: text/plain\r\n", "Content-Type: application/x-www-form-urlencoded\r\n", ""]
    {
        let resp = admin_post(addr, "/__admin/faults", content_type, fault);
        assert_eq!(resp.status, 403, "{content_type:?}");
        assert!(resp.text().contains("Content-Type: application/json"), "{}", resp.text());
    }
    assert_eq!(admin_post(addr, "/__admin/expire-sessions", "", "").status, 403);
    assert_eq!(
        m2m(&sim, "GET", &format!("{CALLBACKS}/TestAccount-1"), "").status,
        200,
        "nothing was changed"
    );

    let json_type = "Content-Type: application/json; charset=utf-8\r\n";
    assert_eq!(admin_post(addr, "/__admin/faults", json_type, fault).status, 204);
    assert_eq!(m2m(&sim, "GET", &format!("{CALLBACKS}/TestAccount-1"), "").status, 500);
}

#[test]
fn an_admin_request_needs_a_host_naming_the_listening_address() {
    let sim = Simulator::start().unwrap();
    let addr = sim.addr();
    let port = addr.port();
    let get = |host_lines: &str| raw(addr, &format!("GET /__admin/requests HTTP/1.1\r\n{host_lines}\r\n"));
    // DNS rebinding: the page's own name arrives as Host.
    for refused in [
        format!("Host: attacker.example:{port}\r\n"),
        format!("Host: 127.0.0.1:{}\r\n", port.wrapping_add(1)),
        String::new(),
        format!("Host: 127.0.0.1:{port}\r\nHost: attacker.example\r\n"),
    ] {
        let resp = get(&refused);
        assert_eq!(resp.status, 403, "{refused:?}");
        assert!(resp.text().contains("Host"), "{}", resp.text());
    }
    for allowed in [
        format!("Host: 127.0.0.1:{port}\r\n"),
        format!("Host: localhost:{port}\r\n"),
        "Host: 127.0.0.1\r\n".into(),
    ] {
        assert_eq!(get(&allowed).status, 200, "{allowed:?}");
    }
    // The API itself does not care about Host, as ThingSpace's gateway does not.
    let api = raw(addr, "GET /api/nope HTTP/1.1\r\nHost: gw.example\r\n\r\n");
    assert_eq!(api.status, 404);
}

#[test]
fn an_address_beyond_loopback_needs_allow_remote() {
    let err = Simulator::start_with(SimConfig::default(), "0.0.0.0:0").err().expect("refused");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("not a loopback address"), "{err}");
    assert!(err.to_string().contains("allow_remote"), "{err}");

    let sim = Simulator::start().unwrap();
    assert_eq!(sim.admin_token(), None, "loopback needs no admin token");
    let mut banner = Vec::new();
    sim.write_banner(&mut banner).unwrap();
    assert!(!String::from_utf8(banner).unwrap().contains("admin token"));
}

#[test]
fn listening_beyond_loopback_the_admin_api_needs_the_token() {
    let config = SimConfig { allow_remote: true, ..SimConfig::default() };
    let sim = Simulator::start_with(config, "0.0.0.0:0").unwrap();
    let token = sim.admin_token().expect("an admin token").to_owned();
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));

    let mut banner = Vec::new();
    sim.write_banner(&mut banner).unwrap();
    let banner = String::from_utf8(banner).unwrap();
    let port = sim.addr().port();
    assert!(banner.starts_with(&format!("listening on http://0.0.0.0:{port}/api\n")), "{banner}");
    assert!(banner.contains(&format!("\nadmin token: {token}\n")), "{banner}");

    // Tests only ever connect to loopback.
    let local: SocketAddr = ([127, 0, 0, 1], port).into();
    let get = |authorization: &str| {
        raw(local, &format!("GET /__admin/requests HTTP/1.1\r\nHost: {local}\r\n{authorization}\r\n"))
    };
    let missing = get("");
    assert_eq!(missing.status, 401);
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    assert_eq!(get(&format!("Authorization: {}\r\n", *BEARER)).status, 401);
    assert_eq!(get(&format!("Authorization: Bearer {}0\r\n", &token[1..])).status, 401);
    assert_eq!(get(&format!("Authorization: Bearer {token}\r\n")).status, 200);
    let fault = r#"{"action":"drop"}"#;
    let post = |auth: &str| {
        admin_post(local, "/__admin/faults", &format!("{auth}Content-Type: application/json\r\n"), fault)
    };
    assert_eq!(post("").status, 401);
    assert_eq!(post(&format!("Authorization: Bearer {token}\r\n")).status, 204);
    // The API needs only its own credentials.
    sim.clear_faults();
    let mut conn = Conn::open(local);
    let headers = [("Authorization", BEARER.as_str()), ("VZ-M2M-Token", common::SESSION)];
    assert_eq!(conn.send("GET", &format!("{CALLBACKS}/TestAccount-1"), &headers, b"").unwrap().status, 200);
}

#[test]
fn recorded_requests_are_served_with_credentials_masked() {
    let sim = Simulator::start().unwrap();
    let secrets = ["REAL-CLIENT-SECRET", "REAL-PASSWORD", "REAL-TOKEN", "REAL-SESSION", "PROXY-SECRET"];
    call(
        &sim,
        "POST",
        "/api/ts/v1/oauth2/token?client_secret=REAL-CLIENT-SECRET",
        &[
            ("Authorization", "Basic UkVBTC1DTElFTlQtU0VDUkVU"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        b"grant_type=client_credentials&client_secret=REAL-CLIENT-SECRET",
    );
    call(
        &sim,
        "POST",
        "/api/m2m/v1/session/login",
        &[("Authorization", "Bearer REAL-TOKEN")],
        br#"{"username":"me","password":"REAL-PASSWORD"}"#,
    );
    call(
        &sim,
        "GET",
        &format!("{CALLBACKS}/TestAccount-1"),
        &[
            ("Authorization", "Bearer REAL-TOKEN"),
            ("VZ-M2M-Token", "REAL-SESSION"),
            ("Proxy-Authorization", "Basic PROXY-SECRET"),
        ],
        b"",
    );
    // The simulator's own, published credentials stay visible, so that tests can check them.
    m2m(&sim, "GET", &format!("{CALLBACKS}/TestAccount-1"), "");

    let listed = call(&sim, "GET", "/__admin/requests", &[], b"");
    let text = listed.text();
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} served in {text}");
    }
    let listed = listed.json();
    let header = |i: usize, name: &str| {
        listed[i]["headers"].as_array().unwrap().iter().find(|h| h[0] == name).map(|h| h[1].clone()).unwrap()
    };
    assert_eq!(header(0, "authorization"), "Basic <redacted>");
    assert_eq!(listed[0]["body"], "grant_type=client_credentials&client_secret=<redacted>");
    assert_eq!(listed[1]["body"], r#"{"password":"<redacted>","username":"me"}"#);
    assert_eq!(header(2, "vz-m2m-token"), "<redacted>");
    assert_eq!(header(2, "proxy-authorization"), "Basic <redacted>");
    assert_eq!(header(3, "authorization"), BEARER.as_str());
    assert_eq!(header(3, "vz-m2m-token"), common::SESSION);

    // In the same process, a test sees exactly what was sent; Debug masks it all the same.
    let recorded = sim.requests();
    assert_eq!(recorded[2].header("vz-m2m-token"), Some("REAL-SESSION"));
    assert_eq!(recorded[1].body, br#"{"username":"me","password":"REAL-PASSWORD"}"#);
    let debug = format!("{recorded:?}");
    for secret in secrets.iter().chain(&[SIM_BEARER_TOKEN]) {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}

#[test]
fn a_silent_connection_is_closed_and_a_slow_request_gets_408() {
    let config = SimConfig {
        idle_timeout: Duration::from_millis(200),
        request_timeout: Duration::from_millis(300),
        ..SimConfig::default()
    };
    let sim = Simulator::start_with(config, "127.0.0.1:0").unwrap();
    // Nothing sent at all: closed without an answer (the client's own timeout is 10 s).
    let mut silent = Conn::open(sim.addr());
    assert!(silent.is_closed());
    // Idle after a request: the same.
    let mut idle = Conn::open(sim.addr());
    assert_eq!(idle.send("GET", "/api/nope", &[], b"").unwrap().status, 404);
    assert!(idle.is_closed());
    // A byte now and then does not keep a request alive past the request timeout.
    let mut slow = Conn::open(sim.addr());
    let mut trickle = slow.stream.try_clone().unwrap();
    let trickled_out = Arc::new(AtomicBool::new(false));
    let writer = {
        let trickled_out = Arc::clone(&trickled_out);
        thread::spawn(move || {
            // About 5 s of trickle, far longer than the 0.3 s the request may take.
            let head = b"GET /api/nope HTTP/1.1\r\nX-Slow: ".iter().chain(&[b'x'; 70]);
            for byte in head {
                if trickle.write_all(&[*byte]).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(50));
            }
            trickled_out.store(true, Ordering::SeqCst);
        })
    };
    let resp = slow.read_response().unwrap();
    assert!(!trickled_out.load(Ordering::SeqCst), "the answer waited for the client to stop sending");
    assert_eq!(resp.status, 408);
    assert_eq!(resp.header("connection"), Some("close"));
    assert_eq!(sim.requests().len(), 1, "the slow request is not recorded");
    writer.join().unwrap();
}

#[test]
fn connections_beyond_the_cap_get_503() {
    let sim = Simulator::start_with(SimConfig { max_connections: 2, ..SimConfig::default() }, "127.0.0.1:0")
        .unwrap();
    let mut first = Conn::open(sim.addr());
    let mut second = Conn::open(sim.addr());
    // Answered, so both are surely accepted and counted.
    assert_eq!(first.send("GET", "/api/nope", &[], b"").unwrap().status, 404);
    assert_eq!(second.send("GET", "/api/nope", &[], b"").unwrap().status, 404);
    // The answer comes without waiting for a request (one that was sent would be read first).
    let refused = Conn::open(sim.addr()).read_response().unwrap();
    assert_eq!(refused.status, 503);
    assert!(refused.text().contains("max_connections"), "{}", refused.text());

    drop(first);
    // The freed slot is taken back once the server has noticed the close.
    let deadline = Instant::now() + Duration::from_secs(5);
    while Conn::open(sim.addr()).send("GET", "/api/nope", &[], b"").map(|r| r.status).ok() != Some(404) {
        assert!(Instant::now() < deadline, "the slot was never freed");
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(second.send("GET", "/api/nope", &[], b"").unwrap().status, 404);
}

#[test]
fn fault_headers_cannot_carry_line_breaks() {
    let sim = Simulator::start().unwrap();
    let addr = sim.addr();
    let json_type = "Content-Type: application/json\r\n";
    for fault in [
        json!({"action": "respond", "status": 200, "headers": {"Retry-After": "1\r\nSet-Cookie: a=b"}}),
        json!({"action": "respond", "status": 200, "headers": {"Bad Name": "1"}}),
        json!({"action": "respond", "status": 200, "content_type": "text/html\r\n\r\n<script>"}),
        json!({"action": "redirect", "location": "http://x/\nSet-Cookie: a=b"}),
    ] {
        let resp = admin_post(addr, "/__admin/faults", json_type, &fault.to_string());
        assert_eq!(resp.status, 400, "{fault}");
    }
    // From Rust the fault is taken, and the line breaks go out as spaces.
    sim.inject(
        Fault::new(FaultAction::Respond {
            status: 503,
            content_type: Some("text/plain\r\nX-Injected: 1".into()),
            body: Vec::new(),
            headers: vec![("Retry-After".into(), "1\r\nX-Injected: 2".into())],
        })
        .times(1),
    );
    sim.inject(
        Fault::new(FaultAction::Redirect { status: 302, location: "/x\r\nX-Injected: 3".into() }).times(1),
    );
    let resp = call(&sim, "GET", "/api/a", &[], b"");
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("x-injected"), None);
    assert_eq!(resp.header("retry-after"), Some("1  X-Injected: 2"));
    let resp = call(&sim, "GET", "/api/a", &[], b"");
    assert_eq!((resp.status, resp.header("x-injected")), (302, None));
    assert_eq!(resp.header("location"), Some("/x  X-Injected: 3"));
}

#[test]
fn the_log_sessions_and_registrations_are_bounded() {
    let config =
        SimConfig { max_recorded_requests: 3, max_sessions: 2, max_registrations: 1, ..SimConfig::default() };
    let sim = Simulator::start_with(config, "127.0.0.1:0").unwrap();
    for i in 0..5 {
        call(&sim, "GET", &format!("/api/{i}"), &[], b"");
    }
    let paths: Vec<String> = sim.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/api/2", "/api/3", "/api/4"]);

    // The configured session is one of the two.
    let login = || m2m(&sim, "POST", "/api/m2m/v1/session/login", &common::own_login());
    assert_eq!(login().status, 200);
    let refused = login();
    assert_eq!((refused.status, refused.code()), (400, "Simulator.LIMIT.Sessions".to_owned()));

    let register = |service: &str| {
        m2m(
            &sim,
            "POST",
            &format!("{CALLBACKS}/TestAccount-1"),
            &format!(r#"{{"name":"{service}","url":"http://x/"}}"#),
        )
    };
    assert_eq!(register("CarrierService").status, 200);
    assert_eq!(register("CarrierService").status, 200, "replacing is not adding");
    let refused = register("DeviceUsage");
    assert_eq!((refused.status, refused.code()), (400, "Simulator.LIMIT.Registrations".to_owned()));
    assert!(refused.json()["errorMessage"].as_str().unwrap().contains("max_registrations"));
}
