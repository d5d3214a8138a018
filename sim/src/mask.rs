//! What `GET /__admin/requests` (and `Debug`) shows of credentials in recorded requests.
//!
//! Masked: the values of `Authorization`, `Proxy-Authorization` and `VZ-M2M-Token`, and of
//! secret fields (`password`, `client_secret`, tokens) in JSON bodies, form bodies and query
//! strings. A program pointed at the simulator by mistake may send real ThingSpace credentials,
//! and whoever can read the admin API must not learn them.
//!
//! Two things stay visible, so that tests in other languages can still check what a client sent:
//! - the simulator's own credentials (its fixed bearer token, session token, client id and
//!   secret, login password): they are printed at start and only open this simulator;
//! - the `password` of a callback registration: the simulator stores it and lists it back, as
//!   ThingSpace does, to anyone holding its (public) tokens, so masking it here would hide
//!   nothing.

use base64::Engine as _;
use serde_json::Value;

use crate::config::SimConfig;

pub(crate) const MASK: &str = "<redacted>";

/// Field names whose values are secrets, compared ASCII case-insensitively.
const SECRET_KEYS: [&str; 6] =
    ["password", "client_secret", "client_assertion", "access_token", "refresh_token", "sessionToken"];

const SECRET_HEADERS: [&str; 3] = ["authorization", "proxy-authorization", "vz-m2m-token"];

/// The simulator's own credentials, which are shown as they are.
pub(crate) struct Known {
    authorization: Vec<String>,
    session_token: Option<String>,
    password: Option<String>,
}

impl Known {
    /// Nothing is known: everything secret is masked.
    pub(crate) fn none() -> Known {
        Known { authorization: Vec::new(), session_token: None, password: None }
    }

    pub(crate) fn from_config(config: &SimConfig) -> Known {
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", config.client_id, config.client_secret));
        Known {
            authorization: vec![format!("Bearer {}", config.bearer_token), format!("Basic {basic}")],
            session_token: Some(config.session_token.clone()),
            password: Some(config.password.clone()),
        }
    }
}

/// A header value as shown; `name` is lower-case. The scheme of an authorization is kept: it
/// says which kind of sign-in was tried and is no secret.
pub(crate) fn header(name: &str, value: &str, known: &Known) -> String {
    if !SECRET_HEADERS.contains(&name) {
        return value.to_owned();
    }
    let is_known = match name {
        "authorization" => known.authorization.iter().any(|k| k == value),
        "vz-m2m-token" => known.session_token.as_deref() == Some(value),
        _ => false,
    };
    if is_known {
        return value.to_owned();
    }
    match value.trim_start().split_once(' ') {
        Some((scheme, _)) if name != "vz-m2m-token" && scheme.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            format!("{scheme} {MASK}")
        }
        _ => MASK.to_owned(),
    }
}

fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

fn mentions_secret(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|k| lower.contains(&k.to_ascii_lowercase()))
}

/// A request-target with the values of secret query parameters masked.
pub(crate) fn target(target: &str) -> String {
    match target.split_once('?') {
        Some((path, query)) if mentions_secret(query) => format!("{path}?{}", form(query)),
        _ => target.to_owned(),
    }
}

/// `a=1&password=x` with the secret values masked (keys compared after percent-decoding).
fn form(text: &str) -> String {
    let decode =
        |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    text.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_secret_key(&decode(key)) => format!("{key}={MASK}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A request body as shown: lossy UTF-8, with secret values masked. A body that mentions a
/// secret field but is neither JSON nor a form cannot be masked field by field, so it is
/// replaced whole.
pub(crate) fn body(method: &str, target: &str, body: &[u8], known: &Known) -> String {
    let text = String::from_utf8_lossy(body);
    if !mentions_secret(&text) {
        return text.into_owned();
    }
    if let Ok(mut value) = serde_json::from_slice::<Value>(body) {
        let path = target.split_once('?').map_or(target, |(p, _)| p);
        let is_registration = method == "POST"
            && path.strip_prefix("/api/m2m/v1/callbacks/").is_some_and(|a| !a.is_empty() && !a.contains('/'));
        let changed = match &mut value {
            Value::Object(object) => mask_each(
                object
                    .iter_mut()
                    .filter(|(key, _)| !(is_registration && key.as_str() == "password"))
                    .map(|(key, field)| (Some(key.as_str()), field)),
                known,
            ),
            other => mask_json(None, other, known),
        };
        // Unchanged bodies are shown byte for byte, as received.
        return if changed { value.to_string() } else { text.into_owned() };
    }
    let looks_like_form =
        !text.is_empty() && !text.contains(|c: char| c.is_whitespace() || "{}\"".contains(c));
    if looks_like_form {
        return form(&text);
    }
    format!("{MASK}: {} bytes that mention a secret field but are neither JSON nor a form", body.len())
}

/// Masks `value` if `key` names a secret, else the secrets inside it; true if it changed.
fn mask_json(key: Option<&str>, value: &mut Value, known: &Known) -> bool {
    if key.is_some_and(is_secret_key) {
        let own_password = key == Some("password")
            && value.as_str().is_some()
            && value.as_str() == known.password.as_deref();
        if value.is_null() || own_password {
            return false;
        }
        *value = Value::String(MASK.to_owned());
        return true;
    }
    match value {
        Value::Object(object) => mask_each(object.iter_mut().map(|(k, v)| (Some(k.as_str()), v)), known),
        Value::Array(items) => mask_each(items.iter_mut().map(|v| (None, v)), known),
        _ => false,
    }
}

/// Masks every field, without stopping at the first change; true if any changed.
fn mask_each<'a>(fields: impl Iterator<Item = (Option<&'a str>, &'a mut Value)>, known: &Known) -> bool {
    let mut changed = false;
    for (key, value) in fields {
        changed |= mask_json(key, value, known);
    }
    changed
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::config::{
        SIM_BEARER_TOKEN, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_SESSION_TOKEN, SIM_USERNAME,
    };

    fn known() -> Known {
        Known::from_config(&SimConfig::default())
    }

    #[test]
    fn credential_headers_are_masked_unless_they_are_the_simulators_own() {
        let k = known();
        assert_eq!(header("authorization", "Bearer REAL-TOKEN", &k), "Bearer <redacted>");
        assert_eq!(header("authorization", "Basic UkVBTDpTRUNSRVQ=", &k), "Basic <redacted>");
        assert_eq!(header("authorization", "REALTOKEN", &k), "<redacted>");
        assert_eq!(header("proxy-authorization", "Basic eDp5", &k), "Basic <redacted>");
        assert_eq!(header("vz-m2m-token", "real session", &k), "<redacted>");
        let bearer = format!("Bearer {SIM_BEARER_TOKEN}");
        assert_eq!(header("authorization", &bearer, &k), bearer);
        let basic = format!("Basic {}", STANDARD.encode(format!("{SIM_CLIENT_ID}:{SIM_CLIENT_SECRET}")));
        assert_eq!(header("authorization", &basic, &k), basic);
        assert_eq!(header("vz-m2m-token", SIM_SESSION_TOKEN, &k), SIM_SESSION_TOKEN);
        assert_eq!(header("vz-m2m-token", SIM_SESSION_TOKEN, &Known::none()), "<redacted>");
        assert_eq!(header("accept", "application/json", &k), "application/json");
    }

    #[test]
    fn secret_fields_are_masked_in_json_form_and_query() {
        let k = known();
        let login = br#"{"username":"u","password":"REAL-PW","nested":[{"Client_Secret":"S"}]}"#;
        let shown = body("POST", "/api/m2m/v1/session/login", login, &k);
        assert_eq!(
            shown,
            r#"{"nested":[{"Client_Secret":"<redacted>"}],"password":"<redacted>","username":"u"}"#
        );
        let own = format!(r#"{{"username": "{SIM_USERNAME}", "password": "{SIM_PASSWORD}"}}"#);
        assert_eq!(body("POST", "/api/m2m/v1/session/login", own.as_bytes(), &k), own);
        let form_body = b"grant_type=client_credentials&client_secret=REAL&pass%77ord=REAL";
        assert_eq!(
            body("POST", "/api/ts/v1/oauth2/token", form_body, &k),
            "grant_type=client_credentials&client_secret=<redacted>&pass%77ord=<redacted>"
        );
        assert_eq!(target("/api/x?a=1&access_token=REAL"), "/api/x?a=1&access_token=<redacted>");
        assert_eq!(target("/api/x?a=1"), "/api/x?a=1");
        let broken = br#"{"password":"REAL"#;
        let shown = body("POST", "/api/m2m/v1/session/login", broken, &k);
        assert!(!shown.contains("REAL") && shown.starts_with("<redacted>: 17 bytes"), "{shown}");
    }

    #[test]
    fn a_callback_password_is_shown_as_the_listing_shows_it() {
        let k = known();
        let register = br#"{"name":"S","url":"http://x","password":"echo-pw"}"#;
        let shown = body("POST", "/api/m2m/v1/callbacks/A", register, &k);
        assert_eq!(shown, String::from_utf8_lossy(register));
        // Elsewhere the same field is masked.
        let shown = body("POST", "/api/m2m/v1/callbacks/A/more", register, &k);
        assert!(!shown.contains("echo-pw"), "{shown}");
    }
}
