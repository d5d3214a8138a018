//! The library's records (its `log` target `tscb`) to Python's `logging`, under the logger
//! `tscb`: requests at DEBUG, decisions at INFO, a login not sent at WARNING.
//!
//! A call runs without the GIL, so its records are kept in a per-thread buffer and handed to
//! `logging` once the call returns and the GIL is held again. Before each call the logger's
//! effective level is read once; records below it are not even formatted, so with the level off
//! a call costs that one lookup.
//!
//! An `AsyncClient` call runs on the runtime's thread, interleaved with other calls: [`Logged`]
//! turns its level on only while that call is polled and moves what each poll recorded into the
//! call's own list, which the call's coroutine hands to `logging` when it ends, on the event
//! loop's thread and in the task's context (so `contextvars` read by filters, such as a request
//! id, are the task's). The runtime's threads never take the GIL for a record: a handler that
//! blocks, or a thread holding the GIL while waiting for a call, cannot stall other calls.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use log::{Level, LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyString;

thread_local! {
    static WANTED: Cell<LevelFilter> = const { Cell::new(LevelFilter::Off) };
    static RECORDS: RefCell<Vec<(Level, String)>> = const { RefCell::new(Vec::new()) };
}

struct Buffer;

impl Log for Buffer {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == tscb::LOG_TARGET && metadata.level() <= WANTED.get()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            RECORDS.with_borrow_mut(|r| r.push((record.level(), record.args().to_string())));
        }
    }

    fn flush(&self) {}
}

/// Installs the buffer as this module's logger (the `log` crate inside this extension is its
/// own; the per-thread level keeps every record off until a call asks for them).
pub(crate) fn install() {
    if log::set_logger(&Buffer).is_ok() {
        log::set_max_level(LevelFilter::Debug);
    }
}

fn logger(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    LOGGER
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("logging")?.call_method1("getLogger", ("tscb",))?.unbind())
        })
        .map(|l| l.bind(py))
}

/// `logging`'s numeric level to the most verbose `log` level it lets through.
fn filter(python_level: i64) -> LevelFilter {
    match python_level {
        ..=10 => LevelFilter::Debug,
        11..=20 => LevelFilter::Info,
        21..=30 => LevelFilter::Warn,
        31..=40 => LevelFilter::Error,
        _ => LevelFilter::Off,
    }
}

fn python_level(level: Level) -> i64 {
    match level {
        Level::Error => 40,
        Level::Warn => 30,
        Level::Info => 20,
        Level::Debug | Level::Trace => 10,
    }
}

/// The most verbose level the `tscb` logger lets through now (`Off` if `logging` is broken: a
/// broken `logging` must not break the call, it only records nothing).
pub(crate) fn wanted(py: Python<'_>) -> LevelFilter {
    logger(py)
        .ok()
        .and_then(|l| l.call_method0("getEffectiveLevel").ok())
        .and_then(|level| level.extract::<i64>().ok())
        .map_or(LevelFilter::Off, filter)
}

/// Passes `records` to the `tscb` logger; `stacklevel` as `logging`'s, for the records to
/// name the line that made the call.
fn emit(py: Python<'_>, records: Vec<(Level, String)>, stacklevel: u32) {
    if records.is_empty() {
        return;
    }
    let Ok(logger) = logger(py) else { return };
    let kwargs = pyo3::types::PyDict::new(py);
    if kwargs.set_item("stacklevel", stacklevel).is_err() {
        return;
    }
    for (level, message) in records {
        // "%s" so that a `%` in a path is never taken for a format.
        let message = PyString::new(py, &message);
        let _ = logger.call_method("log", (python_level(level), "%s", message), Some(&kwargs));
    }
}

/// Runs `f` without the GIL, then passes the records it made to the `tscb` logger.
pub(crate) fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> T {
    let wanted = wanted(py);
    if wanted == LevelFilter::Off {
        return py.detach(f);
    }
    let out = py.detach(|| {
        WANTED.set(wanted);
        let out = f();
        WANTED.set(LevelFilter::Off);
        out
    });
    emit(py, RECORDS.take(), 1);
    out
}

/// The records of one asynchronous call, shared by the call (which adds to them on the
/// runtime's thread) and its coroutine (which emits them).
#[derive(Clone, Default)]
pub(crate) struct Records(Arc<Mutex<Vec<(Level, String)>>>);

impl Records {
    /// Passes the records made so far to the `tscb` logger (on the calling thread, which holds
    /// the GIL; the lock is never held while Python runs), naming the line that awaited the call
    /// rather than the library's coroutine.
    pub(crate) fn emit(&self, py: Python<'_>) {
        let taken = std::mem::take(&mut *crate::lock(&self.0));
        emit(py, taken, 2);
    }
}

/// A call whose records, at `wanted` or above, go to `records`.
pub(crate) struct Logged<F> {
    call: Pin<Box<F>>,
    wanted: LevelFilter,
    records: Records,
}

impl<F> Logged<F> {
    pub(crate) fn new(call: F, wanted: LevelFilter, records: Records) -> Self {
        Logged { call: Box::pin(call), wanted, records }
    }
}

/// Turns the level off and collects the poll's records even when the call panics (the panic is
/// caught further out): the thread goes on to poll other calls, which must not record into
/// this one's list.
struct Polling<'a>(&'a Records);

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        WANTED.set(LevelFilter::Off);
        let made = RECORDS.take();
        if !made.is_empty() {
            crate::lock(&self.0 .0).extend(made);
        }
    }
}

impl<F: Future> Future for Logged<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if self.wanted == LevelFilter::Off {
            return self.call.as_mut().poll(cx);
        }
        let this = &mut *self;
        WANTED.set(this.wanted);
        let _polling = Polling(&this.records);
        this.call.as_mut().poll(cx)
    }
}
