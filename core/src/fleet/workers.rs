//! The workers both phases share: a fixed number of scoped threads taking items from one queue,
//! one pacer that every worker obeys before each request, and one stop flag.
//!
//! Why shared rather than per worker: a busy answer (429/503) is about the whole client, not the
//! one request that got it, so every worker waits; and a refused sign-in must not be repeated by
//! each worker (five failed logins lock the account), so the first one stops them all.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::codes;
use crate::error::{Error, ErrorKind, Result};

/// How often one request answered "busy" is sent again before its answer counts as a failure.
const BUSY_RETRIES: u32 = 5;
/// The wait after a busy answer that did not say how long (`Retry-After`).
const BUSY_DEFAULT_WAIT: Duration = Duration::from_secs(1);
/// The longest a busy answer makes the whole run wait, whatever its `Retry-After` says.
const BUSY_MAX_WAIT: Duration = Duration::from_secs(60);

/// When the next request may go: never before the end of the last busy wait, and, with a
/// maximum rate, one request per interval for all workers together.
pub(crate) struct Pacer {
    interval: Option<Duration>,
    times: Mutex<Times>,
    stop: AtomicBool,
}

struct Times {
    /// The earliest moment the next rate-limited request may go.
    next_slot: Instant,
    /// No request before this moment: the end of the last busy answer's wait.
    not_before: Instant,
}

impl Pacer {
    /// A pacer for at most `max_rate` requests per second (`None`: no limit).
    pub(crate) fn new(max_rate: Option<f64>) -> Result<Pacer> {
        let interval = match max_rate {
            None => None,
            Some(rate) if rate.is_finite() && rate > 0.0 => {
                Some(Duration::try_from_secs_f64(1.0 / rate).unwrap_or(Duration::from_secs(86_400)))
            }
            Some(_) => {
                return Err(Error::invalid(
                    codes::FLEET_OPTION_INVALID,
                    "the maximum rate must be a positive number of requests per second",
                ))
            }
        };
        let now = Instant::now();
        Ok(Pacer {
            interval,
            times: Mutex::new(Times { next_slot: now, not_before: now }),
            stop: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Times> {
        self.times.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until this worker may send its next request.
    fn wait_turn(&self) {
        let mut slot_taken = false;
        loop {
            let now = Instant::now();
            let at = {
                let mut times = self.lock();
                let mut at = times.not_before.max(now);
                if let (Some(interval), false) = (self.interval, slot_taken) {
                    at = at.max(times.next_slot);
                    times.next_slot = at + interval;
                    slot_taken = true;
                }
                at
            };
            if at <= now {
                return;
            }
            // A busy answer may arrive while this worker sleeps: it checks again afterwards.
            std::thread::sleep(at - now);
        }
    }

    /// Makes every worker wait `wait` before its next request.
    fn busy(&self, wait: Duration) {
        let until = Instant::now() + wait.min(BUSY_MAX_WAIT);
        let mut times = self.lock();
        times.not_before = times.not_before.max(until);
    }

    /// Whether an authentication failure has stopped the run.
    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sends one request through `send`: waits its turn, and after a busy answer makes every
    /// worker wait, then sends it again (a bounded number of times). An authentication failure
    /// stops the run: workers take no new work.
    pub(crate) fn send<T>(&self, mut send: impl FnMut() -> Result<T>) -> Result<T> {
        let mut busy_answers = 0;
        loop {
            self.wait_turn();
            match send() {
                Err(error) if is_busy(&error) && busy_answers < BUSY_RETRIES => {
                    busy_answers += 1;
                    self.busy(error.retry_after().unwrap_or(BUSY_DEFAULT_WAIT));
                }
                Err(error) => {
                    if error.kind() == ErrorKind::Auth {
                        self.stop.store(true, Ordering::SeqCst);
                    }
                    return Err(error);
                }
                ok => return ok,
            }
        }
    }
}

fn is_busy(error: &Error) -> bool {
    matches!(error.http_status(), Some(429 | 503))
}

/// Runs `work` on every item with `concurrency` threads, in the items' order as far as each
/// thread takes the next one. An item not started because the run stopped gives `None`.
pub(crate) fn run<T: Sync, R: Send>(
    items: &[T],
    concurrency: usize,
    pacer: &Pacer,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<Option<R>> {
    let next = AtomicUsize::new(0);
    let threads = concurrency.clamp(1, items.len().max(1));
    let mut results: Vec<Option<R>> = items.iter().map(|_| None).collect();
    let done: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while !pacer.stopped() {
                        let index = next.fetch_add(1, Ordering::SeqCst);
                        let Some(item) = items.get(index) else { break };
                        done.push((index, work(item)));
                    }
                    done
                })
            })
            .collect();
        // A worker that panicked loses its results; the others' still count.
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for (index, result) in done.into_iter().flatten() {
        results[index] = Some(result);
    }
    results
}

pub(crate) fn check_concurrency(concurrency: usize) -> Result<()> {
    if concurrency == 0 {
        return Err(Error::invalid(codes::FLEET_OPTION_INVALID, "the concurrency must be at least 1"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_must_be_positive() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = Pacer::new(Some(bad)).err().unwrap();
            assert_eq!(err.error_code(), codes::FLEET_OPTION_INVALID);
        }
        assert!(Pacer::new(Some(0.5)).is_ok());
        assert!(check_concurrency(0).is_err());
    }

    #[test]
    fn the_rate_spaces_requests_for_all_workers() {
        let pacer = Pacer::new(Some(50.0)).unwrap();
        let start = Instant::now();
        let items: Vec<u32> = (0..11).collect();
        run(&items, 4, &pacer, |_| pacer.send(|| Ok::<_, Error>(())).unwrap());
        // Eleven requests at 50 per second: the last goes 10 intervals after the first.
        assert!(start.elapsed() >= Duration::from_millis(195), "{:?}", start.elapsed());
    }

    #[test]
    fn every_item_runs_once_in_order() {
        let pacer = Pacer::new(None).unwrap();
        let items: Vec<u32> = (0..100).collect();
        let results = run(&items, 7, &pacer, |i| i * 2);
        assert_eq!(results, items.iter().map(|i| Some(i * 2)).collect::<Vec<_>>());
    }

    #[test]
    fn an_auth_failure_stops_the_run() {
        let pacer = Pacer::new(None).unwrap();
        let items: Vec<u32> = (0..50).collect();
        let results = run(&items, 1, &pacer, |&i| {
            pacer.send(|| {
                if i == 3 {
                    Err(Error::Api {
                        status: 401,
                        code: "900901".into(),
                        message: String::new(),
                        kind: ErrorKind::Auth,
                        retry_after: None,
                    })
                } else {
                    Ok(i)
                }
            })
        });
        assert!(results[..3].iter().all(|r| matches!(r, Some(Ok(_)))));
        assert!(matches!(results[3], Some(Err(_))));
        assert!(results[4..].iter().all(Option::is_none));
    }
}
