//! Just enough HTTP/1.1 for the simulator: request framing by `Content-Length`, keep-alive, and
//! responses written in one piece so that faults can be layered on top with exact control.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};

use crate::tls::Conn;
use std::time::{Duration, Instant};

/// Largest request body accepted; larger ones get 413.
pub(crate) const MAX_BODY: usize = 1 << 20;
/// Largest request head (request line and headers) accepted.
const MAX_HEAD: usize = 64 << 10;
const MAX_HEADERS: usize = 100;

/// One request, fully read.
pub(crate) struct Request {
    pub(crate) method: String,
    /// The raw request-target, exactly as received.
    pub(crate) target: String,
    /// Header names lower-cased, values as received, in order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) keep_alive: bool,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The request-target without its query string, which is what routing looks at.
    pub(crate) fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }
}

/// Why a request could not be read; the connection is answered with `status` and closed.
pub(crate) struct BadRequest {
    pub(crate) status: u16,
    pub(crate) message: &'static str,
}

fn bad(status: u16, message: &'static str) -> BadRequest {
    BadRequest { status, message }
}

fn too_slow() -> BadRequest {
    bad(408, "the request did not arrive in time")
}

/// Reads requests off one connection, keeping bytes that arrived early (pipelining).
pub(crate) struct RequestReader {
    buf: Vec<u8>,
    /// How long the connection may stay silent before a request begins.
    idle: Duration,
    /// How long a request may take to arrive in full once it has begun.
    whole: Duration,
}

/// What one read from the socket gave.
enum Filled {
    Data,
    /// End of stream or a socket error.
    Closed,
    TimedOut,
}

/// A read timeout of zero means "none" to std, so the shortest is a millisecond.
fn at_least_a_millisecond(d: Duration) -> Duration {
    d.max(Duration::from_millis(1))
}

impl RequestReader {
    pub(crate) fn new(idle: Duration, whole: Duration) -> RequestReader {
        RequestReader { buf: Vec::new(), idle, whole }
    }

    /// Reads the next request. `Ok(None)` means the client closed (or the socket failed, or it
    /// stayed silent for the idle timeout) before a request began or completed: there is nobody
    /// to answer. A request that takes longer than the request timeout gets 408.
    pub(crate) fn read(&mut self, stream: &mut Conn) -> Result<Option<Request>, BadRequest> {
        // The clock starts with the request's first byte, which may already be buffered.
        let mut deadline = if self.buf.is_empty() { None } else { Instant::now().checked_add(self.whole) };
        let (head_len, mut request, content_length) = loop {
            if !self.buf.is_empty() {
                if let Some(parsed) = self.parse_head()? {
                    break parsed;
                }
                if self.buf.len() > MAX_HEAD {
                    return Err(bad(431, "request head too large"));
                }
            }
            match self.fill(stream, deadline) {
                Filled::Data => {
                    deadline = deadline.or_else(|| Instant::now().checked_add(self.whole));
                }
                Filled::Closed => return Ok(None),
                Filled::TimedOut if self.buf.is_empty() => return Ok(None),
                Filled::TimedOut => return Err(too_slow()),
            }
        };
        self.buf.drain(..head_len);
        if content_length > 0 && self.buf.len() < content_length {
            let expects_continue =
                request.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
            if expects_continue && stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
                return Ok(None);
            }
        }
        while self.buf.len() < content_length {
            match self.fill(stream, deadline) {
                Filled::Data => {}
                Filled::Closed => return Ok(None),
                Filled::TimedOut => return Err(too_slow()),
            }
        }
        let rest = self.buf.split_off(content_length);
        request.body = std::mem::replace(&mut self.buf, rest);
        Ok(Some(request))
    }

    /// Appends whatever the socket has, waiting until `deadline` (or the idle timeout without
    /// one).
    fn fill(&mut self, stream: &mut Conn, deadline: Option<Instant>) -> Filled {
        let wait = match deadline {
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left,
                _ => return Filled::TimedOut,
            },
            None => self.idle,
        };
        // On the socket under TLS too: rustls then reports the timeout as the same I/O error.
        if stream.tcp().set_read_timeout(Some(at_least_a_millisecond(wait))).is_err() {
            return Filled::Closed;
        }
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => return Filled::Closed,
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Filled::Data;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return Filled::TimedOut
                }
                Err(_) => return Filled::Closed,
            }
        }
    }

    /// Parses the head if it is complete: its length, the request without body, and the
    /// body length.
    fn parse_head(&self) -> Result<Option<(usize, Request, usize)>, BadRequest> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        let head_len = match parsed.parse(&self.buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => return Err(bad(431, "too many headers")),
            Err(_) => return Err(bad(400, "malformed request")),
        };
        let method = parsed.method.unwrap_or_default().to_owned();
        let target = parsed.path.unwrap_or_default().to_owned();
        let http10 = parsed.version == Some(0);
        let headers: Vec<(String, String)> = parsed
            .headers
            .iter()
            .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
            .collect();

        if headers.iter().any(|(n, _)| n == "transfer-encoding") {
            return Err(bad(501, "Transfer-Encoding is not supported; send Content-Length"));
        }
        let mut content_length: Option<usize> = None;
        for (_, value) in headers.iter().filter(|(n, _)| n == "content-length") {
            let value = value.trim();
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(400, "invalid Content-Length"));
            }
            // Anything too long to parse is certainly over the limit.
            let n = value.parse::<usize>().unwrap_or(usize::MAX);
            if content_length.is_some_and(|c| c != n) {
                return Err(bad(400, "conflicting Content-Length headers"));
            }
            content_length = Some(n);
        }
        let content_length = content_length.unwrap_or(0);
        if content_length > MAX_BODY {
            return Err(bad(413, "request body larger than 1 MiB"));
        }

        let connection_has = |token: &str| {
            headers
                .iter()
                .filter(|(n, _)| n == "connection")
                .flat_map(|(_, v)| v.split(','))
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        let keep_alive = if http10 { connection_has("keep-alive") } else { !connection_has("close") };
        let request = Request { method, target, headers, body: Vec::new(), keep_alive };
        Ok(Some((head_len, request, content_length)))
    }
}

/// A complete response, written with a single `write_all`.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) extra_headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn new(status: u16, content_type: Option<&str>, body: Vec<u8>) -> Response {
        Response { status, content_type: content_type.map(str::to_owned), extra_headers: Vec::new(), body }
    }

    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::new(status, Some("application/json"), serde_json::to_vec(value).unwrap_or_default())
    }

    pub(crate) fn text(status: u16, message: &str) -> Response {
        Response::new(status, Some("text/plain; charset=utf-8"), format!("{message}\n").into_bytes())
    }

    pub(crate) fn no_content() -> Response {
        Response::new(204, None, Vec::new())
    }

    pub(crate) fn write_to(&self, stream: &mut impl Write, close: bool) -> io::Result<()> {
        let mut out =
            head(self.status, self.content_type.as_deref(), self.body.len(), &self.extra_headers, close);
        out.extend_from_slice(&self.body);
        stream.write_all(&out)
    }
}

/// The status line and headers. 204 gets no `Content-Length`, as RFC 9110 requires; every other
/// response has one.
pub(crate) fn head(
    status: u16,
    content_type: Option<&str>,
    content_length: usize,
    extra_headers: &[(String, String)],
    close: bool,
) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    if status != 204 {
        out.push_str(&format!("Content-Length: {content_length}\r\n"));
    }
    if let Some(ct) = content_type {
        out.push_str(&format!("Content-Type: {}\r\n", one_line(ct)));
    }
    for (name, value) in extra_headers {
        out.push_str(&format!("{}: {}\r\n", one_line(name), one_line(value)));
    }
    if close {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// Header text from a fault cannot start a new header or end the head: CR, LF and NUL go out
/// as spaces. (Faults injected over HTTP with such bytes are refused before they get here.)
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(is_line_break) {
        text.replace(is_line_break, " ").into()
    } else {
        text.into()
    }
}

/// The bytes that must never appear in a header.
pub(crate) fn is_line_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\0')
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Closes after an error answer without discarding it: closing a socket with unread input makes
/// the kernel send an RST, which can destroy the answer before the client reads it. So stop
/// writing, then swallow what the client is still sending, within limits.
pub(crate) fn lingering_close(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + Duration::from_millis(500);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut scratch = [0u8; 16 * 1024];
    let mut swallowed = 0usize;
    while Instant::now() < deadline && swallowed < 2 * MAX_BODY {
        match stream.read(&mut scratch) {
            Ok(0) => break,
            Ok(n) => swallowed += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
}
