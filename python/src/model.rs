//! The results, as immutable Python objects with equality and a repr that hides passwords.

use pyo3::prelude::*;

use crate::py_repr;

/// ThingSpace's answer to a register or deregister: the account and service it acted on.
#[pyclass(module = "tscb", frozen, eq, hash, get_all)]
#[derive(PartialEq, Eq, Hash)]
pub struct CallbackAck {
    /// `accountName` as the service returned it.
    account_name: String,
    /// `serviceName` as the service returned it.
    service_name: String,
}

impl From<tscb::CallbackAck> for CallbackAck {
    fn from(ack: tscb::CallbackAck) -> Self {
        CallbackAck { account_name: ack.account_name, service_name: ack.service_name }
    }
}

/// Python's own `repr` of a string, so that results print the way Python users read them.
#[pymethods]
impl CallbackAck {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "CallbackAck(account_name={}, service_name={})",
            py_repr(py, &self.account_name)?,
            py_repr(py, &self.service_name)?
        ))
    }
}

/// One registered listener. `password` is the callback password in clear text; `repr` never
/// shows it.
#[pyclass(module = "tscb", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub struct RegisteredCallback {
    /// `accountName`.
    #[pyo3(get)]
    account_name: String,
    /// `serviceName`.
    #[pyo3(get)]
    service_name: String,
    /// The listener's URL.
    #[pyo3(get)]
    url: String,
    /// The callback username, or None.
    #[pyo3(get)]
    username: Option<String>,
    /// Kept as a `Secret`, so that our copy is wiped when the object is freed; the attribute
    /// hands Python a `str` of its own.
    password: Option<tscb::Secret>,
}

impl From<tscb::RegisteredCallback> for RegisteredCallback {
    fn from(cb: tscb::RegisteredCallback) -> Self {
        RegisteredCallback {
            password: cb.password,
            account_name: cb.account_name,
            service_name: cb.service_name,
            url: cb.url,
            username: cb.username,
        }
    }
}

#[pymethods]
impl RegisteredCallback {
    /// The callback password, or None.
    #[getter]
    fn password(&self) -> Option<&str> {
        self.password.as_ref().map(tscb::Secret::expose)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let username = match &self.username {
            Some(u) => py_repr(py, u)?,
            None => "None".to_owned(),
        };
        let password = if self.password.is_some() { "'<redacted>'" } else { "None" };
        Ok(format!(
            "RegisteredCallback(account_name={}, service_name={}, url={}, username={username}, password={password})",
            py_repr(py, &self.account_name)?,
            py_repr(py, &self.service_name)?,
            py_repr(py, &self.url)?
        ))
    }
}
