//! What the simulator remembers about each request, for tests to inspect, within bounds.

use std::collections::VecDeque;
use std::fmt;

use crate::mask::{self, Known};

/// One non-admin request as the simulator received it.
///
/// The fields hold exactly what arrived, credentials included, for tests in the same process.
/// `Debug` masks the credentials; so does `GET /__admin/requests` (see the crate docs).
#[derive(Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The request method, e.g. `"POST"`.
    pub method: String,
    /// The raw request-target exactly as received, e.g. `"/api/m2m/v1/callbacks/a%2Fb"`.
    pub path: String,
    /// Header names lower-cased, values as received (lossily decoded as UTF-8), in order.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
    /// Which connection carried the request: connections are numbered from 0 in the order they
    /// were accepted, so equal ids mean a reused keep-alive connection.
    pub connection_id: u64,
}

impl RecordedRequest {
    /// The value of the first header called `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The request as `GET /__admin/requests` lists it: credentials masked, except the
    /// simulator's own `known` ones.
    pub(crate) fn to_masked_json(&self, known: &Known) -> serde_json::Value {
        let headers: Vec<[String; 2]> =
            self.headers.iter().map(|(n, v)| [n.clone(), mask::header(n, v, known)]).collect();
        serde_json::json!({
            "method": self.method,
            "path": mask::target(&self.path),
            "headers": headers,
            "body": mask::body(&self.method, &self.path, &self.body, known),
            "connection_id": self.connection_id,
        })
    }
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug text ends up in test failure output and logs: mask everything, the
        // simulator's own test values included.
        let masked = self.to_masked_json(&Known::none());
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &masked["path"])
            .field("headers", &masked["headers"])
            .field("body", &masked["body"])
            .field("connection_id", &self.connection_id)
            .finish()
    }
}

/// The recorded requests, oldest first, bounded in count and in body bytes: the oldest are
/// forgotten first, and the newest is always kept.
pub(crate) struct RequestLog {
    entries: VecDeque<RecordedRequest>,
    body_bytes: usize,
    max_entries: usize,
    max_body_bytes: usize,
}

impl RequestLog {
    pub(crate) fn new(max_entries: usize, max_body_bytes: usize) -> RequestLog {
        RequestLog { entries: VecDeque::new(), body_bytes: 0, max_entries, max_body_bytes }
    }

    pub(crate) fn push(&mut self, request: RecordedRequest) {
        if self.max_entries == 0 {
            return;
        }
        self.body_bytes += request.body.len();
        self.entries.push_back(request);
        while self.entries.len() > 1
            && (self.entries.len() > self.max_entries || self.body_bytes > self.max_body_bytes)
        {
            if let Some(old) = self.entries.pop_front() {
                self.body_bytes -= old.body.len();
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.body_bytes = 0;
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &RecordedRequest> {
        self.entries.iter()
    }

    pub(crate) fn to_vec(&self) -> Vec<RecordedRequest> {
        self.entries.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, body: &[u8]) -> RecordedRequest {
        RecordedRequest {
            method: "GET".into(),
            path: path.into(),
            headers: vec![("x-a".into(), "1".into()), ("x-a".into(), "2".into())],
            body: body.to_vec(),
            connection_id: 0,
        }
    }

    #[test]
    fn header_lookup_is_case_insensitive_and_takes_the_first() {
        let r = request("/", b"");
        assert_eq!(r.header("X-A"), Some("1"));
        assert_eq!(r.header("x-b"), None);
    }

    #[test]
    fn the_log_forgets_the_oldest_by_count_and_by_bytes() {
        let paths = |log: &RequestLog| log.iter().map(|r| r.path.clone()).collect::<Vec<_>>();
        let mut log = RequestLog::new(3, 10);
        for path in ["/1", "/2", "/3", "/4"] {
            log.push(request(path, b""));
        }
        assert_eq!(paths(&log), ["/2", "/3", "/4"]);
        log.push(request("/5", b"123456"));
        log.push(request("/6", b"12345"));
        assert_eq!(paths(&log), ["/6"], "11 body bytes are over 10");
        log.push(request("/big", &[b'x'; 50]));
        assert_eq!(paths(&log), ["/big"], "the newest is kept even alone over the limit");
        log.clear();
        log.push(request("/7", b"1234567890"));
        assert_eq!(paths(&log), ["/7"]);
    }
}
