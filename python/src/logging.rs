//! The library's records (its `log` target `tscb`) to Python's `logging`, under the logger
//! `tscb`: requests at DEBUG, decisions at INFO, a login not sent at WARNING.
//!
//! A call runs without the GIL, so its records are kept in a per-thread buffer and handed to
//! `logging` once the call returns and the GIL is held again. Before each call the logger's
//! effective level is read once; records below it are not even formatted, so with the level off
//! a call costs that one lookup.

use std::cell::{Cell, RefCell};

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

/// Runs `f` without the GIL, then passes the records it made to the `tscb` logger.
pub(crate) fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> T {
    // A broken `logging` must not break the call: then nothing is recorded.
    let logger = logger(py).ok();
    let wanted = logger
        .and_then(|l| l.call_method0("getEffectiveLevel").ok())
        .and_then(|level| level.extract::<i64>().ok())
        .map_or(LevelFilter::Off, filter);
    if wanted == LevelFilter::Off {
        return py.detach(f);
    }
    let out = py.detach(|| {
        WANTED.set(wanted);
        let out = f();
        WANTED.set(LevelFilter::Off);
        out
    });
    let records = RECORDS.take();
    if let Some(logger) = logger {
        for (level, message) in records {
            // "%s" so that a `%` in a path is never taken for a format.
            let message = PyString::new(py, &message);
            let _ = logger.call_method1("log", (python_level(level), "%s", message));
        }
    }
    out
}
