//! The two sign-in requests, sent for [`crate::auth`] with the client's connection pool,
//! timeouts and retry policy, and the answers they expect.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::async_client::AsyncClient;
use crate::auth::{ClientCredentials, Login, SignIn, Token};
use crate::deadline::Deadline;
use crate::error::setup_error;
use crate::error::{Error, Result};
use crate::protocol::decode;
use crate::retry::Operation;
use crate::secret::{basic_credentials, joined, Secret};

/// The sign-in requests, sent for the auth module with the client's HTTP connection pool,
/// timeouts and retry policy.
impl SignIn for AsyncClient {
    async fn fetch_token(
        &self,
        key: &ClientCredentials,
        deadline: Deadline,
    ) -> Result<(Secret, Option<Duration>)> {
        let url = format!("{}/ts/v1/oauth2/token", self.inner.base);
        // Every copy of the secret made here is wiped when dropped. (The HeaderValue's own copy,
        // and the ones that reqwest and hyper make while sending, cannot be: they are not ours.)
        let basic = basic_credentials(&key.client_id, key.client_secret.expose());
        let mut authorization = HeaderValue::from_str(&joined(&["Basic ", &basic]))
            .map_err(|e| setup_error("the token request", e))?;
        authorization.set_sensitive(true);
        let headers = [
            (AUTHORIZATION, authorization),
            (CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded")),
        ];
        // A server may echo the Authorization header: its base64 decodes to id:secret.
        let redactor = self.inner.redactor(None, Some(basic.as_str()));
        let call = self.sender(&redactor, deadline);
        let body = b"grant_type=client_credentials";
        let (status, answer) = call
            .send_with_retry(Operation::Token, Method::POST, &url, &headers, Some(body))
            .await
            .map_err(Error::refused_as_auth)?;
        let answer = Zeroizing::new(answer);
        let token: TokenAnswer = decode::sign_in(&redactor, status, &answer, "access_token")?;
        if !is_header_token(token.access_token.expose()) {
            return Err(decode::shape_error(status, "the OAuth token is empty or cannot go into a header"));
        }
        let lifetime = token.lifetime();
        Ok((token.access_token, lifetime))
    }

    async fn log_in(&self, bearer: &Token, login: &Login, deadline: Deadline) -> Result<Secret> {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            username: &'a str,
            password: &'a str,
        }
        let url = format!("{}/m2m/v1/session/login", self.inner.base);
        let headers = [(AUTHORIZATION, bearer.header.clone())];
        let password = login.password.expose();
        // Sized for the worst case up front (no control characters are allowed, so JSON escapes
        // at most double a byte), so that no reallocation leaves a copy behind; wiped when dropped.
        let mut body = Zeroizing::new(Vec::with_capacity(32 + 2 * (login.username.len() + password.len())));
        serde_json::to_writer(&mut *body, &Body { username: &login.username, password })
            .map_err(|e| setup_error("the login request", e))?;
        // (Redaction knows the escaped forms of the password, should a server echo it.)
        let redactor = self.inner.redactor(None, Some(bearer.value.expose()));
        let call = self.sender(&redactor, deadline);
        let (status, answer) = call
            .send_with_retry(Operation::Login, Method::POST, &url, &headers, Some(&body))
            .await
            .map_err(Error::refused_as_auth)?;
        let answer = Zeroizing::new(answer);
        let session: LoginAnswer = decode::sign_in(&redactor, status, &answer, "sessionToken")?;
        if !is_header_token(session.session_token.expose()) {
            return Err(decode::shape_error(status, "the session token is empty or cannot go into a header"));
        }
        Ok(session.session_token)
    }

    fn base(&self) -> &str {
        &self.inner.base
    }
}

/// A token that a server issued can go into our headers: non-empty visible ASCII.
fn is_header_token(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic())
}

/// The OAuth token endpoint's answer. `expires_in` may arrive as a number or a string.
#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    #[serde(deserialize_with = "secret")]
    pub(crate) access_token: Secret,
    #[serde(default)]
    pub(crate) expires_in: Option<serde_json::Value>,
}

impl TokenAnswer {
    pub(crate) fn lifetime(&self) -> Option<Duration> {
        let seconds = match self.expires_in.as_ref()? {
            serde_json::Value::Number(n) => n.as_f64()?,
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
            _ => return None,
        };
        Duration::try_from_secs_f64(seconds).ok().filter(|d| !d.is_zero())
    }
}

/// The session login's answer.
#[derive(Deserialize)]
pub(crate) struct LoginAnswer {
    #[serde(rename = "sessionToken", deserialize_with = "secret")]
    pub(crate) session_token: Secret,
}

/// A token straight into a [`Secret`], so that it is wiped however the answer ends up.
fn secret<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
    String::deserialize(deserializer).map(Secret::from)
}
