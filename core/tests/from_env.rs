//! `ClientBuilder::from_env`: the `THINGSPACE_*` variables reach the builder, one that is not
//! UTF-8 is refused by name, an empty one is an error (never a silent switch of sign-in), and
//! none at all says which to set. One test in its own binary: it changes the process's
//! environment, which no other test may see half-changed.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use tscb::env::{self, EnvSettings};
use tscb::{codes, ClientBuilder};
use tscb_sim::{
    Simulator, SIM_BEARER_TOKEN, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_SESSION_TOKEN,
    SIM_USERNAME,
};

const ALL: [&str; 8] = [
    env::CLIENT_ID,
    env::CLIENT_SECRET,
    env::LOGIN_USERNAME,
    env::LOGIN_PASSWORD,
    env::BEARER_TOKEN,
    env::SESSION_TOKEN,
    env::BASE_URL,
    env::CA_FILE,
];

fn only(vars: &[(&str, &[u8])]) {
    for name in ALL {
        std::env::remove_var(name);
    }
    for (name, value) in vars {
        std::env::set_var(name, OsStr::from_bytes(value));
    }
}

#[test]
fn from_env_reads_the_variables_and_refuses_what_cannot_be_used() {
    let sim = Simulator::start().unwrap();
    let url = sim.base_url();

    // Nothing set: which variables to set, with the code of a builder without credentials.
    only(&[(env::BASE_URL, url.as_bytes())]);
    let err = ClientBuilder::from_env().unwrap_err();
    assert_eq!(err.error_code(), codes::BEARER_TOKEN_MISSING);
    for name in &ALL[..6] {
        assert!(err.error_message().contains(name), "{name}: {err}");
    }

    // Fixed tokens and the base URL.
    only(&[
        (env::BASE_URL, url.as_bytes()),
        (env::BEARER_TOKEN, SIM_BEARER_TOKEN.as_bytes()),
        (env::SESSION_TOKEN, SIM_SESSION_TOKEN.as_bytes()),
    ]);
    let client = ClientBuilder::from_env().unwrap().build().unwrap();
    assert_eq!(client.base_url(), url);
    client.list_callbacks("TestAccount-2").unwrap();
    let sent = sim.requests();
    assert_eq!(sent.len(), 1, "no sign-in with fixed tokens");
    assert_eq!(sent[0].header("authorization"), Some(&*format!("Bearer {SIM_BEARER_TOKEN}")));

    // The credentials: the client signs in with them.
    only(&[
        (env::BASE_URL, url.as_bytes()),
        (env::CLIENT_ID, SIM_CLIENT_ID.as_bytes()),
        (env::CLIENT_SECRET, SIM_CLIENT_SECRET.as_bytes()),
        (env::LOGIN_USERNAME, SIM_USERNAME.as_bytes()),
        (env::LOGIN_PASSWORD, SIM_PASSWORD.as_bytes()),
    ]);
    ClientBuilder::from_env().unwrap().build().unwrap().login().unwrap();

    // A setting replaced before the builder is made wins over its variable.
    let mut settings = EnvSettings::read().unwrap();
    settings.base_url = Some("http://127.0.0.1:1/api".to_owned());
    assert_eq!(settings.builder().unwrap().build().unwrap().base_url(), "http://127.0.0.1:1/api");

    // Not UTF-8: refused by name, the value never shown.
    for name in ALL {
        only(&[
            (env::BEARER_TOKEN, SIM_BEARER_TOKEN.as_bytes()),
            (env::SESSION_TOKEN, SIM_SESSION_TOKEN.as_bytes()),
            (name, b"secret-\xff"),
        ]);
        let err = ClientBuilder::from_env().unwrap_err();
        assert_eq!(err.error_code(), codes::ARGUMENT_ENCODING, "{name}");
        assert!(err.error_message().contains(name), "{err}");
        assert!(!err.to_string().contains("secret-"), "{err}");
    }

    // Empty: an error that names the setting, never "unset" (which for the bearer token would
    // switch to the OAuth credentials).
    let oauth = [
        (env::CLIENT_ID, SIM_CLIENT_ID.as_bytes()),
        (env::CLIENT_SECRET, SIM_CLIENT_SECRET.as_bytes()),
        (env::LOGIN_USERNAME, SIM_USERNAME.as_bytes()),
        (env::LOGIN_PASSWORD, SIM_PASSWORD.as_bytes()),
    ];
    for (name, code) in [
        (env::BEARER_TOKEN, codes::BEARER_TOKEN_MISSING),
        (env::CLIENT_SECRET, codes::CLIENT_SECRET_INVALID),
        (env::BASE_URL, codes::BASE_URL_MALFORMED),
        (env::CA_FILE, codes::CA_FILE_INVALID),
    ] {
        let mut vars: Vec<(&str, &[u8])> = oauth.iter().filter(|(n, _)| *n != name).copied().collect();
        vars.push((name, b""));
        only(&vars);
        let err = ClientBuilder::from_env().and_then(|b| b.build()).unwrap_err();
        assert_eq!(err.error_code(), code, "{name}: {err}");
    }
    only(&[]);
}
