//! The bridge between asyncio and tokio for `tscb.AsyncClient`.
//!
//! **The runtime.** Built on first use, per process: one worker thread (`tscb-async`), where
//! every request's I/O and timers run, and tokio's blocking pool (also `tscb-async`, started on
//! demand, each thread leaving after 10 s idle) for host-name lookups. None of them ever takes
//! the GIL.
//!
//! **Results go back through a port per event loop.** A finished call puts its result in the
//! port of the loop that awaits it and, unless the port was signalled already, writes one byte
//! to a socket pair whose other end the loop watches (`loop.add_reader`). The loop's thread,
//! which holds the GIL anyway, then converts every result waiting and completes its future: one
//! wake-up of the loop for a burst of results, and no other thread waiting for the GIL. (The
//! first version used pyo3-async-runtimes' `future_into_py`, which hands each result to a thread
//! that must take the GIL and then calls `call_soon_threadsafe`: with 256 calls in flight that
//! thread waited for the busy loop to let go of the GIL, and the calls took 5 ms longer than
//! the server's delay, where aiohttp took 3.4.)
//!
//! **fork().** After `fork()` the child has none of the runtime's threads, and the parent's
//! runtime must neither be driven nor dropped there (its epoll instance and eventfd are shared
//! with the parent: see core's `blocking/engine.rs`): the runtime and the ports record the pid
//! that made them, and a process that finds another's makes its own and leaks the old ones.
//! Python 3.12+ warns (DeprecationWarning) at every `fork()` of a process with more than one
//! thread, since a thread holding a lock at the fork leaves it locked in the child forever. So
//! an `os.register_at_fork(before=...)` hook stops the runtime and its threads, and waits until
//! they are gone, when no call is in flight: then the fork is safe and nothing warns, and the
//! next call starts a new runtime (the clients' pools follow it: see `epoch`). With a call in
//! flight the threads stay, the call goes on in the parent, and the warning is right: the child
//! still builds its own runtime, but a lock held by a runtime thread at that moment (in the
//! allocator, say) would stay held there.

use std::cell::RefCell;
use std::future::Future;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCFunction, PyWeakrefReference};
use pyo3::{intern, BoundObject};

use crate::errors::to_py;

/// One process's runtime: stopped before a fork when idle, else kept for the life of the process
/// (and leaked by a child of fork()).
struct Global {
    pid: u32,
    /// Which runtime this is; a client's connection pool belongs to one (see [`epoch`]).
    epoch: u64,
    runtime: tokio::runtime::Runtime,
    /// Calls submitted to it whose task has not ended. The runtime's own, not the process's: a
    /// child of fork() copies the parent's count of calls that only the parent will finish.
    in_flight: Arc<AtomicUsize>,
    /// `/proc/self/task/<tid>` of each of its threads (Linux only), to wait until they are
    /// really gone before a fork: a thread that was joined still counts a little longer.
    threads: Threads,
}

type Threads = Arc<Mutex<Vec<std::path::PathBuf>>>;

/// The last runtime's epoch.
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// Only Python threads, holding the GIL, take this lock, so a `fork()` (which needs the GIL)
/// never finds it held by another thread.
static GLOBAL: Mutex<Option<Global>> = Mutex::new(None);

/// This process's runtime, if it has one running.
fn global<T>(use_it: impl FnOnce(&Global) -> T) -> Option<T> {
    let global = crate::lock(&GLOBAL);
    global.as_ref().filter(|g| g.pid == std::process::id()).map(use_it)
}

/// The epoch of this process's running runtime, if any. A connection pool used under one
/// runtime has its connections' tasks on it: once that runtime is stopped (before a fork) the
/// pool is replaced.
pub(crate) fn epoch() -> Option<u64> {
    global(|g| g.epoch)
}

/// Builds this process's runtime if it has none running, and hands it the task that `task`
/// makes: counted in flight from then on (see [`Busy`]).
/// Failing to start a thread is an `OSError` in Python, as it is for `threading`.
fn spawn<F>(task: impl FnOnce(Busy) -> F) -> std::io::Result<tokio::task::AbortHandle>
where
    F: Future<Output = ()> + Send + 'static,
{
    let here = std::process::id();
    let mut global = crate::lock(&GLOBAL);
    let global = match global.take() {
        Some(g) if g.pid == here => global.insert(g),
        other => {
            // The parent's, copied by fork(): never dropped here (see the module's comment).
            std::mem::forget(other);
            global.insert(build(here)?)
        }
    };
    // Counted under the lock that `before_fork` takes: it never stops the runtime between the
    // count and the spawn.
    let busy = Busy::new(&global.in_flight);
    Ok(global.runtime.spawn(task(busy)).abort_handle())
}

fn build(pid: u32) -> std::io::Result<Global> {
    let threads = Threads::default();
    let started = Arc::clone(&threads);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("tscb-async")
        .enable_all()
        .on_thread_start(move || add_this_thread(&started))
        .build()?;
    let epoch = EPOCH.fetch_add(1, Ordering::Relaxed) + 1;
    Ok(Global { pid, epoch, runtime, in_flight: Arc::default(), threads })
}

/// Adds `/proc/self/task/<tid>` of the calling thread (where there is one: Linux) to `threads`,
/// and lets go of those of threads gone (the blocking pool's come and go).
fn add_this_thread(threads: &Threads) {
    if let Ok(own) = std::fs::read_link("/proc/thread-self") {
        let mut threads = crate::lock(threads);
        threads.retain(|t| t.exists());
        threads.push(std::path::Path::new("/proc").join(own));
    }
}

/// The `os.register_at_fork(before=...)` hook: stops this process's runtime and its threads if
/// no call is in flight (see the module's comment), and returns once they are gone.
fn before_fork(py: Python<'_>) {
    let here = std::process::id();
    let taken = {
        let mut global = crate::lock(&GLOBAL);
        match global.as_ref() {
            Some(g) if g.pid == here && g.in_flight.load(Ordering::SeqCst) == 0 => global.take(),
            _ => None,
        }
    };
    let Some(Global { runtime, threads, .. }) = taken else { return };
    // Without the GIL, as nothing here needs it.
    py.detach(move || {
        // Idle connections' tasks end here; a host-name lookup of a cancelled call may outlive
        // the bound, and then the fork warns, rightly.
        runtime.shutdown_timeout(Duration::from_secs(1));
        let deadline = Instant::now() + Duration::from_secs(1);
        let threads = crate::lock(&threads).clone();
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
    let hook = PyCFunction::new_closure(py, None, None, |args, _kwargs| before_fork(args.py()))?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("before", hook)?;
    os.call_method("register_at_fork", (), Some(&kwargs))?;
    Ok(())
}

/// Counts a call in flight on its runtime from its submission until its task ends (its result
/// is then in a port, which needs no runtime) or is dropped.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn new(in_flight: &Arc<AtomicUsize>) -> Self {
        in_flight.fetch_add(1, Ordering::SeqCst);
        Busy(Arc::clone(in_flight))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Completes one call's asyncio future; run by the loop's thread, with the GIL.
type Job = Box<dyn FnOnce(Python<'_>) + Send>;

/// Where the runtime leaves finished calls for one event loop (see the module's comment).
struct Port {
    pid: u32,
    jobs: Mutex<Vec<Job>>,
    /// True from the byte written until the loop has read it: later results need no byte.
    signalled: AtomicBool,
    /// Written by the runtime's thread; `woken`, its other end, is watched by the loop.
    wake: UnixStream,
    woken: UnixStream,
}

impl Port {
    fn new() -> std::io::Result<Port> {
        let (wake, woken) = UnixStream::pair()?;
        wake.set_nonblocking(true)?;
        woken.set_nonblocking(true)?;
        Ok(Port {
            pid: std::process::id(),
            jobs: Mutex::default(),
            signalled: AtomicBool::new(false),
            wake,
            woken,
        })
    }

    /// On a runtime thread: leaves `job` for the loop, and wakes it unless it has been already.
    fn push(&self, job: Job) {
        crate::lock(&self.jobs).push(job);
        // Never full: a byte is written only after the loop has cleared the flag, that is read
        // what was there. A write that fails clears it again, for the next result to retry.
        if !self.signalled.swap(true, Ordering::SeqCst) && (&self.wake).write(&[1]).is_err() {
            self.signalled.store(false, Ordering::SeqCst);
        }
    }

    /// On the loop's thread (its reader callback): completes every call waiting. Unsignalled
    /// before the jobs are taken, so that a job pushed meanwhile either is taken now or writes
    /// a new byte.
    fn drain(&self, py: Python<'_>) {
        if self.pid != std::process::id() {
            // A child of fork() running its copy of the parent's loop: the socket pair is the
            // parent's too, and a byte read here would be the parent's wake-up, lost to it for
            // good (its flag stays set). Left to the parent, which reads it.
            return;
        }
        let mut bytes = [0u8; 16];
        while matches!((&self.woken).read(&mut bytes), Ok(n) if n > 0) {}
        self.signalled.store(false, Ordering::SeqCst);
        let jobs = std::mem::take(&mut *crate::lock(&self.jobs));
        for job in jobs {
            // A job's failure is reported by the library itself; a panic must not end the loop.
            let _ = catch_unwind(AssertUnwindSafe(|| job(py)));
        }
    }
}

/// A port and the loop that watches it (a weak reference: a loop the user dropped goes, and its
/// reader callback with it).
struct Watched {
    event_loop: Py<PyWeakrefReference>,
    port: Arc<Port>,
}

std::thread_local! {
    /// The ports of the loops that have run calls on this thread (usually one).
    static PORTS: RefCell<Vec<Watched>> = const { RefCell::new(Vec::new()) };
}

/// The port of `event_loop`, running on this thread: made, and watched by the loop, on its
/// first call.
fn port_of(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<Port>> {
    let here = std::process::id();
    PORTS.with(|ports| {
        let mut ports = ports.borrow_mut();
        if ports.first().is_some_and(|w| w.port.pid != here) {
            // Copied by fork(): their sockets are shared with the parent, whose runtime writes
            // there, so they are neither read nor closed here.
            ports.drain(..).for_each(std::mem::forget);
        }
        let same = |w: &&Watched| w.event_loop.bind(py).upgrade().is_some_and(|l| l.is(event_loop));
        if let Some(watched) = ports.iter().find(same) {
            return Ok(Arc::clone(&watched.port));
        }
        // Loops gone or closed have let go of their reader callbacks: their ports go too.
        ports.retain(|w| match w.event_loop.bind(py).upgrade() {
            Some(l) => !l.call_method0(intern!(py, "is_closed")).and_then(|c| c.is_truthy()).unwrap_or(true),
            None => false,
        });
        let port = Arc::new(Port::new()?);
        let reader = Arc::clone(&port);
        let callback =
            PyCFunction::new_closure(py, None, None, move |args, _kwargs| reader.drain(args.py()))?;
        event_loop.call_method1(intern!(py, "add_reader"), (port.woken.as_raw_fd(), callback))?;
        let event_loop = PyWeakrefReference::new(event_loop)?.unbind();
        ports.push(Watched { event_loop, port: Arc::clone(&port) });
        Ok(port)
    })
}

/// A submitted call's task: aborted (its request cancelled) when dropped, a no-op once it ended.
pub(crate) struct Task(tokio::task::AbortHandle);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `call` on this process's runtime and returns the asyncio future of its result, on the
/// running event loop, with the call's [`Task`]: dropping it (when the awaiting task is
/// cancelled) drops `call`, which cancels the request. A panic in `call` becomes a `TscbError`
/// (`Tscb.REQUEST_FAILED.Panic`), as in the blocking client.
pub(crate) fn submit<'py, T>(
    py: Python<'py>,
    call: impl Future<Output = Result<T, tscb::Error>> + Send + 'static,
) -> PyResult<(Bound<'py, PyAny>, Task)>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    // Fails (RuntimeError) before anything starts when no event loop is running.
    let event_loop = running_loop(py)?;
    let port = port_of(py, &event_loop)?;
    let future = event_loop.call_method0(intern!(py, "create_future"))?;
    let to_complete = future.clone().unbind();
    let guarded = CatchPanic(Box::pin(call));
    // Counted from its spawn, not from the task's first poll: a fork must not stop the runtime
    // with this call waiting in it.
    let task = spawn(|busy| async move {
        let result = guarded.await;
        port.push(Box::new(move |py| complete(py, to_complete.bind(py), result)));
        drop(busy);
    })
    .map_err(PyErr::from)?;
    Ok((future, Task(task)))
}

/// Hands a call's result to its future, unless that was cancelled meanwhile.
fn complete<'py, T: IntoPyObject<'py>>(
    py: Python<'py>,
    future: &Bound<'py, PyAny>,
    result: Result<T, tscb::Error>,
) {
    let done = future.call_method0(intern!(py, "done")).and_then(|d| d.is_truthy());
    if !matches!(done, Ok(false)) {
        return;
    }
    let converted = match result {
        Ok(value) => value.into_pyobject(py).map(|v| v.into_any().into_bound()).map_err(Into::into),
        Err(error) => Err(to_py(py, &error)),
    };
    let _ = match converted {
        Ok(value) => future.call_method1(intern!(py, "set_result"), (value,)),
        Err(error) => future.call_method1(intern!(py, "set_exception"), (error.into_value(py),)),
    };
}

/// `asyncio.get_running_loop()`.
fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    static GET: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let get = GET.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("asyncio")?.getattr("get_running_loop")?.unbind())
    })?;
    get.bind(py).call0()
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
