//! Every way the server or the network can fail, mapped to the right kind, code, message and status.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{builder, client, ACCOUNT, LISTENER};
use tscb::{codes, CallbackRegistration, Error, ErrorKind};
use tscb_sim::{Fault, FaultAction};

fn carrier() -> CallbackRegistration {
    CallbackRegistration::new("CarrierService", LISTENER).unwrap()
}

fn respond(status: u16, content_type: Option<&str>, body: &str) -> Fault {
    Fault::new(FaultAction::Respond {
        status,
        content_type: content_type.map(str::to_owned),
        body: body.as_bytes().to_vec(),
        headers: Vec::new(),
    })
}

fn register_err(sim: &tscb_sim::Simulator) -> Error {
    client(sim).register_callback(ACCOUNT, &carrier()).unwrap_err()
}

#[test]
fn service_error_bodies_pass_through_verbatim_whatever_the_status() {
    for status in [400u16, 401, 403, 404, 500, 503] {
        let sim = common::sim();
        sim.inject(respond(
            status,
            Some("application/json"),
            r#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.UnexpectedError","errorMessage":"Something went wrong (ref 42)"}"#,
        ));
        let err = register_err(&sim);
        assert_eq!(err.error_code(), "UnifiedWebService.REQUEST_FAILED.UnexpectedError");
        assert_eq!(err.error_message(), "Something went wrong (ref 42)");
        assert_eq!(err.http_status(), Some(status));
        let expected = if status == 401 || status == 403 { ErrorKind::Auth } else { ErrorKind::Api };
        assert_eq!(err.kind(), expected, "{status}");
        assert_eq!(
            err.to_json(),
            r#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.UnexpectedError","errorMessage":"Something went wrong (ref 42)"}"#
        );
        assert_eq!(
            err.to_string(),
            "UnifiedWebService.REQUEST_FAILED.UnexpectedError: Something went wrong (ref 42)"
        );
    }
}

#[test]
fn the_simulators_own_errors_arrive_as_api_errors() {
    let sim = common::sim();
    let client = client(&sim);
    let err = client.register_callback("NoSuchAccount", &carrier()).unwrap_err();
    assert_eq!(err.error_code(), "UnifiedWebService.REQUEST_FAILED.AccountNotFound");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.http_status(), Some(400));
    assert!(!err.is_session_error());

    let err = client.deregister_callback(ACCOUNT, "CarrierService").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.http_status(), Some(400));
}

#[test]
fn a_refused_bearer_token_is_an_auth_error_with_the_gateway_code() {
    let sim = common::sim();
    let client = builder(&sim).bearer_token("not-the-token").build().unwrap();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.error_code(), "900901");
    assert!(err.error_message().starts_with("Invalid Credentials"), "{}", err.error_message());
    assert_eq!(err.http_status(), Some(401));
    assert!(!err.is_session_error());
}

#[test]
fn session_errors_are_recognised_whatever_the_status() {
    let sim = common::sim();
    let client = builder(&sim).session_token("unknown-session").build().unwrap();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert!(err.is_session_error());
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.error_code(), "UnifiedWebService.INPUT_INVALID.SessionToken.Invalid");

    let sim = common::sim();
    sim.expire_sessions();
    let err = register_err(&sim);
    assert!(err.is_session_error());
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.error_code(), "UnifiedWebService.REQUEST_FAILED.SessionToken.Expired");

    for status in [400u16, 401, 200] {
        let sim = common::sim();
        sim.inject(respond(
            status,
            Some("application/json"),
            r#"{"errorCode":"REQUEST_FAILED.SessionToken.Expired","errorMessage":"expired"}"#,
        ));
        let err = register_err(&sim);
        assert!(err.is_session_error(), "{status}");
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert_eq!(err.http_status(), Some(status));
    }
}

#[test]
fn the_gateway_fault_and_oauth_shapes_are_understood() {
    let sim = common::sim();
    sim.inject(respond(
        404,
        Some("application/json"),
        r#"{"fault":{"code":"900906","message":"No matching resource found for given API Request","description":"x"}}"#,
    ));
    let err = register_err(&sim);
    assert_eq!(err.error_code(), "900906");
    assert_eq!(err.error_message(), "No matching resource found for given API Request: x");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.http_status(), Some(404));

    let sim = common::sim();
    sim.inject(respond(
        401,
        Some("application/json"),
        r#"{"error":"invalid_token","error_description":"The access token expired"}"#,
    ));
    let err = register_err(&sim);
    assert_eq!(err.error_code(), "invalid_token");
    assert_eq!(err.error_message(), "The access token expired");
    assert_eq!(err.kind(), ErrorKind::Auth);
}

#[test]
fn unknown_error_bodies_keep_the_status_and_a_clean_excerpt() {
    let sim = common::sim();
    sim.inject(respond(
        502,
        Some("text/html"),
        "<html><head><title>502 Bad Gateway</title></head>\r\n<body>\u{1b}[31mproxy error</body></html>",
    ));
    let err = register_err(&sim);
    assert_eq!(err.error_code(), codes::HTTP_STATUS);
    assert_eq!(err.http_status(), Some(502));
    assert_eq!(err.kind(), ErrorKind::Api);
    assert!(err.error_message().contains("502 Bad Gateway"), "{}", err.error_message());
    assert!(err.error_message().contains("<html><head><title>"), "{}", err.error_message());
    assert!(!err.error_message().chars().any(char::is_control), "{:?}", err.error_message());

    let sim = common::sim();
    sim.inject(respond(503, None, ""));
    let err = register_err(&sim);
    assert_eq!(err.error_code(), codes::HTTP_STATUS);
    assert_eq!(err.http_status(), Some(503));
    assert!(err.error_message().contains("empty"), "{}", err.error_message());

    let sim = common::sim();
    sim.inject(respond(401, Some("text/plain"), "Unauthorized"));
    assert_eq!(register_err(&sim).kind(), ErrorKind::Auth);
}

#[test]
fn a_success_status_without_the_documented_body_is_never_a_success() {
    for (body, code) in [
        ("<html>OK</html>", codes::RESPONSE_NOT_JSON),
        ("", codes::RESPONSE_NOT_JSON),
        (r#"{"accountName":"TestAccount-2""#, codes::RESPONSE_NOT_JSON),
        (r#"{"accountName":"TestAccount-2"}"#, codes::RESPONSE_UNEXPECTED_SHAPE),
        (r#"{"accountName":"TestAccount-2","serviceName":7}"#, codes::RESPONSE_UNEXPECTED_SHAPE),
        ("[]", codes::RESPONSE_UNEXPECTED_SHAPE),
        ("null", codes::RESPONSE_UNEXPECTED_SHAPE),
    ] {
        let sim = common::sim();
        sim.inject(respond(200, Some("application/json"), body));
        let err = register_err(&sim);
        assert_eq!(err.error_code(), code, "{body:?}");
        assert_eq!(err.kind(), ErrorKind::InvalidResponse);
        assert_eq!(err.http_status(), Some(200));
    }
}

#[test]
fn a_success_status_with_an_error_body_is_the_services_error() {
    let sim = common::sim();
    sim.inject(respond(
        200,
        Some("application/json"),
        r#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.AccountNotFound","errorMessage":"nope"}"#,
    ));
    let err = register_err(&sim);
    assert_eq!(err.error_code(), "UnifiedWebService.REQUEST_FAILED.AccountNotFound");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.http_status(), Some(200));
}

#[test]
fn list_accepts_empty_answers_and_rejects_wrong_ones() {
    for body in ["", "  \n", "[]", "null"] {
        let sim = common::sim();
        sim.inject(respond(200, Some("application/json"), body));
        assert!(client(&sim).list_callbacks(ACCOUNT).unwrap().is_empty(), "{body:?}");
    }
    for (body, code) in [
        (r#"{"accountName":"x"}"#, codes::RESPONSE_UNEXPECTED_SHAPE),
        (r#"[{"accountName":"x","serviceName":"y"}]"#, codes::RESPONSE_UNEXPECTED_SHAPE),
        ("<html></html>", codes::RESPONSE_NOT_JSON),
    ] {
        let sim = common::sim();
        sim.inject(respond(200, Some("application/json"), body));
        assert_eq!(client(&sim).list_callbacks(ACCOUNT).unwrap_err().error_code(), code, "{body:?}");
    }
    let sim = common::sim();
    sim.inject(respond(
        200,
        Some("application/json"),
        r#"[{"accountName":"A","serviceName":"S","url":"https://x.example","extra":true}]"#,
    ));
    let listed = client(&sim).list_callbacks(ACCOUNT).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].username.clone(), listed[0].password.clone()), (None, None));
}

#[test]
fn a_server_that_never_answers_times_out_on_time() {
    let sim = common::sim();
    sim.inject(Fault::new(FaultAction::Delay { ms: 30_000 }));
    let client = builder(&sim).timeout(Duration::from_millis(500)).build().unwrap();
    let started = Instant::now();
    let err = client.register_callback(ACCOUNT, &carrier()).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.error_code(), codes::TIMEOUT);
    assert_eq!(err.http_status(), None);
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1200), "the timeout fired late: {elapsed:?}");
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = tscb::Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/api"))
        .bearer_token("b")
        .session_token("s")
        .build()
        .unwrap();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(err.error_code(), codes::CONNECT);
    assert_eq!(err.http_status(), None);
    assert!(std::error::Error::source(&err).is_some(), "the source chain is kept");
}

#[test]
fn a_dropped_or_reset_connection_is_a_transport_error() {
    for action in [FaultAction::Drop, FaultAction::Reset] {
        let sim = common::sim();
        sim.inject(Fault::new(action));
        let err = register_err(&sim);
        assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
        assert_eq!(err.error_code(), codes::TRANSPORT);
        assert_eq!(err.http_status(), None);
    }
}

#[test]
fn a_truncated_answer_is_an_error() {
    let sim = common::sim();
    sim.inject(Fault::new(FaultAction::Truncate { declared: 200, sent: br#"{"accountName":"Te"#.to_vec() }));
    let err = register_err(&sim);
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(err.error_code(), codes::TRANSPORT);
}

#[test]
fn a_huge_answer_is_refused_without_reading_it_all() {
    let sim = common::sim();
    sim.inject(Fault::new(FaultAction::Oversized { bytes: 10 * 1024 * 1024 }));
    let err = register_err(&sim);
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    assert_eq!(err.error_code(), codes::RESPONSE_TOO_LARGE);
    assert_eq!(err.http_status(), Some(200));
}

#[test]
fn a_redirect_is_not_followed_and_no_token_goes_elsewhere() {
    let sim = common::sim();
    let elsewhere = tscb_sim::Simulator::start().unwrap();
    for status in [301u16, 302, 307, 308] {
        sim.clear_faults();
        sim.inject(Fault::new(FaultAction::Redirect {
            status,
            location: format!("{}/m2m/v1/callbacks/{ACCOUNT}", elsewhere.base_url()),
        }));
        let err = register_err(&sim);
        assert_eq!(err.kind(), ErrorKind::InvalidResponse);
        assert_eq!(err.error_code(), codes::RESPONSE_REDIRECT);
        assert_eq!(err.http_status(), Some(status));
        assert!(err.error_message().contains(&elsewhere.base_url()), "{}", err.error_message());
    }
    assert!(elsewhere.requests().is_empty(), "the redirect target was contacted");
}

#[test]
fn one_deadline_covers_the_headers_and_the_whole_body() {
    // Headers arrive just before the deadline, then nothing: the call must still end on time,
    // not a whole timeout later.
    let sim = common::sim();
    sim.inject(Fault::new(FaultAction::Stall {
        after_ms: 700,
        declared: 100,
        sent: b"{".to_vec(),
        ms: 10_000,
    }));
    let client = builder(&sim).timeout(Duration::from_millis(1000)).build().unwrap();
    let started = Instant::now();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1450), "the call overran its timeout: {elapsed:?}");
}

#[test]
fn a_reset_in_the_middle_of_the_answer_is_a_transport_error() {
    let sim = common::sim();
    sim.inject(Fault::new(FaultAction::ResetMidAnswer {
        declared: 200,
        sent: br#"{"accountName":"#.to_vec(),
    }));
    let err = register_err(&sim);
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(err.error_code(), codes::TRANSPORT);
}

#[test]
fn a_huge_answer_without_a_length_is_cut_at_the_cap() {
    let sim = common::sim();
    sim.inject(Fault::new(FaultAction::OversizedUnframed { bytes: 10 * 1024 * 1024 }));
    let err = register_err(&sim);
    assert_eq!(err.error_code(), codes::RESPONSE_TOO_LARGE, "{err}");
    assert_eq!(err.http_status(), Some(200));
}

#[test]
fn service_messages_lose_control_characters_only() {
    let sim = common::sim();
    sim.inject(respond(
        400,
        Some("application/json"),
        r#"{"errorCode":"X.REQUEST_FAILED.Y","errorMessage":"line one\r\nFAKE LOG LINE \u001b[2J"}"#,
    ));
    let err = register_err(&sim);
    assert_eq!(err.error_message(), "line one  FAKE LOG LINE  [2J");
}

#[test]
fn an_error_body_without_a_code_keeps_what_it_said_under_the_http_status_code() {
    for body in [
        r#"{"fault":{"message":"Quota exceeded","description":"try later"}}"#,
        r#"{"fault":{"code":"","message":"Quota exceeded"}}"#,
        r#"{"fault":{"code":" ","message":"Quota exceeded"}}"#,
        r#"{"error":"","error_description":"Quota exceeded"}"#,
        r#"{"errorCode":"","errorMessage":"Quota exceeded"}"#,
    ] {
        let sim = common::sim();
        sim.inject(respond(400, Some("application/json"), body));
        let err = register_err(&sim);
        assert_eq!(err.error_code(), codes::HTTP_STATUS, "{body}: {err}");
        assert!(err.error_message().contains("Quota exceeded"), "{err}");
        assert_eq!(err.http_status(), Some(400));
    }
}
