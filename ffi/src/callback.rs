//! Receiving callbacks from C: `tscb_callback_message` (what ThingSpace POSTed) and
//! `tscb_callback_verifier` (is it from ThingSpace, for us?). Parsing and checking live in core.
//!
//! (About 400 lines: one short exported accessor per message field, each with the comment that
//! cbindgen copies into tscb.h; they share the private caches of `tscb_callback_message`.)

use std::ffi::{c_char, CStr, CString};
use std::sync::OnceLock;
use std::time::Duration;

use crate::boundary::{
    arg_ref, arg_str, call, free_box, guard, opt_str, out_ptr, setter, setter_error, KeepsSetterError,
};
use crate::failure::tscb_error;
use crate::failure::Failure;
use crate::result::*;
use crate::strings::{c_string, SecretCString};

/// One callback message. Opaque: read it with the tscb_callback_message_* accessors and free it
/// with tscb_callback_message_free(). Its strings live until it is freed. The password, and the
/// copy of it an accessor hands out, are wiped when it is freed.
pub struct tscb_callback_message {
    inner: tscb::CallbackMessage,
    /// The C strings handed out, each made on first request and kept until the message is freed
    /// (an accessor's string must outlive the call). `OnceLock`, because C may read one message
    /// from several threads.
    strings: Strings,
}

#[derive(Default)]
struct Strings {
    request_id: OnceLock<Option<CString>>,
    username: OnceLock<Option<CString>>,
    password: OnceLock<Option<SecretCString>>,
    status: OnceLock<Option<CString>>,
    payload_name: OnceLock<Option<CString>>,
    payload_json: OnceLock<Option<CString>>,
    fault_code: OnceLock<Option<CString>>,
    fault_message: OnceLock<Option<CString>>,
    extra_json: OnceLock<Option<CString>>,
    dedup_key: OnceLock<Option<CString>>,
    devices: OnceLock<Vec<(CString, CString)>>,
}

/// Checks where a callback came from and the username and password in it. Opaque: create with
/// tscb_callback_verifier_new(), free with tscb_callback_verifier_free(). Once set up, one
/// verifier may be used by tscb_callback_verifier_verify() from many threads at once; the
/// setters must not run while another thread uses it. The first setter that fails is kept, for
/// tscb_callback_verifier_error().
pub struct tscb_callback_verifier {
    inner: tscb::CallbackVerifier,
    setter_error: Option<Failure>,
}

impl KeepsSetterError for tscb_callback_verifier {
    const NAME: &'static str = "verifier";
    fn setter_error(&self) -> Option<&Failure> {
        self.setter_error.as_ref()
    }
    fn keep_setter_error(&mut self, failure: Failure) {
        self.setter_error = Some(failure);
    }
}

fn to_c(inner: tscb::CallbackMessage) -> *mut tscb_callback_message {
    Box::into_raw(Box::new(tscb_callback_message { inner, strings: Strings::default() }))
}

/// The body as a slice: NULL with `len` 0 is an empty body (which is not JSON); NULL with a
/// length is a NULL parameter.
unsafe fn body_slice<'a>(body: *const u8, len: usize) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    arg_ref(body, "body")?;
    // SAFETY: the caller promises `body` points to `len` readable bytes.
    Ok(std::slice::from_raw_parts(body, len))
}

/// Reads one callback body of `len` bytes (need not be NUL-terminated). `out` must not be NULL;
/// `body` may be NULL only when `len` is 0. On success `*out` is a new tscb_callback_message
/// that the caller frees. A body over TSCB_MAX_CALLBACK_BYTES, not JSON, not a JSON object, or with a known field
/// of the wrong type is TSCB_ERR_CALLBACK_INVALID (codes Tscb.CALLBACK_INVALID.*); unknown
/// fields are kept.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_parse(
    body: *const u8,
    len: usize,
    out: *mut *mut tscb_callback_message,
    err: *mut *mut tscb_error,
) -> tscb_result {
    call(err, || {
        let body = body_slice(body, len)?;
        let out = out_ptr(out, "out")?;
        *out = to_c(tscb::CallbackMessage::parse(body)?);
        Ok(())
    })
}

/// The C string `f` picks from `message`, or NULL for a NULL message or when `f` finds none.
unsafe fn text(
    message: *const tscb_callback_message,
    f: impl FnOnce(&tscb_callback_message) -> Option<&CStr>,
) -> *const c_char {
    guard(std::ptr::null(), || message.as_ref().and_then(f).map_or(std::ptr::null(), CStr::as_ptr))
}

/// The C string cached in `cell`, made from what `make` gives on first use.
fn cached(cell: &OnceLock<Option<CString>>, make: impl FnOnce() -> Option<String>) -> Option<&CStr> {
    cell.get_or_init(|| make().map(|text| c_string(&text))).as_deref()
}

/// As [`cached`], for text the message already holds (no intermediate `String`).
fn cached_str<'a>(cell: &'a OnceLock<Option<CString>>, text: Option<&str>) -> Option<&'a CStr> {
    cell.get_or_init(|| text.map(c_string)).as_deref()
}

/// `requestId`. Owned by `message`; NULL when absent or when `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_request_id(
    message: *const tscb_callback_message,
) -> *const c_char {
    text(message, |m| cached_str(&m.strings.request_id, m.inner.request_id()))
}

/// `username`, the registered username echoed back ("" when none was registered). Owned by
/// `message`; NULL when absent or when `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_username(
    message: *const tscb_callback_message,
) -> *const c_char {
    text(message, |m| cached_str(&m.strings.username, m.inner.username()))
}

/// `password`, the registered password echoed back, in clear text (treat it as a secret; ""
/// when none was registered). Owned by `message`; NULL when absent or when `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_password(
    message: *const tscb_callback_message,
) -> *const c_char {
    text(message, |m| {
        let password =
            m.strings.password.get_or_init(|| m.inner.password().map(|p| SecretCString::new(p.expose())));
        password.as_ref().map(SecretCString::as_c_str)
    })
}

/// `status`, e.g. "Success" or "Failed". Owned by `message`; NULL when absent or when
/// `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_status(
    message: *const tscb_callback_message,
) -> *const c_char {
    text(message, |m| cached_str(&m.strings.status, m.inner.status()))
}

/// The name of the service's object: "deviceResponse", "niddResponse", "faultResponse", …
/// Owned by `message`; NULL when the message has none or when `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_payload_name(
    message: *const tscb_callback_message,
) -> *const c_char {
    text(message, |m| cached_str(&m.strings.payload_name, m.inner.payload_name()))
}

/// The service's object as compact JSON, with the content that arrived. Owned by `message`;
/// NULL when the message has none or when `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_payload_json(
    message: *const tscb_callback_message,
) -> *const c_char {
    text(message, |m| cached(&m.strings.payload_json, || m.inner.payload().map(|p| p.to_string())))
}

/// `faultResponse.faultcode`, e.g. "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive" (""
/// when the fault has none). Owned by `message`; NULL when there is no `faultResponse` or
/// `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_fault_code(
    message: *const tscb_callback_message,
) -> *const c_char {
    text(message, |m| cached_str(&m.strings.fault_code, m.inner.fault().map(|f| f.code.as_str())))
}

/// `faultResponse.faultstring` ("" when the fault has none). Owned by `message`; NULL when
/// there is no `faultResponse` or `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_fault_message(
    message: *const tscb_callback_message,
) -> *const c_char {
    text(message, |m| cached_str(&m.strings.fault_message, m.inner.fault().map(|f| f.message.as_str())))
}

/// The fields that are neither the envelope nor the service's object, as a compact JSON object
/// ("{}" when none). Owned by `message`; NULL when `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_extra_json(
    message: *const tscb_callback_message,
) -> *const c_char {
    text(message, |m| {
        cached(&m.strings.extra_json, || {
            Some(serde_json::to_string(m.inner.extra()).unwrap_or_else(|_| "{}".into()))
        })
    })
}

/// The message's identity across ThingSpace's resends (64 hex digits): resends of one message
/// share it, different messages do not. Owned by `message`; NULL when `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_dedup_key(
    message: *const tscb_callback_message,
) -> *const c_char {
    text(message, |m| cached_str(&m.strings.dedup_key, Some(m.inner.dedup_key())))
}

/// `callbackCount`: which attempt this is (1 for the first). −1 when absent or when `message`
/// is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_callback_count(message: *const tscb_callback_message) -> i64 {
    guard(-1, || message.as_ref().and_then(|m| m.inner.callback_count()).map_or(-1, i64::from))
}

/// `maxCallbackThreshold`: how many attempts ThingSpace makes. −1 when absent or when
/// `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_max_callback_threshold(
    message: *const tscb_callback_message,
) -> i64 {
    guard(-1, || message.as_ref().and_then(|m| m.inner.max_callback_threshold()).map_or(-1, i64::from))
}

/// How many entries `deviceIds` has; 0 when `message` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_device_count(message: *const tscb_callback_message) -> usize {
    guard(0, || message.as_ref().map_or(0, |m| m.inner.device_ids().len()))
}

/// The id of device `index`. Owned by `message`; NULL when `message` is NULL or `index` is out
/// of range.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_device_id(
    message: *const tscb_callback_message,
    index: usize,
) -> *const c_char {
    text(message, |m| devices(m).get(index).map(|d| d.0.as_c_str()))
}

/// The kind of device `index` as sent ("Iccid", "IMEI", "imei", …: compare it ignoring case,
/// e.g. with strcasecmp; "" when the entry had none). Owned by `message`; NULL when `message`
/// is NULL or `index` is out of range.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_device_kind(
    message: *const tscb_callback_message,
    index: usize,
) -> *const c_char {
    text(message, |m| devices(m).get(index).map(|d| d.1.as_c_str()))
}

/// The devices' ids and kinds as C strings, made together on first use.
fn devices(m: &tscb_callback_message) -> &[(CString, CString)] {
    m.strings
        .devices
        .get_or_init(|| m.inner.device_ids().iter().map(|d| (c_string(&d.id), c_string(&d.kind))).collect())
}

/// Frees a message, wiping its password. NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_message_free(message: *mut tscb_callback_message) {
    free_box(message)
}

/// A new verifier that expects `username` and `password` in every message (NULL: that one is
/// not checked) and allows the sources Verizon documents (tscb_verizon_callback_source()) until tscb_callback_verifier_allow_source() or
/// tscb_callback_verifier_allow_any_source() says otherwise. Only digests of the passwords are
/// kept. `out` must not be NULL; on success `*out` is a new verifier that the caller frees.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_verifier_new(
    username: *const c_char,
    password: *const c_char,
    out: *mut *mut tscb_callback_verifier,
    err: *mut *mut tscb_error,
) -> tscb_result {
    call(err, || {
        let username = opt_str(username, "username")?;
        let password = opt_str(password, "password")?;
        let out = out_ptr(out, "out")?;
        let mut inner = tscb::CallbackVerifier::new();
        if let Some(username) = username {
            inner.set_username(username);
        }
        if let Some(password) = password {
            inner.set_password(password);
        }
        *out = Box::into_raw(Box::new(tscb_callback_verifier { inner, setter_error: None }));
        Ok(())
    })
}

/// After re-registering with a new password, also accepts `password` (the previous one) for
/// `valid_for_ms` milliseconds from now; TSCB_DEFAULT_PREVIOUS_PASSWORD_WINDOW_MS covers what
/// ThingSpace was seen to need, 0 accepts it never. Replaces an earlier previous password. Has an effect only when the
/// verifier expects a password. TSCB_ERR_NULL_PARAMETER if `verifier` or `password` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_verifier_set_previous_password(
    verifier: *mut tscb_callback_verifier,
    password: *const c_char,
    valid_for_ms: u64,
) -> tscb_result {
    setter(verifier, |verifier| {
        let password = arg_str(password, "password")?;
        verifier.inner.set_previous_password(password, Duration::from_millis(valid_for_ms));
        Ok(())
    })
}

/// Allows messages from `source`: an IPv4 or IPv6 address ("192.0.2.7") or CIDR block
/// ("10.20.0.0/16", "2001:db8::/48"). **The first call replaces the default list** of Verizon's
/// addresses; later calls add to it. No effect after tscb_callback_verifier_allow_any_source().
/// TSCB_ERR_INVALID_INPUT (the verifier unchanged; the error kept for
/// tscb_callback_verifier_error()) when `source` is neither;
/// TSCB_ERR_NULL_PARAMETER if `verifier` or `source` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_verifier_allow_source(
    verifier: *mut tscb_callback_verifier,
    source: *const c_char,
) -> tscb_result {
    setter(verifier, |verifier| {
        let source = arg_str(source, "source")?;
        verifier.inner.allow_source(source)?;
        Ok(())
    })
}

/// Allows every source address (behind a proxy that checks sources itself, or for tests).
/// TSCB_ERR_NULL_PARAMETER if `verifier` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_verifier_allow_any_source(
    verifier: *mut tscb_callback_verifier,
) -> tscb_result {
    setter(verifier, |verifier| {
        verifier.inner.allow_any_source();
        Ok(())
    })
}

/// The first failure of a setter on `verifier`, which only returned its result: TSCB_OK when none
/// failed; else that result, with `*err` (when `err` is not NULL) a new tscb_error carrying its
/// code and message (`Tscb.INPUT_INVALID.SourceAddress.Malformed`, …), which the caller frees.
/// TSCB_ERR_NULL_PARAMETER (with `*err`) if `verifier` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_verifier_error(
    verifier: *const tscb_callback_verifier,
    err: *mut *mut tscb_error,
) -> tscb_result {
    setter_error(verifier, err)
}

/// Checks the source address `source_ip` (text such as "192.0.2.7" or "::ffff:192.0.2.7",
/// as the socket reported it), then reads the body (as tscb_callback_message_parse()), then
/// compares the username and password in constant time. On success `*out` is a new
/// tscb_callback_message that the caller frees. Failures: TSCB_ERR_CALLBACK_REJECTED (code
/// Tscb.CALLBACK_REJECTED.Source: answer 403; .Credentials: answer 401),
/// TSCB_ERR_CALLBACK_INVALID (Tscb.CALLBACK_INVALID.TooLarge: answer 413; others: 400),
/// TSCB_ERR_INVALID_INPUT when `source_ip` is not an IP address. No error message holds a
/// password. `verifier`, `source_ip` and `out` must not be NULL; `body` may be NULL only when
/// `len` is 0.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_verifier_verify(
    verifier: *const tscb_callback_verifier,
    source_ip: *const c_char,
    body: *const u8,
    len: usize,
    out: *mut *mut tscb_callback_message,
    err: *mut *mut tscb_error,
) -> tscb_result {
    call(err, || {
        let verifier = arg_ref(verifier, "verifier")?;
        let source_ip = arg_str(source_ip, "source_ip")?;
        let body = body_slice(body, len)?;
        let out = out_ptr(out, "out")?;
        *out = to_c(verifier.inner.verify_from(source_ip, body)?);
        Ok(())
    })
}

/// Checks only the source address (as tscb_callback_verifier_verify() does first), so that a
/// listener can refuse a source before it reads the body. TSCB_OK when it is allowed,
/// TSCB_ERR_CALLBACK_REJECTED (code Tscb.CALLBACK_REJECTED.Source) when not,
/// TSCB_ERR_INVALID_INPUT when `source_ip` is not an IP address. `verifier` and `source_ip`
/// must not be NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_verifier_check_source(
    verifier: *const tscb_callback_verifier,
    source_ip: *const c_char,
    err: *mut *mut tscb_error,
) -> tscb_result {
    call(err, || {
        let verifier = arg_ref(verifier, "verifier")?;
        let source_ip = arg_str(source_ip, "source_ip")?;
        Ok(verifier.inner.check_source_from(source_ip)?)
    })
}

/// Frees a verifier. NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_verifier_free(verifier: *mut tscb_callback_verifier) {
    free_box(verifier)
}
