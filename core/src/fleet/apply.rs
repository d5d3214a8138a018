//! Carrying out a plan: one request (or two) per change, with the plan's workers and pacing,
//! and one outcome per change.

use std::time::{Duration, Instant};

use super::plan::{Action, Change, Plan, DEFAULT_CONCURRENCY};
use super::workers::{self, Pacer};
use crate::blocking::Client;
use crate::error::{Error, ErrorKind, Result};

/// How [`Plan::apply`] works.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyOptions {
    /// How many requests are in flight at once (default [`DEFAULT_CONCURRENCY`]).
    pub concurrency: usize,
    /// At most this many requests per second in all (default: no limit).
    pub max_rate: Option<f64>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { concurrency: DEFAULT_CONCURRENCY, max_rate: None }
    }
}

/// What happened to one change.
#[derive(Debug)]
#[non_exhaustive]
pub enum Status {
    /// Done as planned (for `unchanged`: nothing was sent).
    Done,
    /// An update the service refused as a second register (HTTP 400 with this code): the old
    /// listener was deregistered, then the new one registered.
    Replaced {
        /// The code of the refused register.
        refused_with: String,
    },
    /// It failed; the other changes went on.
    Failed(Error),
    /// Not tried: an authentication failure stopped the run first.
    NotRun,
}

impl Status {
    /// `done`, `replaced`, `failed` or `not_run`: what the bindings and the CLI's JSON say.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Replaced { .. } => "replaced",
            Status::Failed(_) => "failed",
            Status::NotRun => "not_run",
        }
    }

    /// The code of the refused register, when it was [`Status::Replaced`].
    pub fn refused_with(&self) -> Option<&str> {
        match self {
            Status::Replaced { refused_with } => Some(refused_with),
            _ => None,
        }
    }
}

/// One change and what happened to it.
#[derive(Debug)]
pub struct Outcome {
    /// The account name.
    pub account: String,
    /// The service name; `None` when the account's listing failed (so no change was planned).
    pub service: Option<String>,
    /// The planned action; `None` when the account's listing failed.
    pub action: Option<Action>,
    /// What happened.
    pub status: Status,
}

impl Outcome {
    /// The error, when it failed.
    pub fn error(&self) -> Option<&Error> {
        match &self.status {
            Status::Failed(error) => Some(error),
            _ => None,
        }
    }
}

/// Every outcome of [`Plan::apply`], in the plan's order, and the time it took.
#[derive(Debug)]
pub struct ApplyReport {
    /// One per change of the plan, then one per account whose listing failed.
    pub outcomes: Vec<Outcome>,
    /// From the first request to the last answer.
    pub elapsed: Duration,
}

impl ApplyReport {
    fn count(&self, action: Action) -> usize {
        self.outcomes
            .iter()
            .filter(|o| {
                o.action == Some(action) && matches!(o.status, Status::Done | Status::Replaced { .. })
            })
            .count()
    }

    /// Listeners registered that were not there.
    pub fn created(&self) -> usize {
        self.count(Action::Create)
    }

    /// Listeners registered again with new values.
    pub fn updated(&self) -> usize {
        self.count(Action::Update)
    }

    /// Listeners deregistered.
    pub fn deleted(&self) -> usize {
        self.count(Action::Delete)
    }

    /// Listeners already as desired.
    pub fn unchanged(&self) -> usize {
        self.count(Action::Unchanged)
    }

    /// Changes (and account listings) that failed.
    pub fn failed(&self) -> usize {
        self.failures().count()
    }

    /// Changes not tried because an authentication failure stopped the run.
    pub fn not_run(&self) -> usize {
        self.outcomes.iter().filter(|o| matches!(o.status, Status::NotRun)).count()
    }

    /// The outcomes that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| o.error().is_some())
    }

    /// Whether every change was made.
    pub fn is_success(&self) -> bool {
        self.failed() == 0 && self.not_run() == 0
    }
}

impl Plan {
    /// Carries out the plan with `client`: registers (create, update) and deregisters (delete),
    /// `options.concurrency` at a time. One change's failure does not stop the others; an
    /// authentication failure stops the run (the changes not started are [`Status::NotRun`]).
    /// The error is only for invalid options: then nothing is sent.
    pub fn apply(&self, client: &Client, options: &ApplyOptions) -> Result<ApplyReport> {
        self.apply_with_progress(client, options, &|_| {})
    }

    /// [`Plan::apply`], calling `progress` (from the worker threads) after each change that
    /// sent something.
    pub fn apply_with_progress(
        &self,
        client: &Client,
        options: &ApplyOptions,
        progress: &(dyn Fn(&Outcome) + Sync),
    ) -> Result<ApplyReport> {
        workers::check_concurrency(options.concurrency)?;
        let pacer = Pacer::new(options.max_rate)?;
        let start = Instant::now();
        let work: Vec<&Change> = self.changes().iter().filter(|c| c.action != Action::Unchanged).collect();
        let done = workers::run(&work, options.concurrency, &pacer, |change| {
            let outcome = outcome(change, carry_out(client, &pacer, change));
            progress(&outcome);
            outcome.status
        });
        let elapsed = start.elapsed();
        let mut done = done.into_iter();
        let mut outcomes = Vec::with_capacity(self.changes().len() + self.failures().len());
        for change in self.changes() {
            let status = match change.action {
                Action::Unchanged => Status::Done,
                _ => done.next().flatten().unwrap_or(Status::NotRun),
            };
            outcomes.push(outcome(change, status));
        }
        outcomes.extend(self.failures().iter().map(|failure| Outcome {
            account: failure.account.clone(),
            service: None,
            action: None,
            status: Status::Failed(failure.error.replay("")),
        }));
        Ok(ApplyReport { outcomes, elapsed })
    }
}

fn outcome(change: &Change, status: Status) -> Outcome {
    Outcome {
        account: change.account.clone(),
        service: Some(change.service.clone()),
        action: Some(change.action),
        status,
    }
}

fn carry_out(client: &Client, pacer: &Pacer, change: &Change) -> Status {
    let account = change.account.as_str();
    let register = || match &change.desired {
        Some(desired) => pacer.send(|| client.register_callback(account, desired)).map(drop),
        // A plan always has the registration for a create or update.
        None => Ok(()),
    };
    let result = match change.action {
        Action::Unchanged => Ok(()),
        Action::Delete => pacer.send(|| client.deregister_callback(account, &change.service)).map(drop),
        Action::Create => register(),
        Action::Update => match register() {
            Err(refused) if refused_as_second_register(&refused) => {
                return replace(client, pacer, change, refused, register);
            }
            other => other,
        },
    };
    match result {
        Ok(()) => Status::Done,
        Err(error) => Status::Failed(error),
    }
}

/// Whether a register of a service that is registered already failed as if the service does not
/// take a second register (whether it does is not documented; the simulator replaces): a 400
/// that is not about the session.
fn refused_as_second_register(error: &Error) -> bool {
    error.kind() == ErrorKind::Api && error.http_status() == Some(400) && !error.is_session_error()
}

/// The update the service refused: deregister, then register.
fn replace(
    client: &Client,
    pacer: &Pacer,
    change: &Change,
    refused: Error,
    register: impl Fn() -> Result<()>,
) -> Status {
    let refused_with = refused.error_code().to_owned();
    if let Err(error) = pacer.send(|| client.deregister_callback(&change.account, &change.service)) {
        // Still registered as before; the register's refusal is the more useful error.
        let note = format!(" (and deregistering first failed too: {})", error.error_code());
        return Status::Failed(refused.replay(&note));
    }
    match register() {
        Ok(()) => Status::Replaced { refused_with },
        Err(error) => Status::Failed(error.replay(&format!(
            " (the service refused a second register with {refused_with}, so the old listener was \
             deregistered first: the account now has no listener for this service)"
        ))),
    }
}
