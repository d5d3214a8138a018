//! `tscb plan` and `tscb apply`: the fleet file, the plan as text or JSON, the confirmation,
//! the progress and the summary. The work itself is `tscb::fleet`'s.

// The doc comments on the arguments are clap's help text, read in a terminal, where the TOML
// table names `[defaults]` and `[[account]]` are not links.
#![allow(rustdoc::broken_intra_doc_links)]

mod file;

use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tscb::fleet::{Action, ApplyOptions, ApplyReport, Outcome, Plan, PlanOptions, Status};
use tscb::{Client, Error, ErrorKind};

use crate::{exit_code, Failure};

/// Exit code of `plan --exit-code` when something would change (as `git diff --exit-code`).
const CHANGES_PENDING: u8 = 8;

#[derive(Args)]
pub(crate) struct PlanArgs {
    /// The fleet file (TOML: [defaults] and [[account]] tables)
    #[arg(short = 'f', long, value_name = "FILE")]
    file: PathBuf,
    /// Also deregister listeners that are registered but not in the file
    #[arg(long)]
    prune: bool,
    /// Exit with 8 when something would change
    #[arg(long)]
    exit_code: bool,
    #[command(flatten)]
    pace: Pace,
}

#[derive(Args)]
pub(crate) struct ApplyArgs {
    /// The fleet file (TOML: [defaults] and [[account]] tables)
    #[arg(short = 'f', long, value_name = "FILE")]
    file: PathBuf,
    /// Also deregister listeners that are registered but not in the file
    #[arg(long)]
    prune: bool,
    /// Do not ask for confirmation (needed when stdin is not a terminal)
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    pace: Pace,
}

#[derive(Args)]
struct Pace {
    /// How many requests may be in flight at once
    #[arg(long, value_name = "N", default_value_t = tscb::fleet::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// At most N requests per second, in all
    #[arg(long, value_name = "N")]
    max_rate: Option<f64>,
}

fn environment(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

fn compute(client: &Client, file: &std::path::Path, prune: bool, pace: &Pace) -> Result<Plan, Failure> {
    let desired = file::load(file, &environment)?;
    let options = PlanOptions { prune, concurrency: pace.concurrency, max_rate: pace.max_rate };
    Ok(Plan::compute(client, &desired, &options)?)
}

/// `tscb plan`: prints what `apply` would do.
pub(crate) fn plan(client: &Client, args: &PlanArgs, json: bool) -> Result<(), Failure> {
    let plan = compute(client, &args.file, args.prune, &args.pace)?;
    let out = &mut std::io::stdout().lock();
    let printed = if json { print_plan_json(out, &plan) } else { print_plan(out, &plan, true) };
    printed.map_err(write_failure)?;
    let worst = plan.failures().iter().map(|f| &f.error).max_by_key(|e| severity(e));
    match worst {
        Some(error) => Err(Failure::Exit(exit_code(error.kind()))),
        None if args.exit_code && plan.has_changes() => Err(Failure::Exit(CHANGES_PENDING)),
        None => Ok(()),
    }
}

/// `tscb apply`: computes the plan, shows it, asks, carries it out and sums up.
pub(crate) fn apply(client: &Client, args: &ApplyArgs, json: bool) -> Result<(), Failure> {
    let stdin_is_terminal = std::io::stdin().is_terminal();
    // Checked before anything is sent: a script must say --yes rather than hang on a question.
    if !args.yes && !stdin_is_terminal {
        eprintln!("error: tscb apply asks for confirmation, and stdin is not a terminal: add --yes to apply without asking");
        return Err(Failure::Exit(2));
    }
    let plan = compute(client, &args.file, args.prune, &args.pace)?;
    let to_do = plan.changes().len() - plan.count(Action::Unchanged);
    {
        let out = &mut std::io::stdout().lock();
        let shown = if json { Ok(()) } else { print_plan(out, &plan, false) };
        shown.map_err(write_failure)?;
    }
    if to_do > 0 && !args.yes && !confirm(to_do)? {
        eprintln!("apply cancelled: nothing was changed");
        return Ok(());
    }
    let options = ApplyOptions { concurrency: args.pace.concurrency, max_rate: args.pace.max_rate };
    let bar = (to_do > 0 && !json && std::io::stderr().is_terminal()).then(|| progress_bar(to_do));
    let progress = |outcome: &Outcome| match &bar {
        Some(bar) => {
            if let Status::Failed(_) | Status::Replaced { .. } = outcome.status {
                bar.println(outcome_line(outcome));
            }
            bar.inc(1);
        }
        None if !json => {
            // A reader that went away must not stop the run; the summary's write reports it.
            let _ = writeln!(std::io::stdout().lock(), "{}", outcome_line(outcome));
        }
        None => {}
    };
    let report = plan.apply_with_progress(client, &options, &progress)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let out = &mut std::io::stdout().lock();
    let printed = if json { print_report_json(out, &report) } else { print_summary(out, &report) };
    printed.map_err(write_failure)?;
    match report.failures().filter_map(Outcome::error).max_by_key(|e| severity(e)) {
        Some(error) => Err(Failure::Exit(exit_code(error.kind()))),
        // Changes not run are only there after an authentication failure, which is a failure.
        None if report.not_run() > 0 => Err(Failure::Exit(exit_code(ErrorKind::Auth))),
        None => Ok(()),
    }
}

/// The worst failure decides the exit code: an authentication failure first (it stopped the
/// run, and must not be retried in a loop), then the highest exit code.
fn severity(error: &Error) -> (bool, u8) {
    (error.kind() == ErrorKind::Auth, exit_code(error.kind()))
}

fn write_failure(e: std::io::Error) -> Failure {
    Failure::Internal(format!("could not write the output: {e}"))
}

fn confirm(to_do: usize) -> Result<bool, Failure> {
    eprint!("Apply these {to_do} changes? Only 'yes' goes on: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::Internal(format!("could not read the answer: {e}")))?;
    Ok(answer.trim() == "yes")
}

fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    // The template is a constant: it cannot fail to parse, but never panic if it did.
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} changes, {elapsed} (about {eta} left)")
    {
        bar.set_style(style);
    }
    bar
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
fn print_plan(out: &mut impl Write, plan: &Plan, with_unchanged: bool) -> std::io::Result<()> {
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

fn print_plan_json(out: &mut impl Write, plan: &Plan) -> std::io::Result<()> {
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

fn outcome_line(outcome: &Outcome) -> String {
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

fn print_summary(out: &mut impl Write, report: &ApplyReport) -> std::io::Result<()> {
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

fn print_report_json(out: &mut impl Write, report: &ApplyReport) -> std::io::Result<()> {
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
