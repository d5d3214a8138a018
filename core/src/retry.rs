//! Bounded retries of transient failures, only where repeating the request is harmless.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::error::Error;

/// When and how often a call is repeated after a transient failure.
///
/// A call is repeated only when repeating it cannot cause harm:
///
/// | failure | register | list | deregister | OAuth token | session login | logout |
/// |---|---|---|---|---|---|---|
/// | no connection could be made (nothing was sent) | yes | yes | yes | yes | yes | yes |
/// | `429 Too Many Requests` or `503 Service Unavailable` | only with [`RetryPolicy::retry_register_when_busy`] | yes | yes | yes | **never** | no |
/// | a timeout, or a connection that broke after sending | no | no | no | no | no | no |
///
/// Listing is read-only, deregistering twice removes nothing more, and asking for a token again
/// returns the same token. Registering twice is not known to be harmless (whether a second
/// register replaces the first or fails is not documented), so a busy answer is not repeated
/// unless you allow it. A session login is never repeated after an answer: five failed logins
/// lock the account. A request that may have reached the service (a timeout, a broken
/// connection) is never repeated.
///
/// Between attempts the client waits for the answer's `Retry-After` (seconds or an HTTP date),
/// or else an exponential backoff with jitter. When `Retry-After` asks for longer than
/// [`RetryPolicy::max_retry_after`], the answer is returned instead (its wait is in
/// [`crate::Error::retry_after`]). Each attempt gets the request timeout or what is left of the
/// call timeout, whichever is shorter, and a wait that does not fit in what is left is not
/// started: the failure that asked for it is returned.
///
/// ```
/// use std::time::Duration;
/// let policy = tscb::RetryPolicy::default().max_retries(4).initial_backoff(Duration::from_millis(50));
/// let client = tscb::Client::builder().bearer_token("b").session_token("s").retry(policy).build()?;
/// let no_retries = tscb::RetryPolicy::none();
/// # Ok::<(), tscb::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    retry_register_when_busy: bool,
}

impl Default for RetryPolicy {
    /// Two retries, backoff from 200 ms up to 2 s, `Retry-After` honoured up to 10 s.
    fn default() -> Self {
        RetryPolicy {
            max_retries: RetryPolicy::DEFAULT_MAX_RETRIES,
            initial_backoff: RetryPolicy::DEFAULT_INITIAL_BACKOFF,
            max_backoff: RetryPolicy::DEFAULT_MAX_BACKOFF,
            max_retry_after: RetryPolicy::DEFAULT_MAX_RETRY_AFTER,
            retry_register_when_busy: false,
        }
    }
}

impl RetryPolicy {
    /// The default of [`RetryPolicy::max_retries`]. (The defaults are constants so that the C
    /// and Python bindings export them rather than restate them.)
    pub const DEFAULT_MAX_RETRIES: u32 = 2;
    /// The default of [`RetryPolicy::initial_backoff`].
    pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(200);
    /// The default of [`RetryPolicy::max_backoff`].
    pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(2);
    /// The default of [`RetryPolicy::max_retry_after`].
    pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

    /// Never repeat a call.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..RetryPolicy::default() }
    }

    /// How many times a call may be repeated (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The first backoff; each later one doubles, up to [`RetryPolicy::max_backoff`] (default 200 ms).
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The longest backoff (default 2 s).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest `Retry-After` that is waited for (default 10 s); with a longer one the call
    /// fails with the service's answer instead of trying again early.
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Also repeat a register answered with 429 or 503 (default off; see the table above).
    pub fn retry_register_when_busy(mut self, retry: bool) -> Self {
        self.retry_register_when_busy = retry;
        self
    }

    /// How long to wait before attempt `retry` (1-based), or `None` when `error` after this
    /// operation must not be repeated.
    pub(crate) fn delay(&self, op: Operation, error: &Error, retry: u32) -> Option<Duration> {
        if retry > self.max_retries {
            return None;
        }
        // Nothing reached the service, and another try may: a refused or unreachable connection.
        let nothing_sent = error.is_unreached();
        let busy = matches!(error.http_status(), Some(429 | 503));
        let repeat = nothing_sent
            || (busy
                && match op {
                    Operation::List | Operation::Deregister | Operation::Token => true,
                    Operation::Register => self.retry_register_when_busy,
                    Operation::Login | Operation::Logout => false,
                });
        if !repeat {
            return None;
        }
        if let Some(wait) = error.retry_after() {
            // Asked to wait longer than we would: give the answer back (with its Retry-After)
            // rather than knock again early.
            return (wait <= self.max_retry_after).then_some(wait);
        }
        let exponential = self.initial_backoff.saturating_mul(1u32 << (retry - 1).min(16));
        let ceiling = exponential.min(self.max_backoff);
        // Jitter spreads many clients' retries apart: somewhere between half and all of it.
        Some(ceiling / 2 + ceiling.mul_f64(random_unit() / 2.0))
    }
}

/// What a request does, which decides whether repeating it is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Register,
    List,
    Deregister,
    Token,
    Login,
    Logout,
}

/// A number in [0, 1), random enough for jitter: std's hasher keys are random per process and
/// per `RandomState`.
fn random_unit() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Parses `Retry-After`: delta-seconds, or an HTTP date (a date in the past means now).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy(status: u16, retry_after: Option<Duration>) -> Error {
        Error::HttpStatus { status, message: String::new(), kind: crate::ErrorKind::Api, retry_after }
    }

    fn connect() -> Error {
        Error::Transport { code: crate::codes::CONNECT, message: String::new(), source: "refused".into() }
    }

    #[test]
    fn only_harmless_repeats() {
        let p = RetryPolicy::default();
        for op in [
            Operation::Register,
            Operation::List,
            Operation::Deregister,
            Operation::Token,
            Operation::Login,
            Operation::Logout,
        ] {
            assert!(p.delay(op, &connect(), 1).is_some(), "{op:?}");
        }
        assert!(p.delay(Operation::List, &busy(503, None), 1).is_some());
        assert!(p.delay(Operation::Deregister, &busy(429, None), 1).is_some());
        assert!(p.delay(Operation::Token, &busy(503, None), 1).is_some());
        assert!(p.delay(Operation::Register, &busy(503, None), 1).is_none());
        assert!(p
            .clone()
            .retry_register_when_busy(true)
            .delay(Operation::Register, &busy(429, None), 1)
            .is_some());
        assert!(p.delay(Operation::Login, &busy(503, None), 1).is_none());
        assert!(p.delay(Operation::List, &busy(500, None), 1).is_none());
        let timeout = Error::Timeout { message: String::new(), source: None };
        assert!(p.delay(Operation::List, &timeout, 1).is_none());
        assert!(p.delay(Operation::List, &connect(), 3).is_none(), "at most max_retries");
        assert!(RetryPolicy::none().delay(Operation::List, &connect(), 1).is_none());
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::default();
        let wait = |s| p.delay(Operation::List, &busy(429, Some(Duration::from_secs(s))), 1);
        assert_eq!(wait(3), Some(Duration::from_secs(3)));
        assert_eq!(wait(10), Some(Duration::from_secs(10)));
        assert_eq!(wait(3600), None, "longer than we wait: not retried early");
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3600));
        assert!(parse_retry_after(&later).unwrap() > Duration::from_secs(3500));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_a_ceiling() {
        let p = RetryPolicy::default().max_retries(10);
        for retry in 1..=10 {
            let d = p.delay(Operation::List, &busy(503, None), retry).unwrap();
            let ceiling = (Duration::from_millis(200) * (1 << (retry - 1))).min(Duration::from_secs(2));
            assert!(d >= ceiling / 2 && d <= ceiling, "{retry}: {d:?}");
        }
    }
}
