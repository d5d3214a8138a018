//! The built `tscb` binary against a simulator started with `tscb sim`, as a user runs them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_tscb");
const CREDENTIALS: [(&str, &str); 4] = [
    ("THINGSPACE_CLIENT_ID", "sim-client-id"),
    ("THINGSPACE_CLIENT_SECRET", "sim-client-secret"),
    ("THINGSPACE_USERNAME", "sim-user"),
    ("THINGSPACE_PASSWORD", "sim-password"),
];

/// `tscb sim` in the background, killed when dropped.
struct Sim {
    child: Child,
    base_url: String,
    // Kept open so that the simulator's later lines have somewhere to go.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Sim {
    fn start() -> Sim {
        let mut child = Command::new(BIN)
            .args(["sim", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("tscb sim starts");
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        let base_url = first.trim().strip_prefix("listening on ").expect("first line").to_owned();
        Sim { child, base_url, _stdout: stdout }
    }

    fn requests(&self) -> Vec<serde_json::Value> {
        let addr = self.base_url.trim_start_matches("http://").trim_end_matches("/api");
        let mut conn = TcpStream::connect(addr).unwrap();
        write!(conn, "GET /__admin/requests HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        let body = answer.split_once("\r\n\r\n").unwrap().1;
        serde_json::from_str(body).unwrap()
    }

    /// A request to the simulator's admin API, e.g. `("POST", "/__admin/faults", json)`.
    fn admin(&self, method: &str, path: &str, body: &str) {
        let addr = self.base_url.trim_start_matches("http://").trim_end_matches("/api");
        let mut conn = TcpStream::connect(addr).unwrap();
        write!(
            conn,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 2"), "{answer}");
    }

    fn count(&self, path_end: &str) -> usize {
        self.requests().iter().filter(|r| r["path"].as_str().unwrap().ends_with(path_end)).count()
    }

    /// `tscb --base-url <sim> ARGS` with exactly `env` as its THINGSPACE_* environment.
    fn run(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut all = vec!["--base-url", self.base_url.as_str()];
        all.extend_from_slice(args);
        tscb(env, &all)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tscb(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("THINGSPACE_")) {
        command.env_remove(name);
    }
    // Refused logins are remembered under XDG_STATE_HOME: never in the user's own, and apart
    // for each test process (a test may give its own).
    let state = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-state");
    command.env("XDG_STATE_HOME", state);
    command.envs(env.iter().copied()).args(args).output().expect("tscb runs")
}

/// A state directory of one test's own, removed when dropped.
struct StateDir(std::path::PathBuf);

impl StateDir {
    fn new(name: &str) -> StateDir {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        StateDir(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

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

    let o = sim.run(&env, &["--json", "list", "--account", "TestAccount-2"]);
    let listed: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(listed[0]["serviceName"], "CarrierService");
    assert_eq!(listed[0]["password"], "********");

    let o =
        sim.run(&env, &["--json", "deregister", "--account", "TestAccount-2", "--service", "CarrierService"]);
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
        [("THINGSPACE_BEARER_TOKEN", "sim-bearer-token"), ("THINGSPACE_SESSION_TOKEN", "sim-session-token")];
    let o = sim.run(&env, &["list", "--account", "TestAccount-1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sim.count("/session/login"), 0);
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
    let o = sim.run(&env, &["--json", "list", "--account", "NoSuchAccount"]);
    let e: serde_json::Value = serde_json::from_str(&stderr(&o)).unwrap();
    assert_eq!(e["errorCode"], "UnifiedWebService.REQUEST_FAILED.AccountNotFound");
    // Network failure.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/api");
    let o = tscb(&env, &["--base-url", &url, "list", "--account", "A"]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    // Usage.
    assert_eq!(tscb(&env, &["list"]).status.code(), Some(2));
    // No credentials at all.
    let o = sim.run(&[], &["list", "--account", "A"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("THINGSPACE_CLIENT_ID"));
}

#[test]
fn a_bad_password_is_an_auth_failure_after_one_login() {
    let sim = Sim::start();
    let mut env = CREDENTIALS.to_vec();
    env[3] = ("THINGSPACE_PASSWORD", "wrong-SECRET-2");
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("UserNotAuthorized"));
    assert!(!stderr(&o).contains("wrong-SECRET-2"));
    assert_eq!(sim.count("/session/login"), 1);
}

#[test]
fn login_checks_the_credentials_and_prints_nothing_secret() {
    let sim = Sim::start();
    let o = sim.run(&CREDENTIALS, &["login"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("signed in to {}\n", sim.base_url));
    assert_eq!((sim.count("/oauth2/token"), sim.count("/session/login")), (1, 1));
    for (_, value) in CREDENTIALS.iter().skip(1) {
        assert!(!stdout(&o).contains(value) && !stderr(&o).contains(value));
    }
}

#[test]
fn the_readme_command_runs_against_an_in_process_simulator() {
    let o = tscb(
        &[],
        &[
            "--sim",
            "register",
            "--account",
            "TestAccount-2",
            "--service",
            "CarrierService",
            "--url",
            "https://example.com/cb",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "registered CarrierService for account TestAccount-2\n");
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
fn login_with_fixed_tokens_says_it_cannot_check_them() {
    let sim = Sim::start();
    let env = [("THINGSPACE_BEARER_TOKEN", "bogus"), ("THINGSPACE_SESSION_TOKEN", "bogus")];
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stderr(&o).contains("fixed tokens cannot be checked"), "{}", stderr(&o));
    assert!(sim.requests().is_empty());
}

#[test]
fn sim_never_receives_the_environments_credentials() {
    let env = [
        ("THINGSPACE_CLIENT_ID", "real-client-id"),
        ("THINGSPACE_CLIENT_SECRET", "REAL-SECRET-3"),
        ("THINGSPACE_USERNAME", "real-user"),
        ("THINGSPACE_PASSWORD", "REAL-PASSWORD-4"),
    ];
    let o = tscb(&env, &["--sim", "login"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
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
fn a_refused_login_is_not_sent_again_by_the_next_run() {
    let sim = Sim::start();
    let state = StateDir::new("refused");
    let mut env = CREDENTIALS.to_vec();
    env[3] = ("THINGSPACE_PASSWORD", "wrong-SECRET-3");
    env.push(("XDG_STATE_HOME", state.path()));
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("UserNotAuthorized"), "{}", stderr(&o));
    let o = sim.run(&env, &["list", "--account", "TestAccount-2"]);
    assert_eq!(o.status.code(), Some(5));
    let err = stderr(&o);
    assert!(err.contains("Tscb.REQUEST_FAILED.LoginBlocked"), "{err}");
    assert!(err.contains("--retry-refused-login") && err.contains("five failed logins"), "{err}");
    assert!(!err.contains("wrong-SECRET-3"));
    assert_eq!(sim.count("/session/login"), 1, "the second run sent no login");
    let file = state.0.join("tscb/refused-logins");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("wrong-SECRET-3"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }

    // Overridden: sent again (and refused again).
    let o = sim.run(&env, &["--retry-refused-login", "login"]);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("UserNotAuthorized"), "{}", stderr(&o));
    assert_eq!(sim.count("/session/login"), 2);
}

#[test]
fn a_successful_login_clears_the_refusal() {
    let sim = Sim::start();
    let state = StateDir::new("cleared");
    let mut env = CREDENTIALS.to_vec();
    env.push(("XDG_STATE_HOME", state.path()));
    sim.admin(
        "POST",
        "/__admin/faults",
        r#"{"path_contains":"/session/login","times":1,"action":"respond","status":400,"content_type":"application/json","body":"{\"errorCode\":\"UnifiedWebService.REQUEST_FAILED.UserNotAuthorized\",\"errorMessage\":\"Invalid username or password\"}"}"#,
    );
    assert_eq!(sim.run(&env, &["login"]).status.code(), Some(5));
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(5));
    assert!(stderr(&o).contains("LoginBlocked"), "{}", stderr(&o));
    assert_eq!(sim.count("/session/login"), 1);
    let o = sim.run(&env, &["--retry-refused-login", "login"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(sim.count("/session/login"), 3);
}

#[test]
fn an_unwritable_state_directory_is_a_warning_not_a_failure() {
    let sim = Sim::start();
    let state = StateDir::new("unwritable");
    std::fs::write(&state.0, "a file, not a directory").unwrap();
    let mut env = CREDENTIALS.to_vec();
    env.push(("XDG_STATE_HOME", state.path()));
    let o = sim.run(&env, &["login"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.matches("warning: the login guard file").count(), 1, "{err}");
    let _ = std::fs::remove_file(&state.0);
}

#[test]
fn timeout_bounds_the_whole_call() {
    let sim = Sim::start();
    sim.admin("POST", "/__admin/faults", r#"{"path_contains":"/oauth2/token","action":"delay","ms":10000}"#);
    let start = std::time::Instant::now();
    let o = sim.run(&CREDENTIALS, &["--timeout", "2", "login"]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stderr(&o).contains("Tscb.REQUEST_FAILED.Timeout"), "{}", stderr(&o));
    assert!(start.elapsed() < std::time::Duration::from_millis(3500), "took {:?}", start.elapsed());
}
