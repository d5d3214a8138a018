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
//! call ends within its timeout. Tokens and passwords never appear in `Debug`, `Display` or an
//! error message. The library never prints.
//!
//! ```
//! use tscb::{services, CallbackRegistration, Client, ErrorKind};
//! # let sim = tscb_sim::Simulator::start().unwrap();
//! let client = Client::builder()
//!     .base_url(sim.base_url()) // leave out for production: https://thingspace.verizon.com/api
//!     .bearer_token("sim-bearer-token")
//!     .session_token("sim-session-token")
//!     .build()?;
//!
//! let reg = CallbackRegistration::new(services::CARRIER_SERVICE, "https://listener.example.com/tscb")
//!     .with_username("fleet-7");
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
//!     .credentials("sim-client-id", "sim-client-secret", "sim-user", "sim-password")
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
//! same error. (A 429/503 answer, or the gateway refusing the bearer token, does not count.) The
//! protection lives in the client: do not rebuild clients in a loop after authentication
//! failures.
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
//! code, never on the message. The library's own codes ([`codes`]) never change meaning:
//!
//! | code | kind | meaning |
//! |---|---|---|
//! | `Tscb.INPUT_INVALID.AccountName.Empty` | invalid_input | the account name is empty |
//! | `Tscb.INPUT_INVALID.AccountName.InvalidCharacter` | invalid_input | the account name has a control character |
//! | `Tscb.INPUT_INVALID.AccountName.DotSegment` | invalid_input | the account name is `.` or `..` |
//! | `Tscb.INPUT_INVALID.ServiceName.Empty` | invalid_input | the service name is empty |
//! | `Tscb.INPUT_INVALID.ServiceName.InvalidCharacter` | invalid_input | the service name is not only ASCII letters and digits |
//! | `Tscb.INPUT_INVALID.CallbackUrl.Malformed` | invalid_input | the callback URL is not an absolute URL, or has white space |
//! | `Tscb.INPUT_INVALID.CallbackUrl.Scheme` | invalid_input | the callback URL is not `http` or `https` |
//! | `Tscb.INPUT_INVALID.CallbackUrl.Host` | invalid_input | the callback URL has no host |
//! | `Tscb.INPUT_INVALID.CallbackUrl.Credentials` | invalid_input | the callback URL has a user name or password in it |
//! | `Tscb.INPUT_INVALID.CallbackUrl.Port` | invalid_input | the callback URL's port is not 80, 443, 9001–9006, 50551–50559 or 28200–28220 |
//! | `Tscb.INPUT_INVALID.Username.TooLong` | invalid_input | the callback username has more than 40 characters |
//! | `Tscb.INPUT_INVALID.Username.InvalidCharacter` | invalid_input | the callback username has a control character |
//! | `Tscb.INPUT_INVALID.Password.TooLong` | invalid_input | the callback password has more than 40 characters |
//! | `Tscb.INPUT_INVALID.Password.InvalidCharacter` | invalid_input | the callback password has a control character |
//! | `Tscb.INPUT_INVALID.BearerToken.Missing` | invalid_input | no bearer token |
//! | `Tscb.INPUT_INVALID.BearerToken.InvalidCharacter` | invalid_input | the bearer token is not visible ASCII |
//! | `Tscb.INPUT_INVALID.SessionToken.Missing` | invalid_input | no session token |
//! | `Tscb.INPUT_INVALID.SessionToken.InvalidCharacter` | invalid_input | the session token is not visible ASCII |
//! | `Tscb.INPUT_INVALID.BaseUrl.Malformed` | invalid_input | the base URL is not an absolute URL without credentials, query or fragment |
//! | `Tscb.INPUT_INVALID.BaseUrl.Insecure` | invalid_input | the base URL is plain `http` to a host that is not loopback |
//! | `Tscb.INPUT_INVALID.UserAgent.InvalidCharacter` | invalid_input | the user agent is empty or not printable ASCII |
//! | `Tscb.INPUT_INVALID.Timeout.Zero` | invalid_input | a timeout of zero |
//! | `Tscb.INPUT_INVALID.ClientId.Invalid` | invalid_input | the OAuth client id is empty, or has a `:` or a control character |
//! | `Tscb.INPUT_INVALID.ClientSecret.Invalid` | invalid_input | the OAuth client secret is empty or has a control character |
//! | `Tscb.INPUT_INVALID.LoginUsername.Invalid` | invalid_input | the session login's username is empty or has a control character |
//! | `Tscb.INPUT_INVALID.LoginPassword.Invalid` | invalid_input | the session login's password is empty or has a control character |
//! | `Tscb.INPUT_INVALID.Timeout.Invalid` | invalid_input | a timeout that is negative, NaN, infinite or longer than a day |
//! | `Tscb.INPUT_INVALID.Client.Closed` | invalid_input | (Python) a call on a client after `close()` |
//! | `Tscb.INPUT_INVALID.Argument.Encoding` | invalid_input | (C, Python) a string is not valid UTF-8 (C) or has a lone surrogate (Python) |
//! | `Tscb.INPUT_INVALID.Argument.Missing` | invalid_input | (C) a required pointer is NULL; (CLI) a required setting is missing |
//! | `Tscb.REQUEST_FAILED.ClientSetup` | transport | the HTTP client or TLS could not be set up |
//! | `Tscb.REQUEST_FAILED.Connect` | transport | no connection could be made; nothing was sent |
//! | `Tscb.REQUEST_FAILED.Transport` | transport | the connection broke; the request may have arrived |
//! | `Tscb.REQUEST_FAILED.Timeout` | timeout | no complete answer within the timeout; the request may have arrived |
//! | `Tscb.REQUEST_FAILED.HttpStatus` | api, or auth for 401/403 | an HTTP error status with a body in no known error form (the message has the status and a short, cleaned excerpt) |
//! | `Tscb.REQUEST_FAILED.Panic` | transport | (C, Python) a panic was caught at the language boundary |
//! | `Tscb.REQUEST_FAILED.Internal` | transport | (CLI) the command could not run: the simulator could not start, the output could not be written |
//! | `Tscb.RESPONSE_INVALID.Redirect` | invalid_response | a redirect, which is never followed |
//! | `Tscb.RESPONSE_INVALID.TooLarge` | invalid_response | an answer over 1 MiB |
//! | `Tscb.RESPONSE_INVALID.NotJson` | invalid_response | a success answer that is empty or not JSON |
//! | `Tscb.RESPONSE_INVALID.UnexpectedShape` | invalid_response | a success answer without the documented fields |
//!
//! Kinds: `invalid_input` (nothing was sent), `api` (the service's own error), `auth` (a
//! refused bearer token, 401/403, or a session error: see [`Error::is_session_error`]),
//! `transport`, `timeout`, `invalid_response`.

#![warn(missing_docs)]

mod auth;
mod client;
mod error;
mod model;
mod retry;
mod secret;
pub mod services;
mod validate;

pub use auth::{ApiKey, Login};
pub use client::{
    Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES,
};
pub use error::{codes, BoxError, Error, ErrorKind, Result};
pub use model::{CallbackAck, CallbackRegistration, RegisteredCallback};
pub use retry::RetryPolicy;
pub use secret::Secret;
pub use validate::{timeout_from_secs, CALLBACK_PORTS, MAX_CREDENTIAL_CHARS, MAX_TIMEOUT};

/// The README's Rust example, compiled by `cargo test` so that it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
