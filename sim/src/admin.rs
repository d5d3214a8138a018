//! The `/__admin/...` endpoints, so that tests in other languages can drive the simulator over
//! HTTP just as Rust tests drive it through [`Simulator`](crate::Simulator). Admin requests are
//! never recorded and never hit by faults.
//!
//! Who may use them: a web page must not (a cross-site POST, or DNS rebinding to read the
//! recorded requests), and on a non-loopback address only whoever holds the admin token. So
//! every admin request needs a `Host` that names the address it reached (or `localhost`), every
//! POST a JSON `Content-Type` (which a page cannot send without a CORS preflight that the
//! simulator never grants), and, when listening beyond loopback, `Authorization: Bearer <token>`.

use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;

use crate::fault::{Fault, FaultAction};
use crate::http::{Request, Response};
use crate::mask::Known;
use crate::shared::Shared;

/// True for request-targets the admin endpoints own.
pub(crate) fn is_admin(target: &str) -> bool {
    target == "/__admin" || target.starts_with("/__admin/") || target.starts_with("/__admin?")
}

/// Answers an admin request that reached the simulator at `local` (the connection's own
/// address).
pub(crate) fn handle(shared: &Shared, req: &Request, local: SocketAddr) -> Response {
    if let Err(refusal) = check_access(shared, req, local) {
        return refusal;
    }
    match (req.method.as_str(), req.path()) {
        ("POST", "/__admin/faults") => match parse_fault(&req.body) {
            Ok(fault) => {
                shared.lock_state().faults.push(fault);
                Response::no_content()
            }
            Err(message) => Response::text(400, &message),
        },
        ("DELETE", "/__admin/faults") => {
            shared.lock_state().faults.clear();
            Response::no_content()
        }
        ("GET", "/__admin/requests") => {
            let known = Known::from_config(&shared.config);
            let listed: Vec<serde_json::Value> =
                shared.lock_state().requests.iter().map(|r| r.to_masked_json(&known)).collect();
            Response::json(200, &serde_json::Value::Array(listed))
        }
        ("DELETE", "/__admin/requests") => {
            shared.lock_state().requests.clear();
            Response::no_content()
        }
        ("DELETE", "/__admin/registrations") => {
            shared.lock_state().clear_registrations();
            Response::no_content()
        }
        ("POST", "/__admin/expire-sessions") => {
            shared.lock_state().expire_sessions();
            Response::no_content()
        }
        ("POST", "/__admin/accounts") => match serde_json::from_slice::<AccountBody>(&req.body) {
            Ok(AccountBody { name }) if !name.is_empty() => {
                shared.lock_state().add_account(&name);
                Response::no_content()
            }
            Ok(_) => Response::text(400, "account name must not be empty"),
            Err(e) => Response::text(400, &format!("bad account JSON: {e}")),
        },
        ("POST", "/__admin/deliver") => crate::deliver::admin_deliver(shared, &req.body),
        ("GET", "/__admin/deliveries") => crate::deliver::admin_deliveries(shared),
        _ => Response::text(404, "no such admin endpoint"),
    }
}

fn check_access(shared: &Shared, req: &Request, local: SocketAddr) -> Result<(), Response> {
    let mut hosts = req.headers.iter().filter(|(n, _)| n == "host");
    let host_ok = match (hosts.next(), hosts.next()) {
        (Some((_, host)), None) => host_is_allowed(host, local),
        _ => false,
    };
    if !host_ok {
        let message = format!(
            "admin requests need a Host header naming the address they reached ({local} or \
             localhost:{})",
            local.port()
        );
        return Err(Response::text(403, &message));
    }
    if let Some(token) = &shared.admin_token {
        let given = req.header("authorization").and_then(|v| v.strip_prefix("Bearer ")).unwrap_or_default();
        if !same_secret(given.trim().as_bytes(), token.as_bytes()) {
            let mut refusal = Response::text(
                401,
                "admin requests need Authorization: Bearer <the admin token printed at start>",
            );
            refusal.extra_headers.push(("WWW-Authenticate".to_owned(), "Bearer".to_owned()));
            return Err(refusal);
        }
    }
    let is_json = req.header("content-type").is_some_and(|ct| {
        ct.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("application/json")
    });
    if req.method == "POST" && !is_json {
        return Err(Response::text(403, "admin POST requests need Content-Type: application/json"));
    }
    Ok(())
}

/// True when `host` (a `Host` header) names `local`: its IP address or `localhost`, with
/// `local`'s port or none. A name an attacker controls (DNS rebinding) never matches.
fn host_is_allowed(host: &str, local: SocketAddr) -> bool {
    let host = host.trim();
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((inside, "")) => (inside, None),
            Some((inside, after)) => match after.strip_prefix(':') {
                Some(port) => (inside, Some(port)),
                None => return false,
            },
            None => return false,
        },
        None => match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>() != Ok(local.port())) {
        return false;
    }
    let local_ip = local.ip().to_canonical();
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.to_canonical() == local_ip)
}

/// Compares without stopping at the first difference, so that timing does not tell how much
/// of a guess was right.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountBody {
    name: String,
}

/// The JSON form of a [`Fault`]: the matching fields plus a flat set of action parameters,
/// of which each action uses the ones it needs.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultBody {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    path_contains: Option<String>,
    #[serde(default)]
    times: Option<u32>,
    action: String,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    headers: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    ms: Option<u64>,
    #[serde(default)]
    after_ms: Option<u64>,
    #[serde(default)]
    declared: Option<usize>,
    #[serde(default)]
    sent: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    bytes: Option<usize>,
}

fn parse_fault(body: &[u8]) -> Result<Fault, String> {
    let f: FaultBody = serde_json::from_slice(body).map_err(|e| format!("bad fault JSON: {e}"))?;
    let need = |field: &str| format!("action \"{}\" needs \"{field}\"", f.action);
    let action = match f.action.as_str() {
        "respond" => FaultAction::Respond {
            status: f.status.ok_or_else(|| need("status"))?,
            content_type: f.content_type.clone(),
            body: f.body.clone().unwrap_or_default().into_bytes(),
            headers: f.headers.clone().unwrap_or_default().into_iter().collect(),
        },
        "delay" => FaultAction::Delay { ms: f.ms.ok_or_else(|| need("ms"))? },
        "drop" => FaultAction::Drop,
        "reset" => FaultAction::Reset,
        "truncate" => FaultAction::Truncate {
            declared: f.declared.ok_or_else(|| need("declared"))?,
            sent: f.sent.clone().ok_or_else(|| need("sent"))?.into_bytes(),
        },
        "redirect" => FaultAction::Redirect {
            status: f.status.unwrap_or(302),
            location: f.location.clone().ok_or_else(|| need("location"))?,
        },
        "oversized" => FaultAction::Oversized { bytes: f.bytes.ok_or_else(|| need("bytes"))? },
        "oversized_unframed" => {
            FaultAction::OversizedUnframed { bytes: f.bytes.ok_or_else(|| need("bytes"))? }
        }
        "reset_mid_answer" => FaultAction::ResetMidAnswer {
            declared: f.declared.ok_or_else(|| need("declared"))?,
            sent: f.sent.clone().ok_or_else(|| need("sent"))?.into_bytes(),
        },
        "stall" => FaultAction::Stall {
            after_ms: f.after_ms.unwrap_or(0),
            declared: f.declared.ok_or_else(|| need("declared"))?,
            sent: f.sent.clone().unwrap_or_default().into_bytes(),
            ms: f.ms.ok_or_else(|| need("ms"))?,
        },
        other => {
            return Err(format!(
                "unknown action \"{other}\" (expected respond, delay, drop, reset, truncate, \
                 reset_mid_answer, stall, redirect, oversized or oversized_unframed)"
            ))
        }
    };
    if let Some(problem) = action.header_problem() {
        return Err(problem);
    }
    Ok(Fault { method: f.method, path_contains: f.path_contains, times: f.times, action })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_action() {
        let cases: [(&str, FaultAction); 7] = [
            (
                r#"{"action":"respond","status":502,"content_type":"text/html","body":"<p>"}"#,
                FaultAction::Respond {
                    status: 502,
                    content_type: Some("text/html".into()),
                    body: b"<p>".to_vec(),
                    headers: Vec::new(),
                },
            ),
            (r#"{"action":"delay","ms":5}"#, FaultAction::Delay { ms: 5 }),
            (r#"{"action":"drop"}"#, FaultAction::Drop),
            (r#"{"action":"reset"}"#, FaultAction::Reset),
            (
                r#"{"action":"truncate","declared":10,"sent":"{\"a"}"#,
                FaultAction::Truncate { declared: 10, sent: b"{\"a".to_vec() },
            ),
            (
                r#"{"action":"redirect","location":"http://x/"}"#,
                FaultAction::Redirect { status: 302, location: "http://x/".into() },
            ),
            (r#"{"action":"oversized","bytes":7}"#, FaultAction::Oversized { bytes: 7 }),
        ];
        for (json, action) in cases {
            assert_eq!(parse_fault(json.as_bytes()), Ok(Fault::new(action)), "{json}");
        }
    }

    #[test]
    fn parses_matchers_and_rejects_nonsense() {
        let fault =
            parse_fault(br#"{"method":"POST","path_contains":"/callbacks/","times":2,"action":"drop"}"#)
                .unwrap();
        assert_eq!(fault, Fault::new(FaultAction::Drop).method("POST").path_contains("/callbacks/").times(2));
        let nulls = r#"{"method":null,"path_contains":null,"times":null,"action":"reset"}"#;
        assert_eq!(parse_fault(nulls.as_bytes()), Ok(Fault::new(FaultAction::Reset)));
        assert!(parse_fault(b"{").is_err());
        assert!(parse_fault(br#"{"action":"explode"}"#).is_err());
        assert!(parse_fault(br#"{"action":"delay"}"#).is_err());
        assert!(parse_fault(br#"{"action":"drop","colour":"red"}"#).is_err());
        let split = br#"{"action":"respond","status":200,"headers":{"X-A":"1\r\nSet-Cookie: x=y"}}"#;
        assert!(parse_fault(split).unwrap_err().contains("CR, LF"));
        assert!(parse_fault(br#"{"action":"redirect","location":"/x\nX: y"}"#).is_err());
    }

    #[test]
    fn host_must_name_the_address_reached() {
        let v4: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        for good in ["127.0.0.1:9000", "127.0.0.1", "localhost:9000", "LOCALHOST", " localhost "] {
            assert!(host_is_allowed(good, v4), "{good}");
        }
        for bad in ["evil.example:9000", "127.0.0.1:9001", "localhost:x", "127.0.0.2:9000", "", "[::1]:9000"]
        {
            assert!(!host_is_allowed(bad, v4), "{bad}");
        }
        let v6: SocketAddr = "[::1]:9000".parse().unwrap();
        assert!(host_is_allowed("[::1]:9000", v6));
        assert!(host_is_allowed("[::1]", v6));
        assert!(!host_is_allowed("[::1]x", v6));
        assert!(!host_is_allowed("::1", v6), "an IPv6 host needs brackets");
        let mapped: SocketAddr = "[::ffff:10.0.0.5]:9000".parse().unwrap();
        assert!(host_is_allowed("10.0.0.5:9000", mapped));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abd", b"abc"));
        assert!(!same_secret(b"ab", b"abc"));
    }
}
