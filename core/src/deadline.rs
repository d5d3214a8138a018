//! One deadline for a whole call: sign-in, renewals, retries and their waits all come out of
//! the same budget ([`crate::ClientBuilder::call_timeout`]), so that a call ends within it
//! whatever the service does.

use std::time::{Duration, Instant};

use crate::error::Error;

/// When the call must be over, and the budget it started with (for messages).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Instant,
    budget: Duration,
}

impl Deadline {
    /// A deadline `budget` from now. Budgets are checked to be at most a day, so this cannot
    /// overflow.
    pub(crate) fn after(budget: Duration) -> Deadline {
        Deadline { at: Instant::now() + budget, budget }
    }

    /// What is left of the call's budget (zero once it has passed).
    pub(crate) fn left(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// A deadline for work the call can do without (an early token renewal): at most half of
    /// what is left, so that the call itself keeps the other half.
    pub(crate) fn half_of_what_is_left(&self) -> Deadline {
        Deadline { at: Instant::now() + self.left() / 2, budget: self.budget }
    }

    /// The error of a call whose deadline passed while it was `doing` something.
    pub(crate) fn passed(&self, doing: &str) -> Error {
        Error::Timeout {
            message: format!(
                "the call did not finish within its call timeout of {:?}: it ran out while {doing}",
                self.budget
            ),
            source: None,
        }
    }
}
