//! `tscb.AsyncClient`: core's `tscb::AsyncClient` for asyncio. Each call checks its argument
//! types at once (TypeError, as the blocking client) and returns a coroutine; awaiting it runs
//! the call on the runtime of `aio.rs` and resumes with the result or the same exception as the
//! blocking client. A coroutine that is never awaited sends nothing.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::aio::Task;
use crate::args::{self, Text};
use crate::client::{client_class, guarded, Options};
use crate::errors::to_py;
use crate::logging::{Logged, Records};
use crate::model::{CallbackAck, RegisteredCallback};

/// A ThingSpace callback API client for asyncio: the calls of `Client`, as coroutines. Usable
/// as an async context manager; may be shared by any number of tasks.
#[pyclass(module = "tscb", frozen)]
pub struct AsyncClient {
    // None once closed. Locked only by threads holding the GIL, never across an await. Shared
    // with the calls not started yet, which take the client when they start (see `call`).
    inner: Arc<Mutex<Option<Pooled>>>,
    base_url: String,
}

/// The client, and the process and runtime (see `aio::epoch`) its connection pool belongs to.
struct Pooled {
    client: tscb::AsyncClient,
    pid: u32,
    /// None until a call takes the client with a runtime running.
    epoch: Option<u64>,
}

impl AsyncClient {
    fn from_builder(py: Python<'_>, options: Options) -> PyResult<Self> {
        let client =
            py.detach(|| guarded(|| options.into_builder()?.build_async())).map_err(|e| to_py(py, &e))?;
        let base_url = client.base_url().to_owned();
        Ok(AsyncClient {
            inner: Arc::new(Mutex::new(Some(Pooled { client, pid: std::process::id(), epoch: None }))),
            base_url,
        })
    }

    /// The coroutine of one call: `call` gets its own handle on the client.
    fn call<'py, T, F>(
        &self,
        py: Python<'py>,
        call: impl FnOnce(tscb::AsyncClient) -> F + Send + 'static,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: std::future::Future<Output = Result<T, tscb::Error>> + Send + 'static,
        T: for<'a> IntoPyObject<'a> + Send + 'static,
    {
        // The client is taken when the call starts, not now: a coroutine made before a fork and
        // awaited in the child must get the child's connections, not the parent's.
        let inner = Arc::clone(&self.inner);
        let records = Records::default();
        let for_call = records.clone();
        let start: Start = Box::new(move |py| {
            let client = client_of(&inner).map_err(|e| to_py(py, &e))?;
            // The logger's level when the call starts, as for the blocking client.
            let logged = Logged::new(call(client), crate::logging::wanted(py), for_call);
            crate::aio::submit(py, logged)
        });
        let pending = Pending { state: Mutex::new(State::NotStarted(start)), records };
        coroutine(py)?.call1((pending,))
    }
}

/// A handle for one call on the client in `inner`. In a process forked from the one that used
/// the client, first a pool of this process's own: the old one is leaked, never used nor dropped
/// (see aio.rs). In the same process, a pool whose runtime was stopped before a fork (its
/// connections closed with it) is replaced too, and dropped.
fn client_of(inner: &Mutex<Option<Pooled>>) -> Result<tscb::AsyncClient, tscb::Error> {
    let here = std::process::id();
    let running = crate::aio::epoch();
    let mut guard = crate::lock(inner);
    let Some(pooled) = guard.as_mut() else {
        return Err(tscb::Error::invalid_argument(tscb::codes::CLIENT_CLOSED, "the client was closed"));
    };
    if pooled.pid != here {
        let fresh = pooled.client.with_new_connections()?;
        std::mem::forget(std::mem::replace(&mut pooled.client, fresh));
        (pooled.pid, pooled.epoch) = (here, running);
    } else if pooled.epoch.is_some() && pooled.epoch != running {
        pooled.client = pooled.client.with_new_connections()?;
        pooled.epoch = running;
    } else if running.is_some() {
        pooled.epoch = running;
    }
    Ok(pooled.client.clone())
}

type Start = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<(Bound<'py, PyAny>, Task)> + Send>;

/// A call not started yet: the coroutine starts it when first resumed, and ends it (its task,
/// then its log records) when it ends.
#[pyclass(module = "tscb._native", frozen)]
struct Pending {
    state: Mutex<State>,
    records: Records,
}

enum State {
    NotStarted(Start),
    /// Its task: dropping it cancels the request if it is still under way.
    Started(Task),
    Ended,
}

#[pymethods]
impl Pending {
    /// The asyncio future of the call's result.
    fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let State::NotStarted(start) = std::mem::replace(&mut *crate::lock(&self.state), State::Ended) else {
            return Err(pyo3::exceptions::PyRuntimeError::new_err("this call was started already"));
        };
        let (future, task) = start(py)?;
        *crate::lock(&self.state) = State::Started(task);
        Ok(future)
    }

    /// Cancels the call's request if it is still under way (the awaiting task was cancelled),
    /// and emits its log records.
    fn end(&self, py: Python<'_>) {
        if let State::Started(task) = std::mem::replace(&mut *crate::lock(&self.state), State::Ended) {
            drop(task);
        }
        self.records.emit(py);
    }
}

/// `async def run(pending)`: a real coroutine, so that `asyncio.create_task`, `TaskGroup` and
/// `inspect.iscoroutine` take the calls as they take any `async def`. Its `finally` cancels the
/// request of a cancelled task and emits the call's records on the event loop's thread, in the
/// task's context.
fn coroutine(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static RUN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    RUN.get_or_try_init(py, || {
        let code = c"async def run(pending):\n    try:\n        return await pending.start()\n    finally:\n        pending.end()\n";
        let module = PyModule::from_code(py, code, c"<tscb.AsyncClient>", c"tscb._async_call")?;
        Ok(module.getattr("run")?.unbind())
    })
    .map(|run| run.bind(py))
}

client_class! {
AsyncClient {
    /// The base URL in use, without a trailing slash.
    #[getter]
    fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Registers a callback listener: POST {base}/m2m/v1/callbacks/{account}.
    #[pyo3(signature = (account, service_name, url, *, username=None, password=None))]
    fn register_callback<'py>(
        &self,
        py: Python<'py>,
        account: Text,
        service_name: Text,
        url: Text,
        username: Option<Text>,
        password: Option<Text>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let account = args::account(py, account)?;
        let registration = args::registration(py, service_name, url, username, password)?;
        self.call(py, move |c| async move {
            c.register_callback(&account, &registration).await.map(CallbackAck::from)
        })
    }

    /// Lists the listeners registered for the account: GET {base}/m2m/v1/callbacks/{account}.
    fn list_callbacks<'py>(&self, py: Python<'py>, account: Text) -> PyResult<Bound<'py, PyAny>> {
        let account = args::account(py, account)?;
        self.call(py, move |c| async move {
            let listed = c.list_callbacks(&account).await?;
            Ok(listed.into_iter().map(RegisteredCallback::from).collect::<Vec<_>>())
        })
    }

    /// Removes the listener of one service:
    /// DELETE {base}/m2m/v1/callbacks/{account}/name/{service_name}.
    fn deregister_callback<'py>(
        &self,
        py: Python<'py>,
        account: Text,
        service_name: Text,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (account, service_name) = (args::account(py, account)?, args::service_name(py, service_name)?);
        self.call(py, move |c| async move {
            c.deregister_callback(&account, &service_name).await.map(CallbackAck::from)
        })
    }

    /// Signs in now if the client has credentials and no valid tokens yet (calls do this by
    /// themselves; concurrent calls share one sign-in). With fixed tokens it sends nothing.
    fn login<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, |c| async move { c.login().await })
    }

    /// A problem with the login guard file, once; None when there is none.
    fn login_guard_warning(&self, py: Python<'_>) -> PyResult<Option<String>> {
        client_of(&self.inner).map(|c| c.login_guard_warning()).map_err(|e| to_py(py, &e))
    }

    /// Ends the session: POST {base}/m2m/v1/session/logout.
    fn logout<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.call(py, |c| async move { c.logout().await })
    }

    /// Closes the client. Later calls raise InvalidInputError (`Tscb.INPUT_INVALID.Client.Closed`);
    /// calls under way finish. Closing twice is harmless.
    fn aclose<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.close_now();
        ready(py, py.None())
    }

    fn __aenter__<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let result: Py<PyAny> = slf.into_any().unbind();
        ready(py, result)
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _exc: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.close_now();
        ready(py, false)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let closed = self.inner.lock().map(|g| g.is_none()).unwrap_or(true);
        let url = pyo3::types::PyString::new(py, &self.base_url).repr()?;
        Ok(format!("AsyncClient(base_url={url}{})", if closed { ", closed=True" } else { "" }))
    }
}
}

impl AsyncClient {
    /// Lets go of the client. Its connections close when the last call under way ends; in a
    /// child of fork() the parent's pool is leaked rather than dropped (see aio.rs).
    fn close_now(&self) {
        let taken = crate::lock(&self.inner).take();
        if let Some(pooled) = taken {
            if pooled.pid != std::process::id() {
                std::mem::forget(pooled);
            }
        }
    }
}

/// A coroutine that returns `value` at once.
fn ready<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: T) -> PyResult<Bound<'py, PyAny>> {
    static READY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let ready = READY.get_or_try_init(py, || {
        let code = c"async def ready(value):\n    return value\n";
        let module = PyModule::from_code(py, code, c"<tscb.AsyncClient>", c"tscb._async_ready")?;
        Ok::<_, PyErr>(module.getattr("ready")?.unbind())
    })?;
    ready.bind(py).call1((value,))
}
