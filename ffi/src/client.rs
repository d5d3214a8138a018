//! `tscb_client_builder` and `tscb_client`.

use std::ffi::c_char;
use std::time::Duration;

use crate::boundary::{arg_mut, arg_str, call, free_box, out_ptr, setter, setter_error, KeepsSetterError};
use crate::failure::tscb_error;
use crate::failure::Failure;
use crate::result::*;

/// Collects a client's settings. Opaque: create with tscb_client_builder_new(), set, then
/// consume with tscb_client_builder_build() (or free with tscb_client_builder_free()). A setter
/// that fails is kept (the first one): tscb_client_builder_build() then fails with its error, as
/// does tscb_client_builder_error() at once.
pub struct tscb_client_builder {
    inner: tscb::ClientBuilder,
    setter_error: Option<Failure>,
}

impl KeepsSetterError for tscb_client_builder {
    const NAME: &'static str = "builder";
    fn setter_error(&self) -> Option<&Failure> {
        self.setter_error.as_ref()
    }
    fn keep_setter_error(&mut self, failure: Failure) {
        self.setter_error = Some(failure);
    }
}

fn new_builder(inner: tscb::ClientBuilder) -> *mut tscb_client_builder {
    Box::into_raw(Box::new(tscb_client_builder { inner, setter_error: None }))
}

/// A ThingSpace callback API client. Opaque and thread-safe: one client may be used from many
/// threads at once, and it reuses its connections. Free it with tscb_client_free() once no
/// thread uses it any more.
pub struct tscb_client {
    pub(crate) inner: tscb::Client,
}

/// A new builder with the defaults: the production base URL
/// (tscb_default_base_url()), TSCB_DEFAULT_CONNECT_TIMEOUT_MS to connect,
/// TSCB_DEFAULT_TIMEOUT_MS for each request and TSCB_DEFAULT_CALL_TIMEOUT_MS for each call. The caller
/// owns it: build it with tscb_client_builder_build() or free it with tscb_client_builder_free().
/// Never NULL.
#[no_mangle]
pub extern "C" fn tscb_client_builder_new() -> *mut tscb_client_builder {
    crate::boundary::guard(std::ptr::null_mut(), || new_builder(tscb::Client::builder()))
}

/// A new builder from the THINGSPACE_* environment variables: the credentials
/// (THINGSPACE_CLIENT_ID, THINGSPACE_CLIENT_SECRET, THINGSPACE_LOGIN_USERNAME,
/// THINGSPACE_LOGIN_PASSWORD, or THINGSPACE_BEARER_TOKEN and THINGSPACE_SESSION_TOKEN),
/// THINGSPACE_BASE_URL and THINGSPACE_CA_FILE; the setters may change it afterwards. On success
/// `*out` is a new builder that the caller builds or frees. TSCB_ERR_INVALID_UTF8
/// (`Tscb.INPUT_INVALID.Argument.Encoding`) when a variable is not UTF-8 (the message names it);
/// TSCB_ERR_INVALID_INPUT (`Tscb.INPUT_INVALID.BearerToken.Missing`) when no credential variable
/// is set (the message lists them). An empty variable is kept, so that tscb_client_builder_build() names the
/// setting that is empty. TSCB_ERR_NULL_PARAMETER if `out` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_from_env(
    out: *mut *mut tscb_client_builder,
    err: *mut *mut tscb_error,
) -> tscb_result {
    call(err, || {
        let out = out_ptr(out, "out")?;
        let inner = tscb::ClientBuilder::from_env().map_err(|error| {
            // As for an argument that is not UTF-8, whose result this is.
            if error.error_code() == tscb::codes::ARGUMENT_ENCODING {
                Failure { result: TSCB_ERR_INVALID_UTF8, error }
            } else {
                Failure::from(error)
            }
        })?;
        *out = new_builder(inner);
        Ok(())
    })
}

/// Applies `f` to the builder behind `builder` after checking the pointers and the string.
unsafe fn set_str(
    builder: *mut tscb_client_builder,
    value: *const c_char,
    name: &str,
    f: impl FnOnce(tscb::ClientBuilder, &str) -> tscb::ClientBuilder,
) -> tscb_result {
    setter(builder, |builder| {
        let value = arg_str(value, name)?;
        let inner = std::mem::take(&mut builder.inner);
        builder.inner = f(inner, value);
        Ok(())
    })
}

/// Sets the API's base URL, up to and including `/api`. It must be https, or plain http to a
/// loopback host (the simulator). Checked by tscb_client_builder_build(). `url` is copied.
/// TSCB_ERR_NULL_PARAMETER if `builder` or `url` is NULL; TSCB_ERR_INVALID_UTF8 if `url` is not
/// UTF-8 (kept: see tscb_client_builder_build()).
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_base_url(
    builder: *mut tscb_client_builder,
    url: *const c_char,
) -> tscb_result {
    set_str(builder, url, "url", |b, v| b.base_url(v))
}

/// Sets the OAuth access token, sent as `Authorization: Bearer …`. `token` is copied.
/// TSCB_ERR_NULL_PARAMETER if `builder` or `token` is NULL; TSCB_ERR_INVALID_UTF8 if `token` is
/// not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_bearer_token(
    builder: *mut tscb_client_builder,
    token: *const c_char,
) -> tscb_result {
    set_str(builder, token, "token", |b, v| b.bearer_token(v))
}

/// Sets the session token from the session login, sent as `VZ-M2M-Token`. `token` is copied.
/// TSCB_ERR_NULL_PARAMETER if `builder` or `token` is NULL; TSCB_ERR_INVALID_UTF8 if `token` is
/// not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_session_token(
    builder: *mut tscb_client_builder,
    token: *const c_char,
) -> tscb_result {
    set_str(builder, token, "token", |b, v| b.session_token(v))
}

/// Sets the `User-Agent` header (default "tscb/<version>"). `user_agent` is copied.
/// TSCB_ERR_NULL_PARAMETER if `builder` or `user_agent` is NULL; TSCB_ERR_INVALID_UTF8 if it is
/// not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_user_agent(
    builder: *mut tscb_client_builder,
    user_agent: *const c_char,
) -> tscb_result {
    set_str(builder, user_agent, "user_agent", |b, v| b.user_agent(v))
}

unsafe fn set_with(
    builder: *mut tscb_client_builder,
    f: impl FnOnce(tscb::ClientBuilder) -> tscb::ClientBuilder,
) -> tscb_result {
    setter(builder, |builder| {
        let inner = std::mem::take(&mut builder.inner);
        builder.inner = f(inner);
        Ok(())
    })
}

/// Lets the client sign in by itself: the OAuth client credentials (client id and client secret,
/// for the bearer token) and the session login (the login username and login password of the
/// account's connectivity-management user, for the session token; not the callback's username
/// and password). The client fetches the
/// token and logs in when first used, renews a token shortly before it runs out, and logs in
/// again when the session expires. A login that was refused, or whose outcome is unknown, is
/// never sent again by the client (five failed logins lock the account). All four are copied and checked by
/// tscb_client_builder_build(). TSCB_ERR_NULL_PARAMETER if any argument is NULL;
/// TSCB_ERR_INVALID_UTF8 if a string is not UTF-8 (kept: see tscb_client_builder_build()).
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_credentials(
    builder: *mut tscb_client_builder,
    client_id: *const c_char,
    client_secret: *const c_char,
    login_username: *const c_char,
    login_password: *const c_char,
) -> tscb_result {
    setter(builder, |builder| {
        let client_id = arg_str(client_id, "client_id")?;
        let client_secret = arg_str(client_secret, "client_secret")?;
        let login_username = arg_str(login_username, "login_username")?;
        let login_password = arg_str(login_password, "login_password")?;
        let inner = std::mem::take(&mut builder.inner);
        builder.inner = inner.credentials(client_id, client_secret, login_username, login_password);
        Ok(())
    })
}

/// Sets how many times a call may be repeated after a transient failure, where repeating it is
/// harmless (default TSCB_DEFAULT_RETRY_MAX_RETRIES; 0 turns retries off). Between attempts the
/// client waits for the answer's Retry-After, up to TSCB_DEFAULT_RETRY_MAX_RETRY_AFTER_MS, or
/// else a backoff from TSCB_DEFAULT_RETRY_INITIAL_BACKOFF_MS doubling up to
/// TSCB_DEFAULT_RETRY_MAX_BACKOFF_MS. See docs/rust.md (Retries) for which calls are retried.
/// TSCB_ERR_NULL_PARAMETER if `builder` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_max_retries(
    builder: *mut tscb_client_builder,
    retries: u32,
) -> tscb_result {
    set_with(builder, |b| b.max_retries(retries))
}

/// Whether a register answered 429 or 503 may be repeated (non-zero: yes; default no, since a
/// repeated register is not known to be harmless). TSCB_ERR_NULL_PARAMETER if `builder` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_retry_register_when_busy(
    builder: *mut tscb_client_builder,
    retry: u8,
) -> tscb_result {
    set_with(builder, |b| b.retry_register_when_busy(retry != 0))
}

/// Sets how long each HTTP request may take, from connecting to the end of the answer (default
/// TSCB_DEFAULT_TIMEOUT_MS). A call can send more than one request (a sign-in, a renewal, retries); each gets this
/// or what is left of the call timeout, whichever is shorter.
/// Zero and more than TSCB_MAX_TIMEOUT_MS are rejected by tscb_client_builder_build().
/// TSCB_ERR_NULL_PARAMETER if `builder` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_timeout_ms(
    builder: *mut tscb_client_builder,
    ms: u64,
) -> tscb_result {
    set_with(builder, |b| b.timeout(Duration::from_millis(ms)))
}

/// Sets how long one call may take in all (default TSCB_DEFAULT_CALL_TIMEOUT_MS): the sign-in or renewals it needs,
/// waiting for another thread's sign-in, its requests, and the retries with their waits. When it
/// runs out the call fails with TSCB_ERR_TIMEOUT ("Tscb.REQUEST_FAILED.Timeout"); a Retry-After
/// or backoff that does not fit in what is left is not waited for (the failure that asked for it
/// is returned). Zero and more than TSCB_MAX_TIMEOUT_MS are rejected by tscb_client_builder_build().
/// TSCB_ERR_NULL_PARAMETER if `builder` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_call_timeout_ms(
    builder: *mut tscb_client_builder,
    ms: u64,
) -> tscb_result {
    set_with(builder, |b| b.call_timeout(Duration::from_millis(ms)))
}

/// Remembers refused logins across clients and runs in the file at `path` (off by default): for
/// TSCB_LOGIN_GUARD_BLOCK_MS after a login with the same base URL, username and password was refused (or its
/// outcome is unknown), the client does not send it again and fails with TSCB_ERR_AUTH
/// ("Tscb.REQUEST_FAILED.LoginBlocked"), since five failed logins lock the account. The file
/// holds a keyed hash (HMAC-SHA256), never the password; it is created 0600 in a 0700
/// directory; a successful login removes the entry. A file that cannot be read or written never
/// stops a login: see tscb_client_login_guard_warning(). `path` is copied.
/// TSCB_ERR_NULL_PARAMETER if `builder` or `path` is NULL; TSCB_ERR_INVALID_UTF8 if `path` is not
/// UTF-8.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_login_guard_file(
    builder: *mut tscb_client_builder,
    path: *const c_char,
) -> tscb_result {
    set_str(builder, path, "path", |b, v| b.login_guard_file(v))
}

/// Sends a login even when the login guard file (tscb_client_builder_set_login_guard_file())
/// says the same credentials were refused within TSCB_LOGIN_GUARD_BLOCK_MS (non-zero: ignore the guard; default
/// zero). Its outcome is still recorded. TSCB_ERR_NULL_PARAMETER if `builder` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_ignore_login_guard(
    builder: *mut tscb_client_builder,
    ignore: u8,
) -> tscb_result {
    set_with(builder, |b| b.ignore_login_guard(ignore != 0))
}

/// Sets how long opening a connection may take (default TSCB_DEFAULT_CONNECT_TIMEOUT_MS). Zero and
/// more than TSCB_MAX_TIMEOUT_MS are rejected by tscb_client_builder_build(). TSCB_ERR_NULL_PARAMETER if `builder` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_connect_timeout_ms(
    builder: *mut tscb_client_builder,
    ms: u64,
) -> tscb_result {
    set_with(builder, |b| b.connect_timeout(Duration::from_millis(ms)))
}

/// Whether a callback URL's port must be one that ThingSpace documents (see
/// tscb_callback_port_range()). Non-zero: check (the default); zero: accept any port.
/// TSCB_ERR_NULL_PARAMETER if `builder` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_check_callback_port(
    builder: *mut tscb_client_builder,
    check: u8,
) -> tscb_result {
    set_with(builder, |b| b.check_callback_port(check != 0))
}

/// Allows a plain http base URL to a host that is not loopback (non-zero: allow). The tokens
/// then cross the network unencrypted: only for a test service on a network you control.
/// TSCB_ERR_NULL_PARAMETER if `builder` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_allow_insecure_http(
    builder: *mut tscb_client_builder,
    allow: u8,
) -> tscb_result {
    set_with(builder, |b| b.allow_insecure_http(allow != 0))
}

/// Trusts the CA certificates in the PEM file at `path` besides the system's roots (for a
/// corporate proxy that inspects TLS, or the simulator's `--tls` CA). Call it again for more
/// files. The file is read by tscb_client_builder_build(), which fails with
/// TSCB_ERR_INVALID_INPUT (`Tscb.INPUT_INVALID.CaFile.Invalid`) when it is missing, unreadable or
/// holds no certificate. SSL_CERT_FILE and SSL_CERT_DIR are honoured as well. `path` is copied.
/// TSCB_ERR_NULL_PARAMETER if `builder` or `path` is NULL; TSCB_ERR_INVALID_UTF8 if `path` is
/// not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_add_ca_file(
    builder: *mut tscb_client_builder,
    path: *const c_char,
) -> tscb_result {
    set_str(builder, path, "path", |b, v| b.add_ca_file(v))
}

/// Goes through the proxy at `url` ("http://[user:password@]host:port"), whatever HTTPS_PROXY,
/// ALL_PROXY and NO_PROXY say; NULL or "" for no proxy at all. Without this call the proxy
/// comes from those variables, as curl reads them. Credentials in the URL are sent as
/// Proxy-Authorization and never appear in an error. A URL that does not parse makes
/// tscb_client_builder_build() fail with `Tscb.INPUT_INVALID.Proxy.Invalid`. `url` is copied.
/// TSCB_ERR_NULL_PARAMETER if `builder` is NULL; TSCB_ERR_INVALID_UTF8 if `url` is not UTF-8.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_set_proxy(
    builder: *mut tscb_client_builder,
    url: *const c_char,
) -> tscb_result {
    if url.is_null() {
        return set_with(builder, |b| b.no_proxy());
    }
    set_str(builder, url, "url", |b, v| b.proxy(v))
}

/// Checks the settings and builds a client. The builder is consumed whatever the outcome (do
/// not use or free it afterwards), unless `builder` or `out` is NULL, in which case nothing
/// happens. On success `*out` is a new client that the caller frees with tscb_client_free().
/// When a setter failed, fails with the first such failure (tscb_client_builder_error()).
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_build(
    builder: *mut tscb_client_builder,
    out: *mut *mut tscb_client,
    err: *mut *mut tscb_error,
) -> tscb_result {
    call(err, || {
        // Check both before taking ownership, so that a NULL `out` leaks nothing.
        arg_mut(builder, "builder")?;
        let out = out_ptr(out, "out")?;
        let builder = Box::from_raw(builder);
        if let Some(failure) = builder.setter_error {
            return Err(failure);
        }
        let client = builder.inner.build().map_err(Failure::from)?;
        *out = Box::into_raw(Box::new(tscb_client { inner: client }));
        Ok(())
    })
}

/// The first failure of a setter on `builder`, which only returned its result: TSCB_OK when none
/// failed; else that result, with `*err` (when `err` is not NULL) a new tscb_error carrying its
/// code and message, which the caller frees. tscb_client_builder_build() fails with it too.
/// TSCB_ERR_NULL_PARAMETER (with `*err`) if `builder` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_error(
    builder: *const tscb_client_builder,
    err: *mut *mut tscb_error,
) -> tscb_result {
    setter_error(builder, err)
}

/// A problem with the login guard file that the client met (unreadable, not in the expected
/// form, not writable), as a new string that the caller frees with tscb_string_free(); each
/// problem is returned once. NULL when there is none (or `client` is NULL). Such a problem
/// never stops a login; the library never prints, so show it yourself.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_login_guard_warning(client: *const tscb_client) -> *mut c_char {
    crate::boundary::guard(std::ptr::null_mut(), || match client.as_ref() {
        Some(client) => match client.inner.login_guard_warning() {
            Some(text) => crate::strings::c_string(&text).into_raw(),
            None => std::ptr::null_mut(),
        },
        None => std::ptr::null_mut(),
    })
}

/// Frees a builder that was not built. NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_builder_free(builder: *mut tscb_client_builder) {
    free_box(builder)
}

/// Frees a client. NULL does nothing. No other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn tscb_client_free(client: *mut tscb_client) {
    free_box(client)
}
