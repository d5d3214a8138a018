#![allow(dead_code)]

use std::time::Duration;

use tscb::{Client, ClientBuilder};
use tscb_sim::Simulator;

pub const ACCOUNT: &str = "TestAccount-2";
pub const LISTENER: &str = "https://listener.example.com/thingspace";

pub fn builder(sim: &Simulator) -> ClientBuilder {
    Client::builder()
        .base_url(sim.base_url())
        .bearer_token(sim.config().bearer_token.clone())
        .session_token(sim.config().session_token.clone())
        .timeout(Duration::from_secs(10))
}

pub fn client(sim: &Simulator) -> Client {
    builder(sim).build().expect("client builds")
}

pub fn sim() -> Simulator {
    Simulator::start().expect("simulator starts")
}

/// A builder for `sim` that signs in itself: the simulator's OAuth client and login user, with
/// `password` for the login.
pub fn with_password(sim: &Simulator, password: &str) -> ClientBuilder {
    let c = sim.config();
    Client::builder().base_url(sim.base_url()).credentials(
        c.client_id.clone(),
        c.client_secret.clone(),
        c.username.clone(),
        password,
    )
}

/// A builder for `sim` that signs in itself with the right credentials.
pub fn with_credentials(sim: &Simulator) -> ClientBuilder {
    with_password(sim, &sim.config().password)
}

/// How many requests `sim` received whose path ends with `path_end`.
pub fn count(sim: &Simulator, path_end: &str) -> usize {
    sim.requests().iter().filter(|r| r.path.ends_with(path_end)).count()
}

/// A DNS server on a free UDP port of 127.0.0.1, in a thread of its own, that answers `A`
/// queries for `name` with 127.0.0.1, other queries for `name` with no records, and queries
/// for any other name with NXDOMAIN. Enough for a client's lookups, nothing more.
pub fn dns_server(name: &'static str) -> std::net::SocketAddr {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("DNS socket");
    let addr = socket.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf) {
            if let Some(answer) = dns_answer(&buf[..n], name) {
                let _ = socket.send_to(&answer, from);
            }
        }
    });
    addr
}

fn dns_answer(query: &[u8], name: &str) -> Option<Vec<u8>> {
    // The question's name, label by label, after the 12-byte header.
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = *query.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    let question_end = at + 4;
    let known = labels.join(".") == name;
    let answers: u16 = u16::from(known && qtype == 1);
    let rcode = if known { 0 } else { 3 };
    let mut answer = Vec::new();
    answer.extend_from_slice(&query[..2]); // id
    answer.extend_from_slice(&[0x80 | (query[2] & 0x01), 0x80 | rcode]); // response, RD as asked, RA
    answer.extend_from_slice(&[0, 1, 0, answers as u8, 0, 0, 0, 0]);
    answer.extend_from_slice(query.get(12..question_end)?);
    if answers == 1 {
        // The name by pointer to the question, A, IN, TTL 60 s, 4 bytes: 127.0.0.1.
        answer.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
    }
    Some(answer)
}
