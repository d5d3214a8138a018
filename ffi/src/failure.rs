//! A failure as Rust holds it ([`Failure`]: the result code and core's error) and as C receives
//! it (`tscb_error`, read with the accessors in `error.rs`).

use std::ffi::CString;

use crate::result::*;
use crate::strings::c_string;

/// Why a call failed: the result code to return and the error to hand to the caller.
pub(crate) struct Failure {
    pub(crate) result: tscb_result,
    pub(crate) error: tscb::Error,
}

impl From<tscb::Error> for Failure {
    fn from(error: tscb::Error) -> Self {
        Failure { result: for_kind(error.kind()), error }
    }
}

/// A failure: the API's `errorCode` and `errorMessage`, the HTTP status and the kind. Opaque; read
/// it with the `tscb_error_*` accessors and free it with tscb_error_free().
pub struct tscb_error {
    pub(crate) code: CString,
    pub(crate) message: CString,
    pub(crate) json: String,
    pub(crate) http_status: u16,
    pub(crate) kind: tscb_result,
    pub(crate) field: Option<CString>,
    pub(crate) sent: tscb_sent,
}

/// Whether a failed request may have reached the service (tscb_error_sent()).
pub type tscb_sent = u32;
/// Nothing reached the service: bad input, no connection, TLS or the proxy refused.
pub const TSCB_SENT_NO: tscb_sent = 0;
/// It may have reached the service and been acted on: the connection broke, or time ran out.
pub const TSCB_SENT_MAYBE: tscb_sent = 1;
/// The service answered.
pub const TSCB_SENT_YES: tscb_sent = 2;

impl tscb_error {
    pub(crate) fn boxed(failure: &Failure) -> *mut tscb_error {
        let error = &failure.error;
        Box::into_raw(Box::new(tscb_error {
            code: c_string(error.error_code()),
            message: c_string(error.error_message()),
            json: error.to_json(),
            http_status: error.http_status().unwrap_or(0),
            kind: failure.result,
            field: error.field().map(|f| c_string(f.as_str())),
            sent: match error.sent() {
                tscb::Sent::No => TSCB_SENT_NO,
                tscb::Sent::Yes => TSCB_SENT_YES,
                _ => TSCB_SENT_MAYBE,
            },
        }))
    }
}
