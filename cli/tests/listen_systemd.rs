//! `tscb listen` under systemd: socket activation (the listening socket inherited as fd 3, with
//! LISTEN_FDS and LISTEN_PID), sd_notify (READY=1, STOPPING=1 to a datagram socket the test
//! owns), and the example units under packaging/systemd/, checked by `systemd-analyze verify`
//! where it is installed.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::listener::{message, post, scratch, Listener, PASSWORD, PATIENCE};

/// `tscb listen ARGS` with `socket` as its fd 3 and LISTEN_FDS=1, LISTEN_PID its own pid (set
/// by a shell that then execs it, as systemd sets it in the child it forks).
fn activated(socket: &TcpListener, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command.args(["-c", "LISTEN_PID=$$ exec \"$@\"", "sh", common::BIN, "listen"]).args(args);
    command.env("LISTEN_FDS", "1").env("CB_PW", PASSWORD);
    let fd = socket.as_raw_fd();
    // SAFETY: dup2 and fcntl are async-signal-safe. The copy on fd 3 has no FD_CLOEXEC, so it
    // survives exec; when the socket is fd 3 already, dup2 does nothing and fcntl clears the flag.
    unsafe {
        command.pre_exec(move || {
            let done = if fd == 3 { libc::fcntl(3, libc::F_SETFD, 0) } else { libc::dup2(fd, 3) };
            match done {
                -1 => Err(std::io::Error::last_os_error()),
                _ => Ok(()),
            }
        });
    }
    command
}

#[test]
fn an_inherited_socket_is_served_even_for_a_connection_made_before_the_start() {
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    // Queued in the backlog before any listener runs, as during a restart under systemd.
    let body = message("r-early", 1, PASSWORD);
    let mut early = TcpStream::connect(addr).unwrap();
    write!(
        early,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let listener = Listener::spawn(activated(&socket, &["--any-source", "--password-env", "CB_PW"]));
    drop(socket);
    assert_eq!(listener.addr, addr, "{}", listener.stderr());
    early.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut answer = String::new();
    early.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(post(addr, "/", &message("r-later", 1, PASSWORD)).0, 200);
    let line = listener.lines.recv_timeout(PATIENCE).unwrap();
    assert!(line.contains("r-early"), "{line}");
}

#[test]
fn listen_and_an_inherited_socket_together_are_refused() {
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut command = activated(&socket, &["--listen", "127.0.0.1:0"]);
    let child = command.stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    // Bounded: a listener that took either socket would run until killed.
    let mut child = common::KillOnDrop(child);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < PATIENCE, "it started, with two sockets to choose from");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let mut stderr = String::new();
    child.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(
        stderr.contains("systemd passes the socket (LISTEN_FDS): --listen must not be given"),
        "{stderr}"
    );
}

#[test]
fn variables_meant_for_another_process_are_ignored() {
    // LISTEN_PID names another process (the variables were inherited): --listen is used.
    let out = common::command(&[("LISTEN_FDS", "1"), ("LISTEN_PID", "1")], &["listen"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--listen ADDR:PORT is needed"), "{stderr}");
}

#[test]
fn it_notifies_ready_then_stopping() {
    let dir = scratch("systemd-notify");
    let path = dir.join("notify.sock");
    let notify = UnixDatagram::bind(&path).unwrap();
    notify.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut command = Command::new(common::BIN);
    command.args(["listen", "--listen", "127.0.0.1:0", "--any-source"]).env("NOTIFY_SOCKET", &path);
    let mut listener = Listener::spawn(command);
    let mut buf = [0u8; 256];
    let n = notify.recv(&mut buf).expect("READY=1");
    assert_eq!(&buf[..n], b"READY=1");
    // Ready means serving.
    assert_eq!(post(listener.addr, "/", &message("r-1", 1, PASSWORD)).0, 200);
    listener.signal("TERM");
    let n = notify.recv(&mut buf).expect("STOPPING=1");
    assert_eq!(&buf[..n], b"STOPPING=1");
    assert!(listener.child.wait().unwrap().success());
}

#[test]
fn it_notifies_an_abstract_socket_too() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!("tscb-listen-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let notify = UnixDatagram::bind_addr(&addr).unwrap();
    notify.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut command = Command::new(common::BIN);
    command
        .args(["listen", "--listen", "127.0.0.1:0", "--any-source"])
        .env("NOTIFY_SOCKET", format!("@{name}"));
    let _listener = Listener::spawn(command);
    let mut buf = [0u8; 256];
    let n = notify.recv(&mut buf).expect("READY=1");
    assert_eq!(&buf[..n], b"READY=1");
}

#[test]
fn the_example_units_pass_systemd_analyze_verify() {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    }
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/systemd");
    let dir = scratch("systemd-units");
    for unit in ["tscb-listen.service", "tscb-listen.socket"] {
        let text = std::fs::read_to_string(units.join(unit)).unwrap();
        // verify wants ExecStart's program to exist: the one built here.
        std::fs::write(dir.join(unit), text.replace("/usr/local/bin/tscb", common::BIN)).unwrap();
    }
    let out = Command::new("systemd-analyze")
        .args(["verify", "tscb-listen.service", "tscb-listen.socket"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // verify exits 0 on settings it ignores: any complaint fails the test.
    assert!(out.status.success() && stderr.trim().is_empty(), "{stderr}");
}
