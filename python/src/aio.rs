//! The bridge between asyncio and tokio for `tscb.AsyncClient`: pyo3-async-runtimes' generic
//! `future_into_py`, on a runtime of our own rather than its global tokio one, because that one
//! can be set only once per process and a child of `fork()` needs a new one.
//!
//! The runtime is built on first use, per process: one worker thread (`tscb-async`), where
//! every request's I/O and timers run, and tokio's blocking pool (also `tscb-async`, started on
//! demand, each thread leaving after 10 s idle) for host-name lookups. One more thread,
//! `tscb-async-done`, hands results to Python: it takes the GIL once for every burst of
//! results, rather than one blocking-pool thread per result each waiting for the GIL (the
//! library's default), which under many concurrent calls left the event loop's thread
//! contending with a crowd of them.
//!
//! After `fork()` the child has none of these threads, and the parent's runtime must neither be
//! driven nor dropped there (its epoll instance and eventfd are shared with the parent: see
//! core's `blocking/engine.rs`): the runtime records the pid that built it, and a process that
//! finds another's builds its own and leaks the old one.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use pyo3::prelude::*;
use pyo3::BoundObject;
use pyo3_async_runtimes::generic::{ContextExt, Runtime};
use pyo3_async_runtimes::TaskLocals;

use crate::errors::to_py;

/// A closure that completes an asyncio future; it takes the GIL itself.
type Job = Box<dyn FnOnce() + Send>;

/// One process's runtime and result thread (leaked: they live as long as the process).
struct Global {
    pid: u32,
    runtime: &'static tokio::runtime::Runtime,
    done: mpsc::Sender<Job>,
}

/// Held by the result thread while it runs jobs; true once the interpreter is exiting, after
/// which no job runs (its Python objects are released without it). Python kills a thread that
/// asks for the GIL during finalization by unwinding it, which ran the job's destructors without
/// the GIL and crashed the exiting process; so an `atexit` handler waits here for the jobs under
/// way and stops the rest.
type Stop = Arc<Mutex<bool>>;

/// Only Python threads, holding the GIL, take this lock, so a `fork()` (which needs the GIL)
/// never finds it held by another thread.
static GLOBAL: Mutex<Option<Global>> = Mutex::new(None);

std::thread_local! {
    /// On the runtime's threads: where finished calls go (so they never take `GLOBAL`).
    static DONE: std::cell::RefCell<Option<mpsc::Sender<Job>>> = const { std::cell::RefCell::new(None) };
}

/// This process's runtime, built on first use.
/// Failing to start a thread is an `OSError` in Python, as it is for `threading`.
fn global<T>(use_it: impl FnOnce(&Global) -> T) -> std::io::Result<T> {
    global_or_build(use_it, |_| Ok(()))
}

fn global_or_build<T>(
    use_it: impl FnOnce(&Global) -> T,
    on_build: impl FnOnce(Stop) -> std::io::Result<()>,
) -> std::io::Result<T> {
    let here = std::process::id();
    let mut global = GLOBAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match global.as_ref() {
        Some(g) if g.pid == here => {}
        other => {
            if other.is_some() {
                // The parent's, copied by fork(): never drop it here (see the module's comment).
                std::mem::forget(global.take());
            }
            let stop = Stop::default();
            *global = Some(build(here, Arc::clone(&stop))?);
            on_build(stop)?;
        }
    }
    Ok(use_it(global.as_ref().expect("built above")))
}

fn build(pid: u32, stop: Stop) -> std::io::Result<Global> {
    let (done, results) = mpsc::channel::<Job>();
    std::thread::Builder::new().name("tscb-async-done".to_owned()).spawn(move || complete(results, stop))?;
    let for_threads = done.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("tscb-async")
        .enable_all()
        .on_thread_start(move || DONE.with(|d| *d.borrow_mut() = Some(for_threads.clone())))
        .build()?;
    Ok(Global { pid, runtime: Box::leak(Box::new(runtime)), done })
}

/// The result thread: runs the jobs, taking the GIL once for all those waiting.
fn complete(results: mpsc::Receiver<Job>, stop: Stop) {
    while let Ok(first) = results.recv() {
        let stopped = stop.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if *stopped {
            // Leaked rather than dropped: dropping runs Python code (a PyErr's value, say) that
            // needs the interpreter.
            std::mem::forget(first);
            continue;
        }
        Python::attach(|_py| {
            let mut job = Some(first);
            while let Some(run) = job.take().or_else(|| results.try_recv().ok()) {
                // A job's failure is reported by the library itself; a panic must not end the thread.
                let _ = catch_unwind(AssertUnwindSafe(run));
            }
        });
    }
}

/// pyo3-async-runtimes' view of our runtime.
pub(crate) struct Tokio;

/// A task, or nothing to wait for (a job sent to the result thread).
pub(crate) struct Handle(Option<tokio::task::JoinHandle<()>>);

impl Future for Handle {
    type Output = Result<(), Failed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0.as_mut() {
            Some(handle) => Pin::new(handle).poll(cx).map(|done| done.map_err(Failed)),
            None => Poll::Ready(Ok(())),
        }
    }
}

/// A task that panicked or was cancelled, as pyo3-async-runtimes sees it.
pub(crate) struct Failed(tokio::task::JoinError);

impl pyo3_async_runtimes::generic::JoinError for Failed {
    fn is_panic(&self) -> bool {
        self.0.is_panic()
    }

    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.0.into_panic()
    }
}

impl Runtime for Tokio {
    type JoinError = Failed;
    type JoinHandle = Handle;

    fn spawn<F>(fut: F) -> Handle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // On a runtime thread (the library spawns from inside its own task) the runtime is at
        // hand; elsewhere `submit` has built it already.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            return Handle(Some(handle.spawn(fut)));
        }
        match global(|g| g.runtime.spawn(fut)) {
            Ok(task) => Handle(Some(task)),
            Err(_) => Handle(None),
        }
    }

    fn spawn_blocking<F>(f: F) -> Handle
    where
        F: FnOnce() + Send + 'static,
    {
        let job: Job = Box::new(f);
        let unsent = DONE.with(|d| match d.borrow().as_ref() {
            Some(done) => done.send(job).err().map(|mpsc::SendError(job)| job),
            None => Some(job),
        });
        if let Some(job) = unsent {
            // Not on a runtime thread: never the case in the library, but a job must not be lost.
            let _ = global(|g| g.done.send(job));
        }
        Handle(None)
    }
}

impl ContextExt for Tokio {
    fn scope<F, R>(_locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        // Our futures never call back into Python, so they need no task locals.
        Box::pin(fut)
    }

    fn get_task_locals() -> Option<TaskLocals> {
        None
    }
}

/// What a call hands to Python: its result converted, or its error as the `tscb` exception
/// (converted on the result thread, which holds the GIL).
pub(crate) struct Answer<T>(Result<T, tscb::Error>);

impl<'py, T: IntoPyObject<'py>> IntoPyObject<'py> for Answer<T> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.0 {
            Ok(value) => Ok(value.into_pyobject(py).map_err(Into::into)?.into_any().into_bound()),
            Err(error) => Err(to_py(py, &error)),
        }
    }
}

/// Runs `call` on this process's runtime and returns the asyncio future of its result, on the
/// running event loop. Cancelling that future drops `call`, which cancels the request; a panic
/// in it becomes a `TscbError` (`Tscb.REQUEST_FAILED.Panic`), as in the blocking client.
pub(crate) fn submit<'py, T>(
    py: Python<'py>,
    call: impl Future<Output = Result<T, tscb::Error>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    // Fails (RuntimeError) before anything starts when no event loop is running.
    let locals = TaskLocals::with_running_loop(py)?;
    global_or_build(|_| (), |stop| stop_at_exit(py, stop))?;
    let guarded = CatchPanic(Box::pin(call));
    pyo3_async_runtimes::generic::future_into_py_with_locals::<Tokio, _, _>(py, locals, async move {
        Ok(Answer(guarded.await))
    })
}

/// Registers the `atexit` handler that stops this process's result thread (see [`Stop`]). The
/// handler does nothing in a child of fork(), which has its own (and the parent's `stop` may
/// have been locked by a thread that the child does not have).
fn stop_at_exit(py: Python<'_>, stop: Stop) -> std::io::Result<()> {
    let pid = std::process::id();
    let handler = pyo3::types::PyCFunction::new_closure(py, None, None, move |args, _kwargs| {
        if std::process::id() == pid {
            let py = args.py();
            py.detach(|| *stop.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = true);
        }
    });
    let registered = handler.and_then(|handler| py.import("atexit")?.call_method1("register", (handler,)));
    registered.map(drop).map_err(|e| std::io::Error::other(e.to_string()))
}

/// A call whose panic is an error instead.
struct CatchPanic<T>(Pin<Box<dyn Future<Output = Result<T, tscb::Error>> + Send>>);

impl<T> Future for CatchPanic<T> {
    type Output = Result<T, tscb::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let call = &mut self.0;
        catch_unwind(AssertUnwindSafe(|| call.as_mut().poll(cx))).unwrap_or_else(|_| {
            Poll::Ready(Err(tscb::Error::panic("a panic inside tscb was caught at the Python boundary")))
        })
    }
}
