//! The exception classes, created once at import with the public module path `tscb`, and the
//! one conversion from `tscb::Error` to a Python exception.

use pyo3::exceptions::{PyException, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// The classes, in the order of [`NAMES`].
static CLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

const BASE: usize = 0;
const INVALID_INPUT: usize = 1;
const API: usize = 2;
const AUTH: usize = 3;
const TRANSPORT: usize = 4;
const TIMEOUT: usize = 5;
const INVALID_RESPONSE: usize = 6;
const CALLBACK_REJECTED: usize = 7;
const CALLBACK_INVALID: usize = 8;

const NAMES: [(&str, &str); 9] = [
    ("TscbError", "Every tscb failure: `error_code`, `error_message` and `http_status` (None when no answer came)."),
    ("InvalidInputError", "The input was rejected before anything was sent. Also a ValueError."),
    ("ApiError", "ThingSpace answered with an error of its own; `error_code` is the service's."),
    ("AuthError", "ThingSpace refused the credentials: a bearer token (401/403) or a missing, invalid or expired session."),
    ("TransportError", "The connection could not be made or broke."),
    ("TimeoutError", "No complete answer came within the timeout. Also the builtin TimeoutError."),
    ("InvalidResponseError", "An answer came but could not be understood (not JSON, wrong shape, too large, a redirect)."),
    ("CallbackRejectedError", "A received callback was refused: a source that is not allowed (answer 403) or the wrong username or password (answer 401)."),
    ("CallbackInvalidError", "A received callback could not be read: over MAX_CALLBACK_BYTES (answer 413), not JSON, or not the documented envelope (answer 400)."),
];

fn new_class<'py>(
    py: Python<'py>,
    name: &str,
    doc: &str,
    bases: Vec<Bound<'py, PyAny>>,
) -> PyResult<Py<PyType>> {
    // `type(name, bases, namespace)`: pyo3's own exception macro allows one base only, and two
    // of these classes must also be builtin exceptions (ValueError, TimeoutError).
    let namespace = PyDict::new(py);
    namespace.set_item("__module__", "tscb")?;
    namespace.set_item("__doc__", doc)?;
    let class = py.get_type::<PyType>().call1((name, PyTuple::new(py, bases)?, namespace))?;
    Ok(class.cast_into::<PyType>()?.unbind())
}

fn classes(py: Python<'_>) -> PyResult<&Vec<Py<PyType>>> {
    CLASSES.get_or_try_init(py, || {
        let (base_name, base_doc) = NAMES[BASE];
        let base = new_class(py, base_name, base_doc, vec![py.get_type::<PyException>().into_any()])?;
        let mut all = vec![base.clone_ref(py)];
        for (index, (name, doc)) in NAMES.iter().enumerate().skip(1) {
            let mut bases = vec![base.bind(py).clone().into_any()];
            match index {
                INVALID_INPUT => bases.push(py.get_type::<PyValueError>().into_any()),
                TIMEOUT => bases.push(py.get_type::<PyTimeoutError>().into_any()),
                _ => {}
            }
            all.push(new_class(py, name, doc, bases)?);
        }
        Ok(all)
    })
}

/// Adds the classes to the module.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    for ((name, _), class) in NAMES.iter().zip(classes(py)?) {
        module.add(*name, class.bind(py))?;
    }
    Ok(())
}

/// The Python exception for a `tscb::Error`: the class of its kind, `str(e)` equal to
/// `"<error_code>: <error_message>"`, and the attributes.
pub(crate) fn to_py(py: Python<'_>, error: &tscb::Error) -> PyErr {
    match build(py, error) {
        Ok(err) => err,
        Err(err) => err,
    }
}

fn build(py: Python<'_>, error: &tscb::Error) -> PyResult<PyErr> {
    use tscb::ErrorKind as K;
    let index = match error.kind() {
        K::InvalidInput => INVALID_INPUT,
        K::Api => API,
        K::Auth => AUTH,
        K::Transport => TRANSPORT,
        K::Timeout => TIMEOUT,
        K::InvalidResponse => INVALID_RESPONSE,
        K::CallbackRejected => CALLBACK_REJECTED,
        K::CallbackInvalid => CALLBACK_INVALID,
        // An internal fault (a caught panic) has no class of its own: the base says "tscb failed".
        K::Internal => BASE,
        _ => BASE,
    };
    let class = classes(py)?[index].bind(py);
    let instance = class.call1((error.to_string(),))?;
    instance.setattr("error_code", error.error_code())?;
    instance.setattr("error_message", error.error_message())?;
    instance.setattr("http_status", error.http_status())?;
    instance.setattr("field", error.field().map(tscb::Field::as_str))?;
    instance.setattr("sent", error.sent().as_str())?;
    Ok(PyErr::from_value(instance))
}
