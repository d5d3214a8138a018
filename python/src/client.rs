//! `tscb.Client`: copies its arguments into owned Rust values, releases the GIL for the network
//! call, and turns the outcome into Python objects or an exception.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::RwLock;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::args::{self, owned, Text};
use crate::errors::to_py;
use crate::model::{CallbackAck, RegisteredCallback};

/// A ThingSpace callback API client. Safe to share between threads; usable as a context manager.
#[pyclass(module = "tscb", frozen)]
pub struct Client {
    // None once closed. The lock is held only to clone the (cheap, shared) client, never across
    // a network call.
    inner: RwLock<Option<tscb::Client>>,
    base_url: String,
}

impl Client {
    pub(crate) fn client(&self) -> Result<tscb::Client, tscb::Error> {
        let guard = self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        guard
            .clone()
            .ok_or_else(|| tscb::Error::invalid_argument(tscb::codes::CLIENT_CLOSED, "the client was closed"))
    }

    /// Runs `call` on the client without the GIL and converts its outcome.
    fn run<T: Send, R>(
        &self,
        py: Python<'_>,
        call: impl FnOnce(&tscb::Client) -> Result<T, tscb::Error> + Send,
        convert: impl FnOnce(T) -> R,
    ) -> PyResult<R> {
        let client = self.client().map_err(|e| to_py(py, &e))?;
        crate::logging::detached(py, || guarded(|| call(&client))).map(convert).map_err(|e| to_py(py, &e))
    }
}

/// Runs `f`, turning a panic into a `TscbError` (`Tscb.REQUEST_FAILED.Panic`) instead of
/// pyo3's `PanicException`, which `except Exception` would not catch.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, tscb::Error>) -> Result<T, tscb::Error> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(tscb::Error::panic("a panic inside tscb was caught at the Python boundary")))
}

/// Every keyword of the constructors of `Client` and `AsyncClient`, in one place: expands to
/// the `#[pymethods]` block of `$class` with `__new__` (these keywords, turned into a
/// `tscb::ClientBuilder` by [`Options::into_builder`] and handed to `$class::from_builder`) and
/// `from_env`, followed by the class's own `$methods`. (A macro because pyo3 allows one
/// `#[pymethods]` block per class and a signature cannot be shared otherwise.)
macro_rules! client_class {
    ($class:ident { $($methods:tt)* }) => {
        #[pymethods]
        impl $class {
            #[new]
            #[pyo3(signature = (*, bearer_token=None, session_token=None, client_id=None, client_secret=None, login_username=None, login_password=None, base_url=None, timeout=None, connect_timeout=None, call_timeout=None, user_agent=None, check_callback_port=true, max_retries=None, retry_register_when_busy=false, allow_insecure_http=false, login_guard_file=None, ignore_login_guard=false, ca_file=None, proxy=None))]
            #[allow(clippy::too_many_arguments)] // Python keyword arguments, not a Rust API
            fn new(
                py: Python<'_>,
                bearer_token: Option<Text>,
                session_token: Option<Text>,
                client_id: Option<Text>,
                client_secret: Option<Text>,
                login_username: Option<Text>,
                login_password: Option<Text>,
                base_url: Option<Text>,
                timeout: Option<f64>,
                connect_timeout: Option<f64>,
                call_timeout: Option<f64>,
                user_agent: Option<Text>,
                check_callback_port: bool,
                max_retries: Option<u32>,
                retry_register_when_busy: bool,
                allow_insecure_http: bool,
                login_guard_file: Option<std::path::PathBuf>,
                ignore_login_guard: bool,
                ca_file: Option<std::path::PathBuf>,
                proxy: Option<Text>,
            ) -> PyResult<Self> {
                let options = $crate::client::Options {
                    bearer_token, session_token, client_id, client_secret, login_username,
                    login_password, base_url, timeout, connect_timeout, call_timeout, user_agent,
                    check_callback_port, max_retries, retry_register_when_busy, allow_insecure_http,
                    login_guard_file, ignore_login_guard, ca_file, proxy,
                };
                Self::from_builder(py, options)
            }

            /// A client from the THINGSPACE_* environment variables (the names are core's:
            /// `tscb::env`), with `overrides` (the constructor's keywords) winning over them. A
            /// variable that is not UTF-8 is refused by name; an empty one is passed on, so that
            /// the constructor names it; none of the credentials at all raises with the
            /// variables to set.
            #[classmethod]
            #[pyo3(signature = (**overrides))]
            fn from_env<'py>(
                cls: &Bound<'py, pyo3::types::PyType>,
                overrides: Option<&Bound<'py, pyo3::types::PyDict>>,
            ) -> PyResult<Bound<'py, PyAny>> {
                cls.call((), Some(&$crate::client::env_keywords(cls.py(), overrides)?))
            }

            $($methods)*
        }
    };
}
pub(crate) use client_class;

/// The constructor's keywords, as given.
pub(crate) struct Options {
    pub(crate) bearer_token: Option<Text>,
    pub(crate) session_token: Option<Text>,
    pub(crate) client_id: Option<Text>,
    pub(crate) client_secret: Option<Text>,
    pub(crate) login_username: Option<Text>,
    pub(crate) login_password: Option<Text>,
    pub(crate) base_url: Option<Text>,
    pub(crate) timeout: Option<f64>,
    pub(crate) connect_timeout: Option<f64>,
    pub(crate) call_timeout: Option<f64>,
    pub(crate) user_agent: Option<Text>,
    pub(crate) check_callback_port: bool,
    pub(crate) max_retries: Option<u32>,
    pub(crate) retry_register_when_busy: bool,
    pub(crate) allow_insecure_http: bool,
    pub(crate) login_guard_file: Option<PathBuf>,
    pub(crate) ignore_login_guard: bool,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) proxy: Option<Text>,
}

impl Options {
    /// The core builder these keywords describe; whatever is not given keeps the core's
    /// default: none is repeated here.
    pub(crate) fn into_builder(self) -> Result<tscb::ClientBuilder, tscb::Error> {
        let o = self;
        // Moved, not copied, into the builder, whose `Secret`s wipe them when dropped.
        let (client_id, client_secret) = (owned(o.client_id), owned(o.client_secret));
        let (login_username, login_password) = (owned(o.login_username), owned(o.login_password));
        let mut builder = tscb::Client::builder()
            .check_callback_port(o.check_callback_port)
            .allow_insecure_http(o.allow_insecure_http)
            .retry_register_when_busy(o.retry_register_when_busy);
        if let Some(seconds) = o.timeout {
            builder = builder.timeout(tscb::timeout_from_secs(seconds)?);
        }
        if let Some(seconds) = o.connect_timeout {
            builder = builder.connect_timeout(tscb::timeout_from_secs(seconds)?);
        }
        if let Some(seconds) = o.call_timeout {
            builder = builder.call_timeout(tscb::timeout_from_secs(seconds)?);
        }
        if let Some(retries) = o.max_retries {
            builder = builder.max_retries(retries);
        }
        if let Some(path) = o.login_guard_file {
            builder = builder.login_guard_file(path);
        }
        builder = builder.ignore_login_guard(o.ignore_login_guard);
        builder = builder.credentials_from(client_id, client_secret, login_username, login_password);
        if let Some(url) = owned(o.base_url) {
            builder = builder.base_url(url);
        }
        if let Some(token) = owned(o.bearer_token) {
            builder = builder.bearer_token(token);
        }
        if let Some(token) = owned(o.session_token) {
            builder = builder.session_token(token);
        }
        if let Some(agent) = owned(o.user_agent) {
            builder = builder.user_agent(agent);
        }
        if let Some(path) = o.ca_file {
            builder = builder.add_ca_file(path);
        }
        // None: from the environment, as curl reads it; "": none at all. May hold a password.
        if let Some(proxy) = owned(o.proxy) {
            builder = builder.proxy(proxy);
        }
        Ok(builder)
    }
}

/// The keywords `from_env` passes to the constructor: `overrides`, with the THINGSPACE_*
/// settings core merged them into (core's rules: a keyword wins over its variable, and one
/// credential at least, from either). `None` as a keyword means "not given", as it does for the
/// constructor.
pub(crate) fn env_keywords<'py>(
    py: Python<'py>,
    overrides: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let kwargs = PyDict::new(py);
    if let Some(overrides) = overrides {
        kwargs.update(overrides.as_mapping())?;
    }
    let text = |key: &str| -> PyResult<Option<String>> {
        Ok(owned(kwargs.get_item(key)?.map(|v| v.extract::<Option<Text>>()).transpose()?.flatten()))
    };
    let secret = |key: &str| -> PyResult<Option<tscb::Secret>> { Ok(text(key)?.map(tscb::Secret::from)) };
    let given = tscb::env::EnvSettings {
        client_id: text("client_id")?,
        client_secret: secret("client_secret")?,
        login_username: text("login_username")?,
        login_password: secret("login_password")?,
        bearer_token: secret("bearer_token")?,
        session_token: secret("session_token")?,
        base_url: text("base_url")?,
        ca_file: kwargs.get_item("ca_file")?.map(|v| v.extract::<Option<PathBuf>>()).transpose()?.flatten(),
    };
    let settings = tscb::env::EnvSettings::read()
        .map(|env| env.with_overrides(given))
        .and_then(tscb::env::EnvSettings::require_credentials)
        .map_err(|e| to_py(py, &e))?;
    let expose = |s: &Option<tscb::Secret>| s.as_ref().map(|s| s.expose().to_owned());
    for (key, value) in [
        ("client_id", settings.client_id.clone()),
        ("client_secret", expose(&settings.client_secret)),
        ("login_username", settings.login_username.clone()),
        ("login_password", expose(&settings.login_password)),
        ("bearer_token", expose(&settings.bearer_token)),
        ("session_token", expose(&settings.session_token)),
        ("base_url", settings.base_url.clone()),
    ] {
        if let Some(value) = value {
            kwargs.set_item(key, value)?;
        }
    }
    if let Some(path) = &settings.ca_file {
        kwargs.set_item("ca_file", path)?;
    }
    Ok(kwargs)
}

impl Client {
    fn from_builder(py: Python<'_>, options: Options) -> PyResult<Self> {
        let client = py.detach(|| guarded(|| options.into_builder()?.build())).map_err(|e| to_py(py, &e))?;
        Ok(Client { base_url: client.base_url().to_owned(), inner: RwLock::new(Some(client)) })
    }
}

client_class! {
Client {
    /// The base URL in use, without a trailing slash.
    #[getter]
    fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Registers a callback listener: POST {base}/m2m/v1/callbacks/{account}.
    #[pyo3(signature = (account, service_name, url, *, username=None, password=None))]
    fn register_callback(
        &self,
        py: Python<'_>,
        account: Text,
        service_name: Text,
        url: Text,
        username: Option<Text>,
        password: Option<Text>,
    ) -> PyResult<CallbackAck> {
        let account = args::account(py, account)?;
        let registration = args::registration(py, service_name, url, username, password)?;
        self.run(py, move |c| c.register_callback(&account, &registration), CallbackAck::from)
    }

    /// Lists the listeners registered for the account: GET {base}/m2m/v1/callbacks/{account}.
    fn list_callbacks(&self, py: Python<'_>, account: Text) -> PyResult<Vec<RegisteredCallback>> {
        let account = args::account(py, account)?;
        self.run(
            py,
            move |c| c.list_callbacks(&account),
            |list| list.into_iter().map(RegisteredCallback::from).collect(),
        )
    }

    /// Removes the listener of one service:
    /// DELETE {base}/m2m/v1/callbacks/{account}/name/{service_name}.
    fn deregister_callback(
        &self,
        py: Python<'_>,
        account: Text,
        service_name: Text,
    ) -> PyResult<CallbackAck> {
        let (account, service_name) = (args::account(py, account)?, args::service_name(py, service_name)?);
        self.run(py, move |c| c.deregister_callback(&account, &service_name), CallbackAck::from)
    }

    /// Signs in now if the client has credentials and no valid tokens yet (calls do this by
    /// themselves; this checks the credentials up front). With fixed tokens it sends nothing.
    fn login(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |c| c.login(), |()| ())
    }

    /// A problem with the login guard file (unreadable, corrupt, unwritable), once; such a
    /// problem never stops a login. None when there is none, or it was returned already.
    fn login_guard_warning(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.client().map(|c| c.login_guard_warning()).map_err(|e| to_py(py, &e))
    }

    /// Ends the session: POST {base}/m2m/v1/session/logout. A client with credentials logs in
    /// again when next used.
    fn logout(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |c| c.logout(), |()| ())
    }

    /// Closes the client's connections. Later calls raise InvalidInputError
    /// (`Tscb.INPUT_INVALID.Client.Closed`). Closing twice is harmless.
    fn close(&self, py: Python<'_>) {
        let taken = self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        // Dropping the HTTP client joins its runtime thread: not with the GIL held.
        py.detach(move || drop(taken));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let closed = self.inner.read().map(|g| g.is_none()).unwrap_or(true);
        let url = pyo3::types::PyString::new(py, &self.base_url).repr()?;
        Ok(format!("Client(base_url={url}{})", if closed { ", closed=True" } else { "" }))
    }
}
}
