//! The ThingSpace endpoints under `/api`, answering with the error shapes the real service uses:
//! connectivity errors (`errorCode`/`errorMessage`), gateway faults (`fault`) and OAuth errors.
//!
//! A known path with the wrong method answers the gateway's 404 fault `900906`, as the real API
//! gateway does, rather than 405.

use std::time::Instant;

use base64::Engine as _;
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};

use crate::http::{Request, Response};
use crate::shared::Shared;
use crate::state::{AtLimit, Registration, SessionProblem, State};

/// The longest `username` or `password` ThingSpace accepts for a callback registration.
const MAX_ECHO_FIELD_CHARS: usize = 40;

/// Answers one request under `/api` (or anything else that is not an admin request).
pub(crate) fn handle(shared: &Shared, req: &Request) -> Response {
    let segments: Vec<&str> = match req.path().strip_prefix("/api/") {
        Some(rest) => rest.split('/').collect(),
        None => return no_such_resource(),
    };
    let method = req.method.as_str();
    match (method, segments.as_slice()) {
        ("POST", ["ts", "v1", "oauth2", "token"]) => token(shared, req),
        ("POST", ["m2m", "v1", "session", "login"]) => login(shared, req),
        ("POST", ["m2m", "v1", "session", "logout"]) => logout(shared, req),
        ("POST" | "GET", ["m2m", "v1", "callbacks", account]) if !account.is_empty() => {
            let account = decode_segment(account);
            if method == "POST" {
                register(shared, req, &account)
            } else {
                list(shared, req, &account)
            }
        }
        ("DELETE", ["m2m", "v1", "callbacks", account, "name", service])
            if !account.is_empty() && !service.is_empty() =>
        {
            deregister(shared, req, &decode_segment(account), &decode_segment(service))
        }
        _ => no_such_resource(),
    }
}

fn decode_segment(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// A connectivity-API error: always 400 in this API.
fn error(code: &str, message: &str) -> Response {
    Response::json(400, &json!({"errorCode": code, "errorMessage": message}))
}

/// An API-gateway fault.
fn gateway_fault(status: u16, code: &str, message: &str, description: &str) -> Response {
    Response::json(status, &json!({"fault": {"code": code, "message": message, "description": description}}))
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    Response::json(status, &json!({"error": error, "error_description": description}))
}

/// A bound of the simulator itself (not of ThingSpace) was reached: a code no real service
/// sends, so that nobody mistakes it for ThingSpace behaviour.
fn at_limit(what: &str, max: usize, advice: &str) -> Response {
    error(&format!("Simulator.LIMIT.{what}"), &format!("the simulator holds {max} {advice}, or restart it"))
}

fn no_such_resource() -> Response {
    gateway_fault(
        404,
        "900906",
        "No matching resource found for given API Request",
        "The requested resource is not available.",
    )
}

fn token(shared: &Shared, req: &Request) -> Response {
    let config = &shared.config;
    let client_ok = req
        .header("authorization")
        .and_then(|value| credentials(value, "basic"))
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .is_some_and(|pair| {
            pair.split_once(':')
                .is_some_and(|(id, secret)| id == config.client_id && secret == config.client_secret)
        });
    if !client_ok {
        return oauth_error(401, "invalid_client", "Client authentication failed");
    }
    let is_form = req.header("content-type").is_some_and(|ct| {
        let media_type = ct.split(';').next().unwrap_or_default().trim();
        media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !is_form {
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    if form_value(&req.body, "grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials");
    }
    let (token, expires_in) = shared.lock_state().issue_token(config.token_lifetime, Instant::now());
    Response::json(
        200,
        &json!({
            "access_token": token,
            "token_type": "bearer",
            "expires_in": expires_in,
            "scope": "am_application_scope default",
        }),
    )
}

/// The credentials after `scheme` in an `Authorization` value (scheme compared
/// case-insensitively), if non-empty.
fn credentials<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    (given.eq_ignore_ascii_case(scheme) && !rest.is_empty()).then_some(rest)
}

/// The first value of `key` in an `application/x-www-form-urlencoded` body.
fn form_value(body: &[u8], key: &str) -> Option<String> {
    let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    String::from_utf8_lossy(body)
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find(|(k, _)| decode(k) == key)
        .map(|(_, v)| decode(v))
}

/// The gateway's bearer-token check, which every `/m2m/v1` endpoint passes first.
fn check_bearer(shared: &Shared, state: &State, req: &Request, now: Instant) -> Result<(), Response> {
    let Some(token) = req.header("authorization").and_then(|v| credentials(v, "bearer")) else {
        return Err(gateway_fault(
            401,
            "900902",
            "Missing Credentials",
            "Make sure your API invocation call has a header: 'Authorization : Bearer ACCESS_TOKEN'",
        ));
    };
    if token == shared.config.bearer_token || state.token_is_valid(token, now) {
        Ok(())
    } else {
        Err(gateway_fault(
            401,
            "900901",
            "Invalid Credentials",
            "Access failure for API: /api/m2m/v1, version: v1. Make sure your provided access token is valid",
        ))
    }
}

/// The bearer check, then the session check; returns the session token.
fn check_session<'r>(
    shared: &Shared,
    state: &mut State,
    req: &'r Request,
    now: Instant,
) -> Result<&'r str, Response> {
    check_bearer(shared, state, req, now)?;
    let Some(token) = req.header("vz-m2m-token").map(str::trim).filter(|t| !t.is_empty()) else {
        return Err(error(
            "UnifiedWebService.REQUEST_FAILED.SessionToken.Format",
            "Session token is missing",
        ));
    };
    match state.use_session(token, shared.config.session_idle_timeout, now) {
        Ok(()) => Ok(token),
        Err(SessionProblem::Unknown) => {
            Err(error("UnifiedWebService.INPUT_INVALID.SessionToken.Invalid", "Session token is not valid"))
        }
        Err(SessionProblem::Expired) => {
            Err(error("UnifiedWebService.REQUEST_FAILED.SessionToken.Expired", "Session token expired"))
        }
    }
}

fn login(shared: &Shared, req: &Request) -> Response {
    let now = Instant::now();
    let mut state = shared.lock_state();
    if let Err(response) = check_bearer(shared, &state, req, now) {
        return response;
    }
    let body: Option<Map<String, Value>> = serde_json::from_slice(&req.body).ok();
    let field =
        |name: &str| body.as_ref().and_then(|b| b.get(name)).and_then(Value::as_str).map(str::to_owned);
    let (Some(username), Some(password)) = (field("username"), field("password")) else {
        return error(
            "UnifiedWebService.INPUT_INVALID.RequestUndefined",
            "Request body must be a JSON object with username and password",
        );
    };
    if username != shared.config.username || password != shared.config.password {
        return error("UnifiedWebService.REQUEST_FAILED.UserNotAuthorized", "Invalid username or password");
    }
    match state.create_session(shared.config.session_idle_timeout, now) {
        Ok(token) => Response::json(200, &json!({"sessionToken": token})),
        Err(AtLimit(max)) => at_limit("Sessions", max, "sessions (SimConfig::max_sessions); log out of some"),
    }
}

fn logout(shared: &Shared, req: &Request) -> Response {
    let mut state = shared.lock_state();
    let token = match check_session(shared, &mut state, req, Instant::now()) {
        Ok(token) => token,
        Err(response) => return response,
    };
    state.end_session(token);
    Response::json(200, &json!({"sessionToken": token}))
}

/// Runs the bearer, session and account checks that all callback endpoints share.
fn check_callback_access(
    shared: &Shared,
    state: &mut State,
    req: &Request,
    account: &str,
) -> Result<(), Response> {
    check_session(shared, state, req, Instant::now())?;
    if !state.has_account(account) {
        return Err(error("UnifiedWebService.REQUEST_FAILED.AccountNotFound", "Account not found"));
    }
    Ok(())
}

fn register(shared: &Shared, req: &Request, account: &str) -> Response {
    let mut state = shared.lock_state();
    if let Err(response) = check_callback_access(shared, &mut state, req, account) {
        return response;
    }
    let registration = match parse_registration(&req.body, account) {
        Ok(registration) => registration,
        Err(response) => return response,
    };
    let answer = json!({
        "accountName": registration.account_name,
        "serviceName": registration.service_name,
    });
    match state.register(registration) {
        Ok(()) => Response::json(200, &answer),
        Err(AtLimit(max)) => {
            at_limit("Registrations", max, "registrations (SimConfig::max_registrations); deregister some")
        }
    }
}

fn parse_registration(body: &[u8], account: &str) -> Result<Registration, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(error("UnifiedWebService.INPUT_INVALID.RequestUndefined", "Request body is empty"));
    }
    let Ok(object) = serde_json::from_slice::<Map<String, Value>>(body) else {
        return Err(error(
            "UnifiedWebService.INPUT_INVALID.Request.InvalidCharacter",
            "Request body is not a valid JSON object",
        ));
    };
    let required = |name: &str| match object.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => {
            Err(error("UnifiedWebService.INPUT_INVALID.Request.MissingField", &format!("{name} is required")))
        }
    };
    let service_name = required("name")?;
    let url = required("url")?;
    let optional = |name: &str| match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > MAX_ECHO_FIELD_CHARS => Err(error(
            "UnifiedWebService.INPUT_INVALID.Request.FieldLength",
            &format!("{name} must be {MAX_ECHO_FIELD_CHARS} characters or fewer"),
        )),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(error(
            "UnifiedWebService.INPUT_INVALID.Request.InvalidCharacter",
            &format!("{name} must be a string"),
        )),
    };
    let username = optional("username")?;
    let password = optional("password")?;
    Ok(Registration { account_name: account.to_owned(), service_name, url, username, password })
}

fn list(shared: &Shared, req: &Request, account: &str) -> Response {
    let mut state = shared.lock_state();
    if let Err(response) = check_callback_access(shared, &mut state, req, account) {
        return response;
    }
    let listed: Vec<Value> = state.registrations(account).iter().map(Registration::to_json).collect();
    Response::json(200, &Value::Array(listed))
}

fn deregister(shared: &Shared, req: &Request, account: &str, service: &str) -> Response {
    let mut state = shared.lock_state();
    if let Err(response) = check_callback_access(shared, &mut state, req, account) {
        return response;
    }
    if !state.deregister(account, service) {
        return error(
            "UnifiedWebService.REQUEST_FAILED.ServiceNotRegistered",
            &format!("No callback registered for service {service}"),
        );
    }
    Response::json(200, &json!({"accountName": account, "serviceName": service}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(
            form_value(b"a=1&grant_type=client%5Fcredentials", "grant_type").as_deref(),
            Some("client_credentials")
        );
        assert_eq!(form_value(b"x=a+b", "x").as_deref(), Some("a b"));
        assert_eq!(form_value(b"grant_type", "grant_type").as_deref(), Some(""));
        assert_eq!(form_value(b"", "grant_type"), None);
    }

    #[test]
    fn credentials_need_the_right_scheme() {
        assert_eq!(credentials("Bearer abc", "bearer"), Some("abc"));
        assert_eq!(credentials("bearer  abc ", "bearer"), Some("abc"));
        assert_eq!(credentials("Basic abc", "bearer"), None);
        assert_eq!(credentials("Bearer ", "bearer"), None);
        assert_eq!(credentials("Bearer", "bearer"), None);
    }
}
