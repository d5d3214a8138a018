//! The one place where C's pointers become Rust references, and where panics stop.
//!
//! Every exported function runs its body through [`call`] (or [`guard`] for functions without an
//! error output), so that a panic becomes `TSCB_ERR_PANIC` instead of unwinding into C, and every
//! pointer is checked here rather than in each function.

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use tscb::codes;

use crate::failure::{tscb_error, Failure};
use crate::result::*;

fn null(name: &str) -> Failure {
    Failure {
        result: TSCB_ERR_NULL_PARAMETER,
        error: tscb::Error::invalid_argument(codes::ARGUMENT_MISSING, format!("`{name}` is NULL")),
    }
}

/// Runs `body`, turning a panic into a failure.
fn caught(body: impl FnOnce() -> Result<(), Failure>) -> Result<(), Failure> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        Err(Failure {
            result: TSCB_ERR_PANIC,
            error: tscb::Error::panic("a panic inside libtscb was caught at the C boundary"),
        })
    })
}

/// Runs `body`; on failure stores the error in `*err` (when `err` is not NULL) and returns its code.
pub(crate) fn call(err: *mut *mut tscb_error, body: impl FnOnce() -> Result<(), Failure>) -> tscb_result {
    let Err(failure) = caught(body) else { return TSCB_OK };
    give(&failure, err);
    failure.result
}

/// Stores a new copy of `failure` in `*err` when `err` is not NULL.
fn give(failure: &Failure, err: *mut *mut tscb_error) {
    if !err.is_null() {
        // Building the error cannot panic in practice; if it did, the caller still gets the code.
        if let Ok(boxed) = catch_unwind(AssertUnwindSafe(|| tscb_error::boxed(failure))) {
            // SAFETY: the caller promises `err`, when not NULL, points to writable storage.
            unsafe { *err = boxed };
        }
    }
}

/// An object whose setters report only a result (they have no `err` output, and their
/// signatures are fixed by the ABI): it keeps the first failure of one, with core's code and
/// message, for its `*_error()` function and, for a builder, for its build.
pub(crate) trait KeepsSetterError {
    /// The parameter's name in the C functions, for the error when it is NULL.
    const NAME: &'static str;
    fn setter_error(&self) -> Option<&Failure>;
    fn keep_setter_error(&mut self, failure: Failure);
}

/// Runs a setter's `body` on the object behind `ptr`; a failure is kept by the object (the first
/// one only: later setters still run, and report their own result).
pub(crate) unsafe fn setter<T: KeepsSetterError>(
    ptr: *mut T,
    body: impl FnOnce(&mut T) -> Result<(), Failure>,
) -> tscb_result {
    let Some(target) = ptr.as_mut() else { return TSCB_ERR_NULL_PARAMETER };
    match caught(|| body(&mut *target)) {
        Ok(()) => TSCB_OK,
        Err(failure) => {
            let result = failure.result;
            if target.setter_error().is_none() {
                target.keep_setter_error(failure);
            }
            result
        }
    }
}

/// The `*_error()` functions: TSCB_OK when no setter of the object behind `ptr` failed, else
/// the first failure's result, with a new copy of its error in `*err`.
pub(crate) unsafe fn setter_error<T: KeepsSetterError>(
    ptr: *const T,
    err: *mut *mut tscb_error,
) -> tscb_result {
    let Some(target) = ptr.as_ref() else { return call(err, || Err(null(T::NAME))) };
    match target.setter_error() {
        None => TSCB_OK,
        Some(failure) => {
            give(failure, err);
            failure.result
        }
    }
}

/// Runs `body`, answering `fallback` if it panics. For accessors and `*_free`, which have no
/// error output.
pub(crate) fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// `&T` from a pointer that must not be NULL.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` for `'a`.
pub(crate) unsafe fn arg_ref<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Failure> {
    ptr.as_ref().ok_or_else(|| null(name))
}

/// `&mut T` from a pointer that must not be NULL.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` that nothing else uses for `'a`.
pub(crate) unsafe fn arg_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    ptr.as_mut().ok_or_else(|| null(name))
}

/// A required string argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    opt_str(ptr, name)?.ok_or_else(|| null(name))
}

/// An optional string argument: NULL means none.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    CStr::from_ptr(ptr).to_str().map(Some).map_err(|_| not_utf8(name))
}

/// The failure of a string argument `name` that is not UTF-8.
pub(crate) fn not_utf8(name: &str) -> Failure {
    Failure {
        result: TSCB_ERR_INVALID_UTF8,
        error: tscb::Error::invalid_argument(
            codes::ARGUMENT_ENCODING,
            format!("`{name}` is not valid UTF-8"),
        ),
    }
}

/// Checks an output pointer up front, so that a NULL one fails before any work (or request) is done.
///
/// # Safety
/// `ptr` is NULL or points to writable storage for a `*mut T`.
pub(crate) unsafe fn out_ptr<'a, T>(ptr: *mut *mut T, name: &str) -> Result<&'a mut *mut T, Failure> {
    ptr.as_mut().ok_or_else(|| null(name))
}

/// Frees a value that was handed to C with `Box::into_raw`. NULL does nothing.
///
/// # Safety
/// `ptr` is NULL or came from `Box::into_raw` and was not freed yet.
pub(crate) unsafe fn free_box<T>(ptr: *mut T) {
    if !ptr.is_null() {
        guard((), || drop(Box::from_raw(ptr)));
    }
}
