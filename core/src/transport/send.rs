//! Sending one request: a deadline for it (the smaller of the request timeout and what is left
//! of the call's), bounded retries that fit in what is left, the body limit, no redirects, and
//! every failure turned into an [`Error`] that holds no secret of the call.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode};

use crate::codes;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::events;
use crate::protocol::decode::error_answer;
use crate::retry::Operation;
use crate::retry::RetryPolicy;
use crate::secret::Redactor;
use crate::text::{chain, excerpt};
use crate::transport::proxy::Proxy;

/// The most bytes of an answer's body that are read; a larger answer is an error
/// ([`codes::RESPONSE_TOO_LARGE`]), so a broken or hostile server cannot exhaust memory.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// What every request of a client shares: the request timeout, the retry policy and the proxy.
pub(crate) struct Settings {
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
    /// The proxy every request goes through, if any.
    pub(crate) proxy: Option<Proxy>,
}

/// The requests of one call: the connection pool they go on, the client's settings, the
/// secrets to keep out of whatever the answer makes us say, and when the whole call (of which
/// each request is a part) must be over.
pub(crate) struct Call<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) settings: &'a Settings,
    pub(crate) redactor: &'a Redactor<'a>,
    pub(crate) deadline: Deadline,
}

impl Call<'_> {
    fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// Sends the request, repeating it after a transient failure where the retry policy allows
    /// and the wait fits in what is left of the call (else the failure is returned at once).
    pub(crate) async fn send_with_retry(
        &self,
        op: Operation,
        method: Method,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<&[u8]>,
    ) -> Result<(StatusCode, Vec<u8>)> {
        let mut retry = 0;
        loop {
            let started = std::time::Instant::now();
            let outcome = self.send(method.clone(), url, headers, body).await;
            events::request(&method, url, started, &outcome);
            match outcome {
                Err(error) => {
                    retry += 1;
                    match self.settings.retry.delay(op, &error, retry) {
                        // No lock is held here: other calls go on while this one waits.
                        Some(wait) if wait < self.deadline.left() => {
                            events::retry(&method, url, &error, retry, wait);
                            tokio::time::sleep(wait).await
                        }
                        Some(_) => {
                            events::not_retried(
                                &method,
                                url,
                                &error,
                                "the wait would outlast the call timeout",
                            );
                            return Err(error);
                        }
                        None => return Err(error),
                    }
                }
                ok => return ok,
            }
        }
    }

    /// Sends the request once and returns the status and body of a 2xx answer; every other
    /// outcome is an error.
    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<&[u8]>,
    ) -> Result<(StatusCode, Vec<u8>)> {
        let left = self.deadline.left();
        if left.is_zero() {
            return Err(self.deadline.passed("before a request could be sent"));
        }
        let timeout = self.settings.timeout.min(left);
        // The timeout was checked to be at most a day, so this cannot overflow.
        let deadline = Instant::now() + timeout;
        // A per-request timeout is one deadline for connecting, sending and the whole body (so
        // it bounds the connect timeout too); the client-wide one alone would restart for every
        // read of the body.
        let mut request = self.http.request(method, url).timeout(timeout);
        for (name, value) in headers {
            request = request.header(name, value.clone());
        }
        if let Some(body) = body {
            // The body may hold a password (login, callback registration). The request now runs
            // on the caller's thread and reqwest drops its body here: this copy is wiped first.
            request = request.body(bytes::Bytes::from_owner(zeroize::Zeroizing::new(body.to_vec())));
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Err(self.send_error(e, timeout).await),
        };
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .map(|v| excerpt(&self.redact(&String::from_utf8_lossy(v.as_bytes()))))
                .unwrap_or_else(|| "nowhere".to_owned());
            return Err(Error::InvalidResponse {
                status: status.as_u16(),
                code: codes::RESPONSE_REDIRECT,
                message: format!(
                    "the service answered HTTP {status} pointing to \"{location}\"; redirects are \
                     not followed, so that the tokens go only to the configured base URL"
                ),
                source: None,
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::retry::parse_retry_after);
        let body = self.read_body(&mut response, status, deadline, timeout).await?;
        if status.is_success() {
            Ok((status, body))
        } else {
            Err(error_answer(self.redactor, status, &body, retry_after))
        }
    }

    /// How a request's time limit is described: the request timeout, or what was left of the
    /// call's when that was shorter.
    fn limit(&self, timeout: Duration) -> String {
        if timeout < self.settings.timeout {
            format!("{timeout:?}, what was left of the call timeout")
        } else {
            format!("{timeout:?}")
        }
    }

    async fn send_error(&self, e: reqwest::Error, timeout: Duration) -> Error {
        let message = self.redact(&chain(&e));
        if e.is_timeout() {
            Error::Timeout {
                message: format!("no answer within {}: {message}", self.limit(timeout)),
                source: Some(Box::new(e)),
            }
        } else if let Some(tls) = crate::transport::tls::find_rustls_error(&e) {
            let words = crate::transport::tls::describe(tls);
            Error::Transport {
                code: codes::TLS,
                message: format!("{words} ({message})"),
                source: Box::new(e),
            }
        } else if let (Some(proxy), true) = (&self.settings.proxy, e.is_connect()) {
            let target = e
                .url()
                .map(|u| {
                    format!(
                        "{}:{}",
                        u.host_str().unwrap_or_default(),
                        u.port_or_known_default().unwrap_or(443)
                    )
                })
                .unwrap_or_default();
            let words = self.redact(
                &crate::transport::proxy::describe_failure(proxy, &target, &message, self.deadline.left())
                    .await,
            );
            Error::Transport { code: codes::PROXY, message: words, source: Box::new(e) }
        } else if e.is_connect() {
            Error::Transport { code: codes::CONNECT, message, source: Box::new(e) }
        } else {
            Error::Transport { code: codes::TRANSPORT, message, source: Box::new(e) }
        }
    }

    async fn read_body(
        &self,
        response: &mut Response,
        status: StatusCode,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Vec<u8>> {
        let too_large = || Error::InvalidResponse {
            status: status.as_u16(),
            code: codes::RESPONSE_TOO_LARGE,
            message: format!("the answer's body is larger than {MAX_RESPONSE_BYTES} bytes"),
            source: None,
        };
        let declared = response.content_length().unwrap_or(0);
        if declared > MAX_RESPONSE_BYTES as u64 {
            return Err(too_large());
        }
        let mut body = Vec::with_capacity(declared as usize);
        loop {
            let chunk = match response.chunk().await {
                Ok(None) => return Ok(body),
                Ok(Some(chunk)) => chunk,
                Err(e) => return Err(self.read_error(e, timeout)),
            };
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
            // reqwest's timeout already bounds the call; this guards a server that trickles bytes.
            if Instant::now() > deadline {
                return Err(Error::Timeout {
                    message: format!("the answer did not finish within {}", self.limit(timeout)),
                    source: None,
                });
            }
        }
    }

    fn read_error(&self, e: reqwest::Error, timeout: Duration) -> Error {
        let timed_out = e.is_timeout();
        let message = self.redact(&chain(&e));
        if timed_out {
            Error::Timeout {
                message: format!("the answer did not finish within {}: {message}", self.limit(timeout)),
                source: Some(Box::new(e)),
            }
        } else {
            Error::Transport {
                code: codes::TRANSPORT,
                message: format!("the connection broke while the answer was read: {message}"),
                source: Box::new(e),
            }
        }
    }
}
