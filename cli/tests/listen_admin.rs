//! `tscb listen --admin-listen`: /healthz, /readyz and /metrics as an orchestrator and
//! Prometheus use them. The metrics are parsed with Python's `prometheus_client` (the OpenMetrics
//! parser), installed into a venv under target/ when it is not there already.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::listener::{message, post, scratch, Listener, PASSWORD, PATIENCE};

const CHECKED: [&str; 9] = [
    "--listen",
    "127.0.0.1:0",
    "--admin-listen",
    "127.0.0.1:0",
    "--allow-source",
    "127.0.0.1",
    "--username",
    "fleet-7",
    "--password-env",
];

/// A python3 that can import `prometheus_client`: the system's, or a venv made under target/.
fn python() -> PathBuf {
    // Once per test binary: tests run in parallel and must not build the venv twice at once.
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(find_or_install_python).clone()
}

fn find_or_install_python() -> PathBuf {
    let imports = |python: &PathBuf| {
        let probe =
            Command::new(python).args(["-c", "import prometheus_client"]).stderr(Stdio::null()).status();
        probe.is_ok_and(|s| s.success())
    };
    let system = PathBuf::from("python3");
    if imports(&system) {
        return system;
    }
    let venv = PathBuf::from(concat!(env!("CARGO_TARGET_TMPDIR"), "/../test-venv"));
    let venv_python = venv.join("bin/python");
    if !imports(&venv_python) {
        let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 runs");
        assert!(made.success(), "python3 -m venv {}", venv.display());
        let installed =
            Command::new(venv.join("bin/pip")).args(["install", "-q", "prometheus-client"]).status().unwrap();
        assert!(installed.success() && imports(&venv_python), "pip install prometheus-client");
    }
    venv_python
}

type Labels = Vec<(String, String)>;
/// (name, labels sorted) → value.
type Samples = HashMap<(String, Labels), f64>;

/// The samples of an OpenMetrics exposition, as Python's parser reads it: (name, labels) → value.
/// The parser fails on anything that is not valid OpenMetrics.
fn parse(text: &str) -> Samples {
    const SCRIPT: &str = "import json, sys\n\
        from prometheus_client.openmetrics.parser import text_string_to_metric_families\n\
        print(json.dumps([[s.name, sorted(s.labels.items()), s.value]\n\
            for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]))";
    let mut child = Command::new(python())
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the parser refused:\n{}\n{text}", String::from_utf8_lossy(&out.stderr));
    let samples: Vec<(String, Labels, f64)> = serde_json::from_slice(&out.stdout).unwrap();
    samples.into_iter().map(|(name, labels, value)| ((name, labels), value)).collect()
}

fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    samples.get(&(name.to_owned(), labels)).copied().unwrap_or(0.0)
}

#[test]
fn metrics_count_what_happens_and_parse_as_openmetrics() {
    let dir = scratch("admin-metrics");
    let out = dir.join("messages.jsonl");
    let mut args = CHECKED.to_vec();
    args.extend(["CB_PW", "--output", out.to_str().unwrap()]);
    let listener = Listener::start(&args);
    assert_eq!(listener.admin_get("/healthz").0, 200);
    assert_eq!(listener.admin_get("/readyz").0, 200);
    let (status, text) = listener.admin_get("/metrics");
    assert_eq!(status, 200);
    let before = parse(&text);
    assert_eq!(value(&before, "tscb_listen_messages_accepted_total", &[]), 0.0);

    assert_eq!(post(listener.addr, "/", &message("r-1", 1, PASSWORD)).0, 200);
    assert_eq!(post(listener.addr, "/", &message("r-2", 1, PASSWORD)).0, 200);
    assert_eq!(post(listener.addr, "/", &message("r-1", 2, PASSWORD)).0, 200, "a resend");
    assert_eq!(post(listener.addr, "/", &message("r-3", 1, "wrong")).0, 401);
    let head = format!("GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", listener.addr);
    assert_eq!(common::listener::request(listener.addr, &head, b"").0, 405);

    let (_, text) = listener.admin_get("/metrics");
    let after = parse(&text);
    assert_eq!(value(&after, "tscb_listen_messages_accepted_total", &[]), 2.0);
    assert_eq!(value(&after, "tscb_listen_duplicates_total", &[]), 1.0);
    let credentials = [("reason", "Tscb.CALLBACK_REJECTED.Credentials"), ("status", "401")];
    assert_eq!(value(&after, "tscb_listen_refusals_total", &credentials), 1.0);
    assert_eq!(
        value(&after, "tscb_listen_refusals_total", &[("reason", "wrong_method"), ("status", "405")]),
        1.0
    );
    assert_eq!(value(&after, "tscb_listen_sink_errors_total", &[]), 0.0);
    assert_eq!(value(&after, "tscb_listen_sink_seconds_count", &[]), 3.0);
    let batches = value(&after, "tscb_listen_sync_batches_total", &[]);
    assert!((1.0..=2.0).contains(&batches), "{batches} batches for 2 messages");
    // The gauge goes down when the connection's task ends, just after the client saw the close.
    wait_for_open_connections(&listener, 0.0);
    assert!(after.contains_key(&("tscb_listen_dropped_log_lines_total".to_owned(), vec![])));
    // No label carries a secret or a source address.
    assert!(!text.contains(PASSWORD) && !text.contains("127.0.0.1"), "{text}");

    // An open connection shows, and goes when closed.
    let conn = TcpStream::connect(listener.addr).unwrap();
    wait_for_open_connections(&listener, 1.0);
    drop(conn);
    wait_for_open_connections(&listener, 0.0);
    let (status, _) = listener.admin_get("/nothing-here");
    assert_eq!(status, 404);
}

fn wait_for_open_connections(listener: &Listener, expected: f64) {
    let start = Instant::now();
    loop {
        let open = value(&parse(&listener.admin_get("/metrics").1), "tscb_listen_open_connections", &[]);
        if open == expected {
            return;
        }
        assert!(start.elapsed() < PATIENCE, "{open} open connections, not {expected}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_failing_sink_makes_it_unready_until_a_message_is_kept_again() {
    let dir = scratch("admin-ready");
    let flag = dir.join("fail");
    std::fs::write(&flag, "").unwrap();
    // A command that fails while the flag file exists.
    let exec = format!("sh -c 'cat >/dev/null; test ! -e {}'", flag.display());
    let listener = Listener::start(&[
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--any-source",
        "--exec",
        &exec,
    ]);
    assert_eq!(listener.admin_get("/readyz").0, 200);
    assert_eq!(post(listener.addr, "/", &message("r-1", 1, PASSWORD)).0, 500);
    let (status, body) = listener.admin_get("/readyz");
    assert_eq!((status, body.trim()), (503, "not ready: the sink failed its last message"));
    assert_eq!(listener.admin_get("/healthz").0, 200, "still alive");
    let samples = parse(&listener.admin_get("/metrics").1);
    assert_eq!(value(&samples, "tscb_listen_sink_errors_total", &[]), 1.0);

    std::fs::remove_file(&flag).unwrap();
    assert_eq!(post(listener.addr, "/", &message("r-1", 2, PASSWORD)).0, 200, "the resend is kept");
    assert_eq!(listener.admin_get("/readyz").0, 200);
}

#[test]
fn a_failing_output_file_makes_it_unready() {
    // /dev/full: every write fails (ENOSPC).
    let listener = Listener::start(&[
        "--listen",
        "127.0.0.1:0",
        "--admin-listen",
        "127.0.0.1:0",
        "--any-source",
        "--output",
        "/dev/full",
    ]);
    assert_eq!(post(listener.addr, "/", &message("r-1", 1, PASSWORD)).0, 500);
    assert_eq!(listener.admin_get("/readyz").0, 503);
    let samples = parse(&listener.admin_get("/metrics").1);
    assert_eq!(value(&samples, "tscb_listen_sink_errors_total", &[]), 1.0);
    assert_eq!(value(&samples, "tscb_listen_messages_accepted_total", &[]), 0.0);
}

#[test]
fn it_is_unready_while_stopping_and_healthy_until_it_ends() {
    let mut listener =
        Listener::start(&["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--any-source"]);
    // A request in flight (half its body sent) keeps the stop waiting.
    let mut conn = TcpStream::connect(listener.addr).unwrap();
    let body = message("r-1", 1, PASSWORD);
    write!(
        conn,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    listener.signal("TERM");
    assert!(listener.wait_for_stderr("stopping: finishing the requests in flight"), "{}", listener.stderr());
    let (status, body_text) = listener.admin_get("/readyz");
    assert_eq!((status, body_text.trim()), (503, "not ready: stopping"));
    assert_eq!(listener.admin_get("/healthz").0, 200);
    conn.write_all(&body.as_bytes()[10..]).unwrap();
    assert!(listener.child.wait().unwrap().success());
}
