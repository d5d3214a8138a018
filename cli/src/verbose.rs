//! `-v` / `-vv`: the library's records (its `log` target `tscb`) on stderr, one line each:
//! decisions (retries, sign-ins) with `-v`, every request as well with `-vv`. The records never
//! hold a secret; other crates' records (hyper, rustls) are not shown.

use std::io::Write;

use log::{Level, LevelFilter, Log, Metadata, Record};

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == tscb::LOG_TARGET && metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = match record.level() {
                Level::Error => "error",
                Level::Warn => "warning",
                Level::Info => "info",
                Level::Debug | Level::Trace => "debug",
            };
            // Nowhere to report a failed write to stderr.
            let _ = writeln!(std::io::stderr().lock(), "tscb: {level}: {}", record.args());
        }
    }

    fn flush(&self) {}
}

/// Shows the records for `count` `-v` flags: none for 0, info for 1, debug for 2 or more.
pub(crate) fn init(count: u8) {
    let level = match count {
        0 => return,
        1 => LevelFilter::Info,
        _ => LevelFilter::Debug,
    };
    if log::set_logger(&Stderr).is_ok() {
        log::set_max_level(level);
    }
}
