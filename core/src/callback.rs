//! The receiving side: the messages ThingSpace POSTs to a registered listener.
//!
//! [`CallbackMessage::parse`] reads one body leniently (unknown fields and unknown services'
//! objects are kept), and [`CallbackVerifier::verify`] checks where it came from and the
//! username and password echoed in it. Neither does any I/O: they are the core of a listener,
//! whatever HTTP server carries it.

mod message;
mod verify;

pub use message::{CallbackFault, CallbackMessage, DeviceId, MAX_CALLBACK_BYTES};
pub use verify::{
    previous_password_window_from_secs, CallbackVerifier, DEFAULT_PREVIOUS_PASSWORD_WINDOW,
    VERIZON_CALLBACK_SOURCES,
};

use crate::codes;
use crate::error::Error;

/// The HTTP status a listener answers when [`CallbackVerifier::verify`] or
/// [`CallbackMessage::parse`] failed: 403 for a source that is not allowed, 401 for wrong
/// credentials, 413 for a body over [`MAX_CALLBACK_BYTES`], 400 for any other unreadable
/// message, 500 for anything else (a fault of the listener, not of the message).
///
/// ThingSpace resends a message that was not answered with a 2xx, so a listener that cannot
/// keep a message should answer 5xx rather than 200.
pub fn callback_answer_status(error: &Error) -> u16 {
    callback_answer_status_for_code(error.error_code())
}

/// [`callback_answer_status`] from an error's code alone (what the C and Python bindings and a
/// stored error keep): 403, 401, 413, 400, or 500 for any code that is not a callback's.
pub fn callback_answer_status_for_code(code: &str) -> u16 {
    match code {
        codes::CALLBACK_REJECTED_SOURCE => 403,
        codes::CALLBACK_REJECTED_CREDENTIALS => 401,
        codes::CALLBACK_TOO_LARGE => 413,
        codes::CALLBACK_NOT_JSON | codes::CALLBACK_UNEXPECTED_SHAPE => 400,
        _ => 500,
    }
}
