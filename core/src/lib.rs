//! # tscb — ThingSpace callback listeners
//!
//! Register, list and remove the callback listeners (webhooks) of a Verizon ThingSpace billing
//! account through the Connectivity Management API:
//!
//! | call | request |
//! |---|---|
//! | [`Client::register_callback`] | `POST {base}/m2m/v1/callbacks/{account}` |
//! | [`Client::list_callbacks`] | `GET {base}/m2m/v1/callbacks/{account}` |
//! | [`Client::deregister_callback`] | `DELETE {base}/m2m/v1/callbacks/{account}/name/{service}` |
//!
//! Every input is checked before anything is sent; the account name is always exactly one path
//! segment; redirects are never followed; answers are read up to [`MAX_RESPONSE_BYTES`]; every
//! call ends within its call timeout ([`ClientBuilder::call_timeout`], default
//! [`DEFAULT_CALL_TIMEOUT`]), sign-in, renewals, retries and their waits included. Tokens and passwords never appear in `Debug`, `Display` or an
//! error message. The library never prints.
//!
//! ```
//! use tscb::{services, CallbackRegistration, Client, ErrorKind};
//! # let sim = tscb_sim::Simulator::start().unwrap();
//! let client = Client::builder()
//!     .base_url(sim.base_url()) // leave out for production: https://thingspace.verizon.com/api
//!     .bearer_token(tscb_sim::SIM_BEARER_TOKEN)
//!     .session_token(tscb_sim::SIM_SESSION_TOKEN)
//!     .build()?;
//!
//! let reg = CallbackRegistration::new(services::CARRIER_SERVICE, "https://listener.example.com/tscb")?
//!     .with_username("fleet-7")?;
//! match client.register_callback("TestAccount-2", &reg) {
//!     Ok(ack) => println!("registered {} for {}", ack.service_name, ack.account_name),
//!     Err(e) if e.is_session_error() => eprintln!("log in again: {e}"),
//!     Err(e) if e.kind() == ErrorKind::InvalidInput => eprintln!("fix the input: {e}"),
//!     Err(e) => eprintln!("{}", e.to_json()),
//! }
//! # Ok::<(), tscb::Error>(())
//! ```
//!
//! ## Signing in
//!
//! Give the client fixed tokens ([`ClientBuilder::bearer_token`],
//! [`ClientBuilder::session_token`]) or let it sign in for you with
//! [`ClientBuilder::credentials`] (the OAuth client id and secret, and the account's
//! connectivity-management login):
//!
//! ```
//! # let sim = tscb_sim::Simulator::start().unwrap();
//! let client = tscb::Client::builder()
//!     .base_url(sim.base_url())
//!     .credentials(tscb_sim::SIM_CLIENT_ID, tscb_sim::SIM_CLIENT_SECRET, tscb_sim::SIM_USERNAME, tscb_sim::SIM_PASSWORD)
//!     .build()?;
//! client.login()?; // optional: checks the credentials now instead of at the first call
//! let listed = client.list_callbacks("TestAccount-2")?;
//! client.logout()?;
//! # Ok::<(), tscb::Error>(())
//! ```
//!
//! The client fetches the OAuth token (`POST {base}/ts/v1/oauth2/token`) and logs in
//! (`POST {base}/m2m/v1/session/login`) when first used, fetches a new token shortly before
//! `expires_in` runs out, and when a call fails because the session expired or is invalid
//! (`SessionToken.Expired` / `.Invalid`, whatever the status) or the bearer token was refused
//! (401), renews that token (each at most once per call) and repeats the call. Many threads
//! sharing a client cause one renewal, and threads that waited for a sign-in that failed get its
//! error. **A login that was refused, or whose outcome is unknown (a timeout, a broken
//! connection, a server error), is never sent again by that client**: five failed logins in a
//! row lock the account until Verizon support unlocks it, so later calls fail at once with the
//! same error. (A 429/503 answer, or the gateway refusing the bearer token, does not count.) By
//! itself the protection lives in the client; with [`ClientBuilder::login_guard_file`] it holds
//! across clients and processes for an hour ([`codes::LOGIN_BLOCKED`]). Do not rebuild clients
//! in a loop after authentication failures.
//!
//! A token in the last tenth of its life (at most a minute) is renewed early; if that renewal
//! fails, the call goes on with the old token, which still works.
//!
//! Transient failures are retried only where repeating the request is harmless: see
//! [`RetryPolicy`] for the table.
//!
//! ## Errors
//!
//! Every failure is an [`Error`] with [`Error::error_code`], [`Error::error_message`],
//! [`Error::http_status`] (when an answer came) and [`Error::kind`], and serialises to the API's
//! documented form, `{"errorCode": "...", "errorMessage": "..."}` ([`Error::to_json`]).
//! Errors sent by the service keep its own code and message (for example
//! `UnifiedWebService.REQUEST_FAILED.AccountNotFound`, or the gateway's `900901`). Match on the
//! code, never on the message. The library's own codes never change meaning; [`codes::TABLE`]
//! lists each with its kind and meaning.
//!
//! Kinds: `invalid_input` (nothing was sent), `api` (the service's own error), `auth` (a
//! refused bearer token, 401/403, or a session error: see [`Error::is_session_error`]),
//! `transport`, `timeout`, `invalid_response`, `internal` (a panic caught at a language boundary),
//! and for received callbacks `callback_rejected` and `callback_invalid`.
//!
//! ## Receiving callbacks
//!
//! ThingSpace POSTs each callback message as JSON to the registered URL, with the registered
//! username and password inside the body (there is no signature). [`CallbackVerifier::verify`]
//! checks the source address (by default [`VERIZON_CALLBACK_SOURCES`]), reads the body into a
//! [`CallbackMessage`] and compares the credentials in constant time, accepting the previous
//! password for a while after a rotation. The listener answers 2xx for a message it has kept
//! (or already had: resends share [`CallbackMessage::dedup_key`]) and
//! [`callback_answer_status`] otherwise.
//!
//! ```
//! let mut verifier = tscb::CallbackVerifier::new();
//! verifier
//!     .set_username("fleet-7")
//!     .set_password("new-pw")
//!     .set_previous_password("old-pw", tscb::DEFAULT_PREVIOUS_PASSWORD_WINDOW);
//!
//! let body = br#"{"username":"fleet-7","password":"old-pw","requestId":"r-1",
//!   "deviceIds":[{"id":"353238060000001","kind":"IMEI"}],
//!   "deviceResponse":{"changeIdentifierResponse":{}},"status":"Success","callbackCount":2}"#;
//! match verifier.verify(tscb::VERIZON_CALLBACK_SOURCES[0].parse().unwrap(), body) {
//!     Ok(msg) => {
//!         assert_eq!(msg.payload_name(), Some("deviceResponse"));
//!         println!("{} for {} device(s), key {}", msg.request_id().unwrap_or("?"),
//!                  msg.device_ids().len(), msg.dedup_key());
//!     }
//!     Err(e) => eprintln!("answer {}: {e}", tscb::callback_answer_status(&e)),
//! }
//! ```
//!
//! ## Many accounts
//!
//! [`fleet`] compares the listeners many accounts should have with what each has, and makes
//! them so, with one sign-in and bounded concurrency: [`fleet::Plan::compute`], then
//! [`fleet::Plan::apply`].
//!
//! ## Guides
//!
//! This is the reference. The guides, whose Rust examples are compiled with these docs, are in
//! the repository's `docs/`: `rust.md` (sign-in, the login guard, retries, timeouts, fork),
//! `many-accounts.md`, `receiving-callbacks.md`, `https-and-proxies.md`, `logging.md`,
//! `errors.md` (every code in [`codes::TABLE`]), `simulator.md` and `architecture.md`.

#![warn(missing_docs)]

// The layers, each using only those listed before it (none uses one listed after):
// the leaves (codes, error, secret, text, model, deadline, retry, credentials, services, files,
// events, validate); input (the names a call takes, checked once); config (the builder and its checked settings); protocol (requests and
// answers as values, sans-io); transport (TLS, proxy, DNS, one request sent); auth (the
// sign-in state, its flight and the login guard, behind the `SignIn` trait); async_client (the
// calls: config + auth + transport + protocol, and the sign-in requests); blocking (the
// caller-thread client over the async one); callback and fleet on top.
mod async_client;
mod auth;
mod blocking;
mod callback;
pub mod codes;
mod config;
mod credentials;
mod deadline;
pub mod env;
mod error;
mod events;
mod field;
#[doc(hidden)]
pub mod files;
pub mod fleet;
mod input;
mod model;
mod protocol;
mod retry;
mod secret;
pub mod services;
mod text;
mod transport;
mod validate;

pub use async_client::AsyncClient;
#[doc(hidden)]
pub use auth::guard::hold_lock_for_tests as __hold_login_guard_lock;
pub use auth::guard::BLOCK_FOR as LOGIN_GUARD_BLOCK;
pub use blocking::Client;
pub use callback::{
    callback_answer_status, callback_answer_status_for_code, previous_password_window_from_secs,
    CallbackFault, CallbackMessage, CallbackVerifier, DeviceId, DEFAULT_PREVIOUS_PASSWORD_WINDOW,
    MAX_CALLBACK_BYTES, VERIZON_CALLBACK_SOURCES,
};
pub use config::{
    ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CALL_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use credentials::{ClientCredentials, Login};
pub use error::{BoxError, Error, ErrorKind, Result, Sent};
pub use events::TARGET as LOG_TARGET;
pub use field::Field;
pub use input::{AccountName, CallbackCredentials, CallbackUrl, ServiceName};
pub use model::{CallbackAck, CallbackRegistration, RegisteredCallback};
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use transport::send::MAX_RESPONSE_BYTES;
// For `tscb`'s text output: one rule for which characters a terminal must not be given raw.
#[doc(hidden)]
pub use text::escape_invisible;
pub use validate::{timeout_from_secs, CALLBACK_PORTS, MAX_CREDENTIAL_CHARS, MAX_TIMEOUT};

/// The Rust examples of the README and the guides in `docs/`, compiled (and, unless `no_run`,
/// run) by `cargo test --doc` so that they cannot rot.
#[cfg(doctest)]
mod doc_examples {
    #[doc = include_str!("../../README.md")]
    pub struct Readme;
    #[doc = include_str!("../../docs/rust.md")]
    pub struct Rust;
    #[doc = include_str!("../../docs/many-accounts.md")]
    pub struct ManyAccounts;
    #[doc = include_str!("../../docs/receiving-callbacks.md")]
    pub struct ReceivingCallbacks;
    #[doc = include_str!("../../docs/architecture.md")]
    pub struct Architecture;
    #[doc = include_str!("../../docs/simulator.md")]
    pub struct Simulator;
}
