//! Sign-in handled for the user: tokens fetched, kept, renewed once when stale; a refused login
//! never sent twice; transient failures retried only where harmless.
//!
//! Over 400 lines: each test is one rule of the sign-in against the simulator, and they share
//! its set-up; the deadlines (`deadline.rs`) and the guard file (`guard.rs`) are apart already.

mod common;

use base64::Engine as _;
use std::time::{Duration, Instant};
use tscb_sim::{
    SIM_BEARER_TOKEN, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_SESSION_TOKEN, SIM_USERNAME,
};

use common::{count, with_credentials, with_password, ACCOUNT, LISTENER};
use tscb::{codes, CallbackRegistration, Client, ErrorKind, RetryPolicy};
use tscb_sim::{Fault, FaultAction, SimConfig, Simulator};

fn carrier() -> CallbackRegistration {
    CallbackRegistration::new("CarrierService", LISTENER).unwrap()
}

fn respond(status: u16, body: &str, headers: &[(&str, &str)]) -> FaultAction {
    FaultAction::Respond {
        status,
        content_type: Some("application/json".into()),
        body: body.as_bytes().to_vec(),
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
    }
}

#[test]
fn the_first_call_signs_in_with_the_documented_requests() {
    let sim = Simulator::start().unwrap();
    let client = with_credentials(&sim).build().unwrap();
    assert!(sim.requests().is_empty(), "building signs nothing in");
    client.register_callback(ACCOUNT, &carrier()).unwrap();

    let requests = sim.requests();
    assert_eq!(requests.len(), 3);
    let token = &requests[0];
    assert_eq!((token.method.as_str(), token.path.as_str()), ("POST", "/api/ts/v1/oauth2/token"));
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{SIM_CLIENT_ID}:{SIM_CLIENT_SECRET}"));
    assert_eq!(token.header("authorization"), Some(format!("Basic {basic}").as_str()));
    assert_eq!(token.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(token.body, b"grant_type=client_credentials");
    assert_eq!(token.header("vz-m2m-token"), None);

    let login = &requests[1];
    assert_eq!((login.method.as_str(), login.path.as_str()), ("POST", "/api/m2m/v1/session/login"));
    let bearer = login.header("authorization").unwrap().to_owned();
    assert!(bearer.starts_with("Bearer ") && bearer != format!("Bearer {SIM_BEARER_TOKEN}"), "{bearer}");
    let body: serde_json::Value = serde_json::from_slice(&login.body).unwrap();
    assert_eq!(body, serde_json::json!({"username": SIM_USERNAME, "password": SIM_PASSWORD}));
    assert_eq!(login.header("vz-m2m-token"), None);

    let register = &requests[2];
    assert_eq!(register.header("authorization"), Some(bearer.as_str()));
    let session = register.header("vz-m2m-token").unwrap();
    assert!(!session.is_empty() && session != SIM_SESSION_TOKEN);

    client.list_callbacks(ACCOUNT).unwrap();
    assert_eq!(sim.requests().len(), 4, "tokens are kept, not fetched per call");
}

#[test]
fn an_expired_session_is_renewed_transparently_once() {
    let sim = Simulator::start().unwrap();
    let client = with_credentials(&sim).build().unwrap();
    client.list_callbacks(ACCOUNT).unwrap();
    sim.expire_sessions();
    client.register_callback(ACCOUNT, &carrier()).unwrap();
    assert_eq!(count(&sim, "/session/login"), 2);
    assert_eq!(count(&sim, "/oauth2/token"), 1);
    let paths: Vec<String> = sim.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(
        paths[3..],
        [
            "POST /api/m2m/v1/callbacks/TestAccount-2",
            "POST /api/m2m/v1/session/login",
            "POST /api/m2m/v1/callbacks/TestAccount-2"
        ]
    );
}

#[test]
fn a_session_that_stays_expired_is_not_renewed_twice() {
    let sim = Simulator::start().unwrap();
    let client = with_credentials(&sim).build().unwrap();
    client.login().unwrap();
    let expired =
        r#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.SessionToken.Expired","errorMessage":"x"}"#;
    sim.inject(Fault::new(respond(400, expired, &[])).path_contains("/callbacks/"));
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert!(err.is_session_error());
    assert_eq!(count(&sim, "/session/login"), 2, "one renewal, then the error is returned");
    assert_eq!(count(&sim, "/callbacks/TestAccount-2"), 2);
}

#[test]
fn many_threads_cause_one_renewal() {
    let sim = Simulator::start().unwrap();
    let client = with_credentials(&sim).build().unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| client.list_callbacks(ACCOUNT).unwrap());
        }
    });
    assert_eq!((count(&sim, "/oauth2/token"), count(&sim, "/session/login")), (1, 1));
    sim.expire_sessions();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..5 {
                    client.list_callbacks(ACCOUNT).unwrap();
                }
            });
        }
    });
    assert_eq!(count(&sim, "/session/login"), 2, "one renewal for all eight threads");
}

#[test]
fn a_bad_password_sends_exactly_one_login_ever() {
    let sim = Simulator::start().unwrap();
    let client = with_password(&sim, "wrong-password").build().unwrap();
    for attempt in 0..3 {
        let err = client.register_callback(ACCOUNT, &carrier()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{attempt}: {err}");
        assert_eq!(err.error_code(), "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized");
        assert_eq!(err.http_status(), Some(400));
        assert!(!err.to_string().contains("wrong-password"));
        if attempt == 0 {
            // The service's own words first; later calls say why they sent nothing.
            assert_eq!(err.error_message(), "Invalid username or password");
        } else {
            assert!(err.error_message().contains("does not send this login again"), "{err}");
        }
    }
    assert!(client.login().is_err());
    assert_eq!(count(&sim, "/session/login"), 1, "five failed logins lock the account");
    assert_eq!(count(&sim, "/callbacks/TestAccount-2"), 0);
}

#[test]
fn a_login_answered_busy_is_not_repeated() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(respond(503, "", &[("Retry-After", "0")])).path_contains("/session/login"));
    let err = with_credentials(&sim).build().unwrap().list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(count(&sim, "/session/login"), 1);
}

#[test]
fn bad_client_credentials_are_an_auth_error() {
    let sim = Simulator::start().unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .credentials(SIM_CLIENT_ID, "not-the-secret", SIM_USERNAME, SIM_PASSWORD)
        .build()
        .unwrap();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.error_code(), "invalid_client");
    assert_eq!(err.http_status(), Some(401));
    assert_eq!(count(&sim, "/session/login"), 0);
}

#[test]
fn the_bearer_token_is_renewed_before_it_runs_out() {
    let config = SimConfig { token_lifetime: Duration::from_secs(2), ..SimConfig::default() };
    let sim = Simulator::start_with(config, "127.0.0.1:0").unwrap();
    let client = with_credentials(&sim).build().unwrap();
    client.list_callbacks(ACCOUNT).unwrap();
    std::thread::sleep(Duration::from_millis(1900));
    client.list_callbacks(ACCOUNT).unwrap();
    assert_eq!(count(&sim, "/oauth2/token"), 2);
    // Renewed ahead of time: no call was refused and repeated.
    assert_eq!(count(&sim, "/callbacks/TestAccount-2"), 2);
}

#[test]
fn a_refused_bearer_token_is_renewed_once() {
    let sim = Simulator::start().unwrap();
    let client = with_credentials(&sim).build().unwrap();
    client.login().unwrap();
    let fault = r#"{"fault":{"code":"900901","message":"Invalid Credentials","description":"x"}}"#;
    sim.inject(Fault::new(respond(401, fault, &[])).path_contains("/callbacks/").times(1));
    client.list_callbacks(ACCOUNT).unwrap();
    assert_eq!(count(&sim, "/oauth2/token"), 2);
    assert_eq!(count(&sim, "/callbacks/TestAccount-2"), 2);
}

#[test]
fn a_bearer_token_that_stays_refused_is_renewed_only_once() {
    let sim = Simulator::start().unwrap();
    let client = with_credentials(&sim).build().unwrap();
    client.login().unwrap();
    let fault = r#"{"fault":{"code":"900901","message":"Invalid Credentials","description":"x"}}"#;
    sim.inject(Fault::new(respond(401, fault, &[])).path_contains("/callbacks/"));
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!((err.kind(), err.error_code()), (ErrorKind::Auth, "900901"));
    assert_eq!(count(&sim, "/oauth2/token"), 2);
    assert_eq!(count(&sim, "/callbacks/TestAccount-2"), 2);
}

#[test]
fn a_login_with_an_unknown_outcome_is_never_sent_again() {
    // The login times out: it may have counted as a failed login, so no thread sends another.
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(FaultAction::Delay { ms: 2_000 }).path_contains("/session/login"));
    let client = with_credentials(&sim).timeout(Duration::from_millis(300)).build().unwrap();
    assert_eq!(client.list_callbacks(ACCOUNT).unwrap_err().kind(), ErrorKind::Timeout);
    for _ in 0..2 {
        assert!(client.list_callbacks(ACCOUNT).is_err());
    }
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| assert!(client.register_callback(ACCOUNT, &carrier()).is_err()));
        }
    });
    assert!(client.login().is_err());
    assert_eq!(count(&sim, "/session/login"), 1);

    // So is a login answered with a server error or a refusal in a 200.
    for (status, body) in [
        (500, r#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.UnexpectedError","errorMessage":"x"}"#),
        (200, r#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.UserNotAuthorized","errorMessage":"x"}"#),
    ] {
        let sim = Simulator::start().unwrap();
        sim.inject(Fault::new(respond(status, body, &[])).path_contains("/session/login"));
        let client = with_credentials(&sim).build().unwrap();
        for _ in 0..3 {
            assert!(client.list_callbacks(ACCOUNT).is_err());
        }
        assert_eq!(count(&sim, "/session/login"), 1, "{status}");
    }
}

#[test]
fn a_busy_login_does_not_block_later_logins() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(respond(429, "", &[])).path_contains("/session/login").times(1));
    let client = with_credentials(&sim).build().unwrap();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!((err.http_status(), err.kind()), (Some(429), ErrorKind::Api));
    client.list_callbacks(ACCOUNT).unwrap();
    assert_eq!(count(&sim, "/session/login"), 2);
}

#[test]
fn a_refused_bearer_token_at_login_is_renewed_and_the_login_sent_once_more() {
    let sim = Simulator::start().unwrap();
    let fault = r#"{"fault":{"code":"900901","message":"Invalid Credentials","description":"x"}}"#;
    sim.inject(Fault::new(respond(401, fault, &[])).path_contains("/session/login").times(1));
    let client = with_credentials(&sim).build().unwrap();
    client.list_callbacks(ACCOUNT).unwrap();
    assert_eq!((count(&sim, "/oauth2/token"), count(&sim, "/session/login")), (2, 2));
}

#[test]
fn threads_waiting_on_a_failed_sign_in_share_its_failure() {
    let sim = Simulator::start().unwrap();
    // A slow token endpoint, so that every thread is waiting while the first attempt runs.
    sim.inject(Fault::new(FaultAction::Delay { ms: 300 }).path_contains("/oauth2/token").times(1));
    let client = Client::builder()
        .base_url(sim.base_url())
        .credentials(SIM_CLIENT_ID, "wrong-secret", SIM_USERNAME, SIM_PASSWORD)
        .build()
        .unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                let err = client.list_callbacks(ACCOUNT).unwrap_err();
                assert_eq!(err.error_code(), "invalid_client", "{err}");
            });
        }
    });
    assert_eq!(count(&sim, "/oauth2/token"), 1, "one sign-in attempt for eight waiting threads");
}

#[test]
fn logout_without_a_session_sends_nothing() {
    let sim = Simulator::start().unwrap();
    let client = with_credentials(&sim).build().unwrap();
    client.logout().unwrap();
    assert!(sim.requests().is_empty());
    client.login().unwrap();
    client.logout().unwrap();
    client.logout().unwrap();
    assert_eq!(count(&sim, "/session/logout"), 1);
}

#[test]
fn a_huge_expires_in_is_no_panic() {
    let sim = Simulator::start().unwrap();
    sim.inject(
        Fault::new(respond(
            200,
            &format!(r#"{{"access_token":"{SIM_BEARER_TOKEN}","expires_in":1e19}}"#),
            &[],
        ))
        .path_contains("/oauth2/token"),
    );
    with_credentials(&sim).build().unwrap().list_callbacks(ACCOUNT).unwrap();
}

#[test]
fn an_echoed_basic_authorization_is_redacted() {
    let sim = Simulator::start().unwrap();
    let echo = r#"{"error":"invalid_request","error_description":"bad header Basic c2ltLWNsaWVudC1pZDpzaW0tY2xpZW50LXNlY3JldA=="}"#;
    sim.inject(Fault::new(respond(400, echo, &[])).path_contains("/oauth2/token"));
    let err = with_credentials(&sim).build().unwrap().list_callbacks(ACCOUNT).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("c2ltLWNsaWVudC1pZDpzaW0tY2xpZW50LXNlY3JldA"), "{err}");
}

#[test]
fn fixed_tokens_are_never_renewed() {
    let sim = Simulator::start().unwrap();
    sim.expire_sessions();
    let client = common::client(&sim);
    assert!(client.list_callbacks(ACCOUNT).unwrap_err().is_session_error());
    assert_eq!(sim.requests().len(), 1);
}

#[test]
fn a_fixed_bearer_token_with_a_login() {
    let sim = Simulator::start().unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .bearer_token(SIM_BEARER_TOKEN)
        .login(tscb::Login::new(SIM_USERNAME, SIM_PASSWORD))
        .build()
        .unwrap();
    client.list_callbacks(ACCOUNT).unwrap();
    assert_eq!(count(&sim, "/oauth2/token"), 0);
    assert_eq!(
        sim.requests()[0].header("authorization"),
        Some(format!("Bearer {SIM_BEARER_TOKEN}").as_str())
    );
}

#[test]
fn logout_ends_the_session_and_the_next_call_logs_in_again() {
    let sim = Simulator::start().unwrap();
    let client = with_credentials(&sim).build().unwrap();
    client.list_callbacks(ACCOUNT).unwrap();
    let session = sim.requests()[2].header("vz-m2m-token").unwrap().to_owned();
    client.logout().unwrap();
    let logout = sim.requests().pop().unwrap();
    assert_eq!((logout.method.as_str(), logout.path.as_str()), ("POST", "/api/m2m/v1/session/logout"));
    assert_eq!(logout.header("vz-m2m-token"), Some(session.as_str()));
    client.list_callbacks(ACCOUNT).unwrap();
    assert_eq!(count(&sim, "/session/login"), 2);
    assert_ne!(sim.requests().pop().unwrap().header("vz-m2m-token"), Some(session.as_str()));
}

#[test]
fn credentials_are_checked_before_anything_is_sent() {
    let sim = Simulator::start().unwrap();
    let build = |id: &str, secret: &str, user: &str, pw: &str| {
        Client::builder().base_url(sim.base_url()).credentials(id, secret, user, pw).build().unwrap_err()
    };
    assert_eq!(build("", "s", "u", "p").error_code(), codes::CLIENT_ID_INVALID);
    assert_eq!(build("a:b", "s", "u", "p").error_code(), codes::CLIENT_ID_INVALID);
    assert_eq!(build("id", "", "u", "p").error_code(), codes::CLIENT_SECRET_INVALID);
    assert_eq!(build("id", "s", "u\n", "p").error_code(), codes::LOGIN_USERNAME_INVALID);
    assert_eq!(build("id", "s", "u", "").error_code(), codes::LOGIN_PASSWORD_INVALID);
    assert!(sim.requests().is_empty());
}

#[test]
fn credentials_never_appear_in_printouts_or_errors() {
    let sim = Simulator::start().unwrap();
    let b =
        Client::builder().base_url(sim.base_url()).credentials("id", "CLIENT-SECRET-9", "user", "LOGIN-PW-8");
    let printed = format!("{b:?} {:?}", b.clone().build().unwrap());
    assert!(!printed.contains("CLIENT-SECRET-9") && !printed.contains("LOGIN-PW-8"), "{printed}");
    let echo =
        r#"{"errorCode":"X.REQUEST_FAILED.Echo","errorMessage":"secret CLIENT-SECRET-9 pw LOGIN-PW-8"}"#;
    sim.inject(Fault::new(respond(400, echo, &[])));
    let err = b.build().unwrap().list_callbacks(ACCOUNT).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("CLIENT-SECRET-9") && !text.contains("LOGIN-PW-8"), "{text}");
}

#[test]
fn busy_answers_are_retried_where_harmless_honouring_retry_after() {
    let sim = Simulator::start().unwrap();
    let client = common::client(&sim);
    sim.inject(Fault::new(respond(503, "", &[("Retry-After", "1")])).method("GET").times(1));
    let started = Instant::now();
    client.list_callbacks(ACCOUNT).unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
    assert_eq!(sim.requests().len(), 2);

    sim.clear_requests();
    sim.inject(Fault::new(respond(429, "", &[])).method("DELETE").times(1));
    client.register_callback(ACCOUNT, &carrier()).unwrap();
    client.deregister_callback(ACCOUNT, "CarrierService").unwrap();
    assert_eq!(sim.requests().len(), 3);

    // A register may not be harmless to repeat: not retried unless allowed.
    sim.clear_requests();
    sim.inject(Fault::new(respond(503, "", &[])).method("POST").times(1));
    assert_eq!(client.register_callback(ACCOUNT, &carrier()).unwrap_err().http_status(), Some(503));
    assert_eq!(sim.requests().len(), 1);
    let allowed =
        common::builder(&sim).retry(RetryPolicy::default().retry_register_when_busy(true)).build().unwrap();
    sim.inject(Fault::new(respond(503, "", &[])).method("POST").times(1));
    allowed.register_callback(ACCOUNT, &carrier()).unwrap();

    // Asked to wait longer than the policy allows: the answer comes back, not an early retry.
    sim.clear_requests();
    sim.inject(Fault::new(respond(503, "", &[("Retry-After", "3600")])).method("GET").times(1));
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(sim.requests().len(), 1);

    // Bounded: two retries by default, then the error.
    sim.clear_requests();
    sim.inject(Fault::new(respond(503, "", &[("Retry-After", "0")])).method("GET"));
    assert_eq!(client.list_callbacks(ACCOUNT).unwrap_err().http_status(), Some(503));
    assert_eq!(sim.requests().len(), 3);
    sim.clear_requests();
    let none = common::builder(&sim).retry(RetryPolicy::none()).build().unwrap();
    assert!(none.list_callbacks(ACCOUNT).is_err());
    assert_eq!(sim.requests().len(), 1);
}

#[test]
fn a_timeout_is_never_retried() {
    let sim = Simulator::start().unwrap();
    sim.inject(Fault::new(FaultAction::Delay { ms: 5_000 }).times(1));
    let client = common::builder(&sim).timeout(Duration::from_millis(300)).build().unwrap();
    assert_eq!(client.list_callbacks(ACCOUNT).unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(sim.requests().len(), 1);
}

#[test]
fn a_refused_connection_is_retried_with_backoff() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let policy = RetryPolicy::default().initial_backoff(Duration::from_millis(100));
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/api"))
        .bearer_token("b")
        .session_token("s")
        .retry(policy)
        .build()
        .unwrap();
    let started = Instant::now();
    assert_eq!(client.list_callbacks(ACCOUNT).unwrap_err().error_code(), codes::CONNECT);
    // Two backoffs: 50-100 ms, then 100-200 ms.
    assert!(started.elapsed() >= Duration::from_millis(150), "{:?}", started.elapsed());
}
