//! `tscb plan`: what `apply` would do to make the accounts' listeners those of a fleet file.

use clap::Args;

use crate::args::{ClientArgs, FleetArgs, Pace};
use crate::exit::{exit_code, Failure, CHANGES_PENDING};
use crate::fleet::{compute, print_plan, print_plan_json, severity};
use crate::output::write_failure;
use crate::settings::with_client;

#[derive(Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    /// Exit with 8 when something would change
    #[arg(long)]
    exit_code: bool,
    #[command(flatten)]
    pace: Pace,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

pub(crate) fn run(args: &PlanArgs) -> Result<(), Failure> {
    with_client(&args.client, |client| {
        let plan = compute(client, &args.fleet, &args.pace)?;
        let out = &mut std::io::stdout().lock();
        let printed =
            if args.client.json { print_plan_json(out, &plan) } else { print_plan(out, &plan, true) };
        printed.map_err(write_failure)?;
        let worst = plan.failures().iter().map(|f| &f.error).max_by_key(|e| severity(e));
        match worst {
            Some(error) => Err(Failure::Exit(exit_code(error.kind()))),
            None if args.exit_code && plan.has_changes() => Err(Failure::Exit(CHANGES_PENDING)),
            None => Ok(()),
        }
    })
}
