//! register, list and deregister, and the objects they return.

use std::ffi::{c_char, CStr, CString};

use crate::boundary::{arg_ref, arg_str, call, free_box, guard, opt_str, out_ptr};
use crate::client::tscb_client;
use crate::failure::tscb_error;
use crate::failure::Failure;
use crate::result::*;
use crate::strings::{c_string, SecretCString};

/// ThingSpace's answer to a register or deregister: the account and service it acted on.
/// Opaque; free with tscb_callback_ack_free().
pub struct tscb_callback_ack {
    account_name: CString,
    service_name: CString,
}

struct Entry {
    account_name: CString,
    service_name: CString,
    url: CString,
    username: Option<CString>,
    /// Wiped when the list is freed, so that it does not linger in the C program's freed memory.
    password: Option<SecretCString>,
}

/// The listeners registered for an account. Opaque; free with tscb_callback_list_free().
pub struct tscb_callback_list {
    entries: Vec<Entry>,
}

pub(crate) fn list_to_c(listed: Vec<tscb::RegisteredCallback>) -> *mut tscb_callback_list {
    let entries = listed
        .into_iter()
        .map(|cb| Entry {
            account_name: c_string(&cb.account_name),
            service_name: c_string(&cb.service_name),
            url: c_string(&cb.url),
            username: cb.username.as_deref().map(c_string),
            password: cb.password.as_ref().map(|p| SecretCString::new(p.expose())),
        })
        .collect();
    Box::into_raw(Box::new(tscb_callback_list { entries }))
}

fn ack(ack: tscb::CallbackAck) -> *mut tscb_callback_ack {
    Box::into_raw(Box::new(tscb_callback_ack {
        account_name: c_string(&ack.account_name),
        service_name: c_string(&ack.service_name),
    }))
}

/// Registers a callback listener: POST {base}/m2m/v1/callbacks/{account}.
///
/// `client`, `account`, `service_name`, `url` and `out` must not be NULL; `username` and
/// `password` may be NULL (not sent). Every input is checked before anything is sent. On
/// success `*out` is a new tscb_callback_ack that the caller frees. Safe to call from many
/// threads at once with the same client.
#[no_mangle]
pub unsafe extern "C" fn tscb_register_callback(
    client: *const tscb_client,
    account: *const c_char,
    service_name: *const c_char,
    url: *const c_char,
    username: *const c_char,
    password: *const c_char,
    out: *mut *mut tscb_callback_ack,
    err: *mut *mut tscb_error,
) -> tscb_result {
    call(err, || {
        let client = arg_ref(client, "client")?;
        let account = arg_str(account, "account")?;
        let service_name = arg_str(service_name, "service_name")?;
        let url = arg_str(url, "url")?;
        let username = opt_str(username, "username")?;
        let password = opt_str(password, "password")?;
        let out = out_ptr(out, "out")?;
        // Every pointer first, then the values, in the order the call itself would check them.
        let account = tscb::AccountName::new(account).map_err(Failure::from)?;
        let registration = tscb::CallbackRegistration::new(service_name, url)
            .and_then(|r| Ok(r.with_credentials(tscb::CallbackCredentials::new(username, password)?)))
            .map_err(Failure::from)?;
        let result = client.inner.register_callback(&account, &registration).map_err(Failure::from)?;
        *out = ack(result);
        Ok(())
    })
}

/// Lists the listeners registered for `account`: GET {base}/m2m/v1/callbacks/{account}.
///
/// `client`, `account` and `out` must not be NULL. On success `*out` is a new
/// tscb_callback_list (possibly empty) that the caller frees.
#[no_mangle]
pub unsafe extern "C" fn tscb_list_callbacks(
    client: *const tscb_client,
    account: *const c_char,
    out: *mut *mut tscb_callback_list,
    err: *mut *mut tscb_error,
) -> tscb_result {
    call(err, || {
        let client = arg_ref(client, "client")?;
        let account = arg_str(account, "account")?;
        let out = out_ptr(out, "out")?;
        let account = tscb::AccountName::new(account).map_err(Failure::from)?;
        let listed = client.inner.list_callbacks(&account).map_err(Failure::from)?;
        *out = list_to_c(listed);
        Ok(())
    })
}

/// Removes the listener of one service: DELETE {base}/m2m/v1/callbacks/{account}/name/{service_name}.
///
/// `client`, `account`, `service_name` and `out` must not be NULL. On success `*out` is a new
/// tscb_callback_ack that the caller frees.
#[no_mangle]
pub unsafe extern "C" fn tscb_deregister_callback(
    client: *const tscb_client,
    account: *const c_char,
    service_name: *const c_char,
    out: *mut *mut tscb_callback_ack,
    err: *mut *mut tscb_error,
) -> tscb_result {
    call(err, || {
        let client = arg_ref(client, "client")?;
        let account = arg_str(account, "account")?;
        let service_name = arg_str(service_name, "service_name")?;
        let out = out_ptr(out, "out")?;
        let account = tscb::AccountName::new(account).map_err(Failure::from)?;
        let service_name = tscb::ServiceName::new(service_name).map_err(Failure::from)?;
        let result = client.inner.deregister_callback(&account, &service_name).map_err(Failure::from)?;
        *out = ack(result);
        Ok(())
    })
}

/// Signs in now if the client has credentials and no valid tokens yet (calls do this by
/// themselves; this checks the credentials up front). With fixed tokens it sends nothing.
/// `client` must not be NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_login(client: *const tscb_client, err: *mut *mut tscb_error) -> tscb_result {
    call(err, || {
        let client = arg_ref(client, "client")?;
        client.inner.login().map_err(Failure::from)
    })
}

/// Ends the session (POST {base}/m2m/v1/session/logout). A client with credentials logs in
/// again when it is next used. `client` must not be NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_logout(client: *const tscb_client, err: *mut *mut tscb_error) -> tscb_result {
    call(err, || {
        let client = arg_ref(client, "client")?;
        client.inner.logout().map_err(Failure::from)
    })
}

/// The account name the service acted on. Owned by `ack`; NULL when `ack` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_ack_account_name(ack: *const tscb_callback_ack) -> *const c_char {
    guard(std::ptr::null(), || ack.as_ref().map_or(std::ptr::null(), |a| a.account_name.as_ptr()))
}

/// The service name the service acted on. Owned by `ack`; NULL when `ack` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_ack_service_name(ack: *const tscb_callback_ack) -> *const c_char {
    guard(std::ptr::null(), || ack.as_ref().map_or(std::ptr::null(), |a| a.service_name.as_ptr()))
}

/// Frees an ack. NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_ack_free(ack: *mut tscb_callback_ack) {
    free_box(ack)
}

/// How many listeners the list holds; 0 when `list` is NULL.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_list_len(list: *const tscb_callback_list) -> usize {
    guard(0, || list.as_ref().map_or(0, |l| l.entries.len()))
}

unsafe fn field(
    list: *const tscb_callback_list,
    index: usize,
    f: impl FnOnce(&Entry) -> Option<&CStr>,
) -> *const c_char {
    guard(std::ptr::null(), || {
        list.as_ref().and_then(|l| l.entries.get(index)).and_then(f).map_or(std::ptr::null(), CStr::as_ptr)
    })
}

/// The account name of entry `index`. Owned by `list`; NULL when `list` is NULL or `index` is
/// out of range.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_list_account_name(
    list: *const tscb_callback_list,
    index: usize,
) -> *const c_char {
    field(list, index, |e| Some(e.account_name.as_c_str()))
}

/// The service name of entry `index`. Owned by `list`; NULL when `list` is NULL or `index` is
/// out of range.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_list_service_name(
    list: *const tscb_callback_list,
    index: usize,
) -> *const c_char {
    field(list, index, |e| Some(e.service_name.as_c_str()))
}

/// The listener URL of entry `index`. Owned by `list`; NULL when `list` is NULL or `index` is
/// out of range.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_list_url(
    list: *const tscb_callback_list,
    index: usize,
) -> *const c_char {
    field(list, index, |e| Some(e.url.as_c_str()))
}

/// The callback username of entry `index`. Owned by `list`; NULL when none is registered, when
/// `list` is NULL or when `index` is out of range.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_list_username(
    list: *const tscb_callback_list,
    index: usize,
) -> *const c_char {
    field(list, index, |e| e.username.as_deref())
}

/// The callback password of entry `index`, in clear text (treat it as a secret). Owned by
/// `list`; NULL when none is registered, when `list` is NULL or when `index` is out of range.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_list_password(
    list: *const tscb_callback_list,
    index: usize,
) -> *const c_char {
    field(list, index, |e| e.password.as_ref().map(SecretCString::as_c_str))
}

/// Frees a list. NULL does nothing.
#[no_mangle]
pub unsafe extern "C" fn tscb_callback_list_free(list: *mut tscb_callback_list) {
    free_box(list)
}
