//! `tscb::fleet` against the simulator: what a plan finds, what apply does, one sign-in for all
//! workers, and how failures and busy answers affect the other workers.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tscb_sim::SIM_PASSWORD;

use common::{client, count, sim, LISTENER};
use tscb::fleet::{Action, ApplyOptions, Desired, DesiredAccount, Plan, PlanOptions, Status};
use tscb::{CallbackRegistration, Client, ErrorKind};
use tscb_sim::{Fault, FaultAction, Simulator};

const OTHER: &str = "https://other.example.com/thingspace";

fn reg(service: &str, url: &str) -> CallbackRegistration {
    CallbackRegistration::new(service, url).unwrap()
}

fn signing_in(sim: &Simulator, password: &str) -> Client {
    common::with_password(sim, password).build().unwrap()
}

/// `n` new accounts, each wanting CarrierService and DeviceUsage at the listener.
fn fleet(sim: &Simulator, n: usize) -> Desired {
    Desired::new(
        (0..n)
            .map(|i| {
                let name = format!("0000200000-{i:05}");
                sim.add_account(&name);
                DesiredAccount::new(name, vec![reg("CarrierService", LISTENER), reg("DeviceUsage", LISTENER)])
            })
            .collect(),
    )
}

fn actions(plan: &Plan) -> Vec<(String, String, Action)> {
    plan.changes().iter().map(|c| (c.account.clone(), c.service.clone(), c.action)).collect()
}

#[test]
fn create_update_delete_and_unchanged_then_nothing_to_do() {
    let sim = sim();
    let client = client(&sim);
    client.register_callback("TestAccount-1", &reg("CarrierService", OTHER)).unwrap();
    client.register_callback("TestAccount-1", &reg("DeviceUsage", LISTENER)).unwrap();
    client.register_callback("TestAccount-1", &reg("SMSService", LISTENER)).unwrap();
    let desired = Desired::new(vec![
        DesiredAccount::new(
            "TestAccount-1",
            vec![reg("CarrierService", LISTENER), reg("DeviceUsage", LISTENER)],
        ),
        DesiredAccount::new(
            "TestAccount-2",
            vec![reg("CarrierService", LISTENER).with_username("fleet").unwrap()],
        ),
    ]);
    let row = |a: &str, s: &str, action| (a.to_owned(), s.to_owned(), action);

    // Without prune, a listener that is not desired is left alone.
    let plan = Plan::compute(&client, &desired, &PlanOptions::default()).unwrap();
    assert_eq!(
        actions(&plan),
        [
            row("TestAccount-1", "CarrierService", Action::Update),
            row("TestAccount-1", "DeviceUsage", Action::Unchanged),
            row("TestAccount-2", "CarrierService", Action::Create),
        ]
    );
    assert_eq!(plan.changes()[0].differences, ["url"]);

    let prune = PlanOptions { prune: true, ..PlanOptions::default() };
    let plan = Plan::compute(&client, &desired, &prune).unwrap();
    // An account's pruned listeners come after its desired ones.
    assert_eq!(actions(&plan)[2], row("TestAccount-1", "SMSService", Action::Delete));
    assert!(plan.has_changes());

    sim.clear_requests();
    let report = plan.apply(&client, &ApplyOptions::default()).unwrap();
    assert_eq!(
        (report.created(), report.updated(), report.deleted(), report.unchanged(), report.failed()),
        (1, 1, 1, 1, 0)
    );
    assert!(report.is_success());
    // Unchanged sends nothing: one register per create and update, one deregister.
    let sent: Vec<String> = sim.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(sent.iter().filter(|m| *m == "POST").count(), 2, "{sent:?}");
    assert_eq!(sent.iter().filter(|m| *m == "DELETE").count(), 1, "{sent:?}");

    let one = sim.registrations("TestAccount-1");
    assert_eq!(one.iter().map(|r| (r.service_name.as_str(), r.url.as_str())).collect::<Vec<_>>().len(), 2);
    assert!(one.iter().all(|r| r.url == LISTENER));
    let two = sim.registrations("TestAccount-2");
    assert_eq!(two[0].username.as_deref(), Some("fleet"));

    // Idempotent: the same desired state again finds nothing to do, and applying it sends nothing.
    let again = Plan::compute(&client, &desired, &prune).unwrap();
    assert!(!again.has_changes(), "{:?}", actions(&again));
    sim.clear_requests();
    let report = again.apply(&client, &ApplyOptions::default()).unwrap();
    assert_eq!(report.unchanged(), 3);
    assert!(sim.requests().is_empty());
}

#[test]
fn a_changed_password_is_an_update_that_is_never_shown() {
    let sim = sim();
    let client = client(&sim);
    let old = reg("CarrierService", LISTENER).with_password("old-listener-pw").unwrap();
    client.register_callback("TestAccount-1", &old).unwrap();
    let new = reg("CarrierService", LISTENER).with_password("new-listener-pw").unwrap();
    let desired = Desired::new(vec![DesiredAccount::new("TestAccount-1", vec![new])]);
    let plan = Plan::compute(&client, &desired, &PlanOptions::default()).unwrap();
    assert_eq!(plan.changes()[0].action, Action::Update);
    assert_eq!(plan.changes()[0].differences, ["password"]);
    let shown = format!("{plan:?} {:?}", plan.apply(&client, &ApplyOptions::default()).unwrap());
    assert!(!shown.contains("listener-pw"), "{shown}");
    assert_eq!(sim.registrations("TestAccount-1")[0].password.as_deref(), Some("new-listener-pw"));
    assert!(!Plan::compute(&client, &desired, &PlanOptions::default()).unwrap().has_changes());
}

#[test]
fn one_token_request_and_one_login_for_every_worker() {
    let sim = sim();
    let client = signing_in(&sim, SIM_PASSWORD);
    let desired = fleet(&sim, 30);
    let options = PlanOptions { concurrency: 8, ..PlanOptions::default() };
    let report = Plan::compute(&client, &desired, &options)
        .unwrap()
        .apply(&client, &ApplyOptions { concurrency: 8, max_rate: None })
        .unwrap();
    assert_eq!(report.created(), 60);
    assert_eq!(count(&sim, "/oauth2/token"), 1);
    assert_eq!(count(&sim, "/session/login"), 1);
    // Every callbacks request carried the one session's token.
    let requests = sim.requests();
    let sessions: std::collections::HashSet<_> =
        requests.iter().filter_map(|r| r.header("vz-m2m-token")).collect();
    assert_eq!(sessions.len(), 1);
}

#[test]
fn a_refused_login_stops_the_run_after_one_login() {
    let sim = sim();
    let client = signing_in(&sim, "wrong-password");
    let desired = fleet(&sim, 20);
    let options = PlanOptions { concurrency: 8, ..PlanOptions::default() };
    let err = Plan::compute(&client, &desired, &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.error_code(), "UnifiedWebService.REQUEST_FAILED.UserNotAuthorized");
    assert_eq!(count(&sim, "/session/login"), 1);
    assert!(!sim.requests().iter().any(|r| r.path.contains("/callbacks/")));
}

#[test]
fn an_auth_failure_during_apply_stops_the_other_workers() {
    let sim = sim();
    let client = client(&sim);
    let desired = fleet(&sim, 30);
    let plan = Plan::compute(&client, &desired, &PlanOptions::default()).unwrap();
    // The gateway refuses the (fixed) bearer token: nothing the client can renew.
    let refused = br#"{"fault":{"code":"900901","message":"Invalid Credentials","description":"x"}}"#;
    sim.inject(Fault::new(FaultAction::json(401, refused.to_vec())).method("POST"));
    sim.clear_requests();
    let report = plan.apply(&client, &ApplyOptions { concurrency: 4, max_rate: None }).unwrap();
    // Each of the four workers sends at most the request it had started.
    let posts = count(&sim, "");
    assert!((1..=4).contains(&posts), "{posts} requests after the refusal");
    assert_eq!(report.failed(), posts);
    assert_eq!(report.not_run(), 60 - posts);
    assert!(report.failures().all(|o| o.error().unwrap().kind() == ErrorKind::Auth));
}

#[test]
fn one_failing_account_does_not_stop_the_others() {
    let sim = sim();
    let client = client(&sim);
    let mut desired = fleet(&sim, 6);
    desired.accounts.insert(2, DesiredAccount::new("NoSuchAccount", vec![reg("CarrierService", LISTENER)]));
    let plan = Plan::compute(&client, &desired, &PlanOptions::default()).unwrap();
    assert_eq!(plan.failures().len(), 1);
    assert_eq!(plan.failures()[0].account, "NoSuchAccount");
    // And one that fails while applying: the service refuses its register.
    let refusal = br#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.Unknown","errorMessage":"no"}"#;
    sim.inject(
        Fault::new(FaultAction::json(400, refusal.to_vec()))
            .method("POST")
            .path_contains("/callbacks/0000200000-00004")
            .times(1),
    );
    let report = plan.apply(&client, &ApplyOptions { concurrency: 3, max_rate: None }).unwrap();
    assert_eq!(report.created(), 11);
    let failures: Vec<(&str, &str)> =
        report.failures().map(|o| (o.account.as_str(), o.error().unwrap().error_code())).collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures.contains(&("0000200000-00004", "UnifiedWebService.REQUEST_FAILED.Unknown")));
    assert!(failures.contains(&("NoSuchAccount", "UnifiedWebService.REQUEST_FAILED.AccountNotFound")));
}

#[test]
fn an_update_the_service_refuses_is_deregister_then_register() {
    let sim = sim();
    let client = client(&sim);
    client.register_callback("TestAccount-1", &reg("CarrierService", OTHER)).unwrap();
    let desired =
        Desired::new(vec![DesiredAccount::new("TestAccount-1", vec![reg("CarrierService", LISTENER)])]);
    let plan = Plan::compute(&client, &desired, &PlanOptions::default()).unwrap();
    let refusal =
        br#"{"errorCode":"UnifiedWebService.REQUEST_FAILED.AlreadyRegistered","errorMessage":"no"}"#;
    sim.inject(Fault::new(FaultAction::json(400, refusal.to_vec())).method("POST").times(1));
    sim.clear_requests();
    let report = plan.apply(&client, &ApplyOptions::default()).unwrap();
    match &report.outcomes[0].status {
        Status::Replaced { refused_with } => {
            assert_eq!(refused_with, "UnifiedWebService.REQUEST_FAILED.AlreadyRegistered")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(report.updated(), 1);
    let methods: Vec<String> = sim.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["POST", "DELETE", "POST"]);
    assert_eq!(sim.registrations("TestAccount-1")[0].url, LISTENER);
}

#[test]
fn a_busy_answer_pauses_every_worker() {
    let sim = sim();
    let client = client(&sim);
    let desired = Desired::new(
        fleet(&sim, 40)
            .accounts
            .into_iter()
            .map(|a| DesiredAccount::new(a.name, vec![reg("CarrierService", LISTENER)]))
            .collect(),
    );
    let plan = Plan::compute(&client, &desired, &PlanOptions::default()).unwrap();
    sim.clear_requests();
    // The first register is answered "busy, retry after 1 s"; every register takes 100 ms.
    sim.inject(
        Fault::new(FaultAction::Respond {
            status: 429,
            content_type: None,
            body: Vec::new(),
            headers: vec![("Retry-After".into(), "1".into())],
        })
        .method("POST")
        .times(1),
    );
    sim.inject(Fault::new(FaultAction::Delay { ms: 100 }).method("POST"));

    // When each request arrived, as seen by polling the simulator's log.
    let seen: Mutex<Vec<Instant>> = Mutex::new(Vec::new());
    let finished = AtomicBool::new(false);
    let report = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !finished.load(Ordering::SeqCst) {
                let n = sim.requests().len();
                let mut seen = seen.lock().unwrap();
                while seen.len() < n {
                    seen.push(Instant::now());
                }
                drop(seen);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let report = plan.apply(&client, &ApplyOptions { concurrency: 4, max_rate: None }).unwrap();
        finished.store(true, Ordering::SeqCst);
        report
    });
    assert_eq!(report.created(), 40, "the busy one was sent again");
    assert_eq!(sim.requests().len(), 41);
    let seen = seen.into_inner().unwrap();
    // Without the shared pause the other three workers would send about twenty registers in
    // the second after the busy answer; with it, none goes between 0.25 s and 0.9 s after it.
    let busy_at = seen[0];
    let paused = seen
        .iter()
        .filter(|t| (Duration::from_millis(250)..Duration::from_millis(900)).contains(&(**t - busy_at)))
        .count();
    assert_eq!(paused, 0, "requests sent while every worker should wait");
    assert!(*seen.last().unwrap() - busy_at >= Duration::from_millis(900));
}

#[test]
fn nothing_is_sent_for_an_invalid_desired_state() {
    let sim = sim();
    let client = client(&sim);
    let desired = Desired::new(vec![
        DesiredAccount::new("TestAccount-1", vec![reg("CarrierService", LISTENER)]),
        DesiredAccount::new(
            "TestAccount-2",
            vec![reg("CarrierService", "https://listener.example.com:8443/cb")],
        ),
    ]);
    let err = Plan::compute(&client, &desired, &PlanOptions::default()).unwrap_err();
    assert_eq!(err.error_code(), tscb::codes::CALLBACK_URL_PORT);
    assert!(err.error_message().starts_with("account \"TestAccount-2\", service \"CarrierService\""));
    let zero = PlanOptions { concurrency: 0, ..PlanOptions::default() };
    let ok = Desired::new(vec![DesiredAccount::new("TestAccount-1", vec![reg("CarrierService", LISTENER)])]);
    assert_eq!(
        Plan::compute(&client, &ok, &zero).unwrap_err().error_code(),
        tscb::codes::FLEET_OPTION_INVALID
    );
    assert!(sim.requests().is_empty());
}
