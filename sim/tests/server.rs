//! The HTTP server itself: lifecycle, keep-alive, framing errors, throughput.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{call, Conn, CALLBACKS};
use tscb_sim::{Fault, FaultAction, SimConfig, Simulator};

#[test]
fn base_url_addr_and_config() {
    let sim = Simulator::start().unwrap();
    let port = sim.addr().port();
    assert_ne!(port, 0);
    assert_eq!(sim.base_url(), format!("http://127.0.0.1:{port}/api"));
    assert_eq!(sim.config().bearer_token, tscb_sim::SIM_BEARER_TOKEN);
    assert_eq!(sim.config().accounts, ["TestAccount-1", "TestAccount-2", "0000123456-00001"]);
}

#[test]
fn drop_with_an_idle_keep_alive_connection_does_not_hang() {
    let sim = Simulator::start().unwrap();
    let mut conn = Conn::open(sim.addr());
    let resp = conn.send("GET", "/__admin/requests", &[], b"").expect("admin request");
    assert_eq!(resp.status, 200);

    let started = Instant::now();
    drop(sim);
    assert!(started.elapsed() < Duration::from_secs(2), "drop hung");
    assert!(conn.is_closed(), "connection should be closed by shutdown");
}

#[test]
fn drop_while_a_request_sleeps_in_a_delay_does_not_hang() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(FaultAction::Delay { ms: 60_000 }));
    let addr = sim.addr();
    let client = thread::spawn(move || {
        let mut conn = Conn::open(addr);
        conn.send("GET", &format!("{CALLBACKS}/TestAccount-1"), &[], b"")
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while sim.requests().is_empty() {
        assert!(Instant::now() < deadline, "request never arrived");
        thread::sleep(Duration::from_millis(5));
    }

    let started = Instant::now();
    sim.shutdown();
    assert!(started.elapsed() < Duration::from_secs(2), "shutdown hung");
    let answer = client.join().unwrap();
    assert!(answer.is_err(), "no answer expected, got {answer:?}");
}

#[test]
fn port_is_released_after_shutdown() {
    let sim = Simulator::start().unwrap();
    let addr = sim.addr();
    sim.shutdown();
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

#[test]
fn keep_alive_and_pipelining() {
    let sim = Simulator::start().unwrap();
    let mut conn = Conn::open(sim.addr());
    for _ in 0..3 {
        let resp = conn.send("GET", "/__admin/requests", &[], b"").unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("connection"), None);
    }
    // Two requests in one write: both must be answered, in order.
    conn.write_raw(
        b"GET /api/nope HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /api/m2m/v1/session/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
    );
    let first = conn.read_response().unwrap();
    let second = conn.read_response().unwrap();
    assert_eq!((first.status, first.code()), (404, "900906".to_owned()));
    assert_eq!((second.status, second.code()), (401, "900902".to_owned()));
    let paths: Vec<_> = sim.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/api/nope", "/api/m2m/v1/session/login"]);

    // Requests on one connection share its id; a new connection gets the next one.
    Conn::open(sim.addr()).send("GET", "/api/other", &[], b"").unwrap();
    let ids: Vec<u64> = sim.requests().iter().map(|r| r.connection_id).collect();
    assert_eq!(ids, [0, 0, 1]);
}

#[test]
fn connection_close_is_honoured() {
    let sim = Simulator::start().unwrap();
    let mut conn = Conn::open(sim.addr());
    let resp = conn.send("GET", "/api/nope", &[("Connection", "close")], b"").unwrap();
    assert_eq!(resp.status, 404);
    assert_eq!(resp.header("connection"), Some("close"));
    assert!(conn.is_closed());

    // HTTP/1.0 without keep-alive closes too.
    let mut conn = Conn::open(sim.addr());
    conn.write_raw(b"GET /api/nope HTTP/1.0\r\n\r\n");
    assert_eq!(conn.read_response().unwrap().status, 404);
    assert!(conn.is_closed());
}

#[test]
fn malformed_request_gets_400_and_close() {
    let sim = Simulator::start().unwrap();
    let mut conn = Conn::open(sim.addr());
    conn.write_raw(b"THIS IS NOT HTTP\r\n\r\n");
    let resp = conn.read_response().unwrap();
    assert_eq!(resp.status, 400);
    assert!(conn.is_closed());

    let mut conn = Conn::open(sim.addr());
    conn.write_raw(b"POST /api/x HTTP/1.1\r\nContent-Length: ten\r\n\r\n");
    assert_eq!(conn.read_response().unwrap().status, 400);
    assert!(sim.requests().is_empty(), "malformed requests are not recorded");
}

#[test]
fn chunked_request_gets_501() {
    let sim = Simulator::start().unwrap();
    let mut conn = Conn::open(sim.addr());
    conn.write_raw(
        b"POST /api/ts/v1/oauth2/token HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
          4\r\nabcd\r\n0\r\n\r\n",
    );
    let resp = conn.read_response().unwrap();
    assert_eq!(resp.status, 501);
    assert_eq!(resp.header("connection"), Some("close"));
}

#[test]
fn body_over_one_mib_gets_413() {
    let sim = Simulator::start().unwrap();
    let mut conn = Conn::open(sim.addr());
    conn.write_raw(b"POST /api/m2m/v1/callbacks/TestAccount-1 HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n");
    conn.write_raw(&[b'x'; 4096]);
    let resp = conn.read_response().unwrap();
    assert_eq!(resp.status, 413);

    // Exactly 1 MiB is still read and answered.
    let body = vec![b' '; 1 << 20];
    let resp = call(&sim, "POST", &format!("{CALLBACKS}/TestAccount-1"), &[], &body);
    assert_eq!(resp.status, 401);
}

#[test]
fn expect_continue_is_answered() {
    let sim = Simulator::start().unwrap();
    let mut conn = Conn::open(sim.addr());
    conn.write_raw(
        b"POST /api/ts/v1/oauth2/token HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 29\r\n\r\n",
    );
    let mut interim = [0u8; 25];
    conn.stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    conn.write_raw(b"grant_type=client_credentials");
    assert_eq!(conn.read_response().unwrap().status, 401);
}

#[test]
fn outside_api_is_404() {
    let sim = Simulator::start().unwrap();
    let resp = call(&sim, "GET", "/", &[], b"");
    assert_eq!(resp.status, 404);
    assert_eq!(resp.code(), "900906");
    assert_eq!(sim.requests().len(), 1);
}

#[test]
fn eight_threads_of_a_thousand_keep_alive_requests() {
    let sim = Simulator::start_with(SimConfig::default(), "127.0.0.1:0").unwrap();
    let started = Instant::now();
    thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let mut conn = Conn::open(sim.addr());
                let target = format!("{CALLBACKS}/TestAccount-2");
                let headers = [("Authorization", common::BEARER.as_str()), ("VZ-M2M-Token", common::SESSION)];
                for _ in 0..1000 {
                    let resp = conn.send("GET", &target, &headers, b"").unwrap();
                    assert_eq!(resp.status, 200);
                    assert_eq!(resp.body, b"[]");
                }
            });
        }
    });
    let elapsed = started.elapsed();
    assert_eq!(sim.requests().len(), 8000);
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}
