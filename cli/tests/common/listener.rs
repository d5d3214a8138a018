//! `tscb listen` in the background for the tests of its production features (admin endpoints,
//! --exec, password files, systemd): start-up text parsed, stderr collected, raw HTTP requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

pub const PASSWORD: &str = "listener-SECRET-9";
/// Long enough for a loaded CI machine; a correct run takes milliseconds.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// `tscb listen` in the background; killed when dropped.
pub struct Listener {
    pub child: Child,
    pub addr: SocketAddr,
    pub admin: Option<SocketAddr>,
    pub lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Listener {
    /// `tscb listen ARGS` with `CB_PW` set to [`PASSWORD`].
    pub fn start(args: &[&str]) -> Listener {
        Listener::try_start(args).expect("tscb listen starts")
    }

    /// None when it exits instead of listening (e.g. the port is taken).
    pub fn try_start(args: &[&str]) -> Option<Listener> {
        let mut command = Command::new(super::BIN);
        command.arg("listen").args(args).env("CB_PW", PASSWORD);
        Listener::try_spawn(command)
    }

    /// Runs `command` (which starts `tscb listen`) and reads its start-up text.
    pub fn spawn(command: Command) -> Listener {
        Listener::try_spawn(command).expect("tscb listen starts")
    }

    /// None when the process ends its start-up text early (it exited: its error is on stderr).
    pub fn try_spawn(mut command: Command) -> Option<Listener> {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut text = String::new();
        let (mut addr, mut admin) = (None, None);
        // The start-up text ends with where the messages go.
        loop {
            let mut line = String::new();
            if err.read_line(&mut line).unwrap() == 0 {
                let _ = child.wait();
                eprintln!("tscb listen did not start: {text}");
                return None;
            }
            text.push_str(&line);
            let url =
                |rest: &str| rest.split("://").nth(1).and_then(|r| r.split([' ', '/']).next()?.parse().ok());
            if let Some(rest) = line.strip_prefix("listening on ") {
                addr = url(rest);
            } else if let Some(rest) = line.strip_prefix("admin endpoints on ") {
                admin = url(rest);
            } else if line.starts_with("writing messages to") {
                break;
            }
        }
        let stderr = Arc::new(Mutex::new(text));
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                collected.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let (send, lines) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        Some(Listener { child, addr: addr.expect("a listening line"), admin, lines, stderr })
    }

    /// The next message line on stdout, as JSON.
    pub fn next_message(&self) -> serde_json::Value {
        let line = self.lines.recv_timeout(PATIENCE).expect("a message line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    /// No further line (after everything sent so far was answered, so none is on its way).
    pub fn assert_no_more_lines(&self) {
        assert_eq!(self.lines.recv_timeout(Duration::from_millis(200)).ok(), None);
    }

    /// SIGTERM, then the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        self.child.wait().unwrap()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (up to [`PATIENCE`]) for `needle` in stderr.
    pub fn wait_for_stderr(&self, needle: &str) -> bool {
        let start = Instant::now();
        while start.elapsed() < PATIENCE {
            if self.stderr().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn signal(&self, name: &str) {
        let sent =
            Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
    }

    /// GET `path` on the admin socket: the status and the body.
    pub fn admin_get(&self, path: &str) -> (u16, String) {
        let addr = self.admin.expect("--admin-listen");
        let (status, answer) =
            request(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"), b"");
        (status, answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default())
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request on its own connection: the status and the whole answer.
pub fn request(addr: SocketAddr, head: &str, body: &[u8]) -> (u16, String) {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(PATIENCE * 2)).unwrap();
    conn.write_all(head.as_bytes()).unwrap();
    let _ = conn.write_all(body);
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    let status =
        answer.get(9..12).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status: {answer:?}"));
    (status, answer)
}

pub fn post(addr: SocketAddr, path: &str, body: &str) -> (u16, String) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    request(addr, &head, body.as_bytes())
}

/// A callback message as ThingSpace sends it.
pub fn message(request_id: &str, count: u32, password: &str) -> String {
    json!({
        "username": "fleet-7", "password": password, "requestId": request_id,
        "deviceIds": [{"id": "353238060000001", "kind": "IMEI"}],
        "deviceResponse": {"activateResponse": {"state": "active"}},
        "status": "Success", "callbackCount": count, "maxCallbackThreshold": 4,
    })
    .to_string()
}

/// A directory of one test's own under the target directory, emptied first.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("listen-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
