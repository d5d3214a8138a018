//! The API's requests and answers as values, with no I/O: what each call sends (its method,
//! path and body) and how each answer is read ([`decode`]). The clients put the two around a
//! transport; decoding and error mapping are tested from bytes, without a client or a server
//! (`protocol/tests.rs`, with the answers in `core/tests/fixtures/answers/`).

pub(crate) mod decode;
#[cfg(test)]
mod tests;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{Method, StatusCode};
use zeroize::Zeroizing;

use crate::error::Result;
use crate::input::{AccountName, ServiceName};
use crate::model::{CallbackAck, CallbackRegistration, RegisteredCallback};
use crate::retry::Operation;
use crate::secret::Redactor;

/// Everything but the unreserved characters is escaped, so an account name is always exactly
/// one path segment (`/`, `?`, `#`, `%` and space cannot change the path), as in Verizon's SDK.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// One request of the callbacks API, before tokens and the fixed headers are added.
pub(crate) struct Request {
    /// What kind of call it is, for the retry policy.
    pub(crate) operation: Operation,
    pub(crate) method: Method,
    /// After the base URL (which ends in `/api`).
    pub(crate) path: String,
    /// Wiped when dropped: a registration's may hold the callback password.
    pub(crate) body: Option<Zeroizing<Vec<u8>>>,
}

fn callbacks_path(account: &AccountName) -> String {
    format!("/m2m/v1/callbacks/{}", utf8_percent_encode(account.as_str(), PATH_SEGMENT))
}

/// `POST /m2m/v1/callbacks/{account}` with the registration as JSON (unset optional fields
/// left out, as Verizon's SDK does).
pub(crate) fn register(account: &AccountName, registration: &CallbackRegistration) -> Request {
    Request {
        operation: Operation::Register,
        method: Method::POST,
        path: callbacks_path(account),
        body: Some(registration.to_wire()),
    }
}

/// `GET /m2m/v1/callbacks/{account}`.
pub(crate) fn list(account: &AccountName) -> Request {
    Request { operation: Operation::List, method: Method::GET, path: callbacks_path(account), body: None }
}

/// `DELETE /m2m/v1/callbacks/{account}/name/{service}`. A service name is letters and digits
/// only, so it needs no escaping.
pub(crate) fn deregister(account: &AccountName, service_name: &ServiceName) -> Request {
    Request {
        operation: Operation::Deregister,
        method: Method::DELETE,
        path: format!("{}/name/{service_name}", callbacks_path(account)),
        body: None,
    }
}

/// `POST /m2m/v1/session/logout` (the session token goes in its header).
pub(crate) fn logout() -> Request {
    Request {
        operation: Operation::Logout,
        method: Method::POST,
        path: "/m2m/v1/session/logout".into(),
        body: None,
    }
}

/// A register's or deregister's 2xx answer: `{"accountName", "serviceName"}`.
pub(crate) fn ack(redactor: &Redactor<'_>, status: StatusCode, body: &[u8]) -> Result<CallbackAck> {
    decode::json(redactor, status, body)
}

/// A list's 2xx answer: an array of listeners; an empty body, `null` or `[]` is an empty list.
pub(crate) fn listed(
    redactor: &Redactor<'_>,
    status: StatusCode,
    body: &[u8],
) -> Result<Vec<RegisteredCallback>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    Ok(decode::json::<Option<Vec<RegisteredCallback>>>(redactor, status, body)?.unwrap_or_default())
}
