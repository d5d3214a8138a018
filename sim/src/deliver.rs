//! The simulator as ThingSpace's sender: it POSTs a callback message to the URL registered for
//! an account and service, and resends it with a higher `callbackCount` until a 2xx or the
//! attempts run out, in a thread of its own. Only to loopback addresses over plain HTTP: the
//! simulator must never become a way to send requests to other machines.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::callbacks;
use crate::deliveries::{Deliveries, DeliveryAttempt};
use crate::http::Response;
use crate::shared::Shared;
use crate::state::Registration;

const MAX_ATTEMPTS: u32 = 10;
const MAX_INTERVAL: Duration = Duration::from_secs(60);
/// Deliveries under way at once; more are refused (429) rather than piling up threads.
const MAX_RUNNING: usize = 16;
/// ThingSpace resent a message not answered within about 4 s.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(4);

/// One message to deliver; see [`Simulator::deliver`](crate::Simulator::deliver).
#[derive(Clone, Debug)]
pub struct Delivery {
    pub account: String,
    pub service: String,
    /// Top-level fields laid over the service's default message (`null` removes one).
    pub message: Option<Map<String, Value>>,
    /// Send a `faultResponse` instead of the service's result.
    pub fault: bool,
    /// Attempts in all, 1 to 10 (default 4, as ThingSpace).
    pub attempts: u32,
    /// The wait between attempts, at most 60 s (default 1 s; ThingSpace waits minutes).
    pub interval: Duration,
}

impl Delivery {
    pub fn new(account: &str, service: &str) -> Delivery {
        Delivery {
            account: account.to_owned(),
            service: service.to_owned(),
            message: None,
            fault: false,
            attempts: 4,
            interval: Duration::from_secs(1),
        }
    }
}

/// Starts `delivery` to the URL registered for its account and service.
pub(crate) fn start_for(shared: &Shared, delivery: Delivery) -> Result<u64, (u16, String)> {
    let (registration, deliveries) = {
        let state = shared.lock_state();
        let registration =
            state.registrations(&delivery.account).into_iter().find(|r| r.service_name == delivery.service);
        (registration, Arc::clone(&state.deliveries))
    };
    start(&deliveries, registration, delivery)
}

/// `POST /__admin/deliver`: `{"account", "service", "message"?, "fault"?, "attempts"?,
/// "interval_ms"?}`; 202 `{"deliveryId"}`.
pub(crate) fn admin_deliver(shared: &Shared, body: &[u8]) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        account: String,
        service: String,
        #[serde(default)]
        message: Option<Map<String, Value>>,
        #[serde(default)]
        fault: bool,
        #[serde(default)]
        attempts: Option<u32>,
        #[serde(default)]
        interval_ms: Option<u64>,
    }
    let b: Body = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) => return Response::text(400, &format!("bad delivery JSON: {e}")),
    };
    let mut delivery = Delivery::new(&b.account, &b.service);
    delivery.message = b.message;
    delivery.fault = b.fault;
    delivery.attempts = b.attempts.unwrap_or(delivery.attempts);
    delivery.interval = b.interval_ms.map_or(delivery.interval, Duration::from_millis);
    match start_for(shared, delivery) {
        Ok(id) => Response::json(202, &serde_json::json!({ "deliveryId": id })),
        Err((status, why)) => Response::text(status, &why),
    }
}

/// `GET /__admin/deliveries`: every attempt logged, oldest first.
pub(crate) fn admin_deliveries(shared: &Shared) -> Response {
    let deliveries = Arc::clone(&shared.lock_state().deliveries);
    Response::json(200, &Value::Array(deliveries.attempts().iter().map(DeliveryAttempt::to_json).collect()))
}

/// Starts delivering `delivery` to `registration` (the one for its account and service, if
/// any); returns the delivery id at once. The error is an HTTP status and a reason.
pub(crate) fn start(
    deliveries: &Arc<Deliveries>,
    registration: Option<Registration>,
    delivery: Delivery,
) -> Result<u64, (u16, String)> {
    let Some(registration) = registration else {
        let why = format!(
            "no callback registered for service {:?} of account {:?}",
            delivery.service, delivery.account
        );
        return Err((404, why));
    };
    if !(1..=MAX_ATTEMPTS).contains(&delivery.attempts) || delivery.interval > MAX_INTERVAL {
        return Err((400, format!("attempts must be 1 to {MAX_ATTEMPTS} and the interval at most 60 s")));
    }
    let target = loopback_target(&registration.url).map_err(|why| (400, why))?;
    let mut message = callbacks::message(&delivery.service, delivery.fault, None);
    message.insert("username".into(), registration.username.clone().unwrap_or_default().into());
    message.insert("password".into(), registration.password.clone().unwrap_or_default().into());
    for (key, value) in delivery.message.iter().flatten() {
        match value {
            Value::Null => message.remove(key),
            _ => message.insert(key.clone(), value.clone()),
        };
    }
    let first_count = message.get("callbackCount").and_then(Value::as_u64).unwrap_or(1);
    let Some(id) = deliveries.begin(MAX_RUNNING) else {
        return Err((429, format!("{MAX_RUNNING} deliveries are under way; try again later")));
    };
    let (deliveries, url) = (Arc::clone(deliveries), registration.url);
    let sent = std::thread::Builder::new().name("tscb-sim-deliver".into()).spawn(move || {
        for attempt in 1..=delivery.attempts {
            message.insert("callbackCount".into(), (first_count + u64::from(attempt) - 1).into());
            let body = Value::Object(message.clone()).to_string();
            let outcome = post(&target, body.as_bytes());
            let delivered = matches!(outcome, Ok(200..=299));
            let last = delivered || attempt == delivery.attempts;
            let (status, error) = match outcome {
                Ok(status) => (Some(status), None),
                Err(e) => (None, Some(e)),
            };
            deliveries.record(DeliveryAttempt {
                delivery_id: id,
                attempt,
                url: url.clone(),
                status,
                error,
                last,
            });
            if last || !deliveries.sleep(delivery.interval) {
                break;
            }
        }
        deliveries.end();
    });
    sent.map(|_| id).map_err(|e| (500, format!("could not start the delivery: {e}")))
}

/// Where a registered URL points, if it is plain HTTP to a loopback address: the socket
/// address, the `Host` header and the request-target.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    addr: SocketAddr,
    host: String,
    path: String,
}

fn loopback_target(url: &str) -> Result<Target, String> {
    let refuse = |why: &str| {
        Err(format!("the simulator delivers only to http://127.0.0.1, [::1] or localhost: {url:?} {why}"))
    };
    let Some(rest) = url.strip_prefix("http://") else { return refuse("is not plain http") };
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    let path = path.split('#').next().unwrap_or_default();
    let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
    if authority.contains('@') || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return refuse("has a user name, a space or a control character");
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => match port.parse::<u16>() {
            Ok(port) => (host, port),
            Err(_) => return refuse("has a bad port"),
        },
        _ => (authority, 80),
    };
    let ip = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(ip) if ip.to_canonical().is_loopback() => ip,
            _ => return refuse("is not a loopback address"),
        }
    };
    Ok(Target { addr: SocketAddr::new(ip, port), host: authority.to_owned(), path })
}

/// One POST; the status of the answer, or why there was none.
fn post(target: &Target, body: &[u8]) -> Result<u16, String> {
    let mut stream =
        TcpStream::connect_timeout(&target.addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    let _ = stream.set_read_timeout(Some(ANSWER_TIMEOUT));
    let _ = stream.set_write_timeout(Some(ANSWER_TIMEOUT));
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nUser-Agent: tscb-sim callback \
         delivery\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        target.path,
        target.host,
        body.len()
    );
    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 512];
    while !answer.windows(2).any(|w| w == b"\r\n") && answer.len() < 1024 {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(e.to_string()),
        }
    }
    let line = String::from_utf8_lossy(&answer);
    let mut words = line.split(' ');
    match (words.next(), words.next().and_then(|s| s.parse::<u16>().ok())) {
        (Some(version), Some(status)) if version.starts_with("HTTP/1.") => Ok(status),
        _ => Err("the listener's answer had no HTTP status line".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_to_loopback() {
        let t = loopback_target("http://127.0.0.1:9001/cb?x=1#frag").unwrap();
        assert_eq!(
            (t.addr.to_string(), t.host.as_str(), t.path.as_str()),
            ("127.0.0.1:9001".into(), "127.0.0.1:9001", "/cb?x=1")
        );
        assert_eq!(loopback_target("http://localhost").unwrap().addr.to_string(), "127.0.0.1:80");
        assert_eq!(loopback_target("http://[::1]:9002").unwrap().path, "/");
        for bad in [
            "https://127.0.0.1/cb",
            "http://10.0.0.1/cb",
            "http://example.com/cb",
            "http://user@127.0.0.1/cb",
            "http://127.0.0.1.example.com/cb",
            "http://127.0.0.1:x/cb",
            "http://127.0.0.1/a b",
            "ftp://127.0.0.1/",
        ] {
            assert!(loopback_target(bad).is_err(), "{bad}");
        }
    }
}
