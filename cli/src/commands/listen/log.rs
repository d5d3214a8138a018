//! The listener's log on stderr, which must never stop it: nothing on the runtime's threads
//! writes stderr. Lines go through a bounded channel to one thread that writes them (and may
//! block there when nobody reads stderr); when the channel is full a line is dropped and counted
//! in [`DROPPED`]. Refusals are aggregated per source and reason, at most one line each
//! [`REFUSAL_INTERVAL`], so that a flood of them costs a few lines, not one line a request.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The log lines dropped since the start because the writer was behind (stderr not read).
pub static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Lines waiting for the writer thread; more are dropped.
const CAPACITY: usize = 256;
/// At most one line per source and reason this often.
pub const REFUSAL_INTERVAL: Duration = Duration::from_secs(5);
/// How many (source, reason) pairs are counted apart; beyond, they are counted together as
/// "other sources", so that a flood from many addresses (IPv6 has plenty) takes bounded memory.
const MAX_KEYS: usize = 1024;

enum Message {
    Line(String),
    /// Write the refusals not reported yet, then answer.
    Flush(mpsc::Sender<()>),
}

/// A handle on the log; clones share it.
#[derive(Clone)]
pub struct Log {
    sender: SyncSender<Message>,
    refusals: Arc<Mutex<Refusals>>,
}

impl Log {
    /// The log on stderr.
    pub fn start() -> Log {
        Log::start_on(std::io::stderr())
    }

    /// The log on `out`, written by a thread of its own. The thread is never joined (it may be
    /// stuck on `out` for good); [`Log::finish`] waits for it within a bound.
    pub fn start_on(mut out: impl Write + Send + 'static) -> Log {
        let (sender, receiver) = mpsc::sync_channel(CAPACITY);
        let refusals = Arc::new(Mutex::new(Refusals::default()));
        let shared = Arc::clone(&refusals);
        let spawned = std::thread::Builder::new().name("tscb-listen-log".into()).spawn(move || {
            let mut reported = 0;
            loop {
                let (mut lines, done, end) = match receiver.recv_timeout(Duration::from_secs(1)) {
                    Ok(Message::Line(line)) => (vec![line], None, false),
                    Ok(Message::Flush(done)) => (lock(&shared).due(Instant::now(), true), Some(done), false),
                    Err(RecvTimeoutError::Timeout) => (lock(&shared).due(Instant::now(), false), None, false),
                    Err(RecvTimeoutError::Disconnected) => {
                        (lock(&shared).due(Instant::now(), true), None, true)
                    }
                };
                // Written here, when the writer has caught up: how much it missed.
                let dropped = DROPPED.load(Ordering::Relaxed);
                if dropped > reported {
                    lines.push(format!(
                        "{} log lines were dropped: stderr was not read fast enough",
                        dropped - reported
                    ));
                    reported = dropped;
                }
                for line in lines {
                    let _ = writeln!(out, "{line}");
                }
                let _ = out.flush();
                if let Some(done) = done {
                    let _ = done.send(());
                }
                if end {
                    return;
                }
            }
        });
        if let Err(e) = spawned {
            // Without the thread every line counts as dropped (the receiver is gone).
            eprintln!("could not start the log thread: {e}");
        }
        Log { sender, refusals }
    }

    /// Logs `line`, or drops and counts it when the writer is behind. Never blocks.
    pub fn line(&self, line: String) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.sender.try_send(Message::Line(line))
        {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a refusal of `what` (e.g. "connections closed at once") from `source` for
    /// `reason` (a fixed text or an error code, the key it is counted under), with `detail`
    /// (e.g. the error message; the last one is logged). The first one of a key is logged at
    /// once, the next ones at most every [`REFUSAL_INTERVAL`], as a count.
    pub fn refused(&self, source: IpAddr, what: &'static str, reason: &str, detail: &str) {
        let line = lock(&self.refusals).add(Instant::now(), source, what, reason, detail);
        if let Some(line) = line {
            self.line(line);
        }
    }

    /// Writes the refusals not reported yet and waits, at most `within`, for the writer to have
    /// written everything before them (it may be stuck on a stderr nobody reads).
    pub fn finish(&self, within: Duration) {
        let (done, finished) = mpsc::channel();
        if self.sender.try_send(Message::Flush(done)).is_ok() {
            let _ = finished.recv_timeout(within);
        }
    }
}

fn lock(refusals: &Mutex<Refusals>) -> std::sync::MutexGuard<'_, Refusals> {
    // A panic while counting leaves counts, not broken invariants: go on with them.
    refusals.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(PartialEq, Eq, Hash)]
struct Key {
    /// None: the sources beyond `MAX_KEYS`, together.
    source: Option<IpAddr>,
    what: &'static str,
    reason: String,
}

struct Count {
    /// Not reported yet.
    count: u64,
    /// When the last line for this key was written (counting starts there).
    reported_at: Instant,
    detail: String,
}

#[derive(Default)]
struct Refusals {
    counts: HashMap<Key, Count>,
}

impl Refusals {
    /// Counts one; the line to log now, if this is the first of its key or the key is due.
    fn add(
        &mut self,
        now: Instant,
        source: IpAddr,
        what: &'static str,
        reason: &str,
        detail: &str,
    ) -> Option<String> {
        let mut key = Key { source: Some(source), what, reason: reason.to_owned() };
        if !self.counts.contains_key(&key) && self.counts.len() >= MAX_KEYS {
            key.source = None;
        }
        match self.counts.get_mut(&key) {
            None => {
                let count = Count { count: 1, reported_at: now, detail: detail.to_owned() };
                let line = report(&key, &count, None);
                self.counts.insert(key, Count { count: 0, ..count });
                Some(line)
            }
            Some(count) => {
                count.count += 1;
                if count.detail != detail {
                    count.detail = detail.to_owned();
                }
                let since = now.saturating_duration_since(count.reported_at);
                if since < REFUSAL_INTERVAL {
                    return None;
                }
                let line = report(&key, count, Some(since));
                count.count = 0;
                count.reported_at = now;
                Some(line)
            }
        }
    }

    /// The lines of the keys due (all with a count when `all`), and forgets the keys that have
    /// been quiet for an interval.
    fn due(&mut self, now: Instant, all: bool) -> Vec<String> {
        let mut lines = Vec::new();
        self.counts.retain(|key, count| {
            let since = now.saturating_duration_since(count.reported_at);
            if count.count > 0 && (all || since >= REFUSAL_INTERVAL) {
                lines.push(report(key, count, Some(since)));
                count.count = 0;
                count.reported_at = now;
                return true;
            }
            count.count > 0 || since < REFUSAL_INTERVAL
        });
        lines
    }
}

/// The line for a key: its first refusal (`since` None), or the count since the last line.
fn report(key: &Key, count: &Count, since: Option<Duration>) -> String {
    let from = key.source.map_or_else(|| "other sources".to_owned(), |ip| ip.to_string());
    let detail = if count.detail.is_empty() { String::new() } else { format!(" ({})", count.detail) };
    match since {
        None => format!("{} from {from}: {}{detail}", key.what, key.reason),
        Some(since) => format!(
            "{} from {from}: {}{detail}: {} in the last {} s",
            key.what,
            key.reason,
            count.count,
            since.as_secs().max(1)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_one_line_then_a_count_per_interval() {
        let mut r = Refusals::default();
        let t0 = Instant::now();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let first = r.add(t0, ip, "refused", "Tscb.X", "why").unwrap();
        assert_eq!(first, "refused from 192.0.2.1: Tscb.X (why)");
        for i in 1..100 {
            assert_eq!(r.add(t0 + Duration::from_millis(i), ip, "refused", "Tscb.X", "why"), None);
        }
        // Another reason, or another source, is another key.
        assert!(r.add(t0, ip, "refused", "Tscb.Y", "").is_some());
        assert!(r.add(t0, "192.0.2.2".parse().unwrap(), "refused", "Tscb.X", "").is_some());
        assert!(r.due(t0 + Duration::from_secs(1), false).is_empty());
        let due = r.due(t0 + REFUSAL_INTERVAL, false);
        assert_eq!(due, ["refused from 192.0.2.1: Tscb.X (why): 99 in the last 5 s"]);
        let later = t0 + REFUSAL_INTERVAL * 3;
        assert!(r.due(later, false).is_empty());
        assert!(r.counts.is_empty(), "quiet keys are forgotten");
    }

    #[test]
    fn many_sources_take_bounded_memory() {
        let mut r = Refusals::default();
        let now = Instant::now();
        for i in 0..(MAX_KEYS as u32 + 500) {
            r.add(now, IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i)), "closed", "not allowed", "");
        }
        assert_eq!(r.counts.len(), MAX_KEYS + 1);
        let others = r.due(now, true);
        assert_eq!(others, ["closed from other sources: not allowed: 499 in the last 1 s"]);
    }

    #[test]
    fn a_log_nobody_reads_drops_lines_and_never_blocks() {
        let (reader, writer) = std::io::pipe().unwrap();
        let log = Log::start_on(writer);
        let before = DROPPED.load(Ordering::Relaxed);
        let started = Instant::now();
        // About 3 MB: far beyond a pipe's buffer and the channel.
        for i in 0..30_000 {
            log.line(format!("line {i} {}", "x".repeat(100)));
        }
        log.finish(Duration::from_millis(100));
        assert!(started.elapsed() < Duration::from_secs(30), "it blocked");
        assert!(DROPPED.load(Ordering::Relaxed) - before > 10_000);
        drop(reader);
    }
}
