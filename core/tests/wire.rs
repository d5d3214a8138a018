//! Each call's success path and the exact request it puts on the wire.

mod common;

use std::time::Duration;
use tscb_sim::{SIM_BEARER_TOKEN, SIM_SESSION_TOKEN};

use common::{client, ACCOUNT, LISTENER};
use serde_json::{json, Value};
use tscb::{services, CallbackRegistration};

fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("request body is JSON")
}

#[test]
fn register_sends_exactly_the_documented_request() {
    let sim = common::sim();
    let client = client(&sim);
    let reg = CallbackRegistration::new(services::CARRIER_SERVICE, LISTENER)
        .unwrap()
        .with_username("fleet-7")
        .unwrap()
        .with_password("echo-pw")
        .unwrap();
    let ack = client.register_callback(ACCOUNT, &reg).unwrap();
    assert_eq!(ack.account_name, ACCOUNT);
    assert_eq!(ack.service_name, "CarrierService");

    let requests = sim.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/api/m2m/v1/callbacks/TestAccount-2");
    assert_eq!(r.header("authorization"), Some(format!("Bearer {SIM_BEARER_TOKEN}").as_str()));
    assert_eq!(r.header("vz-m2m-token"), Some(SIM_SESSION_TOKEN));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(r.header("user-agent"), Some(concat!("tscb/", env!("CARGO_PKG_VERSION"))));
    assert_eq!(
        body_json(&r.body),
        json!({"name": "CarrierService", "url": LISTENER, "username": "fleet-7", "password": "echo-pw"})
    );

    let stored = sim.registrations(ACCOUNT);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].url, LISTENER);
    assert_eq!(stored[0].password.as_deref(), Some("echo-pw"));
}

#[test]
fn unset_optional_fields_are_left_out() {
    let sim = common::sim();
    let reg = CallbackRegistration::new("DeviceUsage", "http://203.0.113.9:50559/cb").unwrap();
    client(&sim).register_callback(ACCOUNT, &reg).unwrap();
    let body = body_json(&sim.requests()[0].body);
    assert_eq!(body, json!({"name": "DeviceUsage", "url": "http://203.0.113.9:50559/cb"}));
    let text = String::from_utf8(sim.requests()[0].body.clone()).unwrap();
    assert!(!text.contains("username") && !text.contains("password") && !text.contains("null"));
}

#[test]
fn unknown_service_names_are_sent_as_given() {
    let sim = common::sim();
    let reg = CallbackRegistration::new("FutureService2", LISTENER).unwrap();
    let ack = client(&sim).register_callback(ACCOUNT, &reg).unwrap();
    assert_eq!(ack.service_name, "FutureService2");
    assert_eq!(body_json(&sim.requests()[0].body)["name"], "FutureService2");
}

#[test]
fn list_returns_what_was_registered() {
    let sim = common::sim();
    let client = client(&sim);
    assert!(client.list_callbacks(ACCOUNT).unwrap().is_empty());
    client
        .register_callback(
            ACCOUNT,
            &CallbackRegistration::new("CarrierService", LISTENER)
                .unwrap()
                .with_username("u")
                .unwrap()
                .with_password("p")
                .unwrap(),
        )
        .unwrap();
    client
        .register_callback(
            ACCOUNT,
            &CallbackRegistration::new("DeviceUsage", "https://other.example.com/x").unwrap(),
        )
        .unwrap();

    let listed = client.list_callbacks(ACCOUNT).unwrap();
    assert_eq!(listed.len(), 2);
    let carrier = listed.iter().find(|c| c.service_name == "CarrierService").unwrap();
    assert_eq!(carrier.account_name, ACCOUNT);
    assert_eq!(carrier.url, LISTENER);
    assert_eq!(carrier.username.as_deref(), Some("u"));
    assert_eq!(carrier.password.as_ref().map(|p| p.expose()), Some("p"));
    let usage = listed.iter().find(|c| c.service_name == "DeviceUsage").unwrap();
    // The service lists unset credentials as empty strings; they come back as None.
    assert_eq!(usage.username, None);
    assert_eq!(usage.password, None);

    let r = sim.requests().pop().unwrap();
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, "/api/m2m/v1/callbacks/TestAccount-2");
    assert_eq!(r.header("authorization"), Some(format!("Bearer {SIM_BEARER_TOKEN}").as_str()));
    assert_eq!(r.header("vz-m2m-token"), Some(SIM_SESSION_TOKEN));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert!(r.body.is_empty());
}

#[test]
fn deregister_sends_the_documented_request_and_removes_the_listener() {
    let sim = common::sim();
    let client = client(&sim);
    client
        .register_callback(ACCOUNT, &CallbackRegistration::new("CarrierService", LISTENER).unwrap())
        .unwrap();
    let ack = client.deregister_callback(ACCOUNT, "CarrierService").unwrap();
    assert_eq!((ack.account_name.as_str(), ack.service_name.as_str()), (ACCOUNT, "CarrierService"));
    let r = sim.requests().pop().unwrap();
    assert_eq!(r.method, "DELETE");
    assert_eq!(r.path, "/api/m2m/v1/callbacks/TestAccount-2/name/CarrierService");
    assert_eq!(r.header("vz-m2m-token"), Some(SIM_SESSION_TOKEN));
    assert!(r.body.is_empty());
    assert!(sim.registrations(ACCOUNT).is_empty());
    assert!(client.list_callbacks(ACCOUNT).unwrap().is_empty());
}

#[test]
fn account_names_are_one_path_segment_and_keep_leading_zeros() {
    let sim = common::sim();
    let client = client(&sim);
    for (account, encoded) in [
        ("0000123456-00001", "0000123456-00001"),
        ("a/b?c#d%e f", "a%2Fb%3Fc%23d%25e%20f"),
        ("../../ts/v1/oauth2/token", "..%2F..%2Fts%2Fv1%2Foauth2%2Ftoken"),
        ("ünï", "%C3%BCn%C3%AF"),
    ] {
        sim.add_account(account);
        sim.clear_requests();
        let ack = client
            .register_callback(account, &CallbackRegistration::new("CarrierService", LISTENER).unwrap())
            .unwrap();
        assert_eq!(ack.account_name, account);
        assert_eq!(sim.requests()[0].path, format!("/api/m2m/v1/callbacks/{encoded}"));
        assert_eq!(sim.registrations(account).len(), 1, "{account}");
        assert_eq!(client.list_callbacks(account).unwrap()[0].account_name, account);
        client.deregister_callback(account, "CarrierService").unwrap();
        assert_eq!(sim.requests()[2].path, format!("/api/m2m/v1/callbacks/{encoded}/name/CarrierService"));
    }
    // The path-traversal name reached the callbacks endpoint as an account, never the token endpoint.
    assert!(sim.requests().iter().all(|r| r.path.starts_with("/api/m2m/v1/callbacks/")));
}

#[test]
fn connections_are_reused() {
    let sim = common::sim();
    let client = client(&sim);
    for _ in 0..20 {
        client.list_callbacks(ACCOUNT).unwrap();
    }
    let connections: std::collections::HashSet<u64> =
        sim.requests().iter().map(|r| r.connection_id).collect();
    assert_eq!(connections.len(), 1, "20 sequential calls should share one keep-alive connection");
}

/// A client keeps a keep-alive connection per call in flight at once, not per thread: threads
/// that take turns share one connection, and eight at once open no more than eight.
#[test]
fn connections_follow_concurrency_not_threads() {
    let sim = common::sim();
    let client = client(&sim);
    let connections = |sim: &tscb_sim::Simulator| -> std::collections::HashSet<u64> {
        sim.requests().iter().map(|r| r.connection_id).collect()
    };
    for _ in 0..6 {
        std::thread::scope(|s| {
            s.spawn(|| client.list_callbacks(ACCOUNT).unwrap());
        });
    }
    assert_eq!(connections(&sim).len(), 1, "six threads one after another");
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..20 {
                    client.list_callbacks(ACCOUNT).unwrap();
                }
            });
        }
    });
    assert_eq!(sim.requests().len(), 6 + 160);
    let opened = connections(&sim).len();
    assert!((1..=8).contains(&opened), "eight threads at once opened {opened} connections");
}

#[test]
fn one_client_serves_many_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<tscb::Client>();

    let sim = common::sim();
    let client = client(&sim);
    std::thread::scope(|s| {
        for t in 0..8 {
            let client = &client;
            s.spawn(move || {
                let service = format!("Service{t}");
                for _ in 0..50 {
                    let ack = client
                        .register_callback(ACCOUNT, &CallbackRegistration::new(&service, LISTENER).unwrap())
                        .unwrap();
                    assert_eq!(ack.service_name, service);
                }
            });
        }
    });
    assert_eq!(sim.requests().len(), 400);
    assert_eq!(client.list_callbacks(ACCOUNT).unwrap().len(), 8);
}

/// Servers and load balancers close keep-alive connections that stay idle (ThingSpace's
/// front end and the simulator alike): the next call, even a register (a POST, which is not
/// retried blindly), goes through on a new connection rather than failing on the closed one.
#[test]
fn a_keep_alive_connection_the_server_closed_while_idle_is_not_used_again() {
    let config = tscb_sim::SimConfig { idle_timeout: Duration::from_millis(200), ..Default::default() };
    let sim = tscb_sim::Simulator::start_with(config, "127.0.0.1:0").unwrap();
    let client = client(&sim);
    for round in 0..5 {
        let reg = CallbackRegistration::new("CarrierService", LISTENER).unwrap();
        client.register_callback(ACCOUNT, &reg).unwrap_or_else(|e| panic!("round {round}: {e}"));
        std::thread::sleep(Duration::from_millis(400));
    }
    let connections: std::collections::HashSet<u64> =
        sim.requests().iter().map(|r| r.connection_id).collect();
    assert_eq!(connections.len(), 5, "each call after an idle close needs a new connection");
}

/// Host names are looked up by asking the name server (here a test one on loopback), and a
/// name that does not exist is a connection error that names it, with nothing sent.
#[test]
fn host_names_are_looked_up_and_an_unknown_one_is_a_connect_error() {
    let sim = common::sim();
    let dns = common::dns_server("api.tscb.test");
    let builder = |host: &str| {
        tscb::Client::builder()
            .base_url(format!("http://{host}:{}/api", sim.addr().port()))
            .allow_insecure_http(true)
            .bearer_token(SIM_BEARER_TOKEN)
            .session_token(SIM_SESSION_TOKEN)
            .name_server_for_tests(dns)
            .build()
            .unwrap()
    };
    let client = builder("api.tscb.test");
    let reg = CallbackRegistration::new("CarrierService", LISTENER).unwrap();
    client.register_callback(ACCOUNT, &reg).unwrap();
    assert_eq!(sim.requests().len(), 1);

    let err = builder("nowhere.tscb.test").list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!(err.error_code(), tscb::codes::CONNECT, "{err}");
    assert!(err.error_message().contains("could not look up nowhere.tscb.test: no such host"), "{err}");
    assert_eq!(sim.requests().len(), 1, "nothing more was sent");
}
