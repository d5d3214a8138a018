//! A real `nats-server` (Debian's package; JetStream on, storage in a scratch directory) for the
//! tests of `tscb listen --nats`, started and stopped by them, and what they read from its stream.
//! Skipped, with a message, where it is not installed.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;

use super::listener::PATIENCE;
use super::KillOnDrop;

pub const SUBJECT: &str = "tscb.callbacks";

/// How the tests' own client connects (TLS and credentials as the server wants them).
pub type Connect = Box<dyn Fn() -> async_nats::ConnectOptions>;

pub struct NatsServer {
    _child: KillOnDrop,
    pub port: u16,
    pub dir: PathBuf,
    scheme: &'static str,
    connect: Connect,
}

impl NatsServer {
    /// None when nats-server is not installed.
    pub fn start(dir: &Path, port: Option<u16>) -> Option<NatsServer> {
        NatsServer::start_with(dir, port, &[], "nats", Box::new(async_nats::ConnectOptions::new))
    }

    /// With more arguments (TLS, users, a configuration file), a URL scheme and how to connect.
    pub fn start_with(
        dir: &Path,
        port: Option<u16>,
        more: &[&str],
        scheme: &'static str,
        connect: Connect,
    ) -> Option<NatsServer> {
        if Command::new("nats-server").arg("--version").output().is_err() {
            eprintln!("skipped: nats-server is not installed (apt-get install nats-server)");
            return None;
        }
        // A port we chose may be taken by the time nats-server binds it (another test chose it
        // too): then nats-server stops, and we try another. One we were given must work.
        let chosen = port.is_none();
        for _ in 0..3 {
            let port = port.unwrap_or_else(|| {
                std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
            });
            // A name of its own, to know that what answers on the port is this server.
            let name = format!("tscb-test-{}-{port}", std::process::id());
            let child = Command::new("nats-server")
                .args(more)
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-n", &name, "-sd"])
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut child = KillOnDrop(child);
            let start = Instant::now();
            while !greets(port, &name) {
                if child.0.try_wait().unwrap().is_some() {
                    break;
                }
                assert!(start.elapsed() < PATIENCE, "nats-server did not start");
                std::thread::sleep(Duration::from_millis(50));
            }
            if child.0.try_wait().unwrap().is_none() {
                return Some(NatsServer { _child: child, port, dir: dir.to_owned(), scheme, connect });
            }
            assert!(chosen, "nats-server {more:?} stopped at once on port {port}");
        }
        panic!("nats-server {more:?} stopped at once on three ports");
    }

    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }
}

/// Whether the nats-server called `name` answers on `port`: it greets every client with
/// `INFO {..."server_name":"NAME"...}` (before any TLS). A connection alone proves nothing: to a
/// port that nobody listens on yet, one can connect to itself (when the kernel picks that very
/// port as its source), and another test's server may hold the port.
fn greets(port: u16, name: &str) -> bool {
    let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    if stream.local_addr().ok() == stream.peer_addr().ok() {
        return false;
    }
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut line = String::new();
    BufReader::new(stream.take(64 * 1024)).read_line(&mut line).is_ok()
        && line.starts_with("INFO ")
        && line.contains(&format!("\"server_name\":\"{name}\""))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// The stream "TSCB" capturing SUBJECT, duplicates dropped within `window`.
pub fn create_stream(server: &NatsServer, window: Duration) {
    let runtime = runtime();
    let js =
        runtime.block_on(async { jetstream::new((server.connect)().connect(server.url()).await.unwrap()) });
    runtime.block_on(async {
        let config = jetstream::stream::Config {
            name: "TSCB".into(),
            subjects: vec![SUBJECT.into()],
            duplicate_window: window,
            ..Default::default()
        };
        // JetStream may need a moment after the port opens.
        let start = Instant::now();
        while let Err(e) = js.create_stream(config.clone()).await {
            assert!(start.elapsed() < PATIENCE, "could not create the stream: {e}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
}

/// Every message in the stream: its requestId and its Nats-Msg-Id.
pub fn stored(server: &NatsServer) -> Vec<(String, String)> {
    let runtime = runtime();
    let js =
        runtime.block_on(async { jetstream::new((server.connect)().connect(server.url()).await.unwrap()) });
    runtime.block_on(async {
        let mut stream = js.get_stream("TSCB").await.unwrap();
        let last = stream.info().await.unwrap().state.last_sequence;
        let mut all = Vec::new();
        for sequence in 1..=last {
            let message = stream.get_raw_message(sequence).await.unwrap();
            let line: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
            let id = message.headers.get("Nats-Msg-Id").map(|v| v.as_str().to_owned()).unwrap_or_default();
            all.push((line["requestId"].as_str().unwrap().to_owned(), id));
        }
        all
    })
}
