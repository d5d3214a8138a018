//! The built `tscb` binary against a simulator started with `tscb sim`, as a user runs them:
//! register, list and deregister, the exit codes, the help, where the base URL and the
//! credentials come from, and the timeout. The login and its guard, `tscb sim` itself and the
//! secrets kept out of the output have files of their own.

mod common;

use common::{stderr, stdout, tscb, Sim, CREDENTIALS};
use tscb_sim::{SIM_BEARER_TOKEN, SIM_SESSION_TOKEN};

#[test]
fn register_list_deregister_with_credentials_from_the_environment() {
    let sim = Sim::start();
    let mut env = CREDENTIALS.to_vec();
    env.push(("LISTENER_PW", "echoed-SECRET-1"));
    let o = sim.run(
        &env,
        &[
            "register",
            "--account",
            "TestAccount-2",
            "--service",
            "CarrierService",
            "--url",
            "https://listener.example.com/cb",
            "--username",
            "fleet-7",
            "--password-env",
            "LISTENER_PW",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "registered CarrierService for account TestAccount-2\n");

    let o = sim.run(&env, &["list", "--account", "TestAccount-2"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text
        .contains("CarrierService\thttps://listener.example.com/cb\tusername: fleet-7\tpassword: ********"));
    assert!(!text.contains("echoed-SECRET-1"));

    let o = sim.run(&env, &["list", "--account", "TestAccount-2", "--show-passwords"]);
    assert!(stdout(&o).contains("password: echoed-SECRET-1"));

    let o = sim.run(&env, &["list", "--json", "--account", "TestAccount-2"]);
    let listed: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(listed[0]["serviceName"], "CarrierService");
    assert_eq!(listed[0]["password"], "********");

    let o =
        sim.run(&env, &["deregister", "--json", "--account", "TestAccount-2", "--service", "CarrierService"]);
    assert_eq!(o.status.code(), Some(0));
    let ack: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(ack, serde_json::json!({"accountName": "TestAccount-2", "serviceName": "CarrierService"}));
    let o = sim.run(&env, &["list", "--account", "TestAccount-2"]);
    assert_eq!(stdout(&o), "no callback listeners registered for account TestAccount-2\n");
}

#[test]
fn fixed_tokens_from_the_environment_work_too() {
    let sim = Sim::start();
    let env =
        [("THINGSPACE_BEARER_TOKEN", SIM_BEARER_TOKEN), ("THINGSPACE_SESSION_TOKEN", SIM_SESSION_TOKEN)];
    let o = sim.run(&env, &["list", "--account", "TestAccount-1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sim.count("/session/login"), 0);
}

#[test]
fn a_bad_account_service_or_url_is_refused_while_parsing_with_the_library_code() {
    let sim = Sim::start();
    let env = CREDENTIALS;
    for (args, code) in [
        (&["list", "--account", ".."][..], "Tscb.INPUT_INVALID.AccountName.DotSegment"),
        (
            &["deregister", "--account", "A", "--service", "a/b"][..],
            "Tscb.INPUT_INVALID.ServiceName.InvalidCharacter",
        ),
        (
            &["register", "--account", "A", "--service", "S", "--url", "ftp://x.example"][..],
            "Tscb.INPUT_INVALID.CallbackUrl.Scheme",
        ),
        (
            &["register", "--account", "", "--service", "S", "--url", "https://x.example"][..],
            "Tscb.INPUT_INVALID.AccountName.Empty",
        ),
    ] {
        let o = sim.run(&env, args);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).starts_with(&format!("error: {code}: ")), "{args:?}: {}", stderr(&o));
        let mut json = args.to_vec();
        json.push("--json");
        let o = sim.run(&env, &json);
        assert_eq!(o.status.code(), Some(3), "{json:?}: {}", stderr(&o));
        let e: serde_json::Value = serde_json::from_str(&stderr(&o)).unwrap();
        assert_eq!(e["errorCode"], code);
    }
    // Refused before the environment is even read: no credential is needed to be told.
    let o = sim.run(&[], &["list", "--account", ".."]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).starts_with("error: Tscb.INPUT_INVALID.AccountName.DotSegment: "), "{}", stderr(&o));
    // A secret in a refused URL is not echoed, as the library never does.
    let o = sim.run(
        &env,
        &["register", "--account", "A", "--service", "S", "--url", "https://x.example/ ?k=TOPSECRET"],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(!stderr(&o).contains("TOPSECRET"), "{}", stderr(&o));
    assert!(sim.requests().is_empty(), "nothing may be sent: {:?}", sim.requests());
}

#[test]
fn exit_codes_tell_failures_apart() {
    let sim = Sim::start();
    let env = CREDENTIALS;
    // Bad input: nothing is sent.
    let o = sim.run(
        &env,
        &["register", "--account", "A", "--service", "Carrier Service", "--url", "https://x.example"],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).starts_with("error: Tscb.INPUT_INVALID.ServiceName.InvalidCharacter: "),
        "{}",
        stderr(&o)
    );
    let o = sim.run(
        &env,
        &[
            "register",
            "--account",
            "A",
            "--service",
            "S",
            "--url",
            "https://x.example",
            "--password-env",
            "NOT_SET_ANYWHERE",
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("NOT_SET_ANYWHERE"));
    assert!(sim.requests().is_empty());
    // The service's own error.
    let o = sim.run(&env, &["list", "--account", "NoSuchAccount"]);
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(
        stderr(&o),
        "error: UnifiedWebService.REQUEST_FAILED.AccountNotFound: Account not found (HTTP 400)\n"
    );
    let o = sim.run(&env, &["list", "--json", "--account", "NoSuchAccount"]);
    let e: serde_json::Value = serde_json::from_str(&stderr(&o)).unwrap();
    assert_eq!(e["errorCode"], "UnifiedWebService.REQUEST_FAILED.AccountNotFound");
    // Network failure.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/api");
    let o = tscb(&env, &["list", "--base-url", &url, "--account", "A"]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    // Usage.
    assert_eq!(tscb(&env, &["list"]).status.code(), Some(2));
    // No credentials at all.
    let o = sim.run(&[], &["list", "--account", "A"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("THINGSPACE_CLIENT_ID"));
}

#[test]
fn help_lists_the_exit_codes_and_no_secret_option_exists() {
    let o = tscb(&[], &["--help"]);
    let help = stdout(&o);
    for line in ["3  bad input", "4  the service answered", "5  authentication failed", "6  network failure"]
    {
        assert!(help.contains(line), "{help}");
    }
    let register = stdout(&tscb(&[], &["register", "--help"]));
    assert!(register.contains("--password-env"));
    assert!(!register.contains("--password "), "a password must never be an argument");
    assert!(!help.contains("--token"));
}

#[test]
fn the_base_url_can_come_from_the_environment() {
    let sim = Sim::start();
    let mut env = CREDENTIALS.to_vec();
    env.push(("THINGSPACE_BASE_URL", sim.base_url.as_str()));
    let o = tscb(&env, &["list", "--account", "TestAccount-1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sim.count("/callbacks/TestAccount-1"), 1);
}

#[test]
fn timeout_bounds_the_whole_call() {
    let sim = Sim::start();
    sim.admin("POST", "/__admin/faults", r#"{"path_contains":"/oauth2/token","action":"delay","ms":10000}"#);
    let start = std::time::Instant::now();
    let o = sim.run(&CREDENTIALS, &["login", "--call-timeout", "2"]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stderr(&o).contains("Tscb.REQUEST_FAILED.Timeout"), "{}", stderr(&o));
    assert!(start.elapsed() < std::time::Duration::from_millis(3500), "took {:?}", start.elapsed());
}
