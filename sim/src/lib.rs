//! A local, in-memory stand-in for Verizon ThingSpace's callback-listener API, for tests.
//!
//! The simulator serves the OAuth token endpoint, session login and logout, and the callback
//! register / list / deregister endpoints under `http://127.0.0.1:PORT/api`, with the same JSON
//! shapes and error codes as the real service. Faults (error answers, delays, dropped or reset
//! connections, truncated or oversized bodies, redirects) can be injected per request, from Rust
//! through [`Simulator::inject`] or from any language through the admin endpoints
//! (`/__admin/...`). It is a plain `std::net` server with a thread per connection, so that every
//! byte it sends is under the test's control; it shares no code with the client library it
//! checks.
//!
//! ```
//! use std::io::{Read, Write};
//! use tscb_sim::{Fault, FaultAction, Simulator};
//!
//! let sim = Simulator::start()?;
//! sim.inject(Fault::new(FaultAction::Respond {
//!     status: 503,
//!     content_type: None,
//!     body: Vec::new(),
//!     headers: Vec::new(),
//! }).times(1));
//!
//! let mut conn = std::net::TcpStream::connect(sim.addr())?;
//! conn.write_all(b"GET /api/m2m/v1/callbacks/TestAccount-2 HTTP/1.1\r\nConnection: close\r\n\r\n")?;
//! let mut answer = String::new();
//! conn.read_to_string(&mut answer)?;
//! assert!(answer.starts_with("HTTP/1.1 503 "));
//! assert_eq!(sim.requests().len(), 1);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Fixed test credentials are in [`SimConfig::default`].
//!
//! # Endpoints (under `/api`)
//!
//! | request | checks, in order |
//! |---|---|
//! | `POST /ts/v1/oauth2/token` | `Authorization: Basic` client credentials (401 `invalid_client`); `Content-Type: application/x-www-form-urlencoded`, parameters ignored (400 `invalid_request`); `grant_type=client_credentials` (400 `unsupported_grant_type`). While the last issued token is valid, the same token comes back with its remaining lifetime. |
//! | `POST /m2m/v1/session/login` | bearer; JSON `{"username","password"}` |
//! | `POST /m2m/v1/session/logout` | bearer, session; ends the session |
//! | `POST /m2m/v1/callbacks/{account}` | bearer, session, account, body; one registration per service, a second replaces the first |
//! | `GET /m2m/v1/callbacks/{account}` | bearer, session, account |
//! | `DELETE /m2m/v1/callbacks/{account}/name/{service}` | bearer, session, account, registration |
//!
//! `{account}` and `{service}` are single path segments, percent-decoded. Bearer failures are
//! gateway faults (`{"fault": {"code": "900902" or "900901", ...}}`, 401); everything else
//! answers `400 {"errorCode", "errorMessage"}` with the codes ThingSpace documents. Any other
//! path, and a known path with the wrong method, answers the gateway's
//! `404 {"fault": {"code": "900906", ...}}` (the gateway does not answer 405).
//!
//! HTTP: keep-alive (until `Connection: close`, or HTTP/1.0 without keep-alive); request
//! bodies by `Content-Length` only (`Transfer-Encoding` gets 501), at most 1 MiB (413);
//! `Expect: 100-continue` is honoured; a malformed request gets 400 and the connection closes.
//!
//! Limits, so that a simulator can be left running (each a [`SimConfig`] field): a connection
//! silent for [`SimConfig::idle_timeout`] is closed, a request that takes longer than
//! [`SimConfig::request_timeout`] to arrive gets 408, connections beyond
//! [`SimConfig::max_connections`] get 503; the request log keeps the newest requests, and
//! sessions and registrations are capped (a login or a new registration beyond the cap answers
//! `400 {"errorCode": "Simulator.LIMIT.Sessions" | "Simulator.LIMIT.Registrations"}`).
//!
//! # Admin endpoints (outside `/api`, never recorded, never faulted)
//!
//! Every admin request needs a `Host` header that names the address it reached (its IP address
//! and port, or `localhost`, the port optional), and every admin POST
//! `Content-Type: application/json`; otherwise 403. A web page can send neither (DNS rebinding
//! brings its own host name; a JSON content type needs a CORS preflight, which is never granted).
//! On a non-loopback address (only with [`SimConfig::allow_remote`]) every admin request also
//! needs `Authorization: Bearer <token>` with [`Simulator::admin_token`] (401 without).
//!
//! | request | answer |
//! |---|---|
//! | `POST /__admin/faults` with a fault as JSON (below) | 204; 400 with a plain-text reason |
//! | `DELETE /__admin/faults` | 204, all faults removed |
//! | `GET /__admin/requests` | 200, `[{"method", "path", "headers": [[name, value], ...], "body", "connection_id"}, ...]`; `body` is the body decoded as lossy UTF-8; credentials masked (below) |
//! | `DELETE /__admin/requests` | 204 |
//! | `POST /__admin/expire-sessions` | 204, as [`Simulator::expire_sessions`] |
//! | `POST /__admin/accounts` with `{"name": "..."}` | 204, as [`Simulator::add_account`] |
//! | `POST /__admin/deliver` with `{"account", "service", "message"?, "fault"?, "attempts"?, "interval_ms"?}` | 202 `{"deliveryId"}`, as [`Simulator::deliver`]: 404 without a registration, 400 for a URL that is not plain `http` to a loopback address, 429 with 16 deliveries under way |
//! | `GET /__admin/deliveries` | 200, `[{"deliveryId", "attempt", "url", "status" (or null), "error" (or null), "last"}, ...]`, oldest first |
//!
//! A fault as JSON: `{"method": "POST" | null, "path_contains": "..." | null, "times": 1 | null,
//! "action": ACTION, ...}` where ACTION and its fields are
//!
//! - `"respond"`: `"status"` (required), `"content_type"` (optional), `"body"` (a string, default
//!   empty), `"headers"` (an object of more headers, e.g. `{"Retry-After": "1"}`, optional);
//! - `"delay"`: `"ms"`;
//! - `"drop"`, `"reset"`: nothing more;
//! - `"truncate"`: `"declared"`, `"sent"` (a string);
//! - `"redirect"`: `"location"`, `"status"` (default 302);
//! - `"oversized"`: `"bytes"`;
//! - `"oversized_unframed"`: `"bytes"` (no `Content-Length`: the body ends with the connection);
//! - `"reset_mid_answer"`: `"declared"`, `"sent"` (headers and part of the body, then a reset);
//! - `"stall"`: `"after_ms"` (optional), `"declared"`, `"sent"` (optional), `"ms"` (part of the
//!   answer after a wait, then silence).
//!
//! Unknown fields are refused, so that a misspelt field cannot silently make a different fault;
//! so are header names that are not HTTP tokens and CR, LF or NUL in header values,
//! `content_type` and `location`, which could otherwise forge headers or a body.
//!
//! `GET /__admin/requests` shows `<redacted>` for the values of `Authorization` (after its
//! scheme), `Proxy-Authorization` and `VZ-M2M-Token`, and of secret fields (`password`,
//! `client_secret`, tokens) in JSON bodies, form bodies and query strings: a program pointed at
//! the simulator by mistake may send real credentials. The simulator's own credentials from
//! [`SimConfig`] are shown, and so is a callback registration's `password`, which the list
//! endpoint returns anyway. [`Simulator::requests`] returns everything exactly as received.
//! See [`FaultAction`] for what each action does.

mod admin;
mod api;
mod callbacks;
mod config;
mod deliver;
mod deliveries;
mod fault;
mod http;
mod mask;
mod proxy;
mod random;
mod record;
mod server;
mod shared;
mod simulator;
mod state;
mod sync;
mod tls;

pub use config::{
    SimConfig, SIM_BEARER_TOKEN, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_PASSWORD, SIM_SESSION_TOKEN,
    SIM_USERNAME,
};
pub use deliver::Delivery;
pub use deliveries::DeliveryAttempt;
pub use fault::{Fault, FaultAction};
pub use proxy::{ConnectProxy, ProxyConfig, ProxyRequest, MAX_LOGGED_REQUESTS};
pub use record::RecordedRequest;
pub use simulator::{Simulator, SimulatorBuilder};
pub use state::Registration;
pub use tls::CERTIFICATE_NAMES;
