//! Injected faults: what to match and how to misbehave.

/// A rule that makes the simulator misbehave on matching requests.
///
/// A fault matches a request when its method equals [`Fault::method`] (ASCII case-insensitively,
/// if set) and the raw request-target contains [`Fault::path_contains`] (if set). Faults are
/// checked in the order they were injected, before any endpoint logic and after the request was
/// recorded; the first match wins. Admin requests (`/__admin/...`) never match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Only requests with this method match; `None` matches every method.
    pub method: Option<String>,
    /// Only requests whose raw request-target contains this string match; `None` matches all.
    pub path_contains: Option<String>,
    /// `None`: the fault stays forever. `Some(n)`: it answers the next `n` matching requests,
    /// then disappears (`Some(0)` never matches).
    pub times: Option<u32>,
    /// What happens to a matching request.
    pub action: FaultAction,
}

impl Fault {
    /// A fault that matches every request, forever.
    pub fn new(action: FaultAction) -> Fault {
        Fault { method: None, path_contains: None, times: None, action }
    }

    /// Restricts the fault to requests with this method.
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// Restricts the fault to requests whose raw request-target contains `fragment`.
    pub fn path_contains(mut self, fragment: &str) -> Self {
        self.path_contains = Some(fragment.to_owned());
        self
    }

    /// Makes the fault answer only the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub(crate) fn matches(&self, method: &str, target: &str) -> bool {
        self.times != Some(0)
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path_contains.as_deref().is_none_or(|p| target.contains(p))
    }
}

/// How the simulator misbehaves on a request matched by a [`Fault`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer exactly this status, content type (no `Content-Type` header when `None`) and body,
    /// with a correct `Content-Length`; the connection stays open. (Status 204 is sent without
    /// `Content-Length`, as HTTP requires, so give it no body.)
    Respond {
        /// HTTP status code.
        status: u16,
        /// Value of the `Content-Type` header, if any.
        content_type: Option<String>,
        /// Response body.
        body: Vec<u8>,
        /// More headers to send, such as `Retry-After` (name, value). CR, LF and NUL in a name
        /// or value (or in `content_type`) are sent as spaces, so that a fault cannot add headers
        /// or a body of its own; over HTTP such a fault is refused.
        headers: Vec<(String, String)>,
    },
    /// Wait this long, then handle the request normally. A very long delay makes a server that
    /// never answers; shutting the simulator down cuts the wait short.
    Delay {
        /// Milliseconds to wait.
        ms: u64,
    },
    /// Read the request, then close the connection without answering.
    Drop,
    /// Read the request, then reset the connection (`SO_LINGER` 0, then close: the peer sees
    /// an RST rather than a FIN).
    Reset,
    /// Answer status 200 with `Content-Length: declared`, send only `sent`, then close.
    Truncate {
        /// The length the `Content-Length` header announces.
        declared: usize,
        /// The bytes actually sent (meant to be shorter than `declared`).
        sent: Vec<u8>,
    },
    /// Answer status 200 with `Content-Length: declared`, send only `sent`, then reset the
    /// connection: a reset in the middle of the answer.
    ResetMidAnswer {
        /// The length the `Content-Length` header announces.
        declared: usize,
        /// The bytes sent before the reset.
        sent: Vec<u8>,
    },
    /// Wait `after_ms`, answer status 200 with `Content-Length: declared`, send `sent`, then send
    /// nothing more for `ms` milliseconds before closing: a server that stalls in the middle of
    /// the answer.
    Stall {
        /// How long to wait before the status line and headers.
        after_ms: u64,
        /// The length the `Content-Length` header announces.
        declared: usize,
        /// The bytes sent before the stall.
        sent: Vec<u8>,
        /// How long to stall.
        ms: u64,
    },
    /// Answer status 200 without `Content-Length` (the body ends when the connection closes)
    /// and stream this many bytes: an oversized body the client cannot see coming.
    OversizedUnframed {
        /// Size of the body in bytes.
        bytes: usize,
    },
    /// Answer this status with a `Location` header and an empty body.
    Redirect {
        /// HTTP status code, e.g. 302.
        status: u16,
        /// Value of the `Location` header (CR, LF and NUL are sent as spaces, as for
        /// [`FaultAction::Respond`] headers).
        location: String,
    },
    /// Answer status 200, `Content-Type: application/json`, `Content-Length: bytes`, then stream
    /// that many bytes (`{"padding":"xxx…"}` when there is room). Sending stops quietly if the
    /// client closes the connection.
    Oversized {
        /// Size of the body in bytes.
        bytes: usize,
    },
}

impl FaultAction {
    /// Answer `status` with this JSON body (`Content-Type: application/json`, no other header):
    /// an error in the API's own form, or a malformed one.
    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> FaultAction {
        FaultAction::Respond {
            status,
            content_type: Some("application/json".into()),
            body: body.into(),
            headers: Vec::new(),
        }
    }
}

impl FaultAction {
    /// Why the headers this action would send are unsafe, if they are: a name that is not an
    /// HTTP token, or a value with CR, LF or NUL.
    pub(crate) fn header_problem(&self) -> Option<String> {
        let is_token = |name: &str| {
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        };
        let (content_type, headers, location) = match self {
            FaultAction::Respond { content_type, headers, .. } => {
                (content_type.as_deref(), &headers[..], None)
            }
            FaultAction::Redirect { location, .. } => (None, &[][..], Some(location.as_str())),
            _ => return None,
        };
        if let Some((name, _)) = headers.iter().find(|(name, _)| !is_token(name)) {
            return Some(format!("header name {name:?} is not an HTTP token"));
        }
        let values = headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .chain(content_type.map(|ct| ("content_type", ct)))
            .chain(location.map(|l| ("location", l)));
        for (name, value) in values {
            if value.contains(crate::http::is_line_break) {
                return Some(format!("the value of {name:?} contains CR, LF or NUL"));
            }
        }
        None
    }
}

/// The faults in force, in insertion order.
#[derive(Default)]
pub(crate) struct FaultList {
    faults: Vec<Fault>,
}

impl FaultList {
    pub(crate) fn push(&mut self, fault: Fault) {
        if fault.times != Some(0) {
            self.faults.push(fault);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    /// Finds the first fault matching the request and uses up one of its `times`.
    pub(crate) fn take_match(&mut self, method: &str, target: &str) -> Option<FaultAction> {
        let index = self.faults.iter().position(|f| f.matches(method, target))?;
        let fault = &mut self.faults[index];
        match &mut fault.times {
            None => Some(fault.action.clone()),
            Some(left) => {
                *left -= 1;
                if *left == 0 {
                    Some(self.faults.remove(index).action)
                } else {
                    Some(fault.action.clone())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_match_wins_and_times_run_out() {
        let mut list = FaultList::default();
        list.push(Fault::new(FaultAction::Drop).method("post").times(2));
        list.push(Fault::new(FaultAction::Reset).path_contains("/callbacks/"));
        assert_eq!(list.take_match("GET", "/api/x"), None);
        assert_eq!(list.take_match("POST", "/api/x"), Some(FaultAction::Drop));
        assert_eq!(list.take_match("POST", "/api/m2m/v1/callbacks/a"), Some(FaultAction::Drop));
        assert_eq!(list.take_match("POST", "/api/m2m/v1/callbacks/a"), Some(FaultAction::Reset));
        assert_eq!(list.take_match("POST", "/api/x"), None);
    }

    #[test]
    fn line_breaks_and_bad_names_in_headers_are_problems() {
        let respond = |content_type: &str, name: &str, value: &str| FaultAction::Respond {
            status: 200,
            content_type: Some(content_type.into()),
            body: Vec::new(),
            headers: vec![(name.into(), value.into())],
        };
        assert_eq!(respond("text/html", "Retry-After", "1").header_problem(), None);
        assert!(respond("text/html", "X", "1\r\nSet-Cookie: a=b").header_problem().is_some());
        assert!(respond("text/html", "X", "1\n").header_problem().is_some());
        assert!(respond("text/html\r\n\r\nbody", "X", "1").header_problem().is_some());
        assert!(respond("text/html", "X: Y", "1").header_problem().is_some());
        assert!(respond("text/html", "", "1").header_problem().is_some());
        let redirect = |location: &str| FaultAction::Redirect { status: 302, location: location.into() };
        assert_eq!(redirect("http://x/").header_problem(), None);
        assert!(redirect("http://x/\r\nX-Evil: 1").header_problem().is_some());
        assert_eq!(FaultAction::Drop.header_problem(), None);
    }

    #[test]
    fn zero_times_never_matches() {
        let mut list = FaultList::default();
        list.push(Fault::new(FaultAction::Drop).times(0));
        assert_eq!(list.take_match("GET", "/"), None);
    }
}
