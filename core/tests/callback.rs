//! Receiving callbacks: what `CallbackMessage::parse` reads and refuses, what
//! `CallbackVerifier::verify` lets through, resends, rotation, and that no password leaks.

use std::net::IpAddr;
use std::time::Duration;

use tscb::{
    callback_answer_status, codes, CallbackMessage, CallbackVerifier, ErrorKind, VERIZON_CALLBACK_SOURCES,
};

/// The fault message as Verizon's page publishes it (one device left out).
const FAULT_EXAMPLE: &str = r#"{"username":"","password":"","requestId":"076f7ea9-8230-49b1-9386-8dafaddc7d9e",
 "deviceIds":[{"id":"20180903000000000009","kind":"Iccid"}],
 "faultResponse":{"faultcode":"UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive",
   "faultstring":"REQUEST_FAILED. Device is already active"},
 "status":"Failed","callbackCount":1,"maxCallbackThreshold":4}"#;

const PASSWORD: &str = "Corr3ct-H0rse-Battery";
const OLD_PASSWORD: &str = "0ld-Pa55w0rd-Staple";

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn body(username: &str, password: &str, count: u32) -> String {
    format!(
        r#"{{"username":"{username}","password":"{password}","requestId":"req-1",
            "deviceIds":[{{"id":"353238060000001","kind":"IMEI"}}],
            "deviceResponse":{{"changeIdentifierResponse":{{"iccid":"8914800000000000001"}}}},
            "status":"Success","callbackCount":{count},"maxCallbackThreshold":4}}"#
    )
}

fn verifier() -> CallbackVerifier {
    let mut v = CallbackVerifier::new();
    v.set_username("fleet-7").set_password(PASSWORD);
    v
}

fn parse_err(body: &[u8]) -> tscb::Error {
    CallbackMessage::parse(body).expect_err("the body should be refused")
}

#[test]
fn the_documented_fault_example_parses() {
    let msg = CallbackMessage::parse(FAULT_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(msg.request_id(), Some("076f7ea9-8230-49b1-9386-8dafaddc7d9e"));
    assert_eq!(msg.username(), Some(""));
    assert_eq!(msg.password().map(|p| p.expose()), Some(""));
    assert_eq!(msg.device_ids().len(), 1);
    assert_eq!(msg.device_ids()[0].id, "20180903000000000009");
    assert_eq!(msg.device_ids()[0].kind, "Iccid");
    assert!(msg.device_ids()[0].kind_is("ICCID") && msg.device_ids()[0].kind_is("iccid"));
    assert!(!msg.device_ids()[0].kind_is("imei"));
    assert_eq!(msg.status(), Some("Failed"));
    assert_eq!(msg.callback_count(), Some(1));
    assert_eq!(msg.max_callback_threshold(), Some(4));
    let fault = msg.fault().unwrap();
    assert_eq!(fault.code, "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive");
    assert_eq!(fault.message, "REQUEST_FAILED. Device is already active");
    assert_eq!(msg.payload_name(), Some("faultResponse"));
    assert_eq!(msg.payload().unwrap()["faultcode"], "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive");
    assert!(msg.extra().is_empty());
    assert!(!msg.to_json_without_password().contains_key("password"));
    assert_eq!(msg.to_json_without_password()["requestId"], "076f7ea9-8230-49b1-9386-8dafaddc7d9e");
    // The owning form is the same map, the password left out as well.
    let borrowed = msg.to_json_without_password().clone();
    assert_eq!(msg.into_json_without_password(), borrowed);
}

#[test]
fn unknown_fields_and_services_are_kept_unchanged() {
    let body = br#"{"requestId":"r","smsResponse":{"messages":[{"text":"hi","n":1.5}],"new":null},
        "deliveredAt":"2026-01-01T00:00:00Z","attempt":{"region":"us-east"},"tags":["a",2]}"#;
    let msg = CallbackMessage::parse(body).unwrap();
    assert_eq!(msg.payload_name(), Some("smsResponse"));
    assert_eq!(
        msg.payload().unwrap(),
        &serde_json::json!({"messages": [{"text": "hi", "n": 1.5}], "new": null})
    );
    // The other object-valued field is not the payload (its name does not end in Response): an extra.
    assert_eq!(msg.extra()["attempt"], serde_json::json!({"region": "us-east"}));
    assert_eq!(msg.extra()["deliveredAt"], "2026-01-01T00:00:00Z");
    assert_eq!(msg.extra()["tags"], serde_json::json!(["a", 2]));
    assert_eq!(msg.extra().len(), 3);
    assert_eq!(msg.status(), None);
    assert_eq!(msg.callback_count(), None);
    assert!(msg.fault().is_none());
    assert!(msg.device_ids().is_empty());
}

#[test]
fn open_details_are_read_leniently() {
    let body = br#"{"callbackCount":"2","maxCallbackThreshold":null,"status":null,
        "deviceIds":[{"id":"1"},{"id":"2","kind":"imei","extra":true}],"niddResponse":{}}"#;
    let msg = CallbackMessage::parse(body).unwrap();
    assert_eq!(msg.callback_count(), Some(2));
    assert_eq!(msg.max_callback_threshold(), None);
    assert_eq!(msg.status(), None);
    assert_eq!(msg.device_ids()[0].kind, "");
    assert!(msg.device_ids()[1].kind_is("IMEI"));
    assert_eq!(msg.payload_name(), Some("niddResponse"));
    assert_eq!(msg.payload().unwrap(), &serde_json::json!({}));
    // Nothing but an empty object is a message too: every field is optional.
    let empty = CallbackMessage::parse(b"{}").unwrap();
    assert_eq!(empty.payload_name(), None);
    assert!(empty.payload().is_none());
}

#[test]
fn bodies_that_are_not_json_are_refused() {
    for body in
        [&b""[..], b"   ", b"not json", b"{\"a\":", b"{\"a\":1} trailing", b"\xff\xfe{}", b"<html></html>"]
    {
        let err = parse_err(body);
        assert_eq!(err.error_code(), codes::CALLBACK_NOT_JSON, "{body:?}");
        assert_eq!(err.kind(), ErrorKind::CallbackInvalid);
        assert_eq!(err.http_status(), None);
        assert_eq!(callback_answer_status(&err), 400);
        assert!(std::error::Error::source(&err).is_some(), "the JSON error is kept as the source");
    }
    // Deep nesting is an error, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(parse_err(deep.as_bytes()).error_code(), codes::CALLBACK_NOT_JSON);
}

#[test]
fn json_that_is_not_an_object_or_has_wrong_types_is_refused() {
    let cases: &[(&str, &str)] = &[
        ("[]", "an array"),
        ("[{\"requestId\":\"r\"}]", "an array"),
        ("\"text\"", "a string"),
        ("42", "a number"),
        ("null", "null"),
        (r#"{"requestId":42}"#, "`requestId` is a number"),
        (r#"{"username":["u"]}"#, "`username` is an array"),
        (r#"{"status":true}"#, "`status` is a boolean"),
        (r#"{"callbackCount":1.5}"#, "`callbackCount` is not a whole number"),
        (r#"{"callbackCount":-1}"#, "`callbackCount` is not a whole number"),
        (r#"{"callbackCount":"two"}"#, "`callbackCount` is not a whole number"),
        (r#"{"maxCallbackThreshold":4294967296}"#, "`maxCallbackThreshold` is not a whole number"),
        (r#"{"callbackCount":{}}"#, "`callbackCount` is an object"),
        (r#"{"deviceIds":{"id":"1"}}"#, "`deviceIds` is an object"),
        (r#"{"deviceIds":["1"]}"#, "`deviceIds[0]` is a string"),
        (r#"{"deviceIds":[{"id":"1"},{"kind":"imei"}]}"#, "`deviceIds[1]` has no `id`"),
        (r#"{"deviceIds":[{"id":1}]}"#, "`deviceIds[0].id` is a number"),
        (r#"{"deviceIds":[{"id":"1","kind":7}]}"#, "`deviceIds[0].kind` is a number"),
        (r#"{"faultResponse":"oops"}"#, "`faultResponse` is a string"),
        (r#"{"faultResponse":{"faultcode":1}}"#, "`faultResponse.faultcode` is a number"),
    ];
    for (body, says) in cases {
        let err = parse_err(body.as_bytes());
        assert_eq!(err.error_code(), codes::CALLBACK_UNEXPECTED_SHAPE, "{body}");
        assert_eq!(err.kind(), ErrorKind::CallbackInvalid);
        assert!(err.error_message().contains(says), "{body}: {}", err.error_message());
    }
}

#[test]
fn bodies_over_one_mib_are_refused_before_parsing() {
    let at_limit = format!(r#"{{"padding":"{}"}}"#, "x".repeat(tscb::MAX_CALLBACK_BYTES - 14));
    assert_eq!(at_limit.len(), tscb::MAX_CALLBACK_BYTES);
    assert!(CallbackMessage::parse(at_limit.as_bytes()).is_ok());
    let over = format!(r#"{{"padding":"{}"}}"#, "x".repeat(tscb::MAX_CALLBACK_BYTES - 13));
    let err = parse_err(over.as_bytes());
    assert_eq!(err.error_code(), codes::CALLBACK_TOO_LARGE);
    assert_eq!(callback_answer_status(&err), 413);
    // Not even looked at: an oversized non-JSON body is "too large", not "not JSON".
    assert_eq!(parse_err(&vec![b'<'; tscb::MAX_CALLBACK_BYTES + 1]).error_code(), codes::CALLBACK_TOO_LARGE);
}

#[test]
fn the_right_credentials_from_a_verizon_address_are_accepted() {
    let msg =
        verifier().verify(ip(VERIZON_CALLBACK_SOURCES[0]), body("fleet-7", PASSWORD, 1).as_bytes()).unwrap();
    assert_eq!(msg.request_id(), Some("req-1"));
    assert_eq!(msg.payload_name(), Some("deviceResponse"));
    for source in VERIZON_CALLBACK_SOURCES {
        assert!(verifier().verify(ip(source), body("fleet-7", PASSWORD, 1).as_bytes()).is_ok(), "{source}");
    }
    // Nothing expected, nothing checked.
    assert!(CallbackVerifier::new().verify(ip("168.62.173.153"), FAULT_EXAMPLE.as_bytes()).is_ok());
}

#[test]
fn wrong_credentials_are_rejected() {
    let v = verifier();
    let from = ip("3.87.163.45");
    let cases = [
        (body("fleet-8", PASSWORD, 1), "username"),
        (body("", PASSWORD, 1), "username"),
        (body("fleet-7", "wrong", 1), "password"),
        (body("fleet-7", &PASSWORD[..PASSWORD.len() - 1], 1), "password"),
        (body("fleet-7", "", 1), "password"),
        (r#"{"username":"fleet-7"}"#.to_owned(), "password"),
        (r#"{"password":"Corr3ct-H0rse-Battery"}"#.to_owned(), "username"),
    ];
    for (body, which) in cases {
        let err = v.verify(from, body.as_bytes()).unwrap_err();
        assert_eq!(err.error_code(), codes::CALLBACK_REJECTED_CREDENTIALS, "{body}");
        assert_eq!(err.kind(), ErrorKind::CallbackRejected);
        assert_eq!(callback_answer_status(&err), 401);
        assert!(err.error_message().contains(which), "{}", err.error_message());
    }
    // An expected empty password matches the documented "" and an absent field.
    let mut empty = CallbackVerifier::new();
    empty.set_password("");
    assert!(empty.verify(from, br#"{"password":""}"#).is_ok());
    assert!(empty.verify(from, b"{}").is_ok());
    assert!(empty.verify(from, br#"{"password":"x"}"#).is_err());
}

#[test]
fn sources_are_checked_first_by_address_or_block() {
    let good = body("fleet-7", PASSWORD, 1);
    let v = verifier();
    for source in ["192.0.2.1", "3.87.163.46", "::1", "2001:db8::1", "::ffff:192.0.2.1"] {
        let err = v.verify(ip(source), good.as_bytes()).unwrap_err();
        assert_eq!(err.error_code(), codes::CALLBACK_REJECTED_SOURCE, "{source}");
        assert_eq!(callback_answer_status(&err), 403);
        assert!(err.error_message().contains("Verizon"), "{}", err.error_message());
    }
    // The source comes before the body and the credentials.
    assert_eq!(
        v.verify(ip("192.0.2.1"), b"garbage").unwrap_err().error_code(),
        codes::CALLBACK_REJECTED_SOURCE
    );
    assert_eq!(v.verify(ip("3.87.163.45"), b"garbage").unwrap_err().error_code(), codes::CALLBACK_NOT_JSON);
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: they match the IPv4 list.
    assert!(v.verify(ip("::ffff:3.87.163.45"), good.as_bytes()).is_ok());

    let mut v = verifier();
    v.allow_source("10.20.0.0/16").unwrap().allow_source("2001:db8:7::/48").unwrap();
    v.allow_source("::ffff:198.51.100.0/120").unwrap().allow_source("203.0.113.9").unwrap();
    for allowed in [
        "10.20.0.1",
        "10.20.255.254",
        "::ffff:10.20.3.4",
        "2001:db8:7::1",
        "2001:db8:7:ffff::2",
        "198.51.100.77",
        "203.0.113.9",
        "::ffff:203.0.113.9",
    ] {
        assert!(v.verify(ip(allowed), good.as_bytes()).is_ok(), "{allowed}");
    }
    // The first allow_source replaced the Verizon list.
    for refused in
        ["10.21.0.1", "2001:db8:8::1", "198.51.101.1", "203.0.113.10", "3.87.163.45", "::ffff:3.87.163.45"]
    {
        assert_eq!(
            v.verify(ip(refused), good.as_bytes()).unwrap_err().error_code(),
            codes::CALLBACK_REJECTED_SOURCE,
            "{refused}"
        );
    }

    let mut none = verifier();
    none.set_allowed_sources(Vec::<&str>::new()).unwrap();
    let err = none.verify(ip("3.87.163.45"), good.as_bytes()).unwrap_err();
    assert!(err.error_message().contains("allowed: none"), "{}", err.error_message());

    let mut any = verifier();
    any.allow_any_source().allow_source("10.0.0.1").unwrap();
    for source in ["192.0.2.1", "::1", "10.0.0.2"] {
        assert!(any.verify(ip(source), good.as_bytes()).is_ok(), "{source}");
    }
}

#[test]
fn malformed_sources_are_input_errors_and_change_nothing() {
    let mut v = CallbackVerifier::new();
    for bad in ["", "example.com", "10.0.0.0/33", "2001:db8::/129", "10.0.0", "1.2.3.4/", "[::1]"] {
        let err = v.allow_source(bad).map(|_| ()).unwrap_err();
        assert_eq!(err.error_code(), codes::SOURCE_ADDRESS_MALFORMED, "{bad:?}");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    let err = v.set_allowed_sources(["10.0.0.1", "nope"]).map(|_| ()).unwrap_err();
    assert_eq!(err.error_code(), codes::SOURCE_ADDRESS_MALFORMED);
    // Still the Verizon default: nothing above took effect.
    assert!(v.verify(ip("3.87.163.45"), b"{}").is_ok());
    assert!(v.verify(ip("10.0.0.1"), b"{}").is_err());

    let err = v.verify_from("not-an-ip", b"{}").unwrap_err();
    assert_eq!(err.error_code(), codes::SOURCE_ADDRESS_MALFORMED);
    assert!(v.verify_from("3.87.163.45", b"{}").is_ok());
    assert!(v.verify_from("::ffff:3.87.163.45", b"{}").is_ok());
    assert!(v.check_source_from("3.87.163.45").is_ok());
    assert_eq!(v.check_source_from("10.0.0.1").unwrap_err().error_code(), codes::CALLBACK_REJECTED_SOURCE);
    assert_eq!(v.check_source_from("").unwrap_err().error_code(), codes::SOURCE_ADDRESS_MALFORMED);
}

#[test]
fn a_rotated_password_is_accepted_within_its_window_and_refused_after() {
    let from = ip("3.87.163.45");
    let old = body("fleet-7", OLD_PASSWORD, 1);
    let new = body("fleet-7", PASSWORD, 1);

    let mut v = verifier();
    assert!(v.verify(from, old.as_bytes()).is_err(), "no previous password set yet");
    v.set_previous_password(OLD_PASSWORD, Duration::from_millis(300));
    assert!(v.verify(from, old.as_bytes()).is_ok());
    assert!(v.verify(from, new.as_bytes()).is_ok());
    std::thread::sleep(Duration::from_millis(400));
    let err = v.verify(from, old.as_bytes()).unwrap_err();
    assert_eq!(err.error_code(), codes::CALLBACK_REJECTED_CREDENTIALS);
    assert!(err.error_message().contains("previous"), "{}", err.error_message());
    assert!(v.verify(from, new.as_bytes()).is_ok(), "the current password still works");

    let mut never = verifier();
    never.set_previous_password(OLD_PASSWORD, Duration::ZERO);
    assert!(never.verify(from, old.as_bytes()).is_err());
    let mut forever = verifier();
    forever.set_previous_password(OLD_PASSWORD, Duration::MAX);
    assert!(forever.verify(from, old.as_bytes()).is_ok());
    assert!(forever.verify(from, body("fleet-7", "third", 1).as_bytes()).is_err());
}

#[test]
fn resends_share_a_dedup_key_and_different_messages_do_not() {
    let first = CallbackMessage::parse(body("fleet-7", PASSWORD, 1).as_bytes()).unwrap();
    let key = first.dedup_key();
    assert_eq!(key.len(), 64);
    assert!(key.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    let resends = [
        body("fleet-7", PASSWORD, 2),
        body("fleet-7", PASSWORD, 4),
        // After a rotation, an attempt may carry the other password (or username).
        body("fleet-7", OLD_PASSWORD, 3),
        body("fleet-8", PASSWORD, 2),
        // The same content with other key order and white space, and the count as a string.
        r#"{"status":"Success","maxCallbackThreshold":4,"callbackCount":"2",
            "deviceResponse":{"changeIdentifierResponse":{"iccid":"8914800000000000001"}},
            "deviceIds":[{"kind":"IMEI","id":"353238060000001"}],"requestId":"req-1",
            "password":"p","username":"u"}"#
            .to_owned(),
    ];
    for resend in &resends {
        assert_eq!(CallbackMessage::parse(resend.as_bytes()).unwrap().dedup_key(), key, "{resend}");
    }

    let different = [
        body("fleet-7", PASSWORD, 1).replace("req-1", "req-2"),
        body("fleet-7", PASSWORD, 1).replace("353238060000001", "353238060000002"),
        body("fleet-7", PASSWORD, 1).replace("IMEI", "imei"),
        body("fleet-7", PASSWORD, 1).replace("8914800000000000001", "8914800000000000002"),
        body("fleet-7", PASSWORD, 1).replace("Success", "Failed"),
        body("fleet-7", PASSWORD, 1).replace("deviceResponse", "niddResponse"),
        body("fleet-7", PASSWORD, 1).replace(r#""status""#, r#""note":"x","status""#),
    ];
    for other in &different {
        assert_ne!(CallbackMessage::parse(other.as_bytes()).unwrap().dedup_key(), key, "{other}");
    }
    // A fixed value: the key must not change between versions (listeners may store it). It is
    // SHA-256 of `{"requestId":"r"}`, computed with Python's hashlib.
    let fixed = CallbackMessage::parse(br#"{"requestId":"r","callbackCount":1,"password":"p"}"#).unwrap();
    assert_eq!(fixed.dedup_key(), "6007bd2fd256ab22b43adc9684ea0b0ea06e7769aaf038dacc299bf9b3bbf7c2");
}

#[test]
fn no_password_appears_in_any_error_or_debug_output() {
    let mut v = verifier();
    v.set_previous_password(OLD_PASSWORD, Duration::ZERO);
    let from = ip("3.87.163.45");
    let mut texts = vec![format!("{v:?}")];
    let bodies = [
        body("fleet-7", OLD_PASSWORD, 1),
        body("fleet-7", "Wr0ng-But-S3cret-Too", 1),
        body("fleet-8", PASSWORD, 1),
        format!(r#"{{"password":{{"value":"{PASSWORD}"}}}}"#),
        format!(r#"{{"password":["{PASSWORD}"]}}"#),
        format!(r#"{{"password":"{PASSWORD}","callbackCount":"{PASSWORD}"}}"#),
        format!(r#"{{"password":"{PASSWORD}","#),
    ];
    for body in &bodies {
        for source in [from, ip("192.0.2.1")] {
            let err = v.verify(source, body.as_bytes()).unwrap_err();
            texts.extend([err.to_string(), err.to_json(), format!("{err:?}")]);
        }
    }
    let msg = v.verify(from, body("fleet-7", PASSWORD, 1).as_bytes()).unwrap();
    texts.push(format!("{msg:?}"));
    texts.push(serde_json::to_string(msg.to_json_without_password()).unwrap());
    assert_eq!(msg.password().unwrap().expose(), PASSWORD, "the password itself is still readable");
    for text in texts {
        for secret in [PASSWORD, OLD_PASSWORD, "Wr0ng-But-S3cret-Too"] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
