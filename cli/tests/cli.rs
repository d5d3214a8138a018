//! The built `tscb` binary against a simulator started with `tscb sim`, as a user runs them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_tscb");
const CREDENTIALS: [(&str, &str); 4] = [
    ("THINGSPACE_CLIENT_ID", "sim-client-id"),
    ("THINGSPACE_CLIENT_SECRET", "sim-client-secret"),
    ("THINGSPACE_LOGIN_USERNAME", "sim-user"),
    ("THINGSPACE_LOGIN_PASSWORD", "sim-password"),
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
    command(env, args).output().expect("tscb runs")
}

/// The `tscb` command with exactly `env` as its THINGSPACE_* environment.
fn command(env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("THINGSPACE_")) {
        command.env_remove(name);
    }
    // Refused logins are remembered under XDG_STATE_HOME: never in the user's own, and apart
    // for each test process (a test may give its own).
    let state = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-state");
    command.env("XDG_STATE_HOME", state);
    command.envs(env.iter().copied()).args(args);
    command
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
    env[3] = ("THINGSPACE_LOGIN_PASSWORD", "wrong-SECRET-2");
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
        ("THINGSPACE_LOGIN_USERNAME", "real-user"),
        ("THINGSPACE_LOGIN_PASSWORD", "REAL-PASSWORD-4"),
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
    env[3] = ("THINGSPACE_LOGIN_PASSWORD", "wrong-SECRET-3");
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

impl Sim {
    /// Injects a fault through the admin API (the JSON form of `tscb_sim::Fault`).
    fn inject(&self, fault: serde_json::Value) {
        let addr = self.base_url.trim_start_matches("http://").trim_end_matches("/api");
        let body = fault.to_string();
        let mut conn = TcpStream::connect(addr).unwrap();
        write!(
            conn,
            "POST /__admin/faults HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 2"), "{answer}");
    }
}

fn respond(path: &str, status: u16, body: &str) -> serde_json::Value {
    serde_json::json!({"path_contains": path, "action": "respond", "status": status,
                       "content_type": "application/json", "body": body})
}

#[test]
fn tokens_echoed_by_the_service_never_reach_stdout_or_stderr() {
    const LEAKED: &str = "LEAKED-TOKEN-0123456789";
    let token_answer = format!(r#"{{"access_token":"{LEAKED}","expires_in":3600}}x"#);
    let login_answer = format!(r#"{{"sessionToken":"{LEAKED}"}}x"#);
    for (path, body) in [("/oauth2/token", &token_answer), ("/session/login", &login_answer)] {
        for json in [false, true] {
            let sim = Sim::start();
            sim.inject(respond(path, 200, body));
            let args: &[&str] = if json { &["--json", "login"] } else { &["login"] };
            let o = sim.run(&CREDENTIALS, args);
            assert_eq!(o.status.code(), Some(7), "{}", stderr(&o));
            let all = stdout(&o) + &stderr(&o);
            assert!(!all.contains(LEAKED), "{all}");
            assert!(all.contains("<redacted>"), "{all}");
        }
    }
    // Fixed tokens echoed in an error body, raw, JSON-escaped and \u-escaped.
    let bearer = r#"bearer"SECRET\7"#;
    let session = "session-SECRET-8";
    let env = [("THINGSPACE_BEARER_TOKEN", bearer), ("THINGSPACE_SESSION_TOKEN", session)];
    let escaped = serde_json::to_string(bearer).unwrap();
    let u: String = bearer.encode_utf16().map(|c| format!("\\u{c:04x}")).collect();
    let body = format!(
        r#"{{"errorCode":"X.REQUEST_FAILED.Echo","errorMessage":"{} {u} {session}"}}"#,
        escaped.trim_matches('"')
    );
    for (status, body) in [(400, body.as_str()), (502, &*format!("<html>{bearer} {u} {session}</html>"))] {
        let sim = Sim::start();
        sim.inject(respond("/callbacks/", status, body));
        for args in [&["list", "--account", "A"][..], &["--json", "list", "--account", "A"]] {
            let o = sim.run(&env, args);
            assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
            let all = stdout(&o) + &stderr(&o);
            for secret in [bearer, escaped.trim_matches('"'), &u, session] {
                assert!(!all.contains(secret), "{secret} in {all}");
            }
        }
    }
}

#[test]
fn list_shows_control_characters_escaped_in_text_and_exact_in_json() {
    let sim = Sim::start();
    let listed = r#"[{"accountName":"A","serviceName":"CarrierService","url":"https://x.example/\u001b[2J",
                      "username":"\u001b[31mPWNED\u202e","password":"pw\u0007"}]"#;
    sim.inject(respond("/callbacks/", 200, listed));
    let o = sim.run(&CREDENTIALS, &["list", "--account", "A", "--show-passwords"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(!text.chars().any(|c| c.is_control() && c != '\t' && c != '\n'), "{text:?}");
    assert!(!text.contains('\u{202e}'), "{text:?}");
    assert!(text.contains(r"username: \u{1b}[31mPWNED\u{202e}"), "{text}");
    assert!(text.contains(r"https://x.example/\u{1b}[2J"), "{text}");
    assert!(text.contains(r"password: pw\u{7}"), "{text}");
    let o = sim.run(&CREDENTIALS, &["--json", "list", "--account", "A", "--show-passwords"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json[0]["username"], "\u{1b}[31mPWNED\u{202e}");
    assert_eq!(json[0]["url"], "https://x.example/\u{1b}[2J");
    assert_eq!(json[0]["password"], "pw\u{7}");
}

/// `tscb` with THINGSPACE_* exactly `env`, whose values may be any bytes.
fn tscb_bytes(env: &[(&str, &[u8])], args: &[&str]) -> Output {
    use std::os::unix::ffi::OsStrExt;
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os().filter(|(n, _)| n.as_bytes().starts_with(b"THINGSPACE_")) {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, std::ffi::OsStr::from_bytes(value));
    }
    command.args(args).output().expect("tscb runs")
}

#[test]
fn a_credential_variable_that_is_not_utf8_or_empty_is_refused_not_skipped() {
    let sim = Sim::start();
    let creds: Vec<(&str, &[u8])> = CREDENTIALS.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
    let base = ["--base-url", sim.base_url.as_str(), "list", "--account", "A"];
    for (name, value) in [
        ("THINGSPACE_LOGIN_PASSWORD", &b"\xff"[..]),
        ("THINGSPACE_CLIENT_SECRET", b"sim-\xffsecret"),
        ("THINGSPACE_BEARER_TOKEN", b"tok\xfe"),
        ("THINGSPACE_SESSION_TOKEN", b"\xc3"),
    ] {
        let mut env = creds.clone();
        env.retain(|(n, _)| *n != name);
        env.push((name, value));
        let o = tscb_bytes(&env, &base);
        assert_eq!(o.status.code(), Some(3), "{name}: {}", stderr(&o));
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(err.contains("Tscb.INPUT_INVALID.Argument.Encoding") && err.contains(name), "{err}");
        assert!(!err.contains('\u{fffd}') && !err.contains("secret"), "the value is never shown: {err}");
    }
    // A bearer token that is set but empty does not silently switch to the OAuth credentials.
    let mut env = creds.clone();
    env.push(("THINGSPACE_BEARER_TOKEN", b""));
    let o = tscb_bytes(&env, &base);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("Tscb.INPUT_INVALID.BearerToken.Missing"), "{}", stderr(&o));
    // The callback password's variable too.
    let mut env = creds.clone();
    env.push(("LISTENER_PW", b"\xff"));
    let args = ["--base-url", &sim.base_url, "register", "--account", "A", "--service", "S"];
    let o = tscb_bytes(
        &env,
        &[&args[..], &["--url", "https://x.example", "--password-env", "LISTENER_PW"]].concat(),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("Argument.Encoding") && stderr(&o).contains("LISTENER_PW"), "{}", stderr(&o));
    assert!(sim.requests().is_empty(), "nothing was sent");
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

#[test]
fn sim_allow_remote_listens_beyond_loopback_with_an_admin_token() {
    let mut child = Command::new(BIN)
        .args(["sim", "--listen", "0.0.0.0:0", "--allow-remote"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    struct Kill(Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = Kill(child);
    let mut printed = String::new();
    while !printed.contains("admin token") {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the printout ended early: {printed}");
        printed.push_str(&line);
    }
    assert!(printed.starts_with("listening on http://0.0.0.0:"), "{printed}");
    let port = printed.lines().next().unwrap().rsplit(':').next().unwrap().trim_end_matches("/api");
    // Only ever connect to loopback: the admin API refuses a request without the token.
    let mut conn = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    write!(conn, "GET /__admin/requests HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

#[test]
fn parallel_runs_with_the_right_password_never_block_each_other() {
    // Processes sharing the guard file: each read-modify-write is locked, and a run that finds
    // another's login in flight waits for it rather than failing with LoginBlocked.
    let sim = Sim::start();
    let state = StateDir::new("parallel");
    let mut env = CREDENTIALS.to_vec();
    env.push(("XDG_STATE_HOME", state.path()));
    for _ in 0..3 {
        let runs: Vec<Child> = (0..6)
            .map(|_| {
                command(&env, &["--base-url", &sim.base_url, "--timeout", "30", "login"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("tscb runs")
            })
            .collect();
        for run in runs {
            let o = run.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        }
    }
    assert_eq!(sim.count("/session/login"), 18);
}
