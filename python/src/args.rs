//! Text arguments. Every string argument of every call is a [`Text`], so the rule lives in the
//! type and no method can forget it: a `str` becomes an owned Rust `String`; anything else is a
//! `TypeError`; a `str` that is not valid Unicode (a lone surrogate) is an `InvalidInputError`
//! with core's `Argument.Encoding` code rather than a bare `UnicodeEncodeError`. pyo3 adds the
//! argument's name as a note ("while processing 'password'", Python 3.11+); the message never
//! quotes the value, which may be a secret.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use zeroize::Zeroize;

use crate::errors::to_py;

/// A text argument, copied out of its Python `str`. Its copy is wiped when dropped, because
/// any text argument may be a token or a password. (The Python `str` itself, and the UTF-8
/// bytes Python may cache or build for it, are Python's and cannot be wiped.)
pub(crate) struct Text(String);

impl Text {
    /// The text, moved out (not copied): hand it to a `tscb::Secret` and that wipes it.
    pub(crate) fn into_string(mut self) -> String {
        std::mem::take(&mut self.0)
    }
}

impl std::ops::Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for Text {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<'py> FromPyObject<'_, 'py> for Text {
    type Error = PyErr;

    fn extract(value: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        let Ok(string) = value.cast::<PyString>() else {
            let type_name = value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".to_owned());
            return Err(PyTypeError::new_err(format!("expected str, not {type_name}")));
        };
        match string.to_cow() {
            Ok(text) => Ok(Text(text.into_owned())),
            Err(_) => Err(to_py(
                value.py(),
                &tscb::Error::invalid_argument(
                    tscb::codes::ARGUMENT_ENCODING,
                    "a text argument is not valid Unicode (it contains a lone surrogate)",
                ),
            )),
        }
    }
}

/// An optional text argument, moved out.
pub(crate) fn owned(value: Option<Text>) -> Option<String> {
    value.map(Text::into_string)
}

/// The account name of a call, checked first thing (before the GIL is released or anything
/// sent); refused with core's own code.
pub(crate) fn account(py: Python<'_>, account: Text) -> PyResult<tscb::AccountName> {
    tscb::AccountName::new(account.into_string()).map_err(|e| to_py(py, &e))
}

/// The service name of a call, checked as [`account`] is.
pub(crate) fn service_name(py: Python<'_>, service_name: Text) -> PyResult<tscb::ServiceName> {
    tscb::ServiceName::new(service_name.into_string()).map_err(|e| to_py(py, &e))
}

/// A registration from its arguments, each checked as [`account`] is, in the order the call
/// checks them. The password moves into a `tscb::Secret`, which wipes it.
pub(crate) fn registration(
    py: Python<'_>,
    service_name: Text,
    url: Text,
    username: Option<Text>,
    password: Option<Text>,
) -> PyResult<tscb::CallbackRegistration> {
    let build = || {
        let mut registration =
            tscb::CallbackRegistration::new(service_name.into_string(), url.into_string())?;
        if let Some(username) = username {
            registration = registration.with_username(username.into_string())?;
        }
        if let Some(password) = password {
            registration = registration.with_password(password.into_string())?;
        }
        Ok::<_, tscb::Error>(registration)
    };
    build().map_err(|e| to_py(py, &e))
}
