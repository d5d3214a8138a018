//! The plan: the listeners every account should have ([`Desired`]), what each has, and the
//! changes between them ([`Plan::compute`]), listed with the fleet's workers. Applying a plan is
//! `apply.rs`'s; reading the desired state from a file is `spec.rs`'s.

use std::collections::HashSet;

use crate::blocking::Client;
use crate::codes;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{CallbackRegistration, RegisteredCallback};
use crate::validate;

use super::workers;

/// The default number of workers (threads, each with at most one request in flight).
pub const DEFAULT_CONCURRENCY: usize = 8;

/// The listeners every account should have: the whole fleet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    /// The accounts, each at most once.
    pub accounts: Vec<DesiredAccount>,
}

impl Desired {
    /// The desired state of these accounts.
    pub fn new(accounts: Vec<DesiredAccount>) -> Self {
        Desired { accounts }
    }

    /// Checks every value with the same rules as [`Client::register_callback`], and that no
    /// account (and no service of an account) appears twice. Nothing is sent.
    pub fn validate(&self, check_callback_port: bool) -> Result<()> {
        let mut seen = HashSet::new();
        for account in &self.accounts {
            account.validate(check_callback_port)?;
            if !seen.insert(account.name.as_str()) {
                return Err(Error::invalid(
                    codes::FLEET_DUPLICATE,
                    format!("account {:?} appears more than once", account.name),
                ));
            }
        }
        Ok(())
    }
}

/// The listeners one account should have: one registration per service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredAccount {
    /// The billing account name, e.g. `0000123456-00001`.
    pub name: String,
    /// Its registrations, each service at most once.
    pub registrations: Vec<CallbackRegistration>,
}

impl DesiredAccount {
    /// The desired registrations of account `name`.
    pub fn new(name: impl Into<String>, registrations: Vec<CallbackRegistration>) -> Self {
        DesiredAccount { name: name.into(), registrations }
    }

    /// Checks the account's values as [`Desired::validate`] does. The error's message starts
    /// with the account (and the service) it is about; its code is the rule's.
    pub fn validate(&self, check_callback_port: bool) -> Result<()> {
        let about = |e: Error, service: Option<&str>| match e {
            Error::InvalidInput { code, message } => {
                let service = service.map(|s| format!(", service {s:?}")).unwrap_or_default();
                Error::invalid(code, format!("account {:?}{service}: {message}", self.name))
            }
            other => other,
        };
        validate::account_name(&self.name).map_err(|e| about(e, None))?;
        let mut seen = HashSet::new();
        for reg in &self.registrations {
            let service = reg.service_name();
            validate_registration(reg, check_callback_port).map_err(|e| about(e, Some(service)))?;
            if !seen.insert(service) {
                return Err(about(
                    Error::invalid(codes::FLEET_DUPLICATE, "the service appears more than once"),
                    Some(service),
                ));
            }
        }
        Ok(())
    }
}

/// The one check of [`Client::register_callback`] a registration's own types cannot make: the
/// port, which depends on the client.
fn validate_registration(reg: &CallbackRegistration, check_callback_port: bool) -> Result<()> {
    if check_callback_port {
        reg.callback_url().check_port()?;
    }
    Ok(())
}

/// What [`Plan::apply`] does to one account's listener of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Not registered: register it.
    Create,
    /// Registered with another URL, username or password: register it again.
    Update,
    /// Registered but not desired (only with [`PlanOptions::prune`]): deregister it.
    Delete,
    /// Registered as desired: nothing to do.
    Unchanged,
}

impl Action {
    /// `create`, `update`, `delete` or `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Unchanged => "unchanged",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so that width and alignment work in tables.
        f.pad(self.as_str())
    }
}

/// One account's listener of one service: what is registered, what should be, and the action.
/// `Debug` never shows a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The account name.
    pub account: String,
    /// The service name.
    pub service: String,
    /// What `apply` does.
    pub action: Action,
    /// For an update, what differs: some of `"url"`, `"username"`, `"password"`.
    pub differences: Vec<&'static str>,
    /// The registration to make (create, update) or that is in place (unchanged).
    pub desired: Option<CallbackRegistration>,
    /// What the account's listing showed (update, delete, unchanged).
    pub current: Option<RegisteredCallback>,
}

/// An account whose listing failed: the plan has nothing for it, and `apply` reports it failed.
#[derive(Debug)]
pub struct AccountFailure {
    /// The account name.
    pub account: String,
    /// Why its listing failed (for example `UnifiedWebService.REQUEST_FAILED.AccountNotFound`).
    pub error: Error,
}

/// How [`Plan::compute`] works.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOptions {
    /// Also deregister listeners that are registered but not desired (default false).
    pub prune: bool,
    /// How many accounts are listed at once (default [`DEFAULT_CONCURRENCY`]).
    pub concurrency: usize,
    /// At most this many requests per second in all (default: no limit).
    pub max_rate: Option<f64>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions { prune: false, concurrency: DEFAULT_CONCURRENCY, max_rate: None }
    }
}

/// What `apply` would do, per account and service, in the order of the desired state (the
/// pruned services of an account after its desired ones).
#[derive(Debug)]
pub struct Plan {
    changes: Vec<Change>,
    failures: Vec<AccountFailure>,
}

impl Plan {
    /// Validates `desired` (nothing is sent when a value is wrong), signs in once, lists every
    /// account (`options.concurrency` at a time) and compares. An account whose listing fails is
    /// in [`Plan::failures`]; an authentication failure stops the listing and is the error.
    pub fn compute(client: &Client, desired: &Desired, options: &PlanOptions) -> Result<Plan> {
        desired.validate(client.check_callback_port())?;
        workers::check_concurrency(options.concurrency)?;
        let pacer = workers::Pacer::new(options.max_rate)?;
        // One sign-in before any worker starts: every worker then shares its tokens.
        client.login()?;
        let listed = workers::run(&desired.accounts, options.concurrency, &pacer, |account| {
            pacer.send(|| client.list_callbacks(&account.name))
        });
        let mut plan = Plan { changes: Vec::new(), failures: Vec::new() };
        let mut auth_failure = None;
        for (account, listing) in desired.accounts.iter().zip(listed) {
            match listing {
                Some(Ok(listing)) => plan.changes.extend(diff(account, listing, options.prune)),
                Some(Err(error)) if error.kind() == ErrorKind::Auth => {
                    auth_failure.get_or_insert(error);
                }
                Some(Err(error)) => {
                    plan.failures.push(AccountFailure { account: account.name.clone(), error })
                }
                // Not listed: the run stopped after an authentication failure.
                None => {}
            }
        }
        match auth_failure {
            Some(error) => Err(error),
            None => Ok(plan),
        }
    }

    /// Every listener the plan looked at, with its action (unchanged ones too).
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// The accounts whose listing failed.
    pub fn failures(&self) -> &[AccountFailure] {
        &self.failures
    }

    /// Whether `apply` would send anything: a create, update or delete.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::Unchanged)
    }

    /// How many changes have this action.
    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }
}

/// Compares one account's desired registrations with its listing.
fn diff(account: &DesiredAccount, mut listed: Vec<RegisteredCallback>, prune: bool) -> Vec<Change> {
    let mut changes = Vec::with_capacity(account.registrations.len());
    for want in &account.registrations {
        let found = listed.iter().position(|cb| cb.service_name == want.service_name());
        let current = found.map(|i| listed.remove(i));
        let (action, differences) = match &current {
            None => (Action::Create, Vec::new()),
            Some(current) => {
                let differences = differences(want, current);
                let action = if differences.is_empty() { Action::Unchanged } else { Action::Update };
                (action, differences)
            }
        };
        changes.push(Change {
            account: account.name.clone(),
            service: want.service_name().to_owned(),
            action,
            differences,
            desired: Some(want.clone()),
            current,
        });
    }
    if prune {
        changes.extend(listed.into_iter().map(|current| Change {
            account: account.name.clone(),
            service: current.service_name.clone(),
            action: Action::Delete,
            differences: Vec::new(),
            desired: None,
            current: Some(current),
        }));
    }
    changes
}

/// Which fields differ. The service shows an unset username or password as missing or empty,
/// so both mean unset on either side.
fn differences(want: &CallbackRegistration, current: &RegisteredCallback) -> Vec<&'static str> {
    let mut differ = Vec::new();
    if want.url() != current.url {
        differ.push("url");
    }
    if want.username().filter(|u| !u.is_empty()) != current.username.as_deref() {
        differ.push("username");
    }
    let want_password = want.password().map(|p| p.expose()).filter(|p| !p.is_empty());
    let listed_password = current.password.as_ref().map(|p| p.expose());
    let same = match (want_password, listed_password) {
        (Some(a), Some(b)) => same_secret(a, b),
        (None, None) => true,
        _ => false,
    };
    if !same {
        differ.push("password");
    }
    differ
}

/// Compares two secrets in time that depends on their lengths only, not on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(same_secret("", ""));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abc\0"));
        assert!(!same_secret("abc", ""));
    }

    #[test]
    fn validation_names_the_account_and_service() {
        let reg = |url: &str| CallbackRegistration::new("CarrierService", url).unwrap();
        let bad = Desired::new(vec![DesiredAccount::new("A-1", vec![reg("https://x.example.com:8443/cb")])]);
        let err = bad.validate(true).unwrap_err();
        assert_eq!(err.error_code(), codes::CALLBACK_URL_PORT);
        assert!(err.error_message().starts_with("account \"A-1\", service \"CarrierService\": "), "{err}");
        assert!(bad.validate(false).is_ok());

        let ok = reg("https://x.example.com/cb");
        let twice = Desired::new(vec![
            DesiredAccount::new("A-1", vec![ok.clone()]),
            DesiredAccount::new("A-1", vec![ok.clone()]),
        ]);
        assert_eq!(twice.validate(true).unwrap_err().error_code(), codes::FLEET_DUPLICATE);
        let service_twice = Desired::new(vec![DesiredAccount::new("A-1", vec![ok.clone(), ok])]);
        assert_eq!(service_twice.validate(true).unwrap_err().error_code(), codes::FLEET_DUPLICATE);
        let bad_name = Desired::new(vec![DesiredAccount::new("..", vec![])]);
        assert_eq!(bad_name.validate(true).unwrap_err().error_code(), codes::ACCOUNT_NAME_DOT_SEGMENT);
    }
}
