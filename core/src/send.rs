//! Sending one request: a deadline for it (the smaller of the request timeout and what is left
//! of the call's), bounded retries that fit in what is left, the body limit, no redirects, and
//! every failure turned into an [`Error`] that holds no secret of the call.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode};

use crate::async_client::AsyncClient;
use crate::auth::Snapshot;
use crate::codes;
use crate::deadline::Deadline;
use crate::decode::{auth_or_api, known_error_shape};
use crate::error::{Error, Result};
use crate::events;
use crate::retry::Operation;
use crate::secret::redact;
use crate::text::{chain, excerpt, mask_secret_values};

/// The most bytes of an answer's body that are read; a larger answer is an error
/// ([`codes::RESPONSE_TOO_LARGE`]), so a broken or hostile server cannot exhaust memory.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// One call in flight: knows the secrets to keep out of whatever the answer makes us say.
pub(crate) struct Call<'a> {
    pub(crate) client: &'a AsyncClient,
    pub(crate) tokens: Option<Snapshot>,
    /// Secrets of this request beyond the client's own (the callback password, say).
    pub(crate) extra_secrets: Vec<&'a str>,
    /// When the whole call (of which this request is a part) must be over.
    pub(crate) deadline: Deadline,
}

impl Call<'_> {
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut secrets = self.client.inner.auth.long_lived_secrets();
        secrets.extend(&self.extra_secrets);
        if let Some(proxy) = &self.client.inner.proxy {
            secrets.extend(proxy.secrets.iter().map(|s| s.expose()));
        }
        if let Some(tokens) = &self.tokens {
            secrets.push(tokens.bearer.value.expose());
            secrets.push(tokens.session.value.expose());
        }
        redact(text, &secrets)
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
                    match self.client.inner.retry.delay(op, &error, retry) {
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
        let inner = &self.client.inner;
        let left = self.deadline.left();
        if left.is_zero() {
            return Err(self.deadline.passed("before a request could be sent"));
        }
        let timeout = inner.timeout.min(left);
        // The timeout was checked to be at most a day, so this cannot overflow.
        let deadline = Instant::now() + timeout;
        // A per-request timeout is one deadline for connecting, sending and the whole body (so
        // it bounds the connect timeout too); the client-wide one alone would restart for every
        // read of the body.
        let mut request = self.client.http.request(method, url).timeout(timeout);
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
            Err(self.error_answer(status, &body, retry_after))
        }
    }

    /// How a request's time limit is described: the request timeout, or what was left of the
    /// call's when that was shorter.
    fn limit(&self, timeout: Duration) -> String {
        if timeout < self.client.inner.timeout {
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
        } else if let Some(tls) = crate::tls::find_rustls_error(&e) {
            let words = crate::tls::describe(tls);
            Error::Transport {
                code: codes::TLS,
                message: format!("{words} ({message})"),
                source: Box::new(e),
            }
        } else if let (Some(proxy), true) = (&self.client.inner.proxy, e.is_connect()) {
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
                &crate::proxy::describe_failure(proxy, &target, &message, self.deadline.left()).await,
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

    /// Turns a non-2xx answer into an error: the service's own code and message when the body is
    /// in one of its documented forms, else the status and an excerpt.
    fn error_answer(&self, status: StatusCode, body: &[u8], retry_after: Option<Duration>) -> Error {
        if let Some((code, message)) = known_error_shape(body) {
            return self.api_error(status, code, message, retry_after);
        }
        Error::HttpStatus {
            status: status.as_u16(),
            message: format!("HTTP {status}; {}", self.quote_body(body)),
            kind: auth_or_api(status, ""),
            retry_after,
        }
    }

    /// A short, clean excerpt of a body for an error message: secrets of ours redacted, the
    /// values of secret keys masked (a list answer carries callback passwords in clear text, a
    /// sign-in answer a token that we have not taken), control characters replaced and the
    /// length capped.
    pub(crate) fn quote_body(&self, body: &[u8]) -> String {
        if body.is_empty() {
            return "the body is empty".to_owned();
        }
        let text = self.redact(&String::from_utf8_lossy(&body[..body.len().min(4096)]));
        format!("the body starts: \"{}\"", excerpt(&mask_secret_values(&text)))
    }
}
