//! What the simulator remembers about each request, for tests to inspect.

/// One non-admin request as the simulator received it.
#[derive(Clone, Debug, PartialEq, Eq)]
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

    pub(crate) fn to_json(&self) -> serde_json::Value {
        let headers: Vec<[&str; 2]> = self.headers.iter().map(|(n, v)| [n.as_str(), v.as_str()]).collect();
        serde_json::json!({
            "method": self.method,
            "path": self.path,
            "headers": headers,
            "body": String::from_utf8_lossy(&self.body),
            "connection_id": self.connection_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_is_case_insensitive_and_takes_the_first() {
        let r = RecordedRequest {
            method: "GET".into(),
            path: "/".into(),
            headers: vec![("x-a".into(), "1".into()), ("x-a".into(), "2".into())],
            body: Vec::new(),
            connection_id: 0,
        };
        assert_eq!(r.header("X-A"), Some("1"));
        assert_eq!(r.header("x-b"), None);
    }
}
