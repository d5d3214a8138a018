//! The one writer of `tscb listen`: every accepted message goes through it, so that lines never
//! interleave, a message is on disk (or flushed to stdout) before its 200 is sent, and the check
//! "already written?" and the write are one step (two resends arriving together are written once).

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::Write;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// How long a message's key is remembered: ThingSpace resends within minutes, never hours.
pub const DEDUP_WINDOW: Duration = Duration::from_secs(3600);
/// At most this many keys (64 hex digits each, some 10 MB in all); the oldest go first.
pub const DEDUP_CAPACITY: usize = 100_000;

/// Where the lines go.
pub enum Sink {
    Stdout,
    /// Opened for appending; synced (`sync_data`) after every batch.
    File(File),
}

/// What became of one message.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Written,
    /// Its key was written already: a resend, answered 200 but not written again.
    Duplicate,
}

struct Job {
    key: String,
    line: String,
    done: oneshot::Sender<std::io::Result<Written>>,
}

/// The handle that request handlers share. Dropping every clone ends the writer thread once it
/// has written all it was given.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread; join the handle after dropping every `Writer` to be sure all
    /// is written.
    pub fn start(sink: Sink) -> (Writer, std::thread::JoinHandle<()>) {
        let (jobs, queue) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tscb-listen-writer".into())
            .spawn(move || run(sink, queue))
            .expect("the writer thread starts");
        (Writer { jobs }, thread)
    }

    /// Writes `line` (one JSON object, no newline) unless a message with `key` was written in
    /// the last hour; returns once it is flushed (and synced, for a file).
    pub async fn write(&self, key: &str, line: String) -> std::io::Result<Written> {
        let (done, outcome) = oneshot::channel();
        let gone = || std::io::Error::other("the writer has stopped");
        self.jobs.send(Job { key: key.to_owned(), line, done }).map_err(|_| gone())?;
        outcome.await.map_err(|_| gone())?
    }
}

/// The keys written recently, oldest first, bounded in time and number.
struct Seen {
    order: VecDeque<(String, Instant)>,
    keys: HashMap<String, Instant>,
}

impl Seen {
    fn contains(&mut self, key: &str, now: Instant) -> bool {
        while let Some((oldest, at)) = self.order.front() {
            if now.duration_since(*at) < DEDUP_WINDOW && self.order.len() <= DEDUP_CAPACITY {
                break;
            }
            // A key re-inserted later has a newer time in `keys`: only drop the entry if it is this one.
            if self.keys.get(oldest) == Some(at) {
                self.keys.remove(oldest);
            }
            self.order.pop_front();
        }
        self.keys.contains_key(key)
    }

    fn insert(&mut self, key: String, now: Instant) {
        self.keys.insert(key.clone(), now);
        self.order.push_back((key, now));
    }
}

fn run(mut sink: Sink, queue: mpsc::Receiver<Job>) {
    let mut seen = Seen { order: VecDeque::new(), keys: HashMap::new() };
    // One batch: whatever is waiting when the writer comes round, so that one sync covers many
    // messages under load (group commit) and a lone message is written at once.
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        batch.extend(queue.try_iter().take(1023));
        let now = Instant::now();
        let mut text = String::new();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut fresh = Vec::new();
        for job in &batch {
            if seen.contains(&job.key, now) || fresh.contains(&&job.key) {
                outcomes.push(Written::Duplicate);
            } else {
                text.push_str(&job.line);
                text.push('\n');
                fresh.push(&job.key);
                outcomes.push(Written::Written);
            }
        }
        let result = if text.is_empty() { Ok(()) } else { write_all(&mut sink, text.as_bytes()) };
        if result.is_ok() {
            for key in fresh {
                seen.insert(key.clone(), now);
            }
        }
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            let answer = match &result {
                Ok(()) => Ok(outcome),
                Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
            };
            // The request may have gone (the client hung up): the message is written all the same.
            let _ = job.done.send(answer);
        }
    }
}

fn write_all(sink: &mut Sink, bytes: &[u8]) -> std::io::Result<()> {
    match sink {
        Sink::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        Sink::File(file) => {
            file.write_all(bytes)?;
            file.sync_data()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_forgotten_after_the_window_or_beyond_the_capacity() {
        let mut seen = Seen { order: VecDeque::new(), keys: HashMap::new() };
        let start = Instant::now();
        seen.insert("a".into(), start);
        assert!(seen.contains("a", start + Duration::from_secs(3599)));
        assert!(!seen.contains("a", start + DEDUP_WINDOW));
        for i in 0..=DEDUP_CAPACITY {
            seen.insert(i.to_string(), start);
        }
        assert!(!seen.contains("0", start), "the oldest key is evicted beyond the capacity");
        assert!(seen.contains("1", start));
        assert_eq!(seen.keys.len(), DEDUP_CAPACITY);
    }
}
