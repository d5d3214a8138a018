//! The set-up the CLI test binaries share: the built `tscb`, run with a known environment, and
//! `tscb sim` in the background. Each test binary uses some of it, hence `dead_code` allowed.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use tscb_sim::{SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_USERNAME};

pub const BIN: &str = env!("CARGO_BIN_EXE_tscb");
/// What `tscb sim` accepts.
pub const CREDENTIALS: [(&str, &str); 4] = [
    ("THINGSPACE_CLIENT_ID", SIM_CLIENT_ID),
    ("THINGSPACE_CLIENT_SECRET", SIM_CLIENT_SECRET),
    ("THINGSPACE_LOGIN_USERNAME", SIM_USERNAME),
    ("THINGSPACE_LOGIN_PASSWORD", SIM_PASSWORD),
];

/// A process killed (and waited for) when dropped, so that a failed test leaves none behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `tscb sim ARGS` in the background, and its stdout to read the start-up text from.
pub fn spawn_sim(args: &[&str]) -> (KillOnDrop, BufReader<ChildStdout>) {
    let mut child =
        Command::new(BIN).arg("sim").args(args).stdout(Stdio::piped()).spawn().expect("tscb sim starts");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (KillOnDrop(child), stdout)
}

/// The base URL from the first line of `tscb sim`'s start-up text, `listening on URL`.
pub fn read_base_url(stdout: &mut BufReader<ChildStdout>) -> String {
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    first.trim().strip_prefix("listening on ").expect("first line").to_owned()
}

/// `tscb sim` in the background, killed when dropped.
pub struct Sim {
    _child: KillOnDrop,
    pub base_url: String,
    // Kept open so that the simulator's later lines have somewhere to go.
    _stdout: BufReader<ChildStdout>,
}

impl Sim {
    pub fn start() -> Sim {
        let (child, mut stdout) = spawn_sim(&["--listen", "127.0.0.1:0"]);
        let base_url = read_base_url(&mut stdout);
        Sim { _child: child, base_url, _stdout: stdout }
    }

    /// `METHOD PATH` with `body` to the simulator's admin API: the whole answer.
    fn call(&self, method: &str, path: &str, body: &str) -> String {
        let addr = self.base_url.trim_start_matches("http://").trim_end_matches("/api");
        let mut conn = TcpStream::connect(addr).unwrap();
        // The simulator's admin API insists on a Host that names the address it listens on.
        write!(
            conn,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        answer
    }

    /// Every request the simulator has received, as its admin API lists them.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let answer = self.call("GET", "/__admin/requests", "");
        let body = answer.split_once("\r\n\r\n").unwrap().1;
        serde_json::from_str(body).unwrap()
    }

    /// A request to the simulator's admin API, e.g. `("POST", "/__admin/faults", json)`.
    pub fn admin(&self, method: &str, path: &str, body: &str) {
        let answer = self.call(method, path, body);
        assert!(answer.starts_with("HTTP/1.1 2"), "{answer}");
    }

    /// Injects a fault through the admin API (the JSON form of `tscb_sim::Fault`).
    pub fn inject(&self, fault: serde_json::Value) {
        self.admin("POST", "/__admin/faults", &fault.to_string());
    }

    /// How many requests went to a path ending in `path_end`.
    pub fn count(&self, path_end: &str) -> usize {
        self.requests().iter().filter(|r| r["path"].as_str().unwrap().ends_with(path_end)).count()
    }

    /// `tscb COMMAND ... --base-url <sim>` with exactly `env` as its THINGSPACE_* environment.
    pub fn run(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--base-url", self.base_url.as_str()]);
        tscb(env, &all)
    }
}

/// A fault for [`Sim::inject`]: requests to a path containing `path` get this JSON answer.
pub fn respond(path: &str, status: u16, body: &str) -> serde_json::Value {
    serde_json::json!({"path_contains": path, "action": "respond", "status": status,
                       "content_type": "application/json", "body": body})
}

/// `tscb ARGS` with exactly `env` as its THINGSPACE_* environment, run to its end.
pub fn tscb(env: &[(&str, &str)], args: &[&str]) -> Output {
    command(env, args).output().expect("tscb runs")
}

/// The `tscb` command with exactly `env` as its THINGSPACE_* environment.
pub fn command(env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    // vars_os: a variable of the test's own that is not UTF-8 must not stop the test.
    for (name, _) in std::env::vars_os().filter(|(n, _)| n.to_string_lossy().starts_with("THINGSPACE_")) {
        command.env_remove(name);
    }
    // Refused logins are remembered under XDG_STATE_HOME: never in the user's own, and apart
    // for each test binary (a test may give its own, in `env`).
    let state = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(concat!("cli-state-", env!("CARGO_CRATE_NAME")));
    command.env("XDG_STATE_HOME", state);
    command.envs(env.iter().copied()).args(args);
    command
}

/// A state directory of one test's own, removed when dropped.
pub struct StateDir(pub std::path::PathBuf);

impl StateDir {
    pub fn new(name: &str) -> StateDir {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        StateDir(dir)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A run's stdout, which must be UTF-8.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// A run's stderr, which must be UTF-8.
pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}
pub mod listener;
pub mod nats;
