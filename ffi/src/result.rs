//! The result codes: explicit, grouped by cause, never renumbered.

use std::ffi::c_char;

/// The outcome of a call: `TSCB_OK` (0) or one of the `TSCB_ERR_*` codes. The values are grouped
/// by cause and never renumbered; new codes only ever get new numbers.
pub type tscb_result = u32;

/// Success.
pub const TSCB_OK: tscb_result = 0;

/// A required pointer argument was NULL (100–199: misuse of the C API itself).
pub const TSCB_ERR_NULL_PARAMETER: tscb_result = 100;
/// A string argument was not valid UTF-8.
pub const TSCB_ERR_INVALID_UTF8: tscb_result = 101;

/// The input was rejected before anything was sent (200–299).
pub const TSCB_ERR_INVALID_INPUT: tscb_result = 200;

/// The service answered with an error of its own (300–399).
pub const TSCB_ERR_API: tscb_result = 300;
/// The service refused the credentials: a bearer token refused (401/403), or a session token
/// that is missing, invalid or expired.
pub const TSCB_ERR_AUTH: tscb_result = 301;

/// The connection could not be made or broke (400–499).
pub const TSCB_ERR_TRANSPORT: tscb_result = 400;
/// No complete answer came within the timeout.
pub const TSCB_ERR_TIMEOUT: tscb_result = 401;

/// An answer came but could not be understood: not JSON, the wrong shape, too large, or a
/// redirect (500–599).
pub const TSCB_ERR_INVALID_RESPONSE: tscb_result = 500;

/// A received callback message was refused: it came from a source that is not allowed (code
/// Tscb.CALLBACK_REJECTED.Source: answer 403) or with the wrong username or password
/// (Tscb.CALLBACK_REJECTED.Credentials: answer 401) (600–699: receiving callbacks).
pub const TSCB_ERR_CALLBACK_REJECTED: tscb_result = 600;
/// A received callback message could not be read: over TSCB_MAX_CALLBACK_BYTES
/// (Tscb.CALLBACK_INVALID.TooLarge: answer 413), not JSON, or not the documented envelope (answer 400).
pub const TSCB_ERR_CALLBACK_INVALID: tscb_result = 601;

/// A panic inside the library was caught; the library is probably in a bad state (900–999).
pub const TSCB_ERR_PANIC: tscb_result = 900;

pub(crate) fn for_kind(kind: tscb::ErrorKind) -> tscb_result {
    use tscb::ErrorKind as K;
    match kind {
        K::InvalidInput => TSCB_ERR_INVALID_INPUT,
        K::Api => TSCB_ERR_API,
        K::Auth => TSCB_ERR_AUTH,
        K::Transport => TSCB_ERR_TRANSPORT,
        K::Timeout => TSCB_ERR_TIMEOUT,
        K::InvalidResponse => TSCB_ERR_INVALID_RESPONSE,
        K::Internal => TSCB_ERR_PANIC,
        K::CallbackRejected => TSCB_ERR_CALLBACK_REJECTED,
        K::CallbackInvalid => TSCB_ERR_CALLBACK_INVALID,
        // ErrorKind is non-exhaustive: a kind added later is still an error, never success.
        _ => TSCB_ERR_API,
    }
}

/// A short, static English description of a result code: never NULL, never to be freed.
/// Unknown codes give "unknown result code".
#[no_mangle]
pub extern "C" fn tscb_result_str(result: tscb_result) -> *const c_char {
    let s: &'static std::ffi::CStr = match result {
        TSCB_OK => c"ok",
        TSCB_ERR_NULL_PARAMETER => c"a required pointer argument was NULL",
        TSCB_ERR_INVALID_UTF8 => c"a string argument is not valid UTF-8",
        TSCB_ERR_INVALID_INPUT => c"invalid input: nothing was sent",
        TSCB_ERR_API => c"the service answered with an error",
        TSCB_ERR_AUTH => c"the service refused the credentials",
        TSCB_ERR_TRANSPORT => c"the connection failed",
        TSCB_ERR_TIMEOUT => c"no answer within the timeout",
        TSCB_ERR_INVALID_RESPONSE => c"the answer could not be understood",
        TSCB_ERR_CALLBACK_REJECTED => c"the callback was refused: wrong source or credentials",
        TSCB_ERR_CALLBACK_INVALID => {
            c"the callback could not be read: too large, not JSON or the wrong shape"
        }
        TSCB_ERR_PANIC => c"internal error (a panic was caught)",
        _ => c"unknown result code",
    };
    s.as_ptr()
}
