//! The `tscb-sim` binary, as C and Python tests will run it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

fn sim_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tscb-sim"))
}

/// Kills the child even when an assertion fails first.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn prints_its_address_first_and_serves() {
    let child = sim_command()
        .args(["--listen", "127.0.0.1:0", "--session-idle-timeout", "0.5"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let mut stdout = BufReader::new(running.0.stdout.take().unwrap());
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
    for _ in 0..4 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        rest.push(line.trim_end().to_owned());
    }
    assert_eq!(
        rest,
        [
            "bearer token: sim-bearer-token",
            "session token: sim-session-token",
            "client id: sim-client-id",
            "username: sim-user",
        ]
    );

    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.write_all(b"GET /__admin/requests HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
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
