//! Decoding answers, sans-io: a 2xx body into the documented type, and an error body in any of
//! the three forms ThingSpace is known to send into the service's own code and message. Each
//! function takes the answer's bytes and the call's [`Redactor`], never a client. (About 400
//! lines: the three error forms are read side by side, and their unit tests stay beside them.)

use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::codes;
use crate::error::{is_session_code, Error, ErrorKind, Result};
use crate::secret::Redactor;
use crate::text::{clean, excerpt, mask_secret_values};

/// A 2xx answer whose JSON is well formed but not what the call expects.
pub(crate) fn shape_error(status: StatusCode, what: &str) -> Error {
    Error::InvalidResponse {
        status: status.as_u16(),
        code: codes::RESPONSE_UNEXPECTED_SHAPE,
        message: format!("HTTP {status} answer: {what}"),
        source: None,
    }
}

/// The service's own error, its code and message cleaned for showing.
pub(crate) fn api_error(
    redactor: &Redactor<'_>,
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
        |text: &str, max: usize| clean(&mask_secret_values(&redactor.redact(head(text, 4 * max))), max);
    Error::Api {
        status: status.as_u16(),
        code: shown(&code, 200),
        message: shown(&message, 2000),
        kind,
        retry_after,
    }
}

/// `body` as `T`; or, when it is not, the service's own error if the body is in one of its forms
/// (some gateways answer errors with a 2xx status: the service's own words beat ours); else
/// serde's error, for the caller to describe.
fn value_or_service_error<T: DeserializeOwned>(
    redactor: &Redactor<'_>,
    status: StatusCode,
    body: &[u8],
) -> std::result::Result<Result<T>, serde_json::Error> {
    match serde_json::from_slice::<T>(body) {
        Ok(value) => Ok(Ok(value)),
        Err(err) => match known_error_shape(body) {
            Some((code, message)) => Ok(Err(api_error(redactor, status, code, message, None))),
            None => Err(err),
        },
    }
}

/// Parses a 2xx body into `T`. A body that does not fit is an error, never a default value.
pub(crate) fn json<T: DeserializeOwned>(
    redactor: &Redactor<'_>,
    status: StatusCode,
    body: &[u8],
) -> Result<T> {
    let err = match value_or_service_error(redactor, status, body) {
        Ok(done) => return done,
        Err(err) => err,
    };
    let code = if err.is_data() { codes::RESPONSE_UNEXPECTED_SHAPE } else { codes::RESPONSE_NOT_JSON };
    let what = if body.is_empty() { "empty".to_owned() } else { redactor.redact(&json_error(&err)) };
    Err(Error::InvalidResponse {
        status: status.as_u16(),
        code,
        message: format!(
            "HTTP {status} answer is not the documented JSON ({what}); {}",
            quote_body(redactor, body)
        ),
        // serde's own text for a data error may quote a value from the body.
        source: if err.is_data() { None } else { Some(Box::new(err)) },
    })
}

/// Parses a 2xx sign-in answer, whose `field` holds a token as a string. Unlike [`json`]'s,
/// the error never quotes the body, however it is redacted and masked: a token we did not
/// take is known to no redaction, and a masking that looks for `"key":"value"` misses it as
/// soon as it is not a string (`{"sessionToken":["…"]}`). It names what is wrong instead.
pub(crate) fn sign_in<T: DeserializeOwned>(
    redactor: &Redactor<'_>,
    status: StatusCode,
    body: &[u8],
    field: &str,
) -> Result<T> {
    let err = match value_or_service_error(redactor, status, body) {
        Ok(done) => return done,
        Err(err) => err,
    };
    let (code, what) = if body.is_empty() {
        (codes::RESPONSE_NOT_JSON, "is empty".to_owned())
    } else if err.is_data() {
        (codes::RESPONSE_UNEXPECTED_SHAPE, shape::describe(body, field).unwrap_or_else(|| json_error(&err)))
    } else {
        // A syntax error's text says where, never what.
        (codes::RESPONSE_NOT_JSON, format!("is not JSON ({err})"))
    };
    Err(Error::InvalidResponse {
        status: status.as_u16(),
        code,
        message: format!(
            "HTTP {status} sign-in answer {what}; expected an object whose \"{field}\" is a string"
        ),
        source: None,
    })
}

/// Turns a non-2xx answer into an error: the service's own code and message when the body is
/// in one of its documented forms, else the status and an excerpt.
pub(crate) fn error_answer(
    redactor: &Redactor<'_>,
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Error {
    if let Some((code, message)) = known_error_shape(body) {
        return api_error(redactor, status, code, message, retry_after);
    }
    Error::HttpStatus {
        status: status.as_u16(),
        message: format!("HTTP {status}; {}", quote_body(redactor, body)),
        kind: auth_or_api(status, ""),
        retry_after,
    }
}

/// A short, clean excerpt of a body for an error message: secrets of ours redacted, the
/// values of secret keys masked (a list answer carries callback passwords in clear text, a
/// sign-in answer a token that we have not taken), control characters replaced and the
/// length capped.
pub(crate) fn quote_body(redactor: &Redactor<'_>, body: &[u8]) -> String {
    if body.is_empty() {
        return "the body is empty".to_owned();
    }
    let text = redactor.redact(&String::from_utf8_lossy(&body[..body.len().min(4096)]));
    format!("the body starts: \"{}\"", excerpt(&mask_secret_values(&text)))
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

/// What is wrong with a sign-in answer, told from the types of its values alone: the values
/// themselves are never kept (a string is looked at where serde holds it, not copied).
mod shape {
    use std::fmt;

    use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

    /// The kind of a JSON value.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub(super) enum Kind {
        Null,
        Bool,
        Number,
        String,
        Array,
        Object,
    }

    impl fmt::Display for Kind {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(match self {
                Kind::Null => "null",
                Kind::Bool => "a boolean",
                Kind::Number => "a number",
                Kind::String => "a string",
                Kind::Array => "an array",
                Kind::Object => "an object",
            })
        }
    }

    /// The answer's kind, and the kinds of each value of `field` in it (if an object).
    struct Top<'a> {
        field: &'a str,
    }

    impl<'de> Visitor<'de> for Top<'_> {
        type Value = (Kind, Vec<Kind>);
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = Vec::new();
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if key == self.field {
                    found.push(map.next_value::<KindOf>()?.0);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok((Kind::Object, found))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            KindVisitor.visit_seq(seq).map(|k| (k, Vec::new()))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok((Kind::Bool, Vec::new()))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok((Kind::Number, Vec::new()))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok((Kind::Number, Vec::new()))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok((Kind::Number, Vec::new()))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok((Kind::String, Vec::new()))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok((Kind::Null, Vec::new()))
        }
    }

    struct KindOf(Kind);

    impl<'de> de::Deserialize<'de> for KindOf {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(KindVisitor).map(KindOf)
        }
    }

    struct KindVisitor;

    impl<'de> Visitor<'de> for KindVisitor {
        type Value = Kind;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Kind::Object)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Kind::Array)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Kind, E> {
            Ok(Kind::Bool)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Kind, E> {
            Ok(Kind::Number)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Kind, E> {
            Ok(Kind::Number)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Kind, E> {
            Ok(Kind::Number)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Kind, E> {
            Ok(Kind::String)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
            Ok(Kind::Null)
        }
    }

    /// What is wrong with `body` as an object whose `field` is a string, or `None` if that
    /// much is right (the fault is elsewhere).
    pub(super) fn describe(body: &[u8], field: &str) -> Option<String> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let (kind, found) = match de.deserialize_any(Top { field }) {
            Ok(shape) => shape,
            Err(e) => return Some(format!("is not JSON ({e})")),
        };
        if de.end().is_err() {
            return Some("has bytes after its JSON value".to_owned());
        }
        Some(match (kind, found.as_slice()) {
            (Kind::Object, []) => format!("has no \"{field}\""),
            (Kind::Object, [Kind::String]) => return None,
            (Kind::Object, [kind]) => format!("has \"{field}\" as {kind}"),
            (Kind::Object, _) => format!("has \"{field}\" {} times", found.len()),
            (kind, _) => format!("is {kind}, not an object"),
        })
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

    #[test]
    fn sign_in_shapes_are_described_without_values() {
        let describe = |body: &str| shape::describe(body.as_bytes(), "sessionToken");
        assert_eq!(describe(r#"{"sessionToken":["T0KEN"]}"#).unwrap(), r#"has "sessionToken" as an array"#);
        assert_eq!(
            describe(r#"{"sessionToken":{"v":"T0KEN"}}"#).unwrap(),
            r#"has "sessionToken" as an object"#
        );
        assert_eq!(describe(r#"{"sessionToken":7}"#).unwrap(), r#"has "sessionToken" as a number"#);
        assert_eq!(describe(r#"{"token":"T0KEN"}"#).unwrap(), r#"has no "sessionToken""#);
        assert_eq!(describe(r#"[{"sessionToken":"T0KEN"}]"#).unwrap(), "is an array, not an object");
        assert_eq!(describe(r#"{"sessionToken":"T0KEN"}x"#).unwrap(), "has bytes after its JSON value");
        assert_eq!(
            describe(r#"{"sessionToken":"A","sessionToken":"B"}"#).unwrap(),
            r#"has "sessionToken" 2 times"#
        );
        assert_eq!(describe(r#"{"sessionToken":"T0KEN","other":[1]}"#), None);
        assert!(!describe(r#"{"sessionToken":"T0KEN""#).unwrap().contains("T0KEN"));
    }
}
