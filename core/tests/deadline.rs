//! One deadline per call (`call_timeout`): sign-in, renewals, retries and their waits all end
//! within it, whatever the service does; waiting threads are bounded by their own deadline; no
//! lock is held across a wait; a failed early renewal goes on with the token that still works.
//!
//! The bounds asserted are the call timeout plus a generous slack (this machine is shared):
//! without the deadline each of these calls runs for several times as long.

mod common;

use std::time::{Duration, Instant};
use tscb_sim::{SIM_BEARER_TOKEN, SIM_SESSION_TOKEN};

use common::{count, ACCOUNT, LISTENER};
use tscb::{codes, CallbackRegistration, Client, ClientBuilder, ErrorKind};
use tscb_sim::{Fault, FaultAction, SimConfig, Simulator};

const CALL_TIMEOUT: Duration = Duration::from_secs(3);
const SLACK: Duration = Duration::from_millis(1500);

fn with_credentials(sim: &Simulator) -> ClientBuilder {
    common::with_credentials(sim).call_timeout(CALL_TIMEOUT)
}

fn delay(ms: u64) -> FaultAction {
    FaultAction::Delay { ms }
}

fn busy(retry_after: &str) -> FaultAction {
    FaultAction::Respond {
        status: 503,
        content_type: Some("application/json".into()),
        body: br#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.Busy","errorMessage":"busy"}"#.to_vec(),
        headers: vec![("Retry-After".into(), retry_after.into())],
    }
}

fn carrier() -> CallbackRegistration {
    CallbackRegistration::new("CarrierService", LISTENER).unwrap()
}

#[test]
fn a_slow_token_endpoint_and_a_slow_login_end_within_the_call_timeout() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(delay(2_000)).path_contains("/oauth2/token").times(1));
    sim.inject(Fault::new(delay(2_000)).path_contains("/session/login").times(1));
    let client = with_credentials(&sim).build().unwrap();
    let start = Instant::now();
    let err = client.register_callback(ACCOUNT, &carrier()).unwrap_err();
    let took = start.elapsed();
    assert_eq!(err.error_code(), codes::TIMEOUT, "{err}");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(took < CALL_TIMEOUT + SLACK, "took {took:?}");
    assert!(took >= CALL_TIMEOUT - Duration::from_millis(100), "ended early: {took:?}");
    assert_eq!((count(&sim, "/oauth2/token"), count(&sim, "/session/login")), (1, 1));
}

#[test]
fn slow_sign_in_and_a_busy_register_end_within_the_call_timeout() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(delay(1_000)).path_contains("/oauth2/token").times(1));
    sim.inject(Fault::new(delay(1_000)).path_contains("/session/login").times(1));
    sim.inject(Fault::new(busy("1")).path_contains("/callbacks/"));
    let client = with_credentials(&sim).max_retries(50).retry_register_when_busy(true).build().unwrap();
    let start = Instant::now();
    let err = client.register_callback(ACCOUNT, &carrier()).unwrap_err();
    let took = start.elapsed();
    assert!(took < CALL_TIMEOUT + SLACK, "took {took:?}");
    // The last answer is returned when its Retry-After no longer fits, or the deadline passed
    // in the middle of a request.
    assert!([codes::TIMEOUT, "UnifiedWebService.REQUEST_FAILED.Busy"].contains(&err.error_code()), "{err}");
    assert!(count(&sim, "/callbacks/TestAccount-2") >= 1);
}

#[test]
fn a_busy_token_endpoint_ends_within_the_call_timeout() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(busy("1")).path_contains("/oauth2/token"));
    let client = with_credentials(&sim).max_retries(50).build().unwrap();
    let start = Instant::now();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    let took = start.elapsed();
    assert!(took < CALL_TIMEOUT + SLACK, "took {took:?}");
    assert_eq!(err.http_status(), Some(503), "{err}");
    // Asked again about once a second, not fifty times.
    let asked = count(&sim, "/oauth2/token");
    assert!((2..=4).contains(&asked), "{asked} token requests");
    assert_eq!(count(&sim, "/session/login"), 0);
}

#[test]
fn a_retry_after_longer_than_what_is_left_returns_at_once() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(busy("5")).path_contains("/callbacks/").times(1));
    let client = common::builder(&sim).call_timeout(CALL_TIMEOUT).build().unwrap();
    let start = Instant::now();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1), "waited {:?}", start.elapsed());
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(5)), "the caller still learns the wait");
    assert_eq!(count(&sim, "/callbacks/TestAccount-2"), 1);
}

#[test]
fn a_slow_request_gets_only_what_is_left_of_the_call() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(delay(10_000)).path_contains("/callbacks/").times(1));
    // The request timeout (10 s) is longer than the call's: the call's wins.
    let client = common::builder(&sim).call_timeout(CALL_TIMEOUT).build().unwrap();
    let start = Instant::now();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert!(start.elapsed() < CALL_TIMEOUT + SLACK, "took {:?}", start.elapsed());
    assert_eq!(err.error_code(), codes::TIMEOUT);
    assert!(err.error_message().contains("call timeout"), "{err}");
}

#[test]
fn an_answer_that_stalls_midway_gets_only_what_is_left_of_the_call() {
    let sim = Simulator::start().unwrap();
    let stall = FaultAction::Stall { after_ms: 0, declared: 100, sent: b"[{".to_vec(), ms: 10_000 };
    sim.inject(Fault::new(stall).path_contains("/callbacks/").times(1));
    let client = common::builder(&sim).call_timeout(CALL_TIMEOUT).build().unwrap();
    let start = Instant::now();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert!(start.elapsed() < CALL_TIMEOUT + SLACK, "took {:?}", start.elapsed());
    assert_eq!(err.error_code(), codes::TIMEOUT, "{err}");
}

#[test]
fn many_threads_waiting_for_a_slow_sign_in_are_each_bounded_by_their_deadline() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(delay(6_000)).path_contains("/oauth2/token").times(1));
    let client = with_credentials(&sim).build().unwrap();
    std::thread::scope(|s| {
        for i in 0..8u64 {
            let client = &client;
            s.spawn(move || {
                std::thread::sleep(Duration::from_millis(100 * i));
                let start = Instant::now();
                let err = client.list_callbacks(ACCOUNT).unwrap_err();
                let took = start.elapsed();
                assert_eq!(err.error_code(), codes::TIMEOUT, "{err}");
                assert!(took < CALL_TIMEOUT + SLACK, "thread {i} took {took:?}");
            });
        }
    });
    assert_eq!(count(&sim, "/oauth2/token"), 1, "one sign-in for eight threads");
    assert_eq!(count(&sim, "/session/login"), 0);
}

#[test]
fn many_threads_behind_a_slow_sign_in_still_cause_one_token_request_and_one_login() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(delay(500)).path_contains("/oauth2/token").times(1));
    sim.inject(Fault::new(delay(500)).path_contains("/session/login").times(1));
    let client = with_credentials(&sim).build().unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| client.list_callbacks(ACCOUNT).unwrap());
        }
    });
    assert_eq!((count(&sim, "/oauth2/token"), count(&sim, "/session/login")), (1, 1));
}

/// Signs in with a 5 s token, then waits until it is in its renew-early window (the last tenth
/// of its life) but still valid.
fn in_the_renew_early_window() -> (Simulator, Client) {
    let config = SimConfig { token_lifetime: Duration::from_secs(5), ..SimConfig::default() };
    let sim = Simulator::start_with(config, "127.0.0.1:0").unwrap();
    let client = with_credentials(&sim).call_timeout(Duration::from_secs(20)).build().unwrap();
    let signed_in = Instant::now();
    client.login().unwrap();
    std::thread::sleep(Duration::from_millis(4_600).saturating_sub(signed_in.elapsed()));
    (sim, client)
}

#[test]
fn a_failed_early_renewal_goes_on_with_the_old_token() {
    let (sim, client) = in_the_renew_early_window();
    sim.inject(
        Fault::new(FaultAction::Respond {
            status: 500,
            content_type: Some("text/html".into()),
            body: b"<html>oops</html>".to_vec(),
            headers: Vec::new(),
        })
        .path_contains("/oauth2/token")
        .times(1),
    );
    client.list_callbacks(ACCOUNT).expect("the old token still works");
    assert_eq!(count(&sim, "/oauth2/token"), 2, "the renewal was tried");
    assert_eq!(count(&sim, "/callbacks/TestAccount-2"), 1);
}

#[test]
fn other_calls_go_on_while_one_waits_to_renew_early() {
    let (sim, client) = in_the_renew_early_window();
    // The renewal is asked to wait a second before trying again: no other call waits with it.
    sim.inject(Fault::new(busy("1")).path_contains("/oauth2/token").times(1));
    std::thread::scope(|s| {
        let renewing = s.spawn(|| client.list_callbacks(ACCOUNT));
        std::thread::sleep(Duration::from_millis(100));
        let start = Instant::now();
        client.list_callbacks(ACCOUNT).expect("the old token still works");
        assert!(start.elapsed() < Duration::from_millis(700), "waited {:?}", start.elapsed());
        renewing.join().unwrap().expect("the renewing call succeeds too");
    });
    assert_eq!(count(&sim, "/oauth2/token"), 3, "first, busy, renewed");
}

/// Looking the host name up is part of the call: a name server that never answers (the
/// system's resolver would wait its own timeouts times its attempts, tens of seconds, and
/// could not be cut short) ends with the call timeout.
#[test]
fn a_name_server_that_never_answers_ends_within_the_call_timeout() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let client = Client::builder()
        .base_url("https://thingspace.tscb.test/api")
        .bearer_token(SIM_BEARER_TOKEN)
        .session_token(SIM_SESSION_TOKEN)
        .name_server_for_tests(silent.local_addr().unwrap())
        .call_timeout(CALL_TIMEOUT)
        .build()
        .unwrap();
    let start = Instant::now();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert!(start.elapsed() < CALL_TIMEOUT + SLACK, "took {:?}", start.elapsed());
    assert!(start.elapsed() >= CALL_TIMEOUT - Duration::from_millis(100), "took {:?}", start.elapsed());
    assert_eq!(err.error_code(), codes::TIMEOUT, "{err}");
    // The queries did reach the name server (so it was the lookup that was cut short).
    let mut buf = [0u8; 512];
    silent.set_nonblocking(true).unwrap();
    assert!(silent.recv_from(&mut buf).is_ok(), "no DNS query arrived");
}
