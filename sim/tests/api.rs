//! The ThingSpace endpoints: success and error bodies, exactly as the clients will see them.

mod common;

use std::thread;
use std::time::Duration;

use common::{
    base64_of, call, login_body, m2m, own_login, register, Conn, Resp, BASIC, BEARER, CALLBACKS, SESSION,
};
use serde_json::json;
use tscb_sim::{SimConfig, Simulator, SIM_BEARER_TOKEN, SIM_CLIENT_ID, SIM_USERNAME};

const TOKEN: &str = "/api/ts/v1/oauth2/token";
const LOGIN: &str = "/api/m2m/v1/session/login";
const LOGOUT: &str = "/api/m2m/v1/session/logout";
const FORM: &str = "application/x-www-form-urlencoded";

fn ask_token(sim: &Simulator, authorization: &str, content_type: &str, body: &str) -> Resp {
    call(
        sim,
        "POST",
        TOKEN,
        &[("Authorization", authorization), ("Content-Type", content_type)],
        body.as_bytes(),
    )
}

fn with_tokens(sim: &Simulator, method: &str, target: &str, bearer: &str, session: &str, body: &str) -> Resp {
    let authorization = format!("Bearer {bearer}");
    call(
        sim,
        method,
        target,
        &[("Authorization", &authorization), ("VZ-M2M-Token", session), ("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

fn assert_error(resp: &Resp, status: u16, code: &str) {
    assert_eq!(resp.status, status, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(resp.code(), code, "{}", resp.text());
}

#[test]
fn token_is_issued_and_reused() {
    let sim = Simulator::start().unwrap();
    let first = ask_token(&sim, &BASIC, FORM, "grant_type=client_credentials");
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("content-type"), Some("application/json"));
    let first = first.json();
    let token = first["access_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(first["token_type"], "bearer");
    assert_eq!(first["expires_in"], 3600);
    assert_eq!(first["scope"], "am_application_scope default");

    // Charset parameters and extra form fields do not matter; the same token comes back.
    let again = ask_token(
        &sim,
        "basic c2ltLWNsaWVudC1pZDpzaW0tY2xpZW50LXNlY3JldA==",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "scope=x&grant_type=client_credentials",
    )
    .json();
    assert_eq!(again["access_token"], token.as_str());
    let left = again["expires_in"].as_u64().unwrap();
    assert!((3590..=3600).contains(&left), "{left}");

    // The issued token opens the connectivity API.
    let listed = with_tokens(&sim, "GET", &format!("{CALLBACKS}/TestAccount-1"), &token, SESSION, "");
    assert_eq!(listed.status, 200, "{}", listed.text());
}

#[test]
fn token_errors() {
    let sim = Simulator::start().unwrap();
    let grant = "grant_type=client_credentials";
    let wrong_secret = format!("Basic {}", base64_of(&format!("{SIM_CLIENT_ID}:wrong")));
    for authorization in [wrong_secret.as_str(), "Basic !!!", BEARER.as_str(), ""] {
        let resp = ask_token(&sim, authorization, FORM, grant);
        assert_error(&resp, 401, "invalid_client");
        assert_eq!(resp.json()["error_description"], "Client authentication failed");
    }
    let resp = call(&sim, "POST", TOKEN, &[("Content-Type", FORM)], grant.as_bytes());
    assert_error(&resp, 401, "invalid_client");

    for body in ["grant_type=password", "", "grant_type="] {
        let resp = ask_token(&sim, &BASIC, FORM, body);
        assert_error(&resp, 400, "unsupported_grant_type");
    }
    let resp = ask_token(&sim, &BASIC, "application/json", grant);
    assert_error(&resp, 400, "invalid_request");
}

#[test]
fn issued_tokens_expire_after_their_lifetime() {
    let config = SimConfig { token_lifetime: Duration::from_millis(300), ..SimConfig::default() };
    let sim = Simulator::start_with(config, "127.0.0.1:0").unwrap();
    let first = ask_token(&sim, &BASIC, FORM, "grant_type=client_credentials").json();
    let token = first["access_token"].as_str().unwrap().to_owned();
    let target = format!("{CALLBACKS}/TestAccount-1");
    assert_eq!(with_tokens(&sim, "GET", &target, &token, SESSION, "").status, 200);

    thread::sleep(Duration::from_millis(400));
    let refused = with_tokens(&sim, "GET", &target, &token, SESSION, "");
    assert_error(&refused, 401, "900901");
    let fresh = ask_token(&sim, &BASIC, FORM, "grant_type=client_credentials").json();
    assert_ne!(fresh["access_token"], token.as_str());
    // The fixed test token never expires.
    assert_eq!(m2m(&sim, "GET", &target, "").status, 200);
}

#[test]
fn bearer_check() {
    let sim = Simulator::start().unwrap();
    let target = format!("{CALLBACKS}/TestAccount-1");
    let missing = call(&sim, "GET", &target, &[("VZ-M2M-Token", SESSION)], b"");
    assert_error(&missing, 401, "900902");
    assert_eq!(
        missing.json(),
        json!({"fault": {
            "code": "900902",
            "message": "Missing Credentials",
            "description": "Make sure your API invocation call has a header: 'Authorization : Bearer ACCESS_TOKEN'",
        }})
    );
    let basic = call(&sim, "GET", &target, &[("Authorization", BASIC.as_str())], b"");
    assert_error(&basic, 401, "900902");

    let invalid = with_tokens(&sim, "GET", &target, "not-a-token", SESSION, "");
    assert_error(&invalid, 401, "900901");
    assert_eq!(invalid.json()["fault"]["message"], "Invalid Credentials");
    // The bearer check comes before the session check.
    let both_bad = with_tokens(&sim, "POST", LOGOUT, "nope", "nope", "");
    assert_error(&both_bad, 401, "900901");
}

#[test]
fn login_and_logout() {
    let sim = Simulator::start().unwrap();
    let login = m2m(&sim, "POST", LOGIN, &own_login());
    assert_eq!(login.status, 200, "{}", login.text());
    let session = login.json()["sessionToken"].as_str().unwrap().to_owned();
    let parts: Vec<usize> = session.split('-').map(str::len).collect();
    assert_eq!(parts, [8, 4, 4, 4, 12], "{session}");

    let target = format!("{CALLBACKS}/TestAccount-1");
    assert_eq!(with_tokens(&sim, "GET", &target, SIM_BEARER_TOKEN, &session, "").status, 200);

    let logout = with_tokens(&sim, "POST", LOGOUT, SIM_BEARER_TOKEN, &session, "");
    assert_eq!(logout.status, 200);
    assert_eq!(logout.json(), json!({"sessionToken": session}));
    let after = with_tokens(&sim, "GET", &target, SIM_BEARER_TOKEN, &session, "");
    assert_error(&after, 400, "UnifiedWebService.INPUT_INVALID.SessionToken.Invalid");
}

#[test]
fn login_errors() {
    let sim = Simulator::start().unwrap();
    let wrong = m2m(&sim, "POST", LOGIN, &login_body("nope"));
    assert_error(&wrong, 400, "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized");
    assert_eq!(wrong.json()["errorMessage"], "Invalid username or password");
    for body in ["", "{", "[]", &json!({ "username": SIM_USERNAME }).to_string()] {
        let resp = m2m(&sim, "POST", LOGIN, body);
        assert_error(&resp, 400, "UnifiedWebService.INPUT_INVALID.RequestUndefined");
    }
    let unauthenticated = call(&sim, "POST", LOGIN, &[], own_login().as_bytes());
    assert_error(&unauthenticated, 401, "900902");
}

#[test]
fn session_errors() {
    let sim = Simulator::start().unwrap();
    let target = format!("{CALLBACKS}/TestAccount-1");
    let missing = call(&sim, "GET", &target, &[("Authorization", BEARER.as_str())], b"");
    assert_error(&missing, 400, "UnifiedWebService.REQUEST_FAILED.SessionToken.Format");
    assert_eq!(
        missing.json(),
        json!({
            "errorCode": "UnifiedWebService.REQUEST_FAILED.SessionToken.Format",
            "errorMessage": "Session token is missing",
        })
    );
    let unknown =
        with_tokens(&sim, "GET", &target, SIM_BEARER_TOKEN, "1d1f8e7a-c8bb-4f3c-a924-cf612b562425", "");
    assert_error(&unknown, 400, "UnifiedWebService.INPUT_INVALID.SessionToken.Invalid");

    let login = m2m(&sim, "POST", LOGIN, &own_login());
    let session = login.json()["sessionToken"].as_str().unwrap().to_owned();
    sim.expire_sessions();
    for token in [SESSION, session.as_str()] {
        let expired = with_tokens(&sim, "GET", &target, SIM_BEARER_TOKEN, token, "");
        assert_error(&expired, 400, "UnifiedWebService.REQUEST_FAILED.SessionToken.Expired");
        let logout = with_tokens(&sim, "POST", LOGOUT, SIM_BEARER_TOKEN, token, "");
        assert_error(&logout, 400, "UnifiedWebService.REQUEST_FAILED.SessionToken.Expired");
    }
    // Logging in again is the cure.
    let login = m2m(&sim, "POST", LOGIN, &own_login());
    let fresh = login.json()["sessionToken"].as_str().unwrap().to_owned();
    assert_eq!(with_tokens(&sim, "GET", &target, SIM_BEARER_TOKEN, &fresh, "").status, 200);
}

#[test]
fn sessions_expire_when_idle() {
    let config = SimConfig { session_idle_timeout: Duration::from_millis(300), ..SimConfig::default() };
    let sim = Simulator::start_with(config, "127.0.0.1:0").unwrap();
    let target = format!("{CALLBACKS}/TestAccount-1");
    // Each use restarts the idle clock, so steady use outlives the timeout.
    for _ in 0..3 {
        thread::sleep(Duration::from_millis(150));
        assert_eq!(m2m(&sim, "GET", &target, "").status, 200);
    }
    thread::sleep(Duration::from_millis(400));
    let expired = m2m(&sim, "GET", &target, "");
    assert_error(&expired, 400, "UnifiedWebService.REQUEST_FAILED.SessionToken.Expired");
    assert_eq!(expired.json()["errorMessage"], "Session token expired");
}

#[test]
fn register_list_and_deregister() {
    let sim = Simulator::start().unwrap();
    let target = format!("{CALLBACKS}/0000123456-00001");
    let empty = m2m(&sim, "GET", &target, "");
    assert_eq!(empty.status, 200);
    assert_eq!(empty.header("content-type"), Some("application/json"));
    assert_eq!(empty.body, b"[]");

    let resp = register(
        &sim,
        "0000123456-00001",
        r#"{"name":"CarrierService","url":"http://10.0.0.1:50559/cb","username":"u","password":"p"}"#,
    );
    assert_eq!(resp.json(), json!({"accountName": "0000123456-00001", "serviceName": "CarrierService"}));
    register(&sim, "0000123456-00001", r#"{"name":"DeviceUsage","url":"https://x/y"}"#);

    let listed = m2m(&sim, "GET", &target, "").json();
    assert_eq!(
        listed,
        json!([
            {"accountName": "0000123456-00001", "serviceName": "CarrierService",
             "url": "http://10.0.0.1:50559/cb", "username": "u", "password": "p"},
            {"accountName": "0000123456-00001", "serviceName": "DeviceUsage",
             "url": "https://x/y", "username": "", "password": ""},
        ])
    );
    let stored = sim.registrations("0000123456-00001");
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].username.as_deref(), Some("u"));
    assert_eq!(stored[0].password.as_deref(), Some("p"));
    assert_eq!(stored[1].username, None);

    // A second registration for a service replaces the first.
    register(&sim, "0000123456-00001", r#"{"name":"CarrierService","url":"http://new/"}"#);
    let stored = sim.registrations("0000123456-00001");
    let services: Vec<_> = stored.iter().map(|r| (r.service_name.as_str(), r.url.as_str())).collect();
    assert_eq!(services, [("DeviceUsage", "https://x/y"), ("CarrierService", "http://new/")]);

    let deleted = m2m(&sim, "DELETE", &format!("{target}/name/CarrierService"), "");
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.json(), json!({"accountName": "0000123456-00001", "serviceName": "CarrierService"}));
    let again = m2m(&sim, "DELETE", &format!("{target}/name/CarrierService"), "");
    assert_error(&again, 400, "UnifiedWebService.REQUEST_FAILED.ServiceNotRegistered");
    assert_eq!(again.json()["errorMessage"], "No callback registered for service CarrierService");
    assert_eq!(sim.registrations("0000123456-00001").len(), 1);
    assert!(sim.registrations("TestAccount-1").is_empty());
}

#[test]
fn register_errors() {
    let sim = Simulator::start().unwrap();
    let target = format!("{CALLBACKS}/TestAccount-2");
    let long_username = json!({"name": "S", "url": "u", "username": "a".repeat(41)}).to_string();
    let long_password = json!({"name": "S", "url": "u", "password": "p".repeat(41)}).to_string();
    let cases: [(&str, &str); 11] = [
        ("", "UnifiedWebService.INPUT_INVALID.RequestUndefined"),
        ("{\"name\":", "UnifiedWebService.INPUT_INVALID.Request.InvalidCharacter"),
        ("[1]", "UnifiedWebService.INPUT_INVALID.Request.InvalidCharacter"),
        (r#"{"url":"http://x/"}"#, "UnifiedWebService.INPUT_INVALID.Request.MissingField"),
        (r#"{"name":"","url":"http://x/"}"#, "UnifiedWebService.INPUT_INVALID.Request.MissingField"),
        (r#"{"name":7,"url":"http://x/"}"#, "UnifiedWebService.INPUT_INVALID.Request.MissingField"),
        (r#"{"name":"S"}"#, "UnifiedWebService.INPUT_INVALID.Request.MissingField"),
        (r#"{"name":"S","url":""}"#, "UnifiedWebService.INPUT_INVALID.Request.MissingField"),
        (&long_username, "UnifiedWebService.INPUT_INVALID.Request.FieldLength"),
        (&long_password, "UnifiedWebService.INPUT_INVALID.Request.FieldLength"),
        (
            r#"{"name":"S","url":"u","username":5}"#,
            "UnifiedWebService.INPUT_INVALID.Request.InvalidCharacter",
        ),
    ];
    for (body, code) in cases {
        let resp = m2m(&sim, "POST", &target, body);
        assert_error(&resp, 400, code);
    }
    let missing_name = m2m(&sim, "POST", &target, r#"{"url":"http://x/"}"#);
    assert_eq!(missing_name.json()["errorMessage"], "name is required");
    let missing_url = m2m(&sim, "POST", &target, r#"{"name":"S"}"#);
    assert_eq!(missing_url.json()["errorMessage"], "url is required");
    let empty = m2m(&sim, "POST", &target, "");
    assert_eq!(empty.json()["errorMessage"], "Request body is empty");
    assert!(sim.registrations("TestAccount-2").is_empty());

    // Forty characters is the limit, counted as characters, not bytes.
    let limit = json!({"name": "S", "url": "u", "username": "é".repeat(40), "password": "p".repeat(40)});
    register(&sim, "TestAccount-2", &limit.to_string());

    let unknown = m2m(&sim, "POST", &format!("{CALLBACKS}/NoSuchAccount"), r#"{"name":"S","url":"u"}"#);
    assert_error(&unknown, 400, "UnifiedWebService.REQUEST_FAILED.AccountNotFound");
    assert_eq!(unknown.json()["errorMessage"], "Account not found");
    for method in ["GET", "DELETE"] {
        let path = if method == "GET" {
            format!("{CALLBACKS}/NoSuchAccount")
        } else {
            format!("{CALLBACKS}/NoSuchAccount/name/S")
        };
        let resp = m2m(&sim, method, &path, "");
        assert_error(&resp, 400, "UnifiedWebService.REQUEST_FAILED.AccountNotFound");
    }
}

#[test]
fn account_and_service_segments_are_percent_decoded() {
    let sim = Simulator::start().unwrap();
    sim.add_account("a/b c?#%");
    let segment = "a%2Fb%20c%3F%23%25";
    let resp = register(&sim, segment, r#"{"name":"Odd Service","url":"http://x/"}"#);
    assert_eq!(resp.json()["accountName"], "a/b c?#%");
    assert_eq!(sim.registrations("a/b c?#%").len(), 1);
    assert_eq!(sim.requests()[0].path, format!("{CALLBACKS}/{segment}"));

    let listed = m2m(&sim, "GET", &format!("{CALLBACKS}/{segment}"), "").json();
    assert_eq!(listed[0]["accountName"], "a/b c?#%");
    let deleted = m2m(&sim, "DELETE", &format!("{CALLBACKS}/{segment}/name/Odd%20Service"), "");
    assert_eq!(deleted.json()["serviceName"], "Odd Service");

    // Unescaped, the same name is several segments and matches nothing.
    let resp = m2m(&sim, "POST", &format!("{CALLBACKS}/a/b"), r#"{"name":"S","url":"u"}"#);
    assert_error(&resp, 404, "900906");
    // Path tricks do not reach other endpoints.
    let resp = m2m(&sim, "POST", &format!("{CALLBACKS}/../../ts/v1/oauth2/token"), "");
    assert_error(&resp, 404, "900906");
}

#[test]
fn unknown_paths_and_wrong_methods_get_the_gateway_404() {
    let sim = Simulator::start().unwrap();
    let cases = [
        ("GET", "/api/m2m/v1/nothing"),
        ("PUT", "/api/m2m/v1/callbacks/TestAccount-1"),
        ("GET", "/api/m2m/v1/session/login"),
        ("GET", "/api/ts/v1/oauth2/token"),
        ("DELETE", "/api/m2m/v1/callbacks/TestAccount-1"),
        ("POST", "/api/m2m/v1/callbacks/TestAccount-1/name/S"),
        ("GET", "/api/m2m/v1/callbacks/"),
        ("GET", "/api/m2m/v1/callbacks/TestAccount-1/"),
    ];
    for (method, path) in cases {
        let resp = m2m(&sim, method, path, "");
        assert_error(&resp, 404, "900906");
        assert_eq!(
            resp.json()["fault"]["message"],
            "No matching resource found for given API Request",
            "{method} {path}"
        );
    }
}

#[test]
fn requests_are_recorded_as_sent() {
    let sim = Simulator::start().unwrap();
    let mut conn = Conn::open(sim.addr());
    conn.send(
        "POST",
        "/api/m2m/v1/callbacks/TestAccount-1?x=1",
        &[("Authorization", BEARER.as_str()), ("X-Mixed-Case", "Value As Sent")],
        b"{\"a\":1}",
    )
    .unwrap();
    conn.send("GET", "/__admin/requests", &[], b"").unwrap();
    let recorded = sim.requests();
    assert_eq!(recorded.len(), 1, "admin requests are not recorded");
    let r = &recorded[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/api/m2m/v1/callbacks/TestAccount-1?x=1");
    assert_eq!(r.body, b"{\"a\":1}");
    assert_eq!(r.header("x-mixed-case"), Some("Value As Sent"));
    assert_eq!(r.header("AUTHORIZATION"), Some(BEARER.as_str()));
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["host", "authorization", "x-mixed-case", "content-length"]);
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}
