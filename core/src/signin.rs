//! The two sign-in requests, sent for [`crate::auth`] with the client's connection pool,
//! timeouts and retry policy, and the answers they expect.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde::Deserialize;

use crate::auth::{ApiKey, Login, SignIn, Token};
use crate::builder::setup_error;
use crate::client::Client;
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::retry::Operation;
use crate::secret::Secret;
use crate::send::Call;

/// The sign-in requests, sent for the auth module with the client's HTTP connection pool,
/// timeouts and retry policy.
impl SignIn for Client {
    fn fetch_token(&self, key: &ApiKey, deadline: Deadline) -> Result<(Secret, Option<Duration>)> {
        use base64::Engine as _;
        let url = format!("{}/ts/v1/oauth2/token", self.inner.base);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            key.client_id,
            key.client_secret.expose()
        ));
        let mut authorization = HeaderValue::from_str(&format!("Basic {basic}"))
            .map_err(|e| setup_error("the token request", e))?;
        authorization.set_sensitive(true);
        let headers = [
            (AUTHORIZATION, authorization),
            (CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded")),
        ];
        // A server may echo the Authorization header: its base64 decodes to id:secret.
        let call = Call { client: self, tokens: None, extra_secrets: vec![&basic], deadline };
        let body = b"grant_type=client_credentials";
        let (status, answer) = call
            .send_with_retry(Operation::Token, Method::POST, &url, &headers, Some(body))
            .map_err(Error::refused_as_auth)?;
        let token: TokenAnswer = call.parse(status, &answer)?;
        if !is_header_token(&token.access_token) {
            return Err(call.shape_error(status, "the OAuth token is empty or cannot go into a header"));
        }
        let lifetime = token.lifetime();
        Ok((Secret::new(token.access_token), lifetime))
    }

    fn log_in(&self, bearer: &Token, login: &Login, deadline: Deadline) -> Result<Secret> {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            username: &'a str,
            password: &'a str,
        }
        let url = format!("{}/m2m/v1/session/login", self.inner.base);
        let headers = [(AUTHORIZATION, bearer.header.clone())];
        let body = serde_json::to_vec(&Body { username: &login.username, password: login.password.expose() })
            .unwrap_or_default();
        // The password as it appears inside the JSON body (escaped), should a server echo it.
        let escaped = serde_json::to_string(login.password.expose()).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        let call = Call {
            client: self,
            tokens: None,
            extra_secrets: vec![bearer.value.expose(), escaped],
            deadline,
        };
        let (status, answer) = call
            .send_with_retry(Operation::Login, Method::POST, &url, &headers, Some(&body))
            .map_err(Error::refused_as_auth)?;
        let session: LoginAnswer = call.parse(status, &answer)?;
        if !is_header_token(&session.session_token) {
            return Err(call.shape_error(status, "the session token is empty or cannot go into a header"));
        }
        Ok(Secret::new(session.session_token))
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
    pub(crate) access_token: String,
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
    #[serde(rename = "sessionToken")]
    pub(crate) session_token: String,
}
