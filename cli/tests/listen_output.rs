//! `tscb listen`'s output where real deployments break it (issue 17): a disk that fills up (a
//! 16 KiB tmpfs in a private mount namespace) and a stdout pipe that nobody reads.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::{KillOnDrop, BIN};
use serde_json::{json, Value};

/// Long enough for a loaded CI machine; a correct run takes milliseconds.
const PATIENCE: Duration = Duration::from_secs(15);

/// An accepted message (the listeners here take any source and check no password), `padding`
/// bytes longer than the smallest.
fn message(request_id: &str, padding: usize) -> String {
    json!({
        "username": "fleet-7", "requestId": request_id, "padding": "x".repeat(padding),
        "deviceIds": [{"id": "353238060000001", "kind": "IMEI"}],
        "deviceResponse": {"activateResponse": {"state": "active"}},
        "status": "Success", "callbackCount": 1, "maxCallbackThreshold": 4,
    })
    .to_string()
}

/// POSTs `body` on a connection of its own; the status, or None when no answer came in `wait`.
fn post(addr: SocketAddr, body: &str, wait: Duration) -> Option<u16> {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(wait)).unwrap();
    write!(
        conn,
        "POST /cb HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    conn.write_all(body.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    std::str::from_utf8(answer.get(9..12)?).ok()?.parse().ok()
}

/// The address from `tscb listen`'s start-up text on `stderr`, read up to its last line.
fn read_address(stderr: &mut impl BufRead) -> Option<SocketAddr> {
    let mut addr = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).ok()? > 0 {
        if let Some((_, rest)) = line.trim().split_once("://") {
            addr = rest.split('/').next()?.parse().ok();
        }
        if line.starts_with("writing messages to") {
            return addr;
        }
        line.clear();
    }
    None
}

/// Whether this process may make a private mount namespace and mount a tmpfs in it.
fn can_mount_a_private_tmpfs(dir: &str) -> bool {
    let probe = Command::new("unshare")
        .args(["-m", "sh", "-c", "mount -t tmpfs -o size=16k tmpfs \"$1\"", "sh", dir])
        .stderr(Stdio::null())
        .status();
    probe.is_ok_and(|s| s.success())
}

/// The output on a 16 KiB tmpfs (half of it taken by a filler file), in a private mount
/// namespace; `how` is `--output` or `stdout` (`> file`). Messages until the disk is full, then
/// the filler is removed and more are sent, some of them at once, and resends of those refused.
/// Returns each request's last status and the file's lines, or None where not permitted.
fn fill_the_disk_then_free_it(how: &str) -> Option<(HashMap<String, u16>, Vec<String>)> {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("listen-tmpfs-{how}"));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.to_str().unwrap();
    if !can_mount_a_private_tmpfs(dir) {
        eprintln!("skipped: cannot mount a tmpfs in a private mount namespace (unshare -m) here");
        return None;
    }
    // The script reads a line before removing the filler, and another before stopping the
    // listener; it then prints the file (visible only inside its namespace).
    let script = r#"set -e
        mount -t tmpfs -o size=16k tmpfs "$1"
        head -c 8192 /dev/zero > "$1/filler"
        if [ "$2" = --output ]; then
            "$3" listen --listen 127.0.0.1:0 --any-source --output "$1/out" > /dev/null &
        else
            "$3" listen --listen 127.0.0.1:0 --any-source > "$1/out" &
        fi
        pid=$!
        read _; rm "$1/filler"; echo freed
        read _; kill -TERM "$pid"; wait "$pid" || echo "tscb listen exited $?" >&2
        cat "$1/out""#;
    let child = Command::new("unshare")
        .args(["-m", "sh", "-c", script, "sh", dir, how, BIN])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut control = child.0.stdin.take().unwrap();
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut err = BufReader::new(child.0.stderr.take().unwrap());
    let addr = read_address(&mut err).expect("tscb listen starts in the namespace");
    let stderr = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = err.read_to_string(&mut rest);
        rest
    });

    let mut statuses = HashMap::new();
    let send = |id: String, statuses: &mut HashMap<String, u16>| {
        let status = post(addr, &message(&id, 0), PATIENCE).expect("an answer");
        statuses.insert(id, status);
        status
    };
    // One at a time until the disk is full (a line is some 300 bytes: 8 KiB take about 27).
    let mut refused = Vec::new();
    for i in 0..200 {
        if send(format!("fill-{i}"), &mut statuses) != 200 {
            refused.push(format!("fill-{i}"));
            if refused.len() == 3 {
                break;
            }
        }
    }
    assert!(!refused.is_empty(), "the disk never filled up: {statuses:?}");
    assert!(refused.iter().all(|id| statuses[id] == 500), "{statuses:?}");

    writeln!(control, "free").unwrap();
    let mut freed = String::new();
    out.read_line(&mut freed).unwrap();
    assert_eq!(freed.trim(), "freed");
    assert_eq!(send("after-1".into(), &mut statuses), 200, "space was freed");
    // Several at once (batches of more than one line), and ThingSpace's resends of the refused.
    let threads: Vec<_> = (0..3)
        .map(|t| {
            std::thread::spawn(move || {
                (0..3)
                    .map(|i| {
                        let id = format!("batch-{t}-{i}");
                        let status = post(addr, &message(&id, 0), PATIENCE).expect("an answer");
                        (id, status)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for thread in threads {
        statuses.extend(thread.join().unwrap());
    }
    for id in refused {
        send(id, &mut statuses);
    }

    writeln!(control, "stop").unwrap();
    let mut text = String::new();
    out.read_to_string(&mut text).unwrap();
    assert!(child.0.wait().unwrap().success(), "{}", stderr.join().unwrap());
    Some((statuses, text.lines().map(str::to_owned).collect()))
}

/// Every line is a whole message, and every acknowledged message is in exactly one line.
fn assert_each_acknowledged_message_once(statuses: &HashMap<String, u16>, lines: &[String]) {
    let mut found: HashMap<String, usize> = HashMap::new();
    for line in lines {
        let parsed: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: a broken line {line:?}"));
        *found.entry(parsed["requestId"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    for (id, status) in statuses {
        let times = found.get(id).copied().unwrap_or(0);
        match status {
            200 => assert_eq!(times, 1, "{id} was acknowledged and is there {times} times"),
            _ => assert_eq!(times, 0, "{id} was answered {status} and is there {times} times"),
        }
    }
    assert!(statuses.values().filter(|s| **s == 200).count() > 20, "{statuses:?}");
}

#[test]
fn a_full_disk_never_leaves_a_broken_line_with_output() {
    if let Some((statuses, lines)) = fill_the_disk_then_free_it("--output") {
        assert_each_acknowledged_message_once(&statuses, &lines);
    }
}

#[test]
fn a_full_disk_never_leaves_a_broken_line_with_stdout_a_file() {
    if let Some((statuses, lines)) = fill_the_disk_then_free_it("stdout") {
        assert_each_acknowledged_message_once(&statuses, &lines);
    }
}

#[test]
fn output_is_created_readable_by_its_owner_only() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("listen-output-mode");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("out.jsonl");
    let mut child = Command::new(BIN)
        .args(["listen", "--listen", "127.0.0.1:0", "--any-source", "--output"])
        .arg(&path)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut child = KillOnDrop(child);
    let addr = read_address(&mut err).expect("tscb listen starts");
    assert_eq!(post(addr, &message("r-1", 0), PATIENCE), Some(200));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    let _ = child.0.kill();
}

/// `tscb listen` with its stdout a pipe that nobody reads, and that pipe full: the writer is
/// blocked in a write and messages wait for it. `env`: the environment to add. Returns the
/// process, the pipe's reading end (kept open, never read) and its stderr as it comes.
fn a_listener_with_a_stuck_stdout(env: &[(&str, &str)]) -> (KillOnDrop, ChildStdout, Receiver<String>) {
    let mut child = Command::new(BIN)
        .args(["listen", "--listen", "127.0.0.1:0", "--any-source"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let child = KillOnDrop(child);
    let addr = read_address(&mut err).expect("tscb listen starts");
    let (lines, stderr) = mpsc::channel();
    std::thread::spawn(move || {
        for line in err.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    // Three lines of 40 KiB do not fit in a pipe (64 KiB): the writer blocks in the second or
    // the third, and those messages wait for it, their connections open.
    for i in 0..3 {
        std::thread::spawn(move || post(addr, &message(&format!("big-{i}"), 40 * 1024), PATIENCE * 10));
    }
    wait_until_the_writer_blocks(child.0.id());
    (child, stdout, stderr)
}

/// Until the writer thread sleeps in a pipe write, as the kernel's `wchan` shows; where that is
/// hidden, 2 s (enough for the listener to read the three requests, even on a loaded machine).
fn wait_until_the_writer_blocks(pid: u32) {
    let start = Instant::now();
    while start.elapsed() < PATIENCE {
        let mut shown = false;
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
            let read = |name: &str| std::fs::read_to_string(task.path().join(name)).unwrap_or_default();
            if read("comm").starts_with("tscb-listen-wri") {
                let wchan = read("wchan");
                shown = !wchan.is_empty() && wchan != "0";
                if wchan.contains("pipe_write") {
                    return;
                }
            }
        }
        if !shown && start.elapsed() >= Duration::from_secs(2) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the writer never blocked in a pipe write");
}

fn signal(child: &Child, name: &str) {
    assert!(Command::new("kill").args([name, &child.id().to_string()]).status().unwrap().success());
}

/// The exit status, or None if the process is still running after `limit`.
fn wait_at_most(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn a_stop_ends_after_the_grace_period_when_stdout_is_stuck() {
    // The grace period (35 s) shortened to 2 s, through the knob kept for tests.
    let (mut child, _stdout, stderr) =
        a_listener_with_a_stuck_stdout(&[("TSCB_LISTEN_STOP_GRACE_MS", "2000")]);
    let start = Instant::now();
    signal(&child.0, "-TERM");
    let status = wait_at_most(&mut child.0, Duration::from_secs(30));
    let elapsed = start.elapsed();
    let text: Vec<String> = stderr.try_iter().collect();
    let status = status.unwrap_or_else(|| panic!("still running 30 s after SIGTERM: {text:?}"));
    assert!(elapsed >= Duration::from_millis(1900), "it did not wait for the grace period: {elapsed:?}");
    assert_eq!(status.code(), Some(1), "{text:?}");
    assert!(text.iter().any(|l| l.contains("not acknowledged")), "{text:?}");
}

#[test]
fn a_second_stop_ends_at_once_when_stdout_is_stuck() {
    for (first, second) in [("-TERM", "-TERM"), ("-TERM", "-INT")] {
        let (mut child, _stdout, stderr) = a_listener_with_a_stuck_stdout(&[]);
        signal(&child.0, first);
        std::thread::sleep(Duration::from_millis(500));
        let start = Instant::now();
        signal(&child.0, second);
        // Far less than the grace period (35 s).
        let status = wait_at_most(&mut child.0, Duration::from_secs(15));
        let text: Vec<String> = stderr.try_iter().collect();
        let status = status.unwrap_or_else(|| panic!("{first} then {second}: still running: {text:?}"));
        assert!(start.elapsed() < Duration::from_secs(15));
        assert_eq!(status.code(), Some(1), "{text:?}");
        assert!(text.iter().any(|l| l.contains("not acknowledged")), "{text:?}");
    }
}
