//! The record of the simulator's deliveries: every attempt (the latest 1,000, for
//! `GET /__admin/deliveries`), how many are under way, and the stop that ends their waits.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::sync::lock;

/// Attempts kept for `GET /__admin/deliveries`, newest last.
const MAX_LOGGED: usize = 1000;

/// One attempt of a delivery, as `GET /__admin/deliveries` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub delivery_id: u64,
    /// 1 for the first attempt; the message's `callbackCount` rises with it.
    pub attempt: u32,
    pub url: String,
    /// The listener's status, or `None` when no status line came back.
    pub status: Option<u16>,
    /// Why no status came back (connection refused, timeout, …).
    pub error: Option<String>,
    /// True for the delivery's last attempt: a 2xx, or the attempts ran out.
    pub last: bool,
}

impl DeliveryAttempt {
    pub(crate) fn to_json(&self) -> Value {
        serde_json::json!({
            "deliveryId": self.delivery_id, "attempt": self.attempt, "url": self.url,
            "status": self.status, "error": self.error, "last": self.last,
        })
    }
}

#[derive(Default)]
struct Log {
    attempts: VecDeque<DeliveryAttempt>,
    next_id: u64,
    running: usize,
}

/// The deliveries of one simulator: the log, and a stop that ends the waits between attempts.
#[derive(Default)]
pub(crate) struct Deliveries {
    log: Mutex<Log>,
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Deliveries {
    pub(crate) fn attempts(&self) -> Vec<DeliveryAttempt> {
        lock(&self.log).attempts.iter().cloned().collect()
    }

    pub(crate) fn stop(&self) {
        *lock(&self.stopped) = true;
        self.wake.notify_all();
    }

    /// Waits `duration` unless stopped first; true when the full time passed.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        let stopped = lock(&self.stopped);
        let (stopped, _) = self
            .wake
            .wait_timeout_while(stopped, duration, |stopped| !*stopped)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        !*stopped
    }

    pub(crate) fn record(&self, attempt: DeliveryAttempt) {
        let mut log = lock(&self.log);
        if log.attempts.len() == MAX_LOGGED {
            log.attempts.pop_front();
        }
        log.attempts.push_back(attempt);
    }

    /// Counts a delivery as under way and returns its id, unless `max` are under way already.
    pub(crate) fn begin(&self, max: usize) -> Option<u64> {
        let mut log = lock(&self.log);
        if log.running >= max {
            return None;
        }
        log.running += 1;
        log.next_id += 1;
        Some(log.next_id)
    }

    /// A delivery begun with [`Deliveries::begin`] is over.
    pub(crate) fn end(&self) {
        lock(&self.log).running -= 1;
    }
}
