//! `-v` / `-vv`: what the client does, on stderr, and never a secret.

mod common;

use common::{stderr, stdout, tscb};
use tscb_sim::{SIM_BEARER_TOKEN, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_SESSION_TOKEN};

fn run(verbosity: &[&str]) -> (String, String) {
    let mut args = vec!["register"];
    args.extend_from_slice(verbosity);
    args.extend_from_slice(&[
        "--sim",
        "--account",
        "TestAccount-2",
        "--service",
        "CarrierService",
        "--url",
        "https://listener.example.com/cb",
        "--password-env",
        "LISTENER_PW",
    ]);
    let out = tscb(&[("LISTENER_PW", "listener-s3cret-pw")], &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (stdout(&out), stderr(&out))
}

#[test]
fn v_shows_decisions_and_vv_every_request_without_a_secret() {
    let (_, quiet) = run(&[]);
    assert_eq!(quiet, "");

    let (_, v) = run(&["-v"]);
    assert!(v.contains("tscb: info: fetching an OAuth token\n"), "{v}");
    assert!(v.contains("tscb: info: logging in (session login)\n"), "{v}");
    assert!(!v.contains("tscb: debug:"), "{v}");

    let (stdout, vv) = run(&["-vv"]);
    assert!(stdout.starts_with("registered CarrierService"), "{stdout}");
    assert!(vv.contains("tscb: debug: POST /api/m2m/v1/callbacks/TestAccount-2 -> 200 in "), "{vv}");
    for secret in ["listener-s3cret-pw", SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_BEARER_TOKEN, SIM_SESSION_TOKEN]
    {
        assert!(!vv.contains(secret), "{secret} in {vv}");
    }
    // Only the library's own records: nothing from hyper, reqwest or rustls.
    assert!(vv.lines().all(|l| l.starts_with("tscb: ")), "{vv}");
}
