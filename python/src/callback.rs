//! Receiving callbacks: `tscb.CallbackMessage.parse`, `tscb.CallbackVerifier` and the immutable
//! `tscb.CallbackMessage`, `tscb.DeviceId` and `tscb.CallbackFault`, each wrapping core's value.
//! Parsing and checking live in core; this file only converts.
//!
//! A documented message takes about 10 µs to verify, less than handing the GIL to another
//! thread and back would cost, so small bodies keep the GIL; a body near MAX_CALLBACK_BYTES takes
//! about 10 ms (measured on the 2-core build machine), so bodies over [`DETACH_ABOVE`] bytes are
//! read with the GIL released, and a threaded listener's other threads keep running.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::args::{owned, Text};
use crate::errors::to_py;
use crate::py_repr;

/// The body size from which parsing runs without the GIL.
const DETACH_ABOVE: usize = 64 * 1024;

/// Runs `f` on `body`, without the GIL when the body is large. The bytes object stays alive
/// (the caller holds it) and is immutable, so the borrowed slice stays valid meanwhile.
fn run<T: Send>(py: Python<'_>, body: &[u8], f: impl FnOnce(&[u8]) -> T + Send) -> T {
    if body.len() > DETACH_ABOVE {
        py.detach(|| f(body))
    } else {
        f(body)
    }
}

/// JSON to Python objects through the standard library's `json`, so that numbers, nesting and
/// text come out exactly as `json.loads` gives them.
fn to_python<'py>(py: Python<'py>, json: String) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (json,))
}

/// One entry of a message's `deviceIds`: the identifier and its kind as sent.
#[pyclass(module = "tscb", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub struct DeviceId {
    inner: tscb::DeviceId,
}

#[pymethods]
impl DeviceId {
    #[new]
    fn new(id: String, kind: String) -> Self {
        DeviceId { inner: tscb::DeviceId { id, kind } }
    }

    /// The identifier, e.g. an ICCID or IMEI.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    /// Its kind exactly as sent (`Iccid`, `IMEI`, `imei`, …); compare with `kind_is`.
    #[getter]
    fn kind(&self) -> &str {
        &self.inner.kind
    }

    /// True when the kind is `kind`, ignoring case.
    fn kind_is(&self, kind: &str) -> bool {
        self.inner.kind_is(kind)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("DeviceId(id={}, kind={})", py_repr(py, &self.inner.id)?, py_repr(py, &self.inner.kind)?))
    }
}

/// A message's `faultResponse`: `code` is `faultcode` (match on it), `message` is `faultstring`.
#[pyclass(module = "tscb", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub struct CallbackFault {
    inner: tscb::CallbackFault,
}

#[pymethods]
impl CallbackFault {
    #[new]
    fn new(code: String, message: String) -> Self {
        CallbackFault { inner: tscb::CallbackFault { code, message } }
    }

    /// `faultcode`, e.g. `UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive`.
    #[getter]
    fn code(&self) -> &str {
        &self.inner.code
    }

    /// `faultstring`.
    #[getter]
    fn message(&self) -> &str {
        &self.inner.message
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "CallbackFault(code={}, message={})",
            py_repr(py, &self.inner.code)?,
            py_repr(py, &self.inner.message)?
        ))
    }
}

/// One callback message as ThingSpace POSTed it. Immutable; `repr` never shows the password.
#[pyclass(module = "tscb", frozen)]
pub struct CallbackMessage {
    inner: tscb::CallbackMessage,
}

#[pymethods]
impl CallbackMessage {
    /// Reads one callback body (bytes, at most MAX_CALLBACK_BYTES). Raises CallbackInvalidError
    /// when it is too large, not JSON, or not the documented envelope; unknown fields are kept.
    #[staticmethod]
    fn parse(py: Python<'_>, body: &[u8]) -> PyResult<CallbackMessage> {
        run(py, body, tscb::CallbackMessage::parse)
            .map(|inner| CallbackMessage { inner })
            .map_err(|e| to_py(py, &e))
    }

    /// `requestId`, or None.
    #[getter]
    fn request_id(&self) -> Option<&str> {
        self.inner.request_id()
    }

    /// The registered username echoed back (`""` when none was registered), or None.
    #[getter]
    fn username(&self) -> Option<&str> {
        self.inner.username()
    }

    /// The registered password echoed back, in clear text (`""` when none was registered), or None.
    #[getter]
    fn password(&self) -> Option<&str> {
        self.inner.password().map(|p| p.expose())
    }

    /// `deviceIds`, in order.
    #[getter]
    fn device_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let devices = self.inner.device_ids().iter().map(|d| DeviceId { inner: d.clone() });
        PyTuple::new(py, devices)
    }

    /// `status` (`"Success"`, `"Failed"`, …), or None.
    #[getter]
    fn status(&self) -> Option<&str> {
        self.inner.status()
    }

    /// `callbackCount`: which attempt this is (1 for the first), or None.
    #[getter]
    fn callback_count(&self) -> Option<u32> {
        self.inner.callback_count()
    }

    /// `maxCallbackThreshold`, or None.
    #[getter]
    fn max_callback_threshold(&self) -> Option<u32> {
        self.inner.max_callback_threshold()
    }

    /// `faultResponse` as a CallbackFault, or None.
    #[getter]
    fn fault(&self) -> Option<CallbackFault> {
        self.inner.fault().map(|f| CallbackFault { inner: f.clone() })
    }

    /// The name of the service's object (`deviceResponse`, `niddResponse`, `faultResponse`, …), or None.
    #[getter]
    fn payload_name(&self) -> Option<&str> {
        self.inner.payload_name()
    }

    /// The service's object as a new dict (changing it changes nothing here), or None.
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.payload().map(|p| to_python(py, p.to_string())).transpose()
    }

    /// The fields that are neither the envelope nor the payload, as a new dict.
    #[getter]
    fn extra<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, serde_json::to_string(self.inner.extra()).unwrap_or_else(|_| "{}".into()))
    }

    /// The message's identity across resends (64 hex digits): resends share it.
    #[getter]
    fn dedup_key(&self) -> &str {
        self.inner.dedup_key()
    }

    /// The whole body as a new dict, without `password`: what a listener can log or store.
    fn to_json_without_password<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let body = self.inner.to_json_without_password();
        to_python(py, serde_json::to_string(body).unwrap_or_else(|_| "{}".into()))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let count = self.inner.callback_count().map_or("None".to_owned(), |c| c.to_string());
        let password = if self.inner.password().is_some() { "'<redacted>'" } else { "None" };
        let devices = self
            .device_ids(py)?
            .iter()
            .map(|d| Ok(d.repr()?.to_string()))
            .collect::<PyResult<Vec<String>>>()?;
        let devices = if devices.len() == 1 {
            format!("({},)", devices[0])
        } else {
            format!("({})", devices.join(", "))
        };
        Ok(format!(
            "CallbackMessage(request_id={}, status={}, payload_name={}, device_ids={devices}, callback_count={count}, username={}, password={password})",
            py_repr(py, self.inner.request_id())?,
            py_repr(py, self.inner.status())?,
            py_repr(py, self.inner.payload_name())?,
            py_repr(py, self.inner.username())?,
        ))
    }
}

/// The HTTP status a listener answers for `error`, an exception from CallbackVerifier.verify()
/// or CallbackMessage.parse(): 403 for a source that is not allowed, 401 for wrong credentials, 413 for
/// a body over MAX_CALLBACK_BYTES, 400 for any other unreadable message; 500 for any other
/// exception (a fault of the listener, not of the message: ThingSpace sends it again).
#[pyfunction]
pub fn callback_answer_status(error: &Bound<'_, PyAny>) -> u16 {
    let code = error.getattr("error_code").and_then(|code| code.extract::<String>());
    code.map_or(500, |code| tscb::callback_answer_status_for_code(&code))
}

/// Checks that a callback comes from an allowed source and carries the expected username and
/// password (None: not checked). Only digests of the passwords are kept. The sources are
/// `allowed_sources` (None: VERIZON_CALLBACK_SOURCES), or any with `allow_any_source=True`.
#[pyclass(module = "tscb", frozen)]
pub struct CallbackVerifier {
    inner: tscb::CallbackVerifier,
    /// For `repr`: which credentials are checked (never their values), and the sources as given.
    shown: String,
}

#[pymethods]
impl CallbackVerifier {
    #[new]
    #[pyo3(signature = (username=None, password=None, previous_password=None, previous_password_valid_for=None, allowed_sources=None, allow_any_source=false))]
    #[allow(clippy::too_many_arguments)] // Python's keyword arguments
    fn new(
        py: Python<'_>,
        username: Option<Text>,
        password: Option<Text>,
        previous_password: Option<Text>,
        previous_password_valid_for: Option<f64>,
        allowed_sources: Option<Vec<Text>>,
        allow_any_source: bool,
    ) -> PyResult<Self> {
        // Moved, not copied, into the verifier (which keeps only digests of the passwords).
        let (username, password) = (owned(username), owned(password));
        let previous_password = owned(previous_password);
        let allowed_sources: Option<Vec<String>> =
            allowed_sources.map(|sources| sources.into_iter().map(Text::into_string).collect());
        let set = |present: bool| if present { "'<redacted>'" } else { "None" };
        let sources = match &allowed_sources {
            _ if allow_any_source => "allow_any_source=True".to_owned(),
            None => "allowed_sources=VERIZON_CALLBACK_SOURCES".to_owned(),
            Some(s) if s.iter().map(String::as_str).eq(tscb::VERIZON_CALLBACK_SOURCES.iter().copied()) => {
                "allowed_sources=VERIZON_CALLBACK_SOURCES".to_owned()
            }
            Some(s) => format!("allowed_sources={}", py_repr(py, s)?),
        };
        let shown = format!(
            "CallbackVerifier(username={}, password={}, previous_password={}, {sources})",
            set(username.is_some()),
            set(password.is_some()),
            set(previous_password.is_some()),
        );
        let valid_for = match previous_password_valid_for {
            None => tscb::DEFAULT_PREVIOUS_PASSWORD_WINDOW,
            Some(seconds) => tscb::previous_password_window_from_secs(seconds).map_err(|e| to_py(py, &e))?,
        };
        let mut inner = tscb::CallbackVerifier::new();
        if let Some(username) = username {
            inner.set_username(&username);
        }
        if let Some(password) = password {
            inner.set_password(password);
        }
        if let Some(previous) = previous_password {
            inner.set_previous_password(previous, valid_for);
        }
        if let Some(sources) = allowed_sources {
            inner.set_allowed_sources(&sources).map_err(|e| to_py(py, &e))?;
        }
        // After the list, as in core: any source wins over a list.
        if allow_any_source {
            inner.allow_any_source();
        }
        Ok(CallbackVerifier { inner, shown })
    }

    /// Checks the source address (text, e.g. `self.client_address[0]`), then reads the body,
    /// then compares the credentials in constant time. Raises CallbackRejectedError (answer 403
    /// for `Tscb.CALLBACK_REJECTED.Source`, 401 for `.Credentials`), CallbackInvalidError (413
    /// for `Tscb.CALLBACK_INVALID.TooLarge`, else 400), or InvalidInputError when `source` is
    /// not an IP address.
    fn verify(&self, py: Python<'_>, body: &[u8], source: Text) -> PyResult<CallbackMessage> {
        let verifier = &self.inner;
        run(py, body, |body| verifier.verify_from(&source, body))
            .map(|inner| CallbackMessage { inner })
            .map_err(|e| to_py(py, &e))
    }

    /// Checks only the source address, so that a listener can refuse a source before it reads
    /// the body. Raises CallbackRejectedError (`Tscb.CALLBACK_REJECTED.Source`), or
    /// InvalidInputError when `source` is not an IP address.
    fn check_source(&self, py: Python<'_>, source: Text) -> PyResult<()> {
        self.inner.check_source_from(&source).map_err(|e| to_py(py, &e))
    }

    fn __repr__(&self) -> String {
        self.shown.clone()
    }
}
