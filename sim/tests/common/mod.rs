//! A deliberately small raw HTTP/1.1 client over `std::net::TcpStream`, so that these tests see
//! exactly the bytes the simulator sends.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::LazyLock;
use std::time::Duration;

use serde_json::Value;
use tscb_sim::{Simulator, SIM_BEARER_TOKEN, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_USERNAME};

// The credentials come from tscb-sim's constants, never written again here, so that changing
// one default changes every test that relies on it.
pub static BEARER: LazyLock<String> = LazyLock::new(|| format!("Bearer {SIM_BEARER_TOKEN}"));
pub const SESSION: &str = tscb_sim::SIM_SESSION_TOKEN;
/// `Basic base64(client id:client secret)`, as the token endpoint expects them.
pub static BASIC: LazyLock<String> =
    LazyLock::new(|| format!("Basic {}", base64_of(&format!("{SIM_CLIENT_ID}:{SIM_CLIENT_SECRET}"))));

pub fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A `session/login` body with the simulator's username and `password`.
pub fn login_body(password: &str) -> String {
    serde_json::json!({ "username": SIM_USERNAME, "password": password }).to_string()
}

/// A `session/login` body with the simulator's own username and password.
pub fn own_login() -> String {
    login_body(SIM_PASSWORD)
}

/// One parsed response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `errorCode` of a connectivity error, or the `fault.code` of a gateway fault.
    pub fn code(&self) -> String {
        let json = self.json();
        json.get("errorCode")
            .or_else(|| json.pointer("/fault/code"))
            .or_else(|| json.get("error"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no error code in {json}"))
            .to_owned()
    }
}

/// A keep-alive connection.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    /// Sent as `Host`, as every HTTP client does; the admin endpoints insist on it.
    host: String,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect to simulator");
        stream.set_nodelay(true).unwrap();
        // A hang in the simulator must fail the test, not stall it.
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn { stream, buf: Vec::new(), host: addr.to_string() }
    }

    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write request");
    }

    /// Sends a request with `Content-Length` (always, as the project's clients do).
    pub fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Resp> {
        let mut out = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (name, value) in headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.write_all(&bytes)?;
        self.read_response()
    }

    /// Reads the head of a response (skipping `100 Continue`), leaving the body unread.
    pub fn read_head(&mut self) -> io::Result<(u16, Vec<(String, String)>)> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Response::new(&mut headers);
            match parsed.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let status = parsed.code.unwrap();
                    let headers = parsed
                        .headers
                        .iter()
                        .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
                        .collect();
                    self.buf.drain(..n);
                    if status == 100 {
                        continue;
                    }
                    return Ok((status, headers));
                }
                Ok(httparse::Status::Partial) => {
                    if self.fill()? == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("closed after {} bytes of head", self.buf.len()),
                        ));
                    }
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
    }

    pub fn read_response(&mut self) -> io::Result<Resp> {
        let (status, headers) = self.read_head()?;
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.trim().parse::<usize>().expect("numeric Content-Length"));
        let body = match (status, length) {
            (204, _) => Vec::new(),
            (_, Some(length)) => self.read_exact_body(length)?,
            (_, None) => {
                let mut rest = std::mem::take(&mut self.buf);
                self.stream.read_to_end(&mut rest)?;
                rest
            }
        };
        Ok(Resp { status, headers, body })
    }

    fn read_exact_body(&mut self, length: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < length {
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("body ended after {} of {length} bytes", self.buf.len()),
                ));
            }
        }
        let rest = self.buf.split_off(length);
        Ok(std::mem::replace(&mut self.buf, rest))
    }

    /// Bytes already read past the last parsed response.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    pub fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// True when the server has closed the connection (clean end of stream).
    pub fn is_closed(&mut self) -> bool {
        matches!(self.fill(), Ok(0))
    }
}

/// One request on a fresh connection.
pub fn call(sim: &Simulator, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    Conn::open(sim.addr())
        .send(method, target, headers, body)
        .unwrap_or_else(|e| panic!("{method} {target}: {e}"))
}

/// A connectivity-API request with the fixed bearer token and session.
pub fn m2m(sim: &Simulator, method: &str, target: &str, body: &str) -> Resp {
    call(
        sim,
        method,
        target,
        &[
            ("Authorization", BEARER.as_str()),
            ("VZ-M2M-Token", SESSION),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ],
        body.as_bytes(),
    )
}

pub const CALLBACKS: &str = "/api/m2m/v1/callbacks";

/// Registers `service` for `account` and expects success.
pub fn register(sim: &Simulator, account_segment: &str, body: &str) -> Resp {
    let resp = m2m(sim, "POST", &format!("{CALLBACKS}/{account_segment}"), body);
    assert_eq!(resp.status, 200, "register failed: {}", resp.text());
    resp
}
