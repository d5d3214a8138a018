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
        // The simulator's admin API insists on a Host that names the address it listens on.
        write!(conn, "GET /__admin/requests HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        let body = answer.split_once("\r\n\r\n").unwrap().1;
        serde_json::from_str(body).unwrap()
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
    command.envs(env.iter().copied()).args(args).output().expect("tscb runs")
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
fn sim_prints_the_simulators_own_start_up_text() {
    // What the library writes for a simulator of its own: `tscb sim` must print the same.
    let reference = tscb_sim::Simulator::start().unwrap();
    let mut expected = Vec::new();
    reference.write_banner(&mut expected).unwrap();
    let expected = String::from_utf8(expected).unwrap();
    let lines = expected.lines().count();

    let mut child =
        Command::new(BIN).args(["sim", "--listen", "127.0.0.1:0"]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let guard = Kill(child);
    // Read in a thread, so that a printout with fewer lines fails the test instead of hanging it.
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let printed: Vec<String> = stdout.lines().take(lines).map(Result::unwrap).collect();
        let _ = send.send(printed.join("\n") + "\n");
    });
    let printed = receive.recv_timeout(std::time::Duration::from_secs(10)).expect("the whole printout");
    drop(guard);
    let port = printed.split_once('\n').unwrap().0.rsplit(':').next().unwrap().trim_end_matches("/api");
    assert!(printed.starts_with(&format!("listening on http://127.0.0.1:{port}/api\nbearer token: ")));
    assert_eq!(printed, expected.replace(&reference.addr().port().to_string(), port));
}

#[test]
fn sim_refuses_an_address_beyond_loopback() {
    let o = tscb(&[], &["sim", "--listen", "0.0.0.0:0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("not a loopback address"), "{}", stderr(&o));
}
