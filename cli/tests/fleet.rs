//! `tscb plan` and `tscb apply` as a user runs them: the built binary, a fleet file, the
//! credentials in the environment, against a simulator started by the test.

mod common;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use tscb_sim::{SIM_BEARER_TOKEN, SIM_PASSWORD, SIM_SESSION_TOKEN};

use common::{command, stderr, stdout, CREDENTIALS};
use tscb_sim::Simulator;

const LISTENER_PW: &str = "fleet-listener-pw";

/// The simulator's credentials with this login password, and LISTENER_PW.
fn credentials(password: &str) -> Vec<(&'static str, String)> {
    let mut env: Vec<(&str, String)> = CREDENTIALS.iter().map(|(n, v)| (*n, v.to_string())).collect();
    env[3] = ("THINGSPACE_LOGIN_PASSWORD", password.into());
    env.push(("LISTENER_PW", LISTENER_PW.into()));
    env
}

/// A fleet file in a directory of its own, removed when dropped.
struct FleetFile {
    dir: PathBuf,
    path: PathBuf,
}

impl FleetFile {
    fn new(test: &str, text: &str) -> FleetFile {
        let dir = std::env::temp_dir().join(format!("tscb-fleet-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fleet.toml");
        std::fs::write(&path, text).unwrap();
        FleetFile { dir, path }
    }
}

impl Drop for FleetFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `tscb COMMAND ... --base-url <sim>` with exactly `env` as its THINGSPACE_* environment and stdin
/// not a terminal.
fn tscb(sim: &Simulator, env: &[(&str, String)], args: &[&str]) -> Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let base = sim.base_url();
    let mut all = args.to_vec();
    all.extend_from_slice(&["--base-url", base.as_str()]);
    let mut child = command(&env, &all)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn count(sim: &Simulator, path_end: &str) -> usize {
    sim.requests().iter().filter(|r| r.path.ends_with(path_end)).count()
}

/// Four accounts with two services each, the password from LISTENER_PW.
fn fleet_of_four(sim: &Simulator) -> String {
    let mut file = String::from(
        "[defaults]\nurl = \"https://listener.example.com/thingspace\"\nusername = \"fleet\"\n\
         password_env = \"LISTENER_PW\"\nservices = [\"CarrierService\", \"DeviceUsage\"]\n",
    );
    for i in 0..4 {
        let name = format!("0000300000-{i:05}");
        sim.add_account(&name);
        file.push_str(&format!("\n[[account]]\nname = \"{name}\"\n"));
    }
    file
}

#[test]
fn plan_apply_then_nothing_to_do_with_one_sign_in() {
    let sim = Simulator::start().unwrap();
    let file = FleetFile::new("cycle", &fleet_of_four(&sim));
    let f = file.path.to_str().unwrap();
    let env = credentials(SIM_PASSWORD);

    let plan = tscb(&sim, &env, &["plan", "-f", f, "--exit-code"]);
    assert_eq!(plan.status.code(), Some(8), "{}", stderr(&plan));
    let shown = stdout(&plan);
    assert!(
        shown.contains("+ create    0000300000-00000 CarrierService https://listener.example.com/thingspace"),
        "{shown}"
    );
    assert!(shown.contains("plan: 8 to create, 0 to update, 0 to delete, 0 unchanged"), "{shown}");

    sim.clear_requests();
    let apply = tscb(&sim, &env, &["apply", "-f", f, "--yes", "--concurrency", "4"]);
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    let out = stdout(&apply);
    assert!(out.contains("apply: 8 created, 0 updated, 0 deleted, 0 unchanged, 0 failed"), "{out}");
    // One run, one token request and one login, shared by the four workers.
    assert_eq!(count(&sim, "/oauth2/token"), 1);
    assert_eq!(count(&sim, "/session/login"), 1);
    let reg = &sim.registrations("0000300000-00003")[1];
    assert_eq!((reg.username.as_deref(), reg.password.as_deref()), (Some("fleet"), Some(LISTENER_PW)));

    let again = tscb(&sim, &env, &["plan", "-f", f, "--exit-code"]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    let apply = tscb(&sim, &env, &["apply", "-f", f, "--yes"]);
    assert!(stdout(&apply).contains("apply: 0 created, 0 updated, 0 deleted, 8 unchanged, 0 failed"));
    for output in [&plan, &again, &apply] {
        assert!(!stdout(output).contains(LISTENER_PW) && !stderr(output).contains(LISTENER_PW));
    }
}

#[test]
fn json_plan_with_update_and_prune() {
    let sim = Simulator::start().unwrap();
    let file = FleetFile::new(
        "json",
        "[[account]]\nname = \"TestAccount-1\"\nurl = \"https://new.example.com/cb\"\nservices = [\"CarrierService\"]\n",
    );
    let f = file.path.to_str().unwrap();
    let env = credentials(SIM_PASSWORD);
    let client = tscb::Client::builder()
        .base_url(sim.base_url())
        .bearer_token(SIM_BEARER_TOKEN)
        .session_token(SIM_SESSION_TOKEN)
        .build()
        .unwrap();
    let old = tscb::CallbackRegistration::new("CarrierService", "https://old.example.com/cb").unwrap();
    client.register_callback("TestAccount-1", &old).unwrap();
    client.register_callback("TestAccount-1", &old.clone().with_password("pw").unwrap()).unwrap();
    let sms = tscb::CallbackRegistration::new("SMSService", "https://old.example.com/cb").unwrap();
    client.register_callback("TestAccount-1", &sms).unwrap();

    let plan = tscb(&sim, &env, &["plan", "--json", "-f", f, "--prune"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let value: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(value["changes"][0]["action"], "update");
    assert_eq!(value["changes"][0]["differences"], serde_json::json!(["url", "password"]));
    assert_eq!(value["changes"][1]["action"], "delete");
    assert_eq!(value["changes"][1]["service"], "SMSService");
    assert_eq!(value["summary"]["update"], 1);

    let apply = tscb(&sim, &env, &["apply", "-f", f, "--prune", "--yes"]);
    assert!(stdout(&apply).contains("apply: 0 created, 1 updated, 1 deleted, 0 unchanged, 0 failed"));
    let left = sim.registrations("TestAccount-1");
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].url.as_str(), left[0].password.as_deref()), ("https://new.example.com/cb", None));

    // Scripts get the report as JSON too.
    let again = tscb(&sim, &env, &["apply", "--json", "-f", f, "--prune", "--yes"]);
    assert_eq!(again.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(value["summary"]["unchanged"], 1);
    assert_eq!(value["summary"]["failed"], 0);
    assert_eq!(value["outcomes"][0]["action"], "unchanged");
    // The statuses are core's words, and the duration has the name it has in Rust and Python.
    assert_eq!(value["outcomes"][0]["status"], "done");
    assert!(value["summary"]["elapsed"].as_f64().is_some_and(|s| s >= 0.0), "{value}");
}

#[test]
fn apply_without_a_terminal_needs_yes_and_sends_nothing() {
    let sim = Simulator::start().unwrap();
    let file = FleetFile::new("tty", &fleet_of_four(&sim));
    let out = tscb(&sim, &credentials(SIM_PASSWORD), &["apply", "-f", file.path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("add --yes"), "{}", stderr(&out));
    assert!(sim.requests().is_empty());
}

#[test]
fn a_bad_file_names_file_line_and_account_and_sends_nothing() {
    let sim = Simulator::start().unwrap();
    let bad = fleet_of_four(&sim)
        + "\n[[account]]\nname = \"TestAccount-1\"\nurl = \"https://x.example.com:8443/cb\"\n";
    let file = FleetFile::new("bad", &bad);
    let f = file.path.to_str().unwrap();
    let out = tscb(&sim, &credentials(SIM_PASSWORD), &["plan", "-f", f]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    let line = bad.lines().position(|l| l.contains(":8443")).unwrap() + 1;
    assert!(err.contains(&format!("{f}:{line}: account \"TestAccount-1\"")), "{err}");
    assert!(err.contains("Tscb.INPUT_INVALID.CallbackUrl.Port"), "{err}");

    // An unset password variable is named, and its (absent) value is not the problem's text.
    let env: Vec<_> = credentials(SIM_PASSWORD).into_iter().filter(|(n, _)| *n != "LISTENER_PW").collect();
    let good = FleetFile::new("unset", &fleet_of_four(&sim));
    let out = tscb(&sim, &env, &["apply", "--yes", "-f", good.path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("password_env names LISTENER_PW, which is not set"));
    assert!(sim.requests().is_empty());
}

#[test]
fn a_refused_login_stops_apply_after_one_login() {
    let sim = Simulator::start().unwrap();
    let file = FleetFile::new("refused", &fleet_of_four(&sim));
    let out = tscb(
        &sim,
        &credentials("wrong-password"),
        &["apply", "--yes", "--concurrency", "8", "-f", file.path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("UserNotAuthorized"));
    assert_eq!(count(&sim, "/session/login"), 1);
    assert!(!sim.requests().iter().any(|r| r.path.contains("/callbacks/")));
}

#[test]
fn one_failing_account_does_not_stop_the_others() {
    let sim = Simulator::start().unwrap();
    let file =
        FleetFile::new("failing", &(fleet_of_four(&sim) + "\n[[account]]\nname = \"NoSuchAccount\"\n"));
    let f = file.path.to_str().unwrap();
    let out = tscb(&sim, &credentials(SIM_PASSWORD), &["apply", "--yes", "-f", f]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(shown.contains("apply: 8 created, 0 updated, 0 deleted, 0 unchanged, 1 failed"), "{shown}");
    assert!(
        shown.contains("failed account NoSuchAccount: UnifiedWebService.REQUEST_FAILED.AccountNotFound"),
        "{shown}"
    );
    // The plan says so too, with the same exit code.
    let plan = tscb(&sim, &credentials(SIM_PASSWORD), &["plan", "-f", f]);
    assert_eq!(plan.status.code(), Some(4));
    assert!(
        stdout(&plan).contains("! failed    NoSuchAccount UnifiedWebService.REQUEST_FAILED.AccountNotFound")
    );
}

/// A fleet path that is a directory, a device or a file over 64 MiB is refused at once with its
/// name and the reason: before, /dev/zero was read until memory ran out, and a 65 MiB file read
/// whole.
#[test]
fn a_fleet_path_that_is_no_file_of_sensible_size_is_refused_naming_it() {
    let sim = Simulator::start().unwrap();
    let file = FleetFile::new("large", "");
    // Sparse: 65 MiB that cost no disk.
    std::fs::File::options().write(true).open(&file.path).unwrap().set_len(65 * 1024 * 1024).unwrap();
    let dir = file.dir.to_str().unwrap();
    for (path, why) in [
        (dir, "it is not a regular file (a directory)"),
        ("/dev/zero", "it is not a regular file (a character device)"),
        (file.path.to_str().unwrap(), "it is larger than 64 MiB, the limit"),
    ] {
        let out = tscb(&sim, &credentials(SIM_PASSWORD), &["plan", "-f", path]);
        assert_eq!(out.status.code(), Some(3), "{path}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&format!("{path}: cannot be read: {why}")), "{err}");
        assert!(err.contains("Tscb.INPUT_INVALID.Fleet.File"), "{err}");
    }
    assert!(sim.requests().is_empty());
}
