//! A token in use, and the pair of them that one call uses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;

use crate::codes;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// A token in use: its value (kept for redaction), its header, and a generation number that
/// tells a thread whether the token it failed with has been replaced already.
#[derive(Clone)]
pub(crate) struct Token {
    pub(crate) value: Secret,
    pub(crate) header: HeaderValue,
    renew_at: Option<Instant>,
    expires_at: Option<Instant>,
    pub(super) generation: u64,
}

static GENERATION: AtomicU64 = AtomicU64::new(1);

impl Token {
    pub(crate) fn new(value: Secret, header_text: &str, lifetime: Option<Duration>) -> Result<Token> {
        let mut header = HeaderValue::from_str(header_text).map_err(|_| {
            Error::invalid(codes::BEARER_TOKEN_INVALID_CHARACTER, "a token cannot go into an HTTP header")
        })?;
        header.set_sensitive(true);
        // A lifetime over a day is capped: no token is kept longer, and no deadline can overflow.
        let lifetime = lifetime.map(|l| l.min(Duration::from_secs(24 * 60 * 60)));
        let now = Instant::now();
        // Renew a little before the service's deadline, so that no call is sent with a token
        // about to run out: a tenth of the lifetime, at most a minute. Until the real expiry the
        // old token still works, which is what a failed early renewal falls back on.
        let renew_at = lifetime.map(|l| now + l - (l / 10).min(Duration::from_secs(60)));
        let expires_at = lifetime.map(|l| now + l);
        Ok(Token {
            value,
            header,
            renew_at,
            expires_at,
            generation: GENERATION.fetch_add(1, Ordering::Relaxed),
        })
    }

    pub(super) fn stale(&self) -> bool {
        self.renew_at.is_some_and(|at| Instant::now() >= at)
    }

    pub(super) fn expired(&self) -> bool {
        self.expires_at.is_some_and(|at| Instant::now() >= at)
    }
}

/// The tokens one call uses. Shared, not copied: taking a snapshot costs two reference counts.
#[derive(Clone)]
pub(crate) struct Snapshot {
    pub(crate) bearer: Arc<Token>,
    pub(crate) session: Arc<Token>,
}
