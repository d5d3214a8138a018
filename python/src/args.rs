//! Text arguments: a `str` becomes an owned Rust `String`; anything else is a `TypeError`, and a
//! `str` that is not valid Unicode (a lone surrogate) is an `InvalidInputError` with core's
//! `Argument.Encoding` code rather than a bare `UnicodeEncodeError`.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors::to_py;

pub(crate) fn text(value: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    let Ok(string) = value.cast::<PyString>() else {
        let type_name = value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".to_owned());
        return Err(PyTypeError::new_err(format!("{name} must be str, not {type_name}")));
    };
    match string.to_cow() {
        Ok(text) => Ok(text.into_owned()),
        Err(_) => Err(to_py(
            value.py(),
            &tscb::Error::invalid_argument(
                tscb::codes::ARGUMENT_ENCODING,
                format!("{name} is not valid Unicode text (it contains a lone surrogate)"),
            ),
        )),
    }
}

/// An optional text argument: `None` means not given.
pub(crate) fn optional_text(value: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<String>> {
    match value {
        Some(v) if !v.is_none() => text(v, name).map(Some),
        _ => Ok(None),
    }
}
