//! What `tscb plan` and `tscb apply` share: the fleet file, the plan as text or JSON, each
//! outcome's line and the summary. The work itself is `tscb::fleet`'s.

mod file;

use std::ffi::OsString;
use std::io::Write;

use serde_json::json;
use tscb::fleet::{Action, ApplyReport, Outcome, Plan, PlanOptions, Status};
use tscb::{Client, Error, ErrorKind};

use crate::args::{FleetArgs, Pace};
use crate::exit::{exit_code, Failure};

fn environment(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

pub(crate) fn compute(client: &Client, fleet: &FleetArgs, pace: &Pace) -> Result<Plan, Failure> {
    let desired = file::load(&fleet.file, &environment)?;
    let options = PlanOptions { prune: fleet.prune, concurrency: pace.concurrency, max_rate: pace.max_rate };
    Ok(Plan::compute(client, &desired, &options)?)
}

/// The worst failure decides the exit code: an authentication failure first (it stopped the
/// run, and must not be retried in a loop), then the highest exit code.
pub(crate) fn severity(error: &Error) -> (bool, u8) {
    (error.kind() == ErrorKind::Auth, exit_code(error.kind()))
}

fn symbol(action: Action) -> char {
    match action {
        Action::Create => '+',
        Action::Update => '~',
        Action::Delete => '-',
        Action::Unchanged => '=',
    }
}

/// One line per account and service; passwords are compared, never shown.
pub(crate) fn print_plan(out: &mut impl Write, plan: &Plan, with_unchanged: bool) -> std::io::Result<()> {
    for change in plan.changes() {
        if change.action == Action::Unchanged && !with_unchanged {
            continue;
        }
        let detail = match change.action {
            Action::Create => change.desired.as_ref().map(|d| d.url().to_owned()).unwrap_or_default(),
            Action::Update => format!("differs: {}", change.differences.join(", ")),
            Action::Delete | Action::Unchanged => String::new(),
        };
        let line = format!(
            "{} {:<9} {} {} {detail}",
            symbol(change.action),
            change.action,
            change.account,
            change.service
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    for failure in plan.failures() {
        writeln!(out, "! failed    {} {}", failure.account, error_text(&failure.error))?;
    }
    let count = |a| plan.count(a);
    writeln!(
        out,
        "plan: {} to create, {} to update, {} to delete, {} unchanged, {} could not be listed",
        count(Action::Create),
        count(Action::Update),
        count(Action::Delete),
        count(Action::Unchanged),
        match plan.failures().len() {
            1 => "1 account".to_owned(),
            n => format!("{n} accounts"),
        }
    )
}

pub(crate) fn print_plan_json(out: &mut impl Write, plan: &Plan) -> std::io::Result<()> {
    let changes: Vec<_> = plan
        .changes()
        .iter()
        .map(|c| {
            json!({
                "account": c.account,
                "service": c.service,
                "action": c.action.as_str(),
                "differences": c.differences,
                "url": c.desired.as_ref().map(|d| d.url()),
                "username": c.desired.as_ref().and_then(|d| d.username()),
                "currentUrl": c.current.as_ref().map(|r| r.url.as_str()),
            })
        })
        .collect();
    let failures: Vec<_> = plan.failures().iter().map(|f| error_json(&f.account, None, &f.error)).collect();
    let summary = json!({
        "create": plan.count(Action::Create),
        "update": plan.count(Action::Update),
        "delete": plan.count(Action::Delete),
        "unchanged": plan.count(Action::Unchanged),
        "failed": plan.failures().len(),
    });
    writeln!(out, "{}", json!({"changes": changes, "failures": failures, "summary": summary}))
}

fn error_text(error: &Error) -> String {
    match error.http_status() {
        Some(status) => format!("{}: {} (HTTP {status})", error.error_code(), error.error_message()),
        None => format!("{}: {}", error.error_code(), error.error_message()),
    }
}

fn error_json(account: &str, service: Option<&str>, error: &Error) -> serde_json::Value {
    json!({
        "account": account,
        "service": service,
        "errorCode": error.error_code(),
        "errorMessage": error.error_message(),
        "httpStatus": error.http_status(),
    })
}

fn done_word(action: Option<Action>) -> &'static str {
    match action {
        Some(Action::Create) => "created",
        Some(Action::Update) => "updated",
        Some(Action::Delete) => "deleted",
        Some(Action::Unchanged) => "unchanged",
        None => "listed",
    }
}

pub(crate) fn outcome_line(outcome: &Outcome) -> String {
    let what = match &outcome.service {
        Some(service) => format!("{} {service}", outcome.account),
        // The account's listing failed: the plan has no service for it.
        None => format!("account {}", outcome.account),
    };
    match &outcome.status {
        Status::Done => format!("{} {what}", done_word(outcome.action)),
        Status::Replaced { refused_with } => format!(
            "updated {what} by deregistering first (the service refused a second register with {refused_with})"
        ),
        Status::Failed(error) => format!("failed {what}: {}", error_text(error)),
        Status::NotRun => format!("not run {what}"),
        // Statuses added to the library later.
        _ => format!("{what}: {:?}", outcome.status),
    }
}

pub(crate) fn print_summary(out: &mut impl Write, report: &ApplyReport) -> std::io::Result<()> {
    let failures: Vec<&Outcome> = report.failures().collect();
    if !failures.is_empty() {
        writeln!(out, "failures:")?;
        for outcome in &failures {
            writeln!(out, "  {}", outcome_line(outcome))?;
        }
    }
    if report.not_run() > 0 {
        writeln!(
            out,
            "stopped after an authentication failure: {} changes not run (do not retry a refused login in a loop)",
            report.not_run()
        )?;
    }
    writeln!(
        out,
        "apply: {} created, {} updated, {} deleted, {} unchanged, {} failed in {:.2} s",
        report.created(),
        report.updated(),
        report.deleted(),
        report.unchanged(),
        report.failed(),
        report.elapsed.as_secs_f64()
    )
}

pub(crate) fn print_report_json(out: &mut impl Write, report: &ApplyReport) -> std::io::Result<()> {
    let outcomes: Vec<_> = report
        .outcomes
        .iter()
        .map(|o| {
            let mut value = json!({
                "account": o.account,
                "service": o.service,
                "action": o.action.map(Action::as_str),
                "status": o.status.as_str(),
                "refusedWith": o.status.refused_with(),
            });
            if let Some(error) = o.error() {
                value["errorCode"] = json!(error.error_code());
                value["errorMessage"] = json!(error.error_message());
            }
            value
        })
        .collect();
    let summary = json!({
        "created": report.created(),
        "updated": report.updated(),
        "deleted": report.deleted(),
        "unchanged": report.unchanged(),
        "failed": report.failed(),
        "notRun": report.not_run(),
        "elapsed": report.elapsed.as_secs_f64(),
    });
    writeln!(out, "{}", json!({"outcomes": outcomes, "summary": summary}))
}
