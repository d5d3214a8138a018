//! Core's defaults and limits for C: `TSCB_DEFAULT_*` and `TSCB_MAX_*` in the header, and the
//! lists (callback ports, Verizon's callback sources) and the base URL through functions, so that the doc
//! comments of the header name these instead of restating values.
//!
//! cbindgen writes a `#define` only for a literal, so each value is written here once more; the
//! `const` assertions make the build fail the moment one differs from core's.

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use crate::boundary::guard;
use crate::strings::c_string;

/// How long opening a connection may take unless set (tscb_client_builder_set_connect_timeout_ms()).
pub const TSCB_DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;
/// How long each HTTP request may take unless set (tscb_client_builder_set_timeout_ms()).
pub const TSCB_DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// How long one call may take in all unless set (tscb_client_builder_set_call_timeout_ms()).
pub const TSCB_DEFAULT_CALL_TIMEOUT_MS: u64 = 120_000;
/// The longest timeout tscb_client_builder_build() accepts (a day).
pub const TSCB_MAX_TIMEOUT_MS: u64 = 86_400_000;
/// How long a previous callback password is worth accepting after a re-registration: what
/// ThingSpace was seen to need (tscb_callback_verifier_set_previous_password()).
pub const TSCB_DEFAULT_PREVIOUS_PASSWORD_WINDOW_MS: u64 = 900_000;
/// The largest callback body that is read; a listener answers 413 above it.
pub const TSCB_MAX_CALLBACK_BYTES: usize = 1_048_576;
/// The most characters ThingSpace takes in a callback username or password.
pub const TSCB_MAX_CREDENTIAL_CHARS: usize = 40;

/// How long a login refused (or of unknown outcome) stays refused by the login guard file
/// (tscb_client_builder_set_login_guard_file()).
pub const TSCB_LOGIN_GUARD_BLOCK_MS: u64 = 3_600_000;
/// How many times a call may be repeated unless set (tscb_client_builder_set_max_retries()).
pub const TSCB_DEFAULT_RETRY_MAX_RETRIES: u32 = 2;
/// The first wait before a retry, unless the answer's Retry-After says otherwise; each later one
/// doubles (with jitter), up to TSCB_DEFAULT_RETRY_MAX_BACKOFF_MS.
pub const TSCB_DEFAULT_RETRY_INITIAL_BACKOFF_MS: u64 = 200;
/// The longest wait between retries that the backoff reaches.
pub const TSCB_DEFAULT_RETRY_MAX_BACKOFF_MS: u64 = 2_000;
/// The longest Retry-After that is waited for; with a longer one the call fails with the
/// service's answer (its wait in the error) instead of trying again early.
pub const TSCB_DEFAULT_RETRY_MAX_RETRY_AFTER_MS: u64 = 10_000;

const fn ms(d: std::time::Duration) -> u64 {
    d.as_millis() as u64
}

const _: () = assert!(TSCB_DEFAULT_CONNECT_TIMEOUT_MS == ms(tscb::DEFAULT_CONNECT_TIMEOUT));
const _: () = assert!(TSCB_DEFAULT_TIMEOUT_MS == ms(tscb::DEFAULT_TIMEOUT));
const _: () = assert!(TSCB_DEFAULT_CALL_TIMEOUT_MS == ms(tscb::DEFAULT_CALL_TIMEOUT));
const _: () = assert!(TSCB_MAX_TIMEOUT_MS == ms(tscb::MAX_TIMEOUT));
const _: () = assert!(TSCB_DEFAULT_PREVIOUS_PASSWORD_WINDOW_MS == ms(tscb::DEFAULT_PREVIOUS_PASSWORD_WINDOW));
const _: () = assert!(TSCB_MAX_CALLBACK_BYTES == tscb::MAX_CALLBACK_BYTES);
const _: () = assert!(TSCB_LOGIN_GUARD_BLOCK_MS == ms(tscb::LOGIN_GUARD_BLOCK));
const _: () = assert!(TSCB_DEFAULT_RETRY_MAX_RETRIES == tscb::RetryPolicy::DEFAULT_MAX_RETRIES);
const _: () =
    assert!(TSCB_DEFAULT_RETRY_INITIAL_BACKOFF_MS == ms(tscb::RetryPolicy::DEFAULT_INITIAL_BACKOFF));
const _: () = assert!(TSCB_DEFAULT_RETRY_MAX_BACKOFF_MS == ms(tscb::RetryPolicy::DEFAULT_MAX_BACKOFF));
const _: () =
    assert!(TSCB_DEFAULT_RETRY_MAX_RETRY_AFTER_MS == ms(tscb::RetryPolicy::DEFAULT_MAX_RETRY_AFTER));
const _: () = assert!(TSCB_MAX_CREDENTIAL_CHARS == tscb::MAX_CREDENTIAL_CHARS);

/// The production base URL, which a new builder uses until tscb_client_builder_set_base_url()
/// (a function, as cbindgen writes no string constant). Static; never NULL, never to be freed.
#[no_mangle]
pub extern "C" fn tscb_default_base_url() -> *const c_char {
    static URL: OnceLock<CString> = OnceLock::new();
    guard(std::ptr::null(), || URL.get_or_init(|| c_string(tscb::DEFAULT_BASE_URL)).as_ptr())
}

/// How many ranges of callback ports ThingSpace documents (see tscb_callback_port_range()).
#[no_mangle]
pub extern "C" fn tscb_callback_port_range_count() -> usize {
    tscb::CALLBACK_PORTS.len()
}

/// Range `index` of the callback ports ThingSpace documents (what
/// tscb_client_builder_set_check_callback_port() checks): writes its first and last port, both
/// included, and returns 1; returns 0 (writing nothing) when `index` is out of range. NULL
/// `first` or `last` is not written.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_port_range(index: usize, first: *mut u16, last: *mut u16) -> u8 {
    guard(0, || match tscb::CALLBACK_PORTS.get(index) {
        Some(&(from, to)) => {
            if let Some(first) = first.as_mut() {
                *first = from;
            }
            if let Some(last) = last.as_mut() {
                *last = to;
            }
            1
        }
        None => 0,
    })
}

fn verizon_sources() -> &'static [CString] {
    static SOURCES: OnceLock<Vec<CString>> = OnceLock::new();
    SOURCES.get_or_init(|| tscb::VERIZON_CALLBACK_SOURCES.iter().map(|s| c_string(s)).collect())
}

/// How many addresses Verizon documents as the sources of callbacks (see
/// tscb_verizon_callback_source()).
#[no_mangle]
pub extern "C" fn tscb_verizon_callback_source_count() -> usize {
    tscb::VERIZON_CALLBACK_SOURCES.len()
}

/// Address `index` of those Verizon documents as the sources of callbacks, the ones a new
/// tscb_callback_verifier allows (an IPv4 address in dotted form). Static; never to be freed. NULL when
/// `index` is out of range.
#[no_mangle]
pub extern "C" fn tscb_verizon_callback_source(index: usize) -> *const c_char {
    guard(std::ptr::null(), || verizon_sources().get(index).map_or(std::ptr::null(), |s| s.as_ptr()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_core_s() {
        let mut ports = Vec::new();
        let (mut first, mut last) = (0u16, 0u16);
        for i in 0..tscb_callback_port_range_count() {
            assert_eq!(unsafe { tscb_callback_port_range(i, &mut first, &mut last) }, 1);
            ports.push((first, last));
        }
        assert_eq!(ports, tscb::CALLBACK_PORTS);
        assert_eq!(unsafe { tscb_callback_port_range(ports.len(), &mut first, &mut last) }, 0);

        let sources: Vec<String> = (0..tscb_verizon_callback_source_count())
            .map(|i| {
                unsafe { std::ffi::CStr::from_ptr(tscb_verizon_callback_source(i)) }.to_str().unwrap().into()
            })
            .collect();
        assert_eq!(sources, tscb::VERIZON_CALLBACK_SOURCES);
        assert!(tscb_verizon_callback_source(sources.len()).is_null());
        let url = unsafe { std::ffi::CStr::from_ptr(tscb_default_base_url()) };
        assert_eq!(url.to_str().unwrap(), tscb::DEFAULT_BASE_URL);
    }
}
