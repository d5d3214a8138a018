//! What the client tells a logger, through the `log` facade with the target `tscb`: one record
//! per HTTP request (method, path, status or error code, duration) at debug, and each decision
//! it makes — a retry and why, a token fetched or renewed, a login — at info, a login it refuses
//! to send at warn.
//!
//! Never a header value, a body, an error message (it may quote a server) or a secret: only the
//! method, the URL's path (the account name is not a secret), numbers and the library's or the
//! service's error codes. Nothing is formatted unless a logger wants the level.

use std::time::{Duration, Instant};

use log::{debug, info, log_enabled, warn, Level};
use reqwest::{Method, StatusCode};

use crate::error::{Error, Result};

/// The target of every record, for filtering (`RUST_LOG=tscb=debug` with env_logger, say).
pub const TARGET: &str = "tscb";

/// The path of `url` without query (our URLs have none), for a record.
fn path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme.find('/').map_or("/", |at| &after_scheme[at..])
}

pub(crate) fn request(method: &Method, url: &str, started: Instant, outcome: &Result<(StatusCode, Vec<u8>)>) {
    if !log_enabled!(target: TARGET, Level::Debug) {
        return;
    }
    let ms = started.elapsed().as_millis();
    match outcome {
        Ok((status, _)) => debug!(target: TARGET, "{method} {} -> {} in {ms} ms", path(url), status.as_u16()),
        Err(e) => match e.http_status() {
            Some(status) => {
                debug!(target: TARGET, "{method} {} -> {status} {} in {ms} ms", path(url), e.error_code())
            }
            None => debug!(target: TARGET, "{method} {} failed: {} after {ms} ms", path(url), e.error_code()),
        },
    }
}

pub(crate) fn retry(method: &Method, url: &str, error: &Error, retry: u32, wait: Duration) {
    info!(
        target: TARGET,
        "retrying {method} {} in {} ms (retry {retry}) after {}",
        path(url),
        wait.as_millis(),
        error.error_code()
    );
}

pub(crate) fn not_retried(method: &Method, url: &str, error: &Error, why: &str) {
    debug!(target: TARGET, "not retrying {method} {} after {}: {why}", path(url), error.error_code());
}

pub(crate) fn signing_in(what: &str) {
    info!(target: TARGET, "{what}");
}

pub(crate) fn login_blocked(error: &Error) {
    warn!(target: TARGET, "login not sent ({}): it was refused before, or its outcome is unknown", error.error_code());
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_leave_out_scheme_and_host() {
        assert_eq!(super::path("https://h:1/api/m2m/v1/callbacks/A"), "/api/m2m/v1/callbacks/A");
        assert_eq!(super::path("http://h"), "/");
    }
}
