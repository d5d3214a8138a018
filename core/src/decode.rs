//! Decoding answers: a 2xx body into the documented type, and an error body in any of the three
//! forms ThingSpace is known to send into the service's own code and message.

use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::codes;
use crate::error::{is_session_code, Error, ErrorKind, Result};
use crate::send::Call;
use crate::text::{clean, mask_secret_values};

impl Call<'_> {
    pub(crate) fn shape_error(&self, status: StatusCode, what: &str) -> Error {
        Error::InvalidResponse {
            status: status.as_u16(),
            code: codes::RESPONSE_UNEXPECTED_SHAPE,
            message: format!("HTTP {status} answer: {what}"),
            source: None,
        }
    }

    pub(crate) fn api_error(
        &self,
        status: StatusCode,
        code: String,
        message: String,
        retry_after: Option<Duration>,
    ) -> Error {
        let kind = auth_or_api(status, &code);
        // The service's words, verbatim but for our secrets, the values of secret keys (a
        // message may quote a request or an answer), control characters (which could rewrite a
        // terminal or forge log lines) and a cap on the length. Only a head of each is looked at,
        // so that a hostile answer cannot make the redaction slow.
        let shown =
            |text: &str, max: usize| clean(&mask_secret_values(&self.redact(head(text, 4 * max))), max);
        Error::Api {
            status: status.as_u16(),
            code: shown(&code, 200),
            message: shown(&message, 2000),
            kind,
            retry_after,
        }
    }

    /// Parses a 2xx body into `T`. A body that does not fit is an error, never a default value.
    pub(crate) fn parse<T: DeserializeOwned>(&self, status: StatusCode, body: &[u8]) -> Result<T> {
        let err = match serde_json::from_slice::<T>(body) {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        // Some gateways answer errors with a 2xx status: the service's own words beat ours.
        if let Some((code, message)) = known_error_shape(body) {
            return Err(self.api_error(status, code, message, None));
        }
        let code = if err.is_data() { codes::RESPONSE_UNEXPECTED_SHAPE } else { codes::RESPONSE_NOT_JSON };
        let what = if body.is_empty() { "empty".to_owned() } else { self.redact(&json_error(&err)) };
        Err(Error::InvalidResponse {
            status: status.as_u16(),
            code,
            message: format!(
                "HTTP {status} answer is not the documented JSON ({what}); {}",
                self.quote_body(body)
            ),
            // serde's own text for a data error may quote a value from the body.
            source: if err.is_data() { None } else { Some(Box::new(err)) },
        })
    }
}

pub(crate) fn auth_or_api(status: StatusCode, code: &str) -> ErrorKind {
    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) || is_session_code(code) {
        ErrorKind::Auth
    } else {
        ErrorKind::Api
    }
}

/// The first `max_chars` characters of `text`.
fn head(text: &str, max_chars: usize) -> &str {
    text.char_indices().nth(max_chars).map_or(text, |(at, _)| &text[..at])
}

/// Recognises the three error forms ThingSpace is known to send: the connectivity API's
/// `{errorCode, errorMessage}`, the gateway's `{fault: {code, message, description}}` and
/// OAuth's `{error, error_description}`. A body whose code is missing or blank is in none of
/// them: an empty code would defeat matching on the code, so the caller reports the HTTP status
/// and an excerpt of the body instead.
pub(crate) fn known_error_shape(body: &[u8]) -> Option<(String, String)> {
    let (code, message) = error_shape(body)?;
    let blank = code.chars().all(|c| c.is_whitespace() || c.is_control());
    (!blank).then_some((code, message))
}

fn error_shape(body: &[u8]) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let obj = value.as_object()?;
    let text = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    // A blank errorCode does not hide a fault or OAuth form in the same body.
    let non_empty = |c: &&serde_json::Value| c.as_str().map_or(c.is_number(), |s| !s.trim().is_empty());
    if let Some(code) = obj.get("errorCode").filter(non_empty) {
        return Some((text(Some(code)), text(obj.get("errorMessage"))));
    }
    if let Some(fault) = obj.get("fault").and_then(|f| f.as_object()) {
        let code = text(fault.get("code"));
        let message = text(fault.get("message"));
        let description = text(fault.get("description"));
        let message = match (message.is_empty(), description.is_empty()) {
            (_, true) => message,
            (true, false) => description,
            (false, false) => format!("{message}: {description}"),
        };
        return Some((code, message));
    }
    if let Some(error) = obj.get("error").and_then(|e| e.as_str()) {
        return Some((error.to_owned(), text(obj.get("error_description"))));
    }
    None
}

/// serde's message without the offending value: "invalid type: string \"hunter2\", expected …"
/// could quote a password from a malformed list.
fn json_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    if err.is_data() && (text.starts_with("invalid type") || text.starts_with("invalid value")) {
        let what = text.split(':').next().unwrap_or("invalid value");
        format!("{what} at line {} column {}", err.line(), err.column())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_shapes() {
        assert_eq!(
            known_error_shape(br#"{"errorCode":"A.B.C","errorMessage":"m"}"#),
            Some(("A.B.C".into(), "m".into()))
        );
        assert_eq!(
            known_error_shape(
                br#"{"fault":{"code":900901,"message":"Invalid Credentials","description":"d"}}"#
            ),
            Some(("900901".into(), "Invalid Credentials: d".into()))
        );
        assert_eq!(
            known_error_shape(br#"{"error":"invalid_client","error_description":"bad"}"#),
            Some(("invalid_client".into(), "bad".into()))
        );
        assert_eq!(known_error_shape(b"<html>"), None);
        assert_eq!(known_error_shape(br#"{"errorCode":"","errorMessage":"m"}"#), None);
        assert_eq!(known_error_shape(br#"{"accountName":"x"}"#), None);
        assert_eq!(known_error_shape(br#"{"fault":{"message":"m"}}"#), None);
        assert_eq!(known_error_shape(br#"{"fault":{"code":" \n","message":"m"}}"#), None);
        assert_eq!(known_error_shape(br#"{"error":"","error_description":"d"}"#), None);
    }
}
