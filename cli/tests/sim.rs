//! `tscb sim` and `tscb --sim`: the simulator a user starts from the CLI, what it prints, where
//! it may listen, and that it never sees the environment's credentials.

mod common;

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;

use common::{spawn_sim, stderr, stdout, tscb};

#[test]
fn the_readme_command_runs_against_an_in_process_simulator() {
    let o = tscb(
        &[],
        &[
            "register",
            "--sim",
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
fn sim_never_receives_the_environments_credentials() {
    let env = [
        ("THINGSPACE_CLIENT_ID", "real-client-id"),
        ("THINGSPACE_CLIENT_SECRET", "REAL-SECRET-3"),
        ("THINGSPACE_LOGIN_USERNAME", "real-user"),
        ("THINGSPACE_LOGIN_PASSWORD", "REAL-PASSWORD-4"),
    ];
    let o = tscb(&env, &["login", "--sim"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn sim_prints_the_simulators_own_start_up_text() {
    // What the library writes for a simulator of its own: `tscb sim` must print the same.
    let reference = tscb_sim::Simulator::start().unwrap();
    let mut expected = Vec::new();
    reference.write_banner(&mut expected).unwrap();
    let expected = String::from_utf8(expected).unwrap();
    let lines = expected.lines().count();

    let (guard, stdout) = spawn_sim(&["--listen", "127.0.0.1:0"]);
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
    let (_guard, mut stdout) = spawn_sim(&["--listen", "0.0.0.0:0", "--allow-remote"]);
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

/// `sim` and `listen` accept the client options (they are global), but their help lists them
/// apart, under a heading that says which commands use them, not among their own.
/// `tscb sim &` in a script starts with SIGINT ignored (the shell does that to background jobs);
/// `kill -INT` (as Ctrl-C in a terminal) and `kill` (SIGTERM) still stop it, with exit status 0.
#[test]
fn sigint_and_sigterm_stop_the_simulator_even_when_started_in_the_background() {
    for signal in ["INT", "TERM"] {
        // `trap '' INT` makes SIGINT ignored, which `exec` passes on, as for a background job.
        let script = format!("trap '' INT; exec '{}' sim --listen 127.0.0.1:0", common::BIN);
        let mut child = std::process::Command::new("sh")
            .args(["-c", &script])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert!(first.starts_with("listening on "), "{first}");
        let kill = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > std::time::Duration::from_secs(5) {
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("SIG{signal} did not stop tscb sim within 5 s");
        };
        assert_eq!(status.code(), Some(0), "SIG{signal}: {status}");
    }
}
