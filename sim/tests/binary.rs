//! The `tscb-sim` binary, as C and Python tests will run it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};

use tscb_sim::{
    SIM_BEARER_TOKEN, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_SESSION_TOKEN, SIM_USERNAME,
};

fn sim_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tscb-sim"))
}

/// Kills the child even when an assertion fails first.
struct Running(Child);

/// `tscb-sim ARGS`, running, and its output.
fn start(args: &[&str]) -> (Running, BufReader<ChildStdout>) {
    let child = sim_command().args(args).stdout(Stdio::piped()).spawn().unwrap();
    let mut running = Running(child);
    let stdout = BufReader::new(running.0.stdout.take().unwrap());
    (running, stdout)
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn prints_its_address_first_and_serves() {
    let (_running, mut stdout) = start(&["--listen", "127.0.0.1:0", "--session-idle-timeout", "0.5"]);
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let base_url = first
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    let host_port = base_url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|rest| rest.strip_suffix("/api"))
        .unwrap_or_else(|| panic!("unexpected base URL {base_url:?}"));
    let port: u16 = host_port.parse().unwrap();

    let mut rest = Vec::new();
    for _ in 0..6 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        rest.push(line.trim_end().to_owned());
    }
    assert_eq!(
        rest,
        [
            format!("bearer token: {SIM_BEARER_TOKEN}"),
            format!("session token: {SIM_SESSION_TOKEN}"),
            format!("client id: {SIM_CLIENT_ID}"),
            format!("client secret: {SIM_CLIENT_SECRET}"),
            format!("login username: {SIM_USERNAME}"),
            format!("login password: {SIM_PASSWORD}"),
        ],
        "the C and Python tests read the credentials by these labels"
    );

    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(conn, "GET /__admin/requests HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n[]"), "{answer}");
}

#[test]
fn help_and_bad_arguments() {
    let help = sim_command().arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).starts_with("usage: tscb-sim"));

    for args in [&["--bogus"][..], &["--token-lifetime", "soon"], &["--listen"]] {
        let bad = sim_command().args(args).output().unwrap();
        assert_eq!(bad.status.code(), Some(2), "{args:?}");
        assert!(bad.stdout.is_empty());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("usage: tscb-sim"));
    }
}

#[test]
fn an_address_beyond_loopback_needs_allow_remote_and_is_printed_as_it_is() {
    let refused = sim_command().args(["--listen", "0.0.0.0:0"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not a loopback address") && stderr.contains("--allow-remote"), "{stderr}");

    let (_running, mut stdout) = start(&["--listen", "0.0.0.0:0", "--allow-remote"]);
    let mut lines = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line.trim_end().to_owned());
    }
    let port = lines[0]
        .strip_prefix("listening on http://0.0.0.0:")
        .and_then(|rest| rest.strip_suffix("/api"))
        .unwrap_or_else(|| panic!("unexpected first line {:?}", lines[0]));
    assert_eq!(lines[1], format!("from this machine: http://127.0.0.1:{port}/api"));
    let token = lines[2].strip_prefix("admin token: ").unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(token.len(), 64);

    let admin = |authorization: &str| {
        let mut conn = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
        write!(
            conn,
            "GET /__admin/requests HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{authorization}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        answer
    };
    assert!(admin("").starts_with("HTTP/1.1 401 "));
    assert!(admin(&format!("Authorization: Bearer {token}\r\n")).starts_with("HTTP/1.1 200 "));
}
