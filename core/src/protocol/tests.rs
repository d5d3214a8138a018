//! Every documented answer and error shape, decoded from bytes with no client and no server:
//! the fixtures are in `core/tests/fixtures/answers/`, one file per answer as it arrives.

use reqwest::StatusCode;

use super::*;
use crate::error::ErrorKind;
use crate::secret::Redactor;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/answers/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap()
}

#[test]
fn the_account_is_always_one_path_segment() {
    let account = |name: &str| AccountName::new(name).unwrap();
    assert_eq!(list(&account("../a/b?c#d%e f")).path, "/m2m/v1/callbacks/..%2Fa%2Fb%3Fc%23d%25e%20f");
    assert_eq!(list(&account("0000123456-00001")).path, "/m2m/v1/callbacks/0000123456-00001");
    let request = deregister(&account("TestAccount-2"), &ServiceName::new("CarrierService").unwrap());
    assert_eq!(
        (request.method, request.path.as_str()),
        (Method::DELETE, "/m2m/v1/callbacks/TestAccount-2/name/CarrierService")
    );
}

#[test]
fn a_registration_leaves_unset_fields_out() {
    let plain = CallbackRegistration::new("CarrierService", "https://l.example.com/cb").unwrap();
    let request = register(&AccountName::new("A").unwrap(), &plain);
    assert_eq!(request.method, Method::POST);
    assert_eq!(
        request.body.as_deref().unwrap().as_slice(),
        br#"{"name":"CarrierService","url":"https://l.example.com/cb"}"#
    );
    let full = plain.with_username("u").unwrap().with_password("p\"w").unwrap();
    assert_eq!(
        register(&AccountName::new("A").unwrap(), &full).body.as_deref().unwrap().as_slice(),
        br#"{"name":"CarrierService","url":"https://l.example.com/cb","username":"u","password":"p\"w"}"#
    );
}

#[test]
fn documented_successes_decode() {
    let r = Redactor::default();
    let ack = ack(&r, status(200), &fixture("register-200.json")).unwrap();
    assert_eq!(
        (ack.account_name.as_str(), ack.service_name.as_str()),
        ("0000123456-00001", "CarrierService")
    );
    let listed = listed(&r, status(200), &fixture("list-200.json")).unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].service_name, "CarrierService");
    assert_eq!(listed[0].password.as_ref().map(|p| p.expose()), Some("cb-pw"));
    assert_eq!(
        (listed[1].username.as_deref(), listed[1].password.is_none()),
        (None, true),
        "empty and absent"
    );
    for empty in ["list-200-empty-body.txt", "list-200-empty-array.json", "list-200-null.json"] {
        assert!(super::listed(&r, status(200), &fixture(empty)).unwrap().is_empty(), "{empty}");
    }
}

#[test]
fn sign_in_answers_decode_and_a_wrong_shape_is_described_never_quoted() {
    #[derive(serde::Deserialize)]
    struct Token {
        access_token: String,
    }
    #[derive(serde::Deserialize)]
    struct Session {
        #[serde(rename = "sessionToken")]
        session_token: String,
    }
    let r = Redactor::default();
    let t: Token = decode::sign_in(&r, status(200), &fixture("token-200.json"), "access_token").unwrap();
    assert_eq!(t.access_token, "89ba225e1438e95bd05c3cc288d3591");
    let s: Session = decode::sign_in(&r, status(200), &fixture("login-200.json"), "sessionToken").unwrap();
    assert_eq!(s.session_token, "1d1f8e7a-c8bb-4f3c-a924-cf612b562425");
    let bad = fixture("login-200-token-as-array.json");
    let e = decode::sign_in::<Session>(&r, status(200), &bad, "sessionToken").err().unwrap();
    assert_eq!(e.error_code(), crate::codes::RESPONSE_UNEXPECTED_SHAPE);
    assert!(!e.to_string().contains("LEAKED"), "{e}");
}

/// (fixture, status, code, kind): each error shape ThingSpace and its gateway are known to send,
/// and what arrives instead (HTML from a proxy, an empty 503).
const ERRORS: &[(&str, u16, &str, ErrorKind)] = &[
    (
        "error-400-account-not-found.json",
        400,
        "UnifiedWebService.REQUEST_FAILED.AccountNotFound",
        ErrorKind::Api,
    ),
    ("error-400-session-expired.json", 400, "REQUEST_FAILED.SessionToken.Expired", ErrorKind::Auth),
    ("error-401-session-invalid.json", 401, "INPUT_INVALID.SessionToken.Invalid", ErrorKind::Auth),
    ("error-401-fault-invalid-credentials.json", 401, "900901", ErrorKind::Auth),
    ("error-401-fault-missing-credentials.json", 401, "900902", ErrorKind::Auth),
    ("error-400-fault-no-resource.json", 400, "900906", ErrorKind::Api),
    ("error-401-oauth-invalid-client.json", 401, "invalid_client", ErrorKind::Auth),
    ("error-502-html.html", 502, "Tscb.REQUEST_FAILED.HttpStatus", ErrorKind::Api),
    ("error-503-empty.txt", 503, "Tscb.REQUEST_FAILED.HttpStatus", ErrorKind::Api),
];

#[test]
fn documented_error_shapes_map_to_their_code_and_kind() {
    let r = Redactor::default();
    for (name, code, expected, kind) in ERRORS {
        let e = decode::error_answer(&r, status(*code), &fixture(name), None);
        assert_eq!(e.http_status(), Some(*code), "{name}");
        assert!(
            e.error_code().ends_with(expected) || e.error_code() == *expected,
            "{name}: {}",
            e.error_code()
        );
        assert_eq!(e.kind(), *kind, "{name}");
    }
    // A gateway's error with a 2xx status: the service's own words beat ours.
    let e = ack(&r, status(200), &fixture("error-400-account-not-found.json")).unwrap_err();
    assert_eq!(e.error_code(), "UnifiedWebService.REQUEST_FAILED.AccountNotFound");
    // A 200 whose body is HTML or the wrong JSON is an invalid answer, never a default value.
    let e = ack(&r, status(200), &fixture("error-502-html.html")).unwrap_err();
    assert_eq!(e.error_code(), crate::codes::RESPONSE_NOT_JSON);
    let e = ack(&r, status(200), &fixture("list-200.json")).unwrap_err();
    assert_eq!(e.error_code(), crate::codes::RESPONSE_UNEXPECTED_SHAPE);
}

#[test]
fn what_an_answer_echoes_of_the_call_s_secrets_is_redacted() {
    let secrets = ["89ba225e1438e95bd05c3cc288d3591"];
    let r = Redactor::new(secrets);
    let body = br#"{"errorCode":"INPUT_INVALID.SessionToken.Invalid","errorMessage":"token 89ba225e1438e95bd05c3cc288d3591 is invalid"}"#;
    let e = decode::error_answer(&r, status(400), body, None);
    assert!(!e.to_string().contains("89ba225e"), "{e}");
    // The list's callback passwords are masked in an excerpt, whoever's they are.
    let e = ack(&r, status(200), &fixture("list-200.json")).unwrap_err();
    assert!(!e.to_string().contains("cb-pw"), "{e}");
}
