//! The `/__admin/...` endpoints, so that tests in other languages can drive the simulator over
//! HTTP just as Rust tests drive it through [`Simulator`](crate::Simulator). Admin requests are
//! never recorded and never hit by faults.

use serde::Deserialize;

use crate::fault::{Fault, FaultAction};
use crate::http::{Request, Response};
use crate::server::Shared;

/// True for request-targets the admin endpoints own.
pub(crate) fn is_admin(target: &str) -> bool {
    target == "/__admin" || target.starts_with("/__admin/") || target.starts_with("/__admin?")
}

pub(crate) fn handle(shared: &Shared, req: &Request) -> Response {
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
            let listed: Vec<serde_json::Value> =
                shared.lock_state().requests.iter().map(|r| r.to_json()).collect();
            Response::json(200, &serde_json::Value::Array(listed))
        }
        ("DELETE", "/__admin/requests") => {
            shared.lock_state().requests.clear();
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
        _ => Response::text(404, "no such admin endpoint"),
    }
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
    }
}
