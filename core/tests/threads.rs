//! Building a blocking client and using it starts no thread: the process has as many threads
//! after `build()` and after the first calls as before, with an IP address and with host names
//! (`localhost`, from the hosts file, and one a name server answers over UDP, which must be
//! looked up without tokio's blocking pool) in the base URL.
//!
//! The one test of this file, so that no other test's threads come and go meanwhile; the
//! simulator (which starts a thread per connection) and the test's name server run in a child
//! process: this same test binary, started again with `TSCB_THREADS_SIM_CHILD` set.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use tscb_sim::{SIM_BEARER_TOKEN, SIM_SESSION_TOKEN};

use tscb::{CallbackRegistration, Client};

const CHILD: &str = "TSCB_THREADS_SIM_CHILD";

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").expect("/proc/self/task").count()
}

/// The thread count once the threads just joined have left the kernel's list too (joining
/// returns a moment before they do); a thread that tokio or a resolver would keep (for seconds,
/// idle) still counts.
fn settled(expected: usize) -> usize {
    for _ in 0..100 {
        if threads() == expected {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    threads()
}

/// The name the child's name server knows (as 127.0.0.1).
const NAME: &str = "api.tscb.test";

/// In the child: runs a simulator and a name server, prints their addresses, and serves until
/// its stdin closes.
fn serve() {
    let sim = tscb_sim::Simulator::start().expect("simulator");
    let dns = common::dns_server(NAME);
    // Straight to stdout: the test harness captures `println!`.
    let mut out = std::io::stdout();
    writeln!(out, "dns {dns}\nport {}", sim.addr().port()).and_then(|()| out.flush()).expect("stdout");
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
}

#[test]
fn a_client_starts_no_thread() {
    if std::env::var_os(CHILD).is_some() {
        return serve();
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_client_starts_no_thread", "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the simulator's process");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut after = |what: &str| {
        lines
            .by_ref()
            .map_while(Result::ok)
            // (The harness may print the test's name on the same line first.)
            .find_map(|l| l.rsplit_once(what).map(|(_, value)| value.trim().to_owned()))
            .unwrap_or_else(|| panic!("the child's {what}"))
    };
    let dns: std::net::SocketAddr = after("dns ").parse().unwrap();
    let port = after("port ");

    for host in ["127.0.0.1", "localhost", NAME] {
        let before = threads();
        let mut builder = Client::builder()
            .base_url(format!("http://{host}:{port}/api"))
            .bearer_token(SIM_BEARER_TOKEN)
            .session_token(SIM_SESSION_TOKEN);
        if host == NAME {
            // The system's configuration for the others.
            builder = builder.allow_insecure_http(true).name_server_for_tests(dns);
        }
        let client = builder.build().unwrap();
        assert_eq!(threads(), before, "{host}: build() started a thread");
        let reg = CallbackRegistration::new("CarrierService", "https://listener.example.com/tscb").unwrap();
        client.register_callback("TestAccount-2", &reg).unwrap();
        let listed = client.list_callbacks("TestAccount-2").unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(threads(), before, "{host}: the first calls started a thread");
        // Clones share everything; many threads calling at once start nothing of their own.
        std::thread::scope(|s| {
            for _ in 0..4 {
                let client = client.clone();
                s.spawn(move || client.list_callbacks("TestAccount-2").unwrap());
            }
        });
        assert_eq!(settled(before), before, "{host}: concurrent calls left a thread behind");
        drop(client);
        assert_eq!(threads(), before, "{host}");
    }
    drop(child.stdin.take());
    child.wait().unwrap();
}
