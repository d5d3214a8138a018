//! Every validation rule: its own code, and nothing reaches the server.

mod common;

use std::time::Duration;

use common::{builder, client, ACCOUNT, LISTENER};
use tscb::{codes, CallbackRegistration, Client, ErrorKind};

#[test]
fn every_rule_rejects_before_sending() {
    let sim = common::sim();
    let client = client(&sim);
    let reg = |service: &str, url: &str| CallbackRegistration::new(service, url);
    let ok = || reg("CarrierService", LISTENER).unwrap();
    // The registration's own values are refused when it is made; the account and the port (whose
    // check depends on the client) by the call.
    let cases: Vec<(&str, tscb::Result<CallbackRegistration>, &str)> = vec![
        ("", Ok(ok()), codes::ACCOUNT_NAME_EMPTY),
        ("Test\nAccount", Ok(ok()), codes::ACCOUNT_NAME_INVALID_CHARACTER),
        ("Test\u{7f}", Ok(ok()), codes::ACCOUNT_NAME_INVALID_CHARACTER),
        ("..", Ok(ok()), codes::ACCOUNT_NAME_DOT_SEGMENT),
        (".", Ok(ok()), codes::ACCOUNT_NAME_DOT_SEGMENT),
        (ACCOUNT, reg("", LISTENER), codes::SERVICE_NAME_EMPTY),
        (ACCOUNT, reg("Carrier Service", LISTENER), codes::SERVICE_NAME_INVALID_CHARACTER),
        (ACCOUNT, reg("Carrier/../x", LISTENER), codes::SERVICE_NAME_INVALID_CHARACTER),
        (ACCOUNT, reg("Cärrier", LISTENER), codes::SERVICE_NAME_INVALID_CHARACTER),
        (ACCOUNT, reg("CarrierService", "listener.example.com/cb"), codes::CALLBACK_URL_MALFORMED),
        (ACCOUNT, reg("CarrierService", ""), codes::CALLBACK_URL_MALFORMED),
        (ACCOUNT, reg("CarrierService", "https://a.example/ x"), codes::CALLBACK_URL_MALFORMED),
        (ACCOUNT, reg("CarrierService", "ftp://a.example/cb"), codes::CALLBACK_URL_SCHEME),
        (ACCOUNT, reg("CarrierService", "file:///etc/passwd"), codes::CALLBACK_URL_SCHEME),
        (ACCOUNT, reg("CarrierService", "https://a.example:8443/cb"), codes::CALLBACK_URL_PORT),
        (ACCOUNT, reg("CarrierService", "http://a.example:9007/cb"), codes::CALLBACK_URL_PORT),
        (ACCOUNT, reg("CarrierService", "https://user:pw@a.example/cb"), codes::CALLBACK_URL_CREDENTIALS),
        (ACCOUNT, ok().with_username("u".repeat(41)), codes::USERNAME_TOO_LONG),
        (ACCOUNT, ok().with_username("a\u{0}b"), codes::USERNAME_INVALID_CHARACTER),
        (ACCOUNT, ok().with_password("p".repeat(41)), codes::PASSWORD_TOO_LONG),
        (ACCOUNT, ok().with_password("a\r\nb"), codes::PASSWORD_INVALID_CHARACTER),
    ];
    for (account, registration, code) in cases {
        let err = match registration {
            Ok(registration) => client.register_callback(account, &registration).unwrap_err(),
            Err(err) => err,
        };
        assert_eq!(err.error_code(), code, "{account:?}");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.http_status(), None);
        assert!(!err.error_message().is_empty());
    }
    for (account, service, code) in [
        ("", "CarrierService", codes::ACCOUNT_NAME_EMPTY),
        (ACCOUNT, "", codes::SERVICE_NAME_EMPTY),
        (ACCOUNT, "a/b", codes::SERVICE_NAME_INVALID_CHARACTER),
        (ACCOUNT, "CarrierService?x=1", codes::SERVICE_NAME_INVALID_CHARACTER),
    ] {
        assert_eq!(client.deregister_callback(account, service).unwrap_err().error_code(), code);
    }
    assert_eq!(client.list_callbacks("").unwrap_err().error_code(), codes::ACCOUNT_NAME_EMPTY);
    assert_eq!(
        client.list_callbacks("a\tb").unwrap_err().error_code(),
        codes::ACCOUNT_NAME_INVALID_CHARACTER
    );

    assert!(sim.requests().is_empty(), "nothing may be sent: {:?}", sim.requests());
}

#[test]
fn the_edges_of_the_rules_are_accepted() {
    let sim = common::sim();
    let client = client(&sim);
    let reg = CallbackRegistration::new("CarrierService", "http://listener.example.com:28220/cb")
        .unwrap()
        .with_username("ü".repeat(40))
        .unwrap()
        .with_password("p".repeat(40))
        .unwrap();
    client.register_callback(ACCOUNT, &reg).unwrap();
    assert_eq!(sim.requests().len(), 1);
}

#[test]
fn the_port_check_can_be_turned_off() {
    let sim = common::sim();
    let client = builder(&sim).check_callback_port(false).build().unwrap();
    let reg = CallbackRegistration::new("CarrierService", "https://listener.example.com:8443/cb").unwrap();
    client.register_callback(ACCOUNT, &reg).unwrap();
    assert_eq!(sim.registrations(ACCOUNT)[0].url, "https://listener.example.com:8443/cb");
}

#[test]
fn the_builder_checks_its_configuration() {
    let sim = common::sim();
    let err = |b: tscb::ClientBuilder| b.build().unwrap_err();
    let base = || Client::builder().base_url(sim.base_url());
    assert_eq!(err(base().session_token("s")).error_code(), codes::BEARER_TOKEN_MISSING);
    assert_eq!(err(base().bearer_token("b")).error_code(), codes::SESSION_TOKEN_MISSING);
    assert_eq!(err(base().bearer_token("").session_token("s")).error_code(), codes::BEARER_TOKEN_MISSING);
    assert_eq!(
        err(base().bearer_token("b\r\nX-Evil: 1").session_token("s")).error_code(),
        codes::BEARER_TOKEN_INVALID_CHARACTER
    );
    assert_eq!(
        err(base().bearer_token("b").session_token("s s")).error_code(),
        codes::SESSION_TOKEN_INVALID_CHARACTER
    );
    assert_eq!(
        err(base().bearer_token("b").session_token("s").user_agent("a\nb")).error_code(),
        codes::USER_AGENT_INVALID_CHARACTER
    );
    assert_eq!(
        err(base().bearer_token("b").session_token("s").timeout(Duration::ZERO)).error_code(),
        codes::TIMEOUT_ZERO
    );
    assert_eq!(
        err(base().bearer_token("b").session_token("s").timeout(Duration::MAX)).error_code(),
        codes::TIMEOUT_INVALID
    );
    assert_eq!(
        err(base().bearer_token("b").session_token("s").connect_timeout(Duration::from_secs(86_401)))
            .error_code(),
        codes::TIMEOUT_INVALID
    );
    assert_eq!(tscb::timeout_from_secs(1e19).unwrap_err().error_code(), codes::TIMEOUT_INVALID);
    assert_eq!(
        err(Client::builder().base_url("http://192.0.2.1/api").bearer_token("b").session_token("s"))
            .error_code(),
        codes::BASE_URL_INSECURE
    );
    assert_eq!(
        err(Client::builder().base_url("not a url").bearer_token("b").session_token("s")).error_code(),
        codes::BASE_URL_MALFORMED
    );
    let insecure_allowed = Client::builder()
        .base_url("http://192.0.2.1/api")
        .allow_insecure_http(true)
        .bearer_token("b")
        .session_token("s")
        .build();
    assert!(insecure_allowed.is_ok());
    let default = Client::builder().bearer_token("b").session_token("s").build().unwrap();
    assert_eq!(default.base_url(), "https://thingspace.verizon.com/api");
    assert!(sim.requests().is_empty());
}

#[test]
fn a_trailing_slash_on_the_base_url_does_not_double() {
    let sim = common::sim();
    let client = builder(&sim).base_url(format!("{}/", sim.base_url())).build().unwrap();
    client.list_callbacks(ACCOUNT).unwrap();
    assert_eq!(sim.requests()[0].path, "/api/m2m/v1/callbacks/TestAccount-2");
}
