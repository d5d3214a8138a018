//! `--exec 'CMD ARGS…'`: each accepted message goes to a new process, as one JSON line on its
//! stdin, with `TSCB_DEDUP_KEY` in its environment; the 200 is sent only once that process has
//! exited 0 within `--exec-timeout`. The command runs directly (split as a shell would split
//! words, but no shell), in a process group of its own, so that a timeout kills whatever it
//! started too. At most `--exec-concurrency` run at once; a request beyond waits for a slot,
//! bounded in time, so the only queue is the requests themselves (bounded by --max-connections).

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::ChildStderr;
use tokio::sync::Semaphore;

use super::log::Log;
use super::writer::{Seen, Written};

/// A line of the command's stderr longer than this is logged in pieces.
const MAX_LOG_LINE: u64 = 1024;

pub struct Exec {
    program: String,
    args: Vec<String>,
    timeout: Duration,
    slots: Semaphore,
    log: Log,
    /// The keys delivered recently: a resend is answered 200 without running the command again.
    seen: Mutex<Seen>,
    /// One lock per key being delivered: two resends arriving together run the command once.
    in_flight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Exec {
    /// Fails when `command` cannot be split, is empty, or names no executable file.
    pub fn new(command: &str, timeout: Duration, concurrency: usize, log: Log) -> Result<Exec, String> {
        let words = shlex::split(command)
            .ok_or_else(|| format!("--exec {command:?}: an unclosed quote or a trailing backslash"))?;
        let Some((program, args)) = words.split_first() else {
            return Err("--exec names no command".to_owned());
        };
        if !executable_exists(program) {
            return Err(format!("--exec: {program:?} is not an executable file (nor on PATH)"));
        }
        Ok(Exec {
            program: program.clone(),
            args: args.to_vec(),
            timeout,
            slots: Semaphore::new(concurrency),
            log,
            seen: Mutex::new(Seen::default()),
            in_flight: Mutex::new(HashMap::new()),
        })
    }

    /// Runs the command for one message, unless a message with `key` was delivered in the last
    /// hour; waits at most `wait` for a free slot.
    pub async fn deliver(&self, key: &str, line: &str, wait: Duration) -> io::Result<Written> {
        let key_lock = lock(&self.in_flight).entry(key.to_owned()).or_default().clone();
        let outcome = async {
            let _delivering = key_lock.lock().await;
            if lock(&self.seen).contains(key, Instant::now()) {
                return Ok(Written::Duplicate);
            }
            let _slot = tokio::time::timeout(wait, self.slots.acquire())
                .await
                .map_err(|_| {
                    io::Error::new(io::ErrorKind::TimedOut, "no --exec-concurrency slot came free in time")
                })?
                .map_err(io::Error::other)?;
            self.run(key, line).await?;
            lock(&self.seen).insert(key.to_owned(), Instant::now());
            Ok(Written::Written)
        }
        .await;
        let mut in_flight = lock(&self.in_flight);
        // Only the map and this call hold it: nobody else waits for this key.
        if in_flight.get(key).is_some_and(|l| Arc::strong_count(l) <= 2) {
            in_flight.remove(key);
        }
        outcome
    }

    async fn run(&self, key: &str, line: &str) -> io::Result<()> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .env("TSCB_DEDUP_KEY", key)
            // systemd's variables are the listener's, not the command's.
            .env_remove("LISTEN_FDS")
            .env_remove("LISTEN_PID")
            .env_remove("LISTEN_FDNAMES")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("could not start {}: {e}", self.program)))?;
        let pid = child.id().unwrap_or_default();
        tokio::spawn(forward(child.stderr.take(), self.log.clone(), pid));
        let mut stdin = child.stdin.take();
        let ran = tokio::time::timeout(self.timeout, async {
            if let Some(mut stdin) = stdin.take() {
                // A command may exit without reading its stdin: its status decides, not this.
                let _ = stdin.write_all(line.as_bytes()).await;
                let _ = stdin.write_all(b"\n").await;
            }
            child.wait().await
        })
        .await;
        match ran {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => {
                Err(io::Error::other(format!("{} (pid {pid}) ended with {status}", self.program)))
            }
            Ok(Err(e)) => Err(e),
            Err(_) => {
                if pid > 0 {
                    // The whole group: a shell's children too. SAFETY: kill(2) has no memory effects.
                    unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
                }
                let _ = child.wait().await;
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{} (pid {pid}) ran over --exec-timeout ({:?}) and was killed",
                        self.program, self.timeout
                    ),
                ))
            }
        }
    }
}

/// The command's stderr into the listener's log (bounded: lines are dropped when it is behind).
async fn forward(stderr: Option<ChildStderr>, log: Log, pid: u32) {
    let Some(stderr) = stderr else { return };
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader).take(MAX_LOG_LINE).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        log.line(format!("exec (pid {pid}): {}", tscb::escape_invisible(text.trim_end_matches('\n'))));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether `program` names an executable file, directly (with a `/`) or on PATH.
fn executable_exists(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable =
        |path: &Path| path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if program.contains('/') {
        return executable(Path::new(program));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| executable(&dir.join(program))))
}
