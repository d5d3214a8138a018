//! `tscb_error`: a failure's code, message, HTTP status and kind, for C.

use std::ffi::{c_char, CString};

use tscb::codes;

use crate::boundary::{arg_ref, call, free_box, guard, not_utf8, opt_str};
use crate::failure::{tscb_error, tscb_sent, TSCB_SENT_MAYBE};
use crate::result::*;
use crate::strings::c_string;

/// The error's code, e.g. "UnifiedWebService.REQUEST_FAILED.AccountNotFound" (from the service)
/// or "Tscb.INPUT_INVALID.Password.TooLong" (from the library). Owned by `error`; NULL when
/// `error` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_error_code(error: *const tscb_error) -> *const c_char {
    guard(std::ptr::null(), || error.as_ref().map_or(std::ptr::null(), |e| e.code.as_ptr()))
}

/// The error's message (never parse it: match on the code). Owned by `error`; NULL when `error`
/// is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_error_message(error: *const tscb_error) -> *const c_char {
    guard(std::ptr::null(), || error.as_ref().map_or(std::ptr::null(), |e| e.message.as_ptr()))
}

/// The HTTP status of the answer, or 0 when no answer came (or `error` is NULL).
#[no_mangle]
pub unsafe extern "C" fn tscb_error_http_status(error: *const tscb_error) -> u16 {
    guard(0, || error.as_ref().map_or(0, |e| e.http_status))
}

/// The HTTP status a callback listener answers for this error from
/// tscb_callback_verifier_verify() or tscb_callback_message_parse(): 403 for a source that is
/// not allowed, 401 for wrong credentials, 413 for a body over TSCB_MAX_CALLBACK_BYTES, 400 for
/// any other unreadable message; 500 for any other error (or when `error` is NULL), a fault of
/// the listener rather than of the message.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_answer_status(error: *const tscb_error) -> u16 {
    guard(500, || {
        error.as_ref().map_or(500, |e| tscb::callback_answer_status_for_code(&e.code.to_string_lossy()))
    })
}

/// For an invalid-input error, which input it is about ("AccountName", "CallbackUrl", …: the
/// second part of its code); NULL for any other error, or when `error` is NULL. Owned by `error`.
#[no_mangle]
pub unsafe extern "C" fn tscb_error_field(error: *const tscb_error) -> *const c_char {
    guard(std::ptr::null(), || {
        error.as_ref().and_then(|e| e.field.as_ref()).map_or(std::ptr::null(), |f| f.as_ptr())
    })
}

/// Whether the request may have reached the service: TSCB_SENT_NO, TSCB_SENT_MAYBE or
/// TSCB_SENT_YES (TSCB_SENT_MAYBE when `error` is NULL).
#[no_mangle]
pub unsafe extern "C" fn tscb_error_sent(error: *const tscb_error) -> tscb_sent {
    guard(TSCB_SENT_MAYBE, || error.as_ref().map_or(TSCB_SENT_MAYBE, |e| e.sent))
}

/// The kind of failure: the same result code that the failed call returned (TSCB_ERR_*).
/// TSCB_ERR_NULL_PARAMETER when `error` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_error_kind(error: *const tscb_error) -> tscb_result {
    guard(TSCB_ERR_PANIC, || error.as_ref().map_or(TSCB_ERR_NULL_PARAMETER, |e| e.kind))
}

/// The error in the API's documented form, `{"errorCode":"…","errorMessage":"…"}`, as a new
/// string that the caller frees with tscb_string_free(). NULL when `error` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_error_to_json(error: *const tscb_error) -> *mut c_char {
    guard(std::ptr::null_mut(), || {
        error.as_ref().map_or(std::ptr::null_mut(), |e| c_string(&e.json).into_raw())
    })
}

/// For a binding whose strings carry a length (C++'s std::string_view): checks that the `len`
/// bytes at `text` can be passed as the C string argument `name`, so that the binding reports
/// the library's error rather than one of its own. A NUL byte, which a C string cannot carry, is
/// TSCB_ERR_INVALID_INPUT (`Tscb.INPUT_INVALID.Argument.Encoding`); bytes that are not UTF-8 are
/// TSCB_ERR_INVALID_UTF8 (the same code), as the call itself would answer. On failure `*err`
/// (when `err` is not NULL) is a new error that the caller frees. `text` may be NULL only when
/// `len` is 0; `name` may be NULL (the message then names no argument).
#[no_mangle]
pub unsafe extern "C" fn tscb_check_text(
    name: *const c_char,
    text: *const c_char,
    len: usize,
    err: *mut *mut tscb_error,
) -> tscb_result {
    call(err, || {
        let name = opt_str(name, "name")?.unwrap_or("argument");
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the caller promises `len` readable bytes at `text`.
        arg_ref(text, "text")?;
        let bytes = std::slice::from_raw_parts(text.cast::<u8>(), len);
        if bytes.contains(&0) {
            return Err(tscb::Error::invalid_argument(
                codes::ARGUMENT_ENCODING,
                format!("`{name}` has a NUL byte, which a C string cannot carry"),
            )
            .into());
        }
        if std::str::from_utf8(bytes).is_err() {
            return Err(not_utf8(name));
        }
        Ok(())
    })
}

/// For a binding whose durations are signed (C++'s std::chrono): checks that `ms`, given as
/// the argument `name`, is not negative, so that the binding reports the library's error rather
/// than one of its own: TSCB_ERR_INVALID_INPUT (`Tscb.INPUT_INVALID.Timeout.Invalid`) when it
/// is. On failure `*err` (when `err` is not NULL) is a new error that the caller frees. `name`
/// may be NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_check_millis(
    name: *const c_char,
    ms: i64,
    err: *mut *mut tscb_error,
) -> tscb_result {
    call(err, || {
        let name = opt_str(name, "name")?.unwrap_or("duration");
        if ms < 0 {
            return Err(tscb::Error::invalid_argument(
                codes::TIMEOUT_INVALID,
                format!("`{name}` is negative ({ms} ms)"),
            )
            .into());
        }
        Ok(())
    })
}

/// Frees an error. NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn tscb_error_free(error: *mut tscb_error) {
    free_box(error)
}

/// Frees a string that the library returned as `char *` (for example from tscb_error_to_json()).
/// NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn tscb_string_free(string: *mut c_char) {
    if !string.is_null() {
        guard((), || drop(CString::from_raw(string)));
    }
}
