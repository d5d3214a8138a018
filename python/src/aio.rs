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
//!
//! Python 3.12+ warns (DeprecationWarning) at every `fork()` of a process with more than one
//! thread, since a thread holding a lock at the fork leaves it locked in the child forever. So
//! an `os.register_at_fork(before=...)` hook stops the runtime and its threads, and waits until
//! they are gone, when no call is in flight: then the fork is safe and nothing warns, and the
//! next call starts a new runtime (the clients' pools follow it: see `epoch`). With a call in
//! flight the threads stay, the call goes on in the parent, and the warning is right: the child
//! still builds its own runtime, but a lock held by a runtime thread at that moment (in the
//! allocator, say) would stay held there.
//!
//! (Over 400 lines: building, stopping before a fork and stopping at exit share the private
//! `GLOBAL`, `EXIT` and `IN_FLIGHT`, which splitting would make crate-visible.)

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::BoundObject;
use pyo3_async_runtimes::generic::{ContextExt, Runtime};
use pyo3_async_runtimes::TaskLocals;

use crate::errors::to_py;

/// A closure that completes an asyncio future; it takes the GIL itself.
type Job = Box<dyn FnOnce() + Send>;

/// What the result thread receives: a job, or `None`: end (sent when the runtime is stopped
/// before a fork; a straggling thread of the runtime may still hold a sender then).
type Message = Option<Job>;

/// One process's runtime and result thread: stopped before a fork when idle, else kept for the
/// life of the process (and leaked by a child of fork()).
struct Global {
    pid: u32,
    /// Which runtime this is; a client's connection pool belongs to one (see [`epoch`]).
    epoch: u64,
    runtime: tokio::runtime::Runtime,
    done: mpsc::Sender<Message>,
    done_thread: std::thread::JoinHandle<()>,
    /// `/proc/self/task/<tid>` of each of these threads (Linux only), to wait until they are
    /// really gone before a fork: a thread that was joined still counts a little longer.
    threads: Threads,
}

type Threads = Arc<Mutex<Vec<std::path::PathBuf>>>;

/// Calls submitted whose result has not been handed to Python (nor dropped), in every runtime of
/// this process.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// The last runtime's epoch.
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// Held by the result thread while it runs jobs; true once the interpreter is exiting, after
/// which no job runs (its Python objects are released without it). Python kills a thread that
/// asks for the GIL during finalization by unwinding it, which ran the job's destructors without
/// the GIL and crashed the exiting process; so an `atexit` handler waits here for the jobs under
/// way and stops the rest.
type Stop = Arc<Mutex<bool>>;

/// Only Python threads, holding the GIL, take these locks, so a `fork()` (which needs the GIL)
/// never finds them held by another thread.
static GLOBAL: Mutex<Option<Global>> = Mutex::new(None);
/// This process's [`Stop`], made (and its `atexit` handler registered) with its first runtime.
static EXIT: Mutex<Option<(u32, Stop)>> = Mutex::new(None);

std::thread_local! {
    /// On the runtime's threads: where finished calls go (so they never take `GLOBAL`).
    static DONE: std::cell::RefCell<Option<mpsc::Sender<Message>>> = const { std::cell::RefCell::new(None) };
}

/// This process's runtime, if it has one running.
fn global<T>(use_it: impl FnOnce(&Global) -> T) -> Option<T> {
    let global = GLOBAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    global.as_ref().filter(|g| g.pid == std::process::id()).map(use_it)
}

/// The epoch of this process's running runtime, if any. A connection pool used under one
/// runtime has its connections' tasks on it: once that runtime is stopped (before a fork) the
/// pool is replaced.
pub(crate) fn epoch() -> Option<u64> {
    global(|g| g.epoch)
}

/// Builds this process's runtime if it has none running.
/// Failing to start a thread is an `OSError` in Python, as it is for `threading`.
fn ensure_built(py: Python<'_>) -> std::io::Result<()> {
    let here = std::process::id();
    let mut global = GLOBAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match global.as_ref() {
        Some(g) if g.pid == here => return Ok(()),
        // The parent's, copied by fork(): never drop it here (see the module's comment).
        Some(_) => std::mem::forget(global.take()),
        None => {}
    }
    let mut exit = EXIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let stop = match exit.as_ref() {
        Some((pid, stop)) if *pid == here => Arc::clone(stop),
        _ => {
            // A child's own (the parent's may have been locked by a thread the child lacks).
            let stop = Stop::default();
            stop_at_exit(py, Arc::clone(&stop))?;
            *exit = Some((here, Arc::clone(&stop)));
            stop
        }
    };
    *global = Some(build(here, stop)?);
    Ok(())
}

fn build(pid: u32, stop: Stop) -> std::io::Result<Global> {
    let (done, results) = mpsc::channel::<Message>();
    let threads = Threads::default();
    let (started, of_done) = (Arc::clone(&threads), Arc::clone(&threads));
    let done_thread = std::thread::Builder::new().name("tscb-async-done".to_owned()).spawn(move || {
        add_this_thread(&of_done);
        complete(results, stop);
    })?;
    let for_threads = done.clone();
    let built = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("tscb-async")
        .enable_all()
        .on_thread_start(move || {
            DONE.with(|d| *d.borrow_mut() = Some(for_threads.clone()));
            add_this_thread(&started);
        })
        .build();
    let runtime = match built {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = done.send(None);
            return Err(e);
        }
    };
    let epoch = EPOCH.fetch_add(1, Ordering::Relaxed) + 1;
    Ok(Global { pid, epoch, runtime, done, done_thread, threads })
}

/// Adds `/proc/self/task/<tid>` of the calling thread (where there is one: Linux) to `threads`,
/// and lets go of those of threads gone (the blocking pool's come and go).
fn add_this_thread(threads: &Threads) {
    if let Ok(own) = std::fs::read_link("/proc/thread-self") {
        let mut threads = threads.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        threads.retain(|t| t.exists());
        threads.push(std::path::Path::new("/proc").join(own));
    }
}

/// The result thread: runs the jobs, taking the GIL once for all those waiting, until told to end.
fn complete(results: mpsc::Receiver<Message>, stop: Stop) {
    while let Ok(Some(first)) = results.recv() {
        let stopped = stop.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if *stopped {
            // Leaked rather than dropped: dropping runs Python code (a PyErr's value, say) that
            // needs the interpreter.
            std::mem::forget(first);
            continue;
        }
        let mut end = false;
        Python::attach(|_py| {
            let mut job = Some(first);
            loop {
                let run = match job.take() {
                    Some(run) => run,
                    None => match results.try_recv() {
                        Ok(Some(run)) => run,
                        Ok(None) => {
                            end = true;
                            break;
                        }
                        Err(_) => break,
                    },
                };
                // A job's failure is reported by the library itself; a panic must not end the thread.
                let _ = catch_unwind(AssertUnwindSafe(run));
            }
        });
        if end {
            return;
        }
    }
}

/// The `os.register_at_fork(before=...)` hook: stops this process's runtime and its threads if
/// no call is in flight (see the module's comment), and returns once they are gone.
fn before_fork(py: Python<'_>) {
    if IN_FLIGHT.load(Ordering::SeqCst) != 0 {
        return;
    }
    let here = std::process::id();
    let taken = {
        let mut global = GLOBAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match global.as_ref() {
            Some(g) if g.pid == here => global.take(),
            _ => None,
        }
    };
    let Some(Global { runtime, done, done_thread, threads, .. }) = taken else { return };
    // Without the GIL: the result thread may need it for the results it still has to hand over.
    py.detach(move || {
        // Idle connections' tasks end here; a host-name lookup of a cancelled call may outlive
        // the bound, and then the fork warns, rightly.
        runtime.shutdown_timeout(Duration::from_secs(1));
        let _ = done.send(None);
        drop(done);
        let _ = done_thread.join();
        let deadline = Instant::now() + Duration::from_secs(1);
        let threads = threads.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        while threads.iter().any(|t| t.exists()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Registers [`before_fork`] with `os.register_at_fork` (where Python has it: not on Windows).
/// Once per interpreter: a child of fork() inherits it.
pub(crate) fn register_fork_hook(py: Python<'_>) -> PyResult<()> {
    let os = py.import("os")?;
    if !os.hasattr("register_at_fork")? {
        return Ok(());
    }
    let hook = pyo3::types::PyCFunction::new_closure(py, None, None, |args, _kwargs| before_fork(args.py()))?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("before", hook)?;
    os.call_method("register_at_fork", (), Some(&kwargs))?;
    Ok(())
}

/// Counts a call in flight from its submission until its result is converted for Python (just
/// before asyncio may see it: a fork right after the await finds it counted no more, while the
/// library's tasks may still be winding up: stopping the runtime then drops them harmlessly) or
/// it is dropped.
struct Busy;

impl Busy {
    fn new() -> Self {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        Busy
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
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
        // hand; elsewhere `submit` has built it already (holding the GIL since: no fork since).
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            return Handle(Some(handle.spawn(fut)));
        }
        Handle(global(|g| g.runtime.spawn(fut)))
    }

    fn spawn_blocking<F>(f: F) -> Handle
    where
        F: FnOnce() + Send + 'static,
    {
        let job: Job = Box::new(f);
        let unsent = DONE.with(|d| match d.borrow().as_ref() {
            Some(done) => done.send(Some(job)).err().and_then(|mpsc::SendError(job)| job),
            None => Some(job),
        });
        if let Some(job) = unsent {
            // Not on a runtime thread: never the case in the library, but a job must not be lost.
            let _ = global(|g| g.done.send(Some(job)));
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
pub(crate) struct Answer<T>(Result<T, tscb::Error>, Busy);

impl<'py, T: IntoPyObject<'py>> IntoPyObject<'py> for Answer<T> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        drop(self.1);
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
    ensure_built(py)?;
    let guarded = CatchPanic(Box::pin(call));
    // Counted from now, not from the task's first poll: a fork must not stop the runtime with
    // this call waiting in it.
    let busy = Busy::new();
    pyo3_async_runtimes::generic::future_into_py_with_locals::<Tokio, _, _>(py, locals, async move {
        Ok(Answer(guarded.await, busy))
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
