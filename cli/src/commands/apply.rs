//! `tscb apply`: computes the plan, shows it, asks, carries it out and sums up.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use tscb::fleet::{Action, ApplyOptions, Outcome, Status};
use tscb::ErrorKind;

use crate::args::{ClientArgs, FleetArgs, Pace};
use crate::exit::{exit_code, Failure, USAGE};
use crate::fleet::{compute, outcome_line, print_plan, print_report_json, print_summary, severity};
use crate::output::{styled, write_failure};
use crate::settings::with_client;

#[derive(Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    /// Do not ask for confirmation (needed when stdin is not a terminal)
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    pace: Pace,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

pub(crate) fn run(args: &ApplyArgs) -> Result<(), Failure> {
    // Checked before anything is sent: a script must say --yes rather than hang on a question.
    if !args.yes && !std::io::stdin().is_terminal() {
        eprintln!("error: tscb apply asks for confirmation, and stdin is not a terminal: add --yes to apply without asking");
        return Err(Failure::Exit(USAGE));
    }
    with_client(&args.client, |client| apply(client, args))
}

fn apply(client: &tscb::Client, args: &ApplyArgs) -> Result<(), Failure> {
    let json = args.client.json;
    let plan = compute(client, &args.fleet, &args.pace)?;
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
    // The bar redraws itself with escape sequences: only for a person at a terminal who has not
    // asked for plain output; everyone else gets one line per outcome.
    let bar = (to_do > 0 && !json && styled()).then(|| progress_bar(to_do));
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

/// Asks on stderr, in plain text (no styling to turn off), and reads one line from stdin.
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
