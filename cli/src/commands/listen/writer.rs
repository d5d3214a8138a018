//! The one writer of `tscb listen`: every accepted message goes through it, so that lines never
//! interleave, a message is on disk (or flushed to stdout) before its 200 is sent, and the check
//! "already written?" and the write are one step (two resends arriving together are written once).
//! A batch that fails is taken back where the output is a regular file (truncated to where it
//! began), so that no acknowledged message ever sits in a broken line.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use tokio::sync::oneshot;

/// How long a message's key is remembered: ThingSpace resends within minutes, never hours.
pub const DEDUP_WINDOW: Duration = Duration::from_secs(3600);
/// At most this many keys (64 hex digits each, some 10 MB in all); the oldest go first.
pub const DEDUP_CAPACITY: usize = 100_000;

/// Where the lines go.
pub enum Sink {
    /// Flushed to the kernel (written straight to fd 1, never buffered), not synced.
    Stdout,
    /// Opened for appending; synced (`sync_data`) after every batch when a regular file.
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

enum Order {
    Write(Job),
    /// Write what came before, then end: connections cut later must not keep the writer waiting.
    Close,
}

/// The handle that request handlers share. The writer thread ends at `close`, or once every
/// clone is dropped, after writing all it was given.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Order>,
}

/// Resolves (with an error, its sender dropped) once the writer thread has ended.
pub type Ended = oneshot::Receiver<()>;

impl Writer {
    /// Starts the writer thread, which counts the batches it writes in `batches`. Fails only
    /// when stdout cannot be duplicated (fd 1 closed).
    pub fn start(sink: Sink, batches: Counter) -> std::io::Result<(Writer, Ended)> {
        let output = Output::new(sink)?;
        let (jobs, queue) = mpsc::channel();
        let (ended, ended_rx) = oneshot::channel::<()>();
        std::thread::Builder::new().name("tscb-listen-writer".into()).spawn(move || {
            let _ended = ended;
            run(output, queue, batches)
        })?;
        Ok((Writer { jobs }, ended_rx))
    }

    /// The writer ends after the messages already given; later ones fail (500).
    pub fn close(&self) {
        let _ = self.jobs.send(Order::Close);
    }

    /// Writes `line` (one JSON object, no newline) unless a message with `key` was written in
    /// the last hour; returns once it is flushed (and synced, for a file).
    pub async fn write(&self, key: String, line: String) -> std::io::Result<Written> {
        let (done, outcome) = oneshot::channel();
        let gone = || std::io::Error::other("the writer has stopped");
        self.jobs.send(Order::Write(Job { key, line, done })).map_err(|_| gone())?;
        outcome.await.map_err(|_| gone())?
    }
}

/// The keys written recently, oldest first, bounded in time and number.
#[derive(Default)]
pub struct Seen {
    order: VecDeque<(String, Instant)>,
    keys: HashMap<String, Instant>,
}

impl Seen {
    pub fn contains(&mut self, key: &str, now: Instant) -> bool {
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

    pub fn insert(&mut self, key: String, now: Instant) {
        self.keys.insert(key.clone(), now);
        self.order.push_back((key, now));
    }
}

fn run(mut output: Output, queue: mpsc::Receiver<Order>, batches: Counter) {
    let mut seen = Seen::default();
    let mut closing = false;
    // One batch: whatever is waiting when the writer comes round, so that one sync covers many
    // messages under load (group commit) and a lone message is written at once.
    while !closing {
        let mut batch = Vec::new();
        for order in queue.recv().into_iter().chain(queue.try_iter()) {
            match order {
                Order::Write(job) => batch.push(job),
                Order::Close => closing = true,
            }
            if closing || batch.len() == 1024 {
                break;
            }
        }
        if batch.is_empty() && !closing {
            // Every `Writer` is gone.
            return;
        }
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
        let result = if text.is_empty() { Ok(()) } else { output.write_batch(text.as_bytes()) };
        if !text.is_empty() && result.is_ok() {
            batches.inc();
        }
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

/// The output, written straight to its file descriptor: a buffer in between (as `Stdout`'s)
/// could keep part of a failed batch and write it later, in the middle of another.
struct Output {
    file: File,
    /// A regular file, where a failed batch can be taken back: truncated to where it began.
    regular: bool,
    /// `sync_data` after each batch: `--output`, when a regular file (stdout is only flushed).
    sync: bool,
    /// The output may end in part of a line (a failed batch that could not be taken back, on a
    /// pipe or terminal, or when truncating failed too): the next batch starts on a new line.
    broken: bool,
}

impl Output {
    fn new(sink: Sink) -> std::io::Result<Output> {
        let (file, sync) = match sink {
            // A duplicate of fd 1: the same open file, offset and flags (O_APPEND for `>>`).
            Sink::Stdout => (File::from(std::io::stdout().as_fd().try_clone_to_owned()?), false),
            Sink::File(file) => (file, true),
        };
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        Ok(Output { file, regular, sync: sync && regular, broken: false })
    }

    /// Writes whole lines, or (on a regular file) nothing at all: on an error the file is cut
    /// back to its length before the batch, and the whole batch fails.
    fn write_batch(&mut self, text: &[u8]) -> std::io::Result<()> {
        // Where the batch begins: the length, and the offset (the same, unless not O_APPEND and
        // someone else wrote).
        let mark = match self.regular {
            true => Some((self.file.metadata()?.len(), self.file.stream_position()?)),
            false => None,
        };
        let bytes: Cow<[u8]> = match self.broken {
            true => [b"\n", text].concat().into(),
            false => text.into(),
        };
        let mut written = 0;
        let result = write_counting(&mut self.file, &bytes, &mut written).and_then(|()| {
            if self.sync {
                self.file.sync_data()
            } else {
                Ok(())
            }
        });
        let Err(e) = result else {
            self.broken = false;
            return Ok(());
        };
        let taken_back = mark.is_some_and(|(len, offset)| self.take_back(len, offset).is_ok());
        // Taken back, the output is as before the batch (broken or not, as it was then).
        if !taken_back && written > 0 {
            self.broken = bytes[written - 1] != b'\n';
        }
        Err(e)
    }

    fn take_back(&mut self, len: u64, offset: u64) -> std::io::Result<()> {
        self.file.set_len(len)?;
        self.file.seek(SeekFrom::Start(offset))?;
        if self.sync {
            self.file.sync_data()?;
        }
        Ok(())
    }
}

/// `write_all`, counting what went out (some of it may have before an error).
fn write_counting(file: &mut File, bytes: &[u8], written: &mut usize) -> std::io::Result<()> {
    while *written < bytes.len() {
        match file.write(&bytes[*written..]) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => *written += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
