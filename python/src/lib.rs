//! `tscb._native`: the Python face of the `tscb` crate. It translates only: validation, encoding,
//! error codes and everything else live in core/.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

mod aio;
mod args;
mod async_client;
mod callback;
mod client;
mod errors;
mod fleet;
mod logging;
mod model;

/// `mutex`, locked. A lock that a panicking thread held is taken as it is: every critical section
/// here leaves its data whole (a push, a take, a swap), and a panic must not become another.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    logging::install();
    aio::register_fork_hook(module.py())?;
    module.add_class::<client::Client>()?;
    module.add_class::<async_client::AsyncClient>()?;
    module.add_class::<model::CallbackAck>()?;
    module.add_class::<model::RegisteredCallback>()?;
    module.add_class::<callback::CallbackMessage>()?;
    module.add_class::<callback::CallbackFault>()?;
    module.add_class::<callback::DeviceId>()?;
    module.add_class::<callback::CallbackVerifier>()?;
    module.add_function(wrap_pyfunction!(callback::callback_answer_status, module)?)?;
    module.add_function(wrap_pyfunction!(fleet::plan, module)?)?;
    module.add_class::<fleet::Plan>()?;
    module.add_class::<fleet::Change>()?;
    module.add_class::<fleet::Outcome>()?;
    module.add_class::<fleet::ApplyReport>()?;
    errors::register(module)?;
    // Tuples: constants should not be mutable from Python.
    module.add("SERVICE_NAMES", PyTuple::new(module.py(), tscb::services::SERVICE_NAMES)?)?;
    module.add("ERROR_CODES", PyTuple::new(module.py(), tscb::codes::ALL)?)?;
    module.add("VERIZON_CALLBACK_SOURCES", PyTuple::new(module.py(), tscb::VERIZON_CALLBACK_SOURCES)?)?;
    module.add("MAX_CALLBACK_BYTES", tscb::MAX_CALLBACK_BYTES)?;
    // Core's defaults and limits, so that no Python text restates them (durations in seconds,
    // as every duration argument takes them).
    module.add("CALLBACK_PORTS", PyTuple::new(module.py(), tscb::CALLBACK_PORTS)?)?;
    module.add("MAX_CREDENTIAL_CHARS", tscb::MAX_CREDENTIAL_CHARS)?;
    module.add("DEFAULT_CONNECT_TIMEOUT", tscb::DEFAULT_CONNECT_TIMEOUT.as_secs_f64())?;
    module.add("DEFAULT_TIMEOUT", tscb::DEFAULT_TIMEOUT.as_secs_f64())?;
    module.add("DEFAULT_CALL_TIMEOUT", tscb::DEFAULT_CALL_TIMEOUT.as_secs_f64())?;
    module.add("MAX_TIMEOUT", tscb::MAX_TIMEOUT.as_secs_f64())?;
    module.add("DEFAULT_PREVIOUS_PASSWORD_WINDOW", tscb::DEFAULT_PREVIOUS_PASSWORD_WINDOW.as_secs_f64())?;
    module.add("DEFAULT_CONCURRENCY", tscb::fleet::DEFAULT_CONCURRENCY)?;
    module.add("DEFAULT_BASE_URL", tscb::DEFAULT_BASE_URL)?;
    module.add("LOGIN_GUARD_BLOCK", tscb::LOGIN_GUARD_BLOCK.as_secs_f64())?;
    module.add("DEFAULT_RETRY_MAX_RETRIES", tscb::RetryPolicy::DEFAULT_MAX_RETRIES)?;
    module.add("DEFAULT_RETRY_INITIAL_BACKOFF", tscb::RetryPolicy::DEFAULT_INITIAL_BACKOFF.as_secs_f64())?;
    module.add("DEFAULT_RETRY_MAX_BACKOFF", tscb::RetryPolicy::DEFAULT_MAX_BACKOFF.as_secs_f64())?;
    module.add("DEFAULT_RETRY_MAX_RETRY_AFTER", tscb::RetryPolicy::DEFAULT_MAX_RETRY_AFTER.as_secs_f64())?;
    Ok(())
}

/// Python's own `repr` of `value`, so that results print the way Python users read them
/// (`None` for a missing text).
pub(crate) fn py_repr<'py>(py: Python<'py>, value: impl IntoPyObject<'py>) -> PyResult<String> {
    use pyo3::IntoPyObjectExt;
    Ok(value.into_bound_py_any(py)?.repr()?.to_string())
}
