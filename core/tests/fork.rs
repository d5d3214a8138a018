//! A client used before `fork()` keeps working in the parent and in every child at once, each
//! process on connections of its own and each call within its call timeout, and a child that drops
//! its copy at once leaves the parent's connections alone (the pre-fork server: gunicorn
//! `--preload`, uWSGI, C daemons that fork workers). The Python and C tests only show that their
//! close/free and calls reach this; the experiment is here.
//!
//! Without the test harness (`harness = false`): a process must have one thread when it forks,
//! or its child inherits locks that the other threads held; so no harness threads, and the
//! simulator runs in another process, this same binary started again with
//! `TSCB_FORK_SIM_CHILD` set, which prints what it received when its stdin closes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tscb::Client;
use tscb_sim::{
    SIM_BEARER_TOKEN, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_SESSION_TOKEN, SIM_USERNAME,
};

const SIM_CHILD: &str = "TSCB_FORK_SIM_CHILD";
const CHILDREN: usize = 3;
const CALLS: usize = 10;
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a call may take past its timeout before it counts as late (a loaded machine).
const SLACK: Duration = Duration::from_secs(3);
/// How long the simulator holds the first sign-in.
const SIGN_IN_DELAY: Duration = Duration::from_secs(3);
/// How long the children may take altogether before they are killed and the test fails.
const CHILDREN_BOUND: Duration = Duration::from_secs(90);

/// The account each process lists: the simulator's record tells the processes apart by it.
fn account(process: usize) -> String {
    format!("Fork-{process}")
}

/// In the simulator's process: serves until stdin closes, then prints each request's path and
/// connection.
fn serve() {
    let sim = tscb_sim::Simulator::start().expect("simulator");
    for process in 0..=CHILDREN {
        sim.add_account(&account(process));
    }
    // The first token request is held, so that a sign-in is in flight when the process forks.
    sim.inject(
        tscb_sim::Fault::new(tscb_sim::FaultAction::Delay { ms: SIGN_IN_DELAY.as_millis() as u64 })
            .path_contains("oauth2/token")
            .times(1),
    );
    let mut out = std::io::stdout();
    writeln!(out, "port {}", sim.addr().port()).and_then(|()| out.flush()).expect("stdout");
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    for r in sim.requests() {
        writeln!(out, "request {} {}", r.path, r.connection_id).expect("stdout");
    }
}

/// `CALLS` calls as `process`; 0 if all succeeded in time, else what went wrong (as an exit
/// status: 1 an error, 2 late, 3 a panic).
fn calls(client: &Client, process: usize) -> i32 {
    let run = || {
        for n in 0..CALLS {
            let start = Instant::now();
            let outcome = client.list_callbacks(account(process));
            let took = start.elapsed();
            if let Err(e) = outcome {
                eprintln!("process {process} ({}), call {n}: {e} after {took:?}", std::process::id());
                return 1;
            }
            if took > CALL_TIMEOUT + SLACK {
                eprintln!("process {process}, call {n}: took {took:?}, timeout {CALL_TIMEOUT:?}");
                return 2;
            }
        }
        0
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or(3)
}

/// Waits for each child (killing those still running after `CHILDREN_BOUND`); what went wrong.
fn wait_for(children: Vec<(usize, libc::pid_t)>) -> Vec<String> {
    let bound = Instant::now() + CHILDREN_BOUND;
    let mut failed = Vec::new();
    for (process, pid) in children {
        let mut status = 0;
        loop {
            let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if done == pid {
                break;
            }
            assert_eq!(done, 0, "waitpid: {}", std::io::Error::last_os_error());
            if Instant::now() > bound {
                unsafe { libc::kill(pid, libc::SIGKILL) };
                unsafe { libc::waitpid(pid, &mut status, 0) };
                failed.push(format!("child {process} still running after {CHILDREN_BOUND:?}: killed"));
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if libc::WIFSIGNALED(status) {
            failed.push(format!("child {process} died of signal {}", libc::WTERMSIG(status)));
        } else if libc::WEXITSTATUS(status) != 0 {
            failed.push(format!("child {process} exited with {}", libc::WEXITSTATUS(status)));
        }
    }
    failed
}

/// Whether the simulator has received a request whose path contains `fragment` (asked over
/// its admin endpoint, with a plain HTTP/1.1 request).
fn received(port: &str, fragment: &str) -> bool {
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("admin");
    write!(stream, "GET /__admin/requests HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
        .expect("admin request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("admin answer");
    answer.contains(fragment)
}

/// A sign-in in flight in another thread when the process forks: no thread of the child will
/// finish it, so the child's call must not wait for it but sign in itself, within its timeout.
fn sign_in_in_flight(port: &str) -> Vec<String> {
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/api"))
        .credentials(SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_USERNAME, SIM_PASSWORD)
        .call_timeout(CALL_TIMEOUT)
        .build()
        .expect("client");
    let signing_in = {
        let client = client.clone();
        std::thread::spawn(move || client.login())
    };
    // The simulator holds the token request for SIGN_IN_DELAY: fork while it does.
    let bound = Instant::now() + Duration::from_secs(30);
    while !received(port, "oauth2/token") {
        assert!(Instant::now() < bound, "the sign-in never reached the simulator");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = match unsafe { libc::fork() } {
        -1 => panic!("fork: {}", std::io::Error::last_os_error()),
        0 => unsafe {
            libc::alarm(CHILDREN_BOUND.as_secs() as u32);
            let start = Instant::now();
            let code = match client.list_callbacks("TestAccount-2") {
                Ok(_) if start.elapsed() <= CALL_TIMEOUT + SLACK => 0,
                Ok(_) => 2,
                Err(e) => {
                    eprintln!("the child's call, a sign-in in flight at the fork: {e}");
                    1
                }
            };
            libc::_exit(code)
        },
        pid => pid,
    };
    let mut failed = wait_for(vec![(4, pid)]);
    if let Err(e) = signing_in.join().unwrap() {
        failed.push(format!("the parent's sign-in in flight at the fork: {e}"));
    }
    failed
}

fn main() {
    if std::env::var_os(SIM_CHILD).is_some() {
        return serve();
    }
    let mut sim = Command::new(std::env::current_exe().unwrap())
        .env(SIM_CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the simulator's process");
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines().map_while(Result::ok);
    let port = lines.by_ref().find_map(|l| l.strip_prefix("port ").map(str::to_owned)).expect("port");

    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}/api"))
        .bearer_token(SIM_BEARER_TOKEN)
        .session_token(SIM_SESSION_TOKEN)
        .call_timeout(CALL_TIMEOUT)
        .build()
        .expect("client");
    // Used before the fork: an engine with an open keep-alive connection is in the pool.
    client.list_callbacks(account(0)).expect("the call before the fork");

    // A worker that drops its copy at once (Python's close(), C's tscb_client_free) must leave
    // the parent's connections alone: the parent's calls below go on over them.
    match unsafe { libc::fork() } {
        -1 => panic!("fork: {}", std::io::Error::last_os_error()),
        0 => unsafe {
            // The child's own copy of the client, dropped as the bindings drop it; the original is
            // never dropped in this process, which leaves at once.
            drop(std::ptr::read(&client));
            libc::_exit(0);
        },
        closer => {
            let mut status = -1;
            assert_eq!(unsafe { libc::waitpid(closer, &mut status, 0) }, closer, "waitpid");
            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "the closer: status {status}");
        }
    }

    // The last resort if the parent's own calls hang: SIGALRM ends this process.
    unsafe { libc::alarm(CHILDREN_BOUND.as_secs() as u32 + 30) };
    let mut start = [0; 2];
    assert_eq!(unsafe { libc::pipe(start.as_mut_ptr()) }, 0, "pipe");
    let mut children = Vec::new();
    for process in 1..=CHILDREN {
        match unsafe { libc::fork() } {
            -1 => panic!("fork: {}", std::io::Error::last_os_error()),
            0 => {
                // The child: wait until every process is forked, call, and leave without running
                // anything of the parent's (no unwinding, no atexit, no flush of its buffers).
                unsafe {
                    libc::alarm(CHILDREN_BOUND.as_secs() as u32);
                    libc::close(start[1]);
                    let mut byte = 0u8;
                    libc::read(start[0], (&mut byte as *mut u8).cast(), 1);
                    libc::_exit(calls(&client, process));
                }
            }
            pid => children.push((process, pid)),
        }
    }
    // Closing the pipe's write end starts the children; the parent calls meanwhile.
    unsafe {
        libc::close(start[0]);
        libc::close(start[1]);
    }
    let parent = calls(&client, 0);

    let mut failed = wait_for(children);
    if parent != 0 {
        failed.push(format!("the parent's calls failed with {parent}"));
    }

    failed.extend(sign_in_in_flight(&port));

    drop(sim.stdin.take());
    let mut connections: BTreeMap<usize, BTreeSet<u64>> = BTreeMap::new();
    let mut requests = BTreeMap::<usize, usize>::new();
    for line in lines {
        let Some(record) = line.strip_prefix("request ") else { continue };
        let (path, connection) = record.rsplit_once(' ').unwrap();
        // (The sign-in's requests are not a process's.)
        let Some((_, process)) = path.rsplit_once("Fork-") else { continue };
        let process: usize = process.parse().unwrap();
        connections.entry(process).or_default().insert(connection.parse().unwrap());
        *requests.entry(process).or_default() += 1;
    }
    sim.wait().unwrap();
    for (process, ids) in &connections {
        for (other, other_ids) in &connections {
            if process < other && !ids.is_disjoint(other_ids) {
                failed.push(format!(
                    "processes {process} and {other} shared connections: {:?}",
                    ids.intersection(other_ids).collect::<Vec<_>>()
                ));
            }
        }
    }
    if failed.is_empty() {
        // Every call arrived: the parent's one before the fork and its CALLS, each child's CALLS.
        for process in 0..=CHILDREN {
            let expected = CALLS + usize::from(process == 0);
            assert_eq!(requests.get(&process).copied(), Some(expected), "requests from process {process}");
        }
    }
    assert!(failed.is_empty(), "{failed:#?}\nconnections by process: {connections:?}");
    println!("fork: parent and {CHILDREN} children, {CALLS} calls each, on connections {connections:?}: ok");
}
