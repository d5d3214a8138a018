//! The records the client gives a `log` logger: each request and each decision, never a secret.
//! One logger per test binary, so each test keeps the records of its own thread.

mod common;

use std::sync::{Mutex, Once};
use std::thread::ThreadId;
use std::time::Duration;
use tscb_sim::{SIM_BEARER_TOKEN, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_SESSION_TOKEN};

use common::{ACCOUNT, LISTENER};
use log::{Level, Log, Metadata, Record};
use tscb::CallbackRegistration;
use tscb_sim::{Fault, FaultAction};

static RECORDS: Mutex<Vec<(ThreadId, Level, String, String)>> = Mutex::new(Vec::new());

struct Capture;

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &Record<'_>) {
        let entry = (
            std::thread::current().id(),
            record.level(),
            record.target().to_owned(),
            record.args().to_string(),
        );
        RECORDS.lock().unwrap().push(entry);
    }
    fn flush(&self) {}
}

/// Runs `f` with every record captured; returns this thread's records from the `tscb` target.
fn records_of(f: impl FnOnce()) -> Vec<(Level, String)> {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
    f();
    let me = std::thread::current().id();
    RECORDS
        .lock()
        .unwrap()
        .iter()
        .filter(|(thread, _, target, _)| *thread == me && target == tscb::LOG_TARGET)
        .map(|(_, level, _, message)| (*level, message.clone()))
        .collect()
}

const SECRETS: [&str; 5] =
    [SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_BEARER_TOKEN, SIM_SESSION_TOKEN, "echo-pw-1234"];

fn no_secret_in(records: &[(Level, String)]) {
    for (_, message) in records {
        for secret in SECRETS {
            assert!(!message.contains(secret), "{secret} in {message}");
        }
        assert!(!message.contains("Bearer ") && !message.contains('{'), "a header or body in {message}");
    }
}

#[test]
fn each_request_and_decision_is_recorded_without_a_secret() {
    let sim = common::sim();
    let records = records_of(|| {
        let client = common::with_credentials(&sim)
            .retry(tscb::RetryPolicy::default().initial_backoff(Duration::from_millis(1)))
            .build()
            .unwrap();
        let reg = CallbackRegistration::new("CarrierService", LISTENER)
            .unwrap()
            .with_password("echo-pw-1234")
            .unwrap();
        client.register_callback(ACCOUNT, &reg).unwrap();
        sim.inject(
            Fault::new(FaultAction::Respond {
                status: 503,
                content_type: None,
                body: vec![],
                headers: vec![],
            })
            .times(1),
        );
        client.list_callbacks(ACCOUNT).unwrap();
        sim.expire_sessions();
        client.deregister_callback(ACCOUNT, "CarrierService").unwrap();
    });
    let text: Vec<String> = records.iter().map(|(level, m)| format!("{level} {m}")).collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(has("INFO fetching an OAuth token"), "{text:#?}");
    assert!(has("DEBUG POST /api/ts/v1/oauth2/token -> 200 in "), "{text:#?}");
    assert!(has("INFO logging in (session login)"), "{text:#?}");
    assert!(has(&format!("DEBUG POST /api/m2m/v1/callbacks/{ACCOUNT} -> 200 in ")), "{text:#?}");
    assert!(
        has(&format!("DEBUG GET /api/m2m/v1/callbacks/{ACCOUNT} -> 503 Tscb.REQUEST_FAILED.HttpStatus in ")),
        "{text:#?}"
    );
    assert!(has(&format!("INFO retrying GET /api/m2m/v1/callbacks/{ACCOUNT} in ")), "{text:#?}");
    assert!(has("INFO logging in again: the service says the session expired or is invalid"), "{text:#?}");
    no_secret_in(&records);
}

#[test]
fn a_login_not_sent_again_is_a_warning() {
    let sim = common::sim();
    let records = records_of(|| {
        let client = common::with_password(&sim, "wrong-password-9").build().unwrap();
        assert!(client.login().is_err());
        assert!(client.login().is_err());
    });
    assert!(
        records.iter().any(|(level, m)| *level == Level::Warn && m.starts_with("login not sent (")),
        "{records:#?}"
    );
    assert!(records.iter().all(|(_, m)| !m.contains("wrong-password-9")));
    no_secret_in(&records);
}
