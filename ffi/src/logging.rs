//! `tscb_set_log_callback`: the library's records (what each call does; never a secret) to a C
//! function.

use std::ffi::{c_char, c_void, CString};
use std::sync::RwLock;

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::boundary::guard;
use crate::result::*;

/// How much the log callback gets: each level includes those before it.
pub type tscb_log_level = u32;
/// No records (the default). (1 is kept for errors, which the library does not record today.)
pub const TSCB_LOG_OFF: tscb_log_level = 0;
/// Problems the library worked around or refused to risk: a login it did not send again.
pub const TSCB_LOG_WARN: tscb_log_level = 2;
/// Decisions: a retry and why, a token fetched or renewed, a login.
pub const TSCB_LOG_INFO: tscb_log_level = 3;
/// Every HTTP request: method, path, status (or error code) and duration.
pub const TSCB_LOG_DEBUG: tscb_log_level = 4;

/// Receives one record: its level (TSCB_LOG_WARN, _INFO or _DEBUG), and the message, a
/// NUL-terminated UTF-8 string that lives only until the function returns. It is called on the
/// thread that made the library call, possibly from many threads at once, and must not call
/// back into libtscb.
pub type tscb_log_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: tscb_log_level, message: *const c_char)>;

struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, tscb_log_level, *const c_char),
    /// The caller's pointer, only handed back to the caller's function.
    user_data: usize,
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

struct ToCallback;

impl Log for ToCallback {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == tscb::LOG_TARGET && metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            Level::Error | Level::Warn => TSCB_LOG_WARN,
            Level::Info => TSCB_LOG_INFO,
            Level::Debug | Level::Trace => TSCB_LOG_DEBUG,
        };
        // Records hold no NUL; should one ever, it is dropped rather than cut short.
        let Ok(message) = CString::new(record.args().to_string()) else { return };
        let sink = SINK.read().unwrap_or_else(|p| p.into_inner());
        if let Some(sink) = sink.as_ref() {
            // SAFETY: the caller of tscb_set_log_callback promised a function that takes these.
            unsafe { (sink.callback)(sink.user_data as *mut c_void, level, message.as_ptr()) };
        }
    }

    fn flush(&self) {}
}

/// Sends the library's records up to `level` to `callback` with `user_data`, process-wide (the
/// last call wins). NULL or TSCB_LOG_OFF turns them off. The records say what each call does:
/// each HTTP request (method, path, status, duration) at TSCB_LOG_DEBUG, retries, token fetches,
/// renewals and logins at TSCB_LOG_INFO, a login not sent again at TSCB_LOG_WARN; they never
/// hold a header value, a body or a secret. Returns TSCB_OK, or TSCB_ERR_INVALID_INPUT for an
/// unknown level (nothing changes then).
#[no_mangle]
pub unsafe extern "C" fn tscb_set_log_callback(
    callback: tscb_log_callback,
    user_data: *mut c_void,
    level: tscb_log_level,
) -> tscb_result {
    guard(TSCB_ERR_PANIC, || {
        let filter = match level {
            TSCB_LOG_OFF => LevelFilter::Off,
            TSCB_LOG_WARN => LevelFilter::Warn,
            TSCB_LOG_INFO => LevelFilter::Info,
            TSCB_LOG_DEBUG => LevelFilter::Debug,
            _ => return TSCB_ERR_INVALID_INPUT,
        };
        // Fails only when already installed, which is fine: it is always this one.
        let _ = log::set_logger(&ToCallback);
        let mut sink = SINK.write().unwrap_or_else(|p| p.into_inner());
        match callback {
            Some(callback) if filter != LevelFilter::Off => {
                *sink = Some(Sink { callback, user_data: user_data as usize });
                log::set_max_level(filter);
            }
            _ => {
                log::set_max_level(LevelFilter::Off);
                *sink = None;
            }
        }
        TSCB_OK
    })
}
