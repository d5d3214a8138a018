//! `tscb listen --exec`: a command per accepted message, the 200 only once it exited 0 in time.
//! The commands are small `sh -c` scripts that leave what they saw in a scratch directory.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::listener::{message, post, scratch, Listener, PASSWORD, PATIENCE};

fn exec_listener(script: &str, more: &[&str]) -> Listener {
    let exec = format!("sh -c '{script}'");
    let mut args =
        vec!["--listen", "127.0.0.1:0", "--any-source", "--password-env", "CB_PW", "--exec", &exec];
    args.extend_from_slice(more);
    Listener::start(&args)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn the_command_gets_the_line_and_the_key_and_a_resend_runs_it_once() {
    let dir = scratch("exec-ok");
    let d = dir.display();
    let listener =
        exec_listener(&format!("cat >> {d}/lines; printf \"%s\\n\" \"$TSCB_DEDUP_KEY\" >> {d}/keys"), &[]);
    assert_eq!(post(listener.addr, "/", &message("r-1", 1, PASSWORD)).0, 200);
    assert_eq!(post(listener.addr, "/", &message("r-1", 2, PASSWORD)).0, 200, "a resend");
    let lines = read(&dir.join("lines"));
    assert_eq!(lines.lines().count(), 1, "one run, one line with its newline: {lines:?}");
    assert!(lines.ends_with('\n'));
    let line: serde_json::Value = serde_json::from_str(lines.trim_end()).unwrap();
    assert_eq!(line["requestId"], "r-1");
    assert_eq!(line["source"], "127.0.0.1");
    assert!(line["receivedAt"].is_string());
    assert!(line.get("password").is_none() && !lines.contains(PASSWORD), "no password: {lines}");
    let keys = read(&dir.join("keys"));
    let key = keys.trim_end();
    assert_eq!(keys.lines().count(), 1);
    assert!(key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()), "{key:?}");
    // The start-up text names the program only (its arguments may hold tokens).
    assert!(listener.stderr().contains("writing messages to the stdin of sh, one process each"));
}

#[test]
fn a_command_that_fails_gets_500_and_its_stderr_is_logged() {
    let listener = exec_listener("cat >/dev/null; echo the-pipeline-is-down >&2; exit 1", &[]);
    let (status, _) = post(listener.addr, "/", &message("r-1", 1, PASSWORD));
    assert_eq!(status, 500);
    assert!(listener.wait_for_stderr(": the-pipeline-is-down"), "{}", listener.stderr());
    assert!(listener.wait_for_stderr("ended with exit status: 1"), "{}", listener.stderr());
    // Not remembered as kept: the resend runs the command again.
    assert_eq!(post(listener.addr, "/", &message("r-1", 2, PASSWORD)).0, 500);
}

fn alive(pid: &str) -> bool {
    // A zombie (killed, not yet reaped by whoever inherited it) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
}

#[test]
fn a_command_over_its_timeout_is_killed_with_its_children_and_gets_500() {
    let dir = scratch("exec-timeout");
    let d = dir.display();
    let listener = exec_listener(
        &format!("sleep 60 & echo $! > {d}/child; echo $$ > {d}/shell; wait"),
        &["--exec-timeout", "1"],
    );
    let start = Instant::now();
    let (status, _) = post(listener.addr, "/", &message("r-1", 1, PASSWORD));
    let took = start.elapsed();
    assert_eq!(status, 500);
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(30), "{took:?}");
    assert!(listener.wait_for_stderr("ran over --exec-timeout (1s) and was killed"), "{}", listener.stderr());
    for name in ["shell", "child"] {
        let pid = read(&dir.join(name)).trim().to_owned();
        assert!(!pid.is_empty());
        let start = Instant::now();
        while alive(&pid) {
            assert!(start.elapsed() < PATIENCE, "the {name} ({pid}) still runs");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn at_most_exec_concurrency_commands_run_at_once() {
    let dir = scratch("exec-concurrency");
    let d = dir.display();
    // Each run notes its start and end, in nanoseconds, on a line of its own (appends of a
    // short line are atomic).
    let script = format!(
        "cat >/dev/null; echo \"$(date +%s%N) 1\" >> {d}/events; sleep 0.4; echo \"$(date +%s%N) -1\" >> {d}/events"
    );
    let listener = exec_listener(&script, &["--exec-concurrency", "2"]);
    let addr = listener.addr;
    let senders: Vec<_> = (0..6)
        .map(|i| std::thread::spawn(move || post(addr, "/", &message(&format!("r-{i}"), 1, PASSWORD)).0))
        .collect();
    for sender in senders {
        assert_eq!(sender.join().unwrap(), 200);
    }
    let mut events: Vec<(u128, i32)> = read(&dir.join("events"))
        .lines()
        .map(|l| {
            let (at, delta) = l.split_once(' ').unwrap();
            (at.parse().unwrap(), delta.parse().unwrap())
        })
        .collect();
    assert_eq!(events.len(), 12);
    // At equal times, an end before a start.
    events.sort();
    let (mut running, mut most) = (0, 0);
    for (_, delta) in events {
        running += delta;
        most = most.max(running);
    }
    assert!(most <= 2, "{most} commands ran at once");
    eprintln!("at most {most} commands ran at once");
}

#[test]
fn an_exec_command_that_does_not_exist_stops_the_start() {
    let out =
        common::command(&[], &["listen", "--listen", "127.0.0.1:0", "--exec", "/nonexistent/handler --flag"])
            .output()
            .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\"/nonexistent/handler\" is not an executable file"), "{stderr}");
}
