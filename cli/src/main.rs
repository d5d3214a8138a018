//! `tscb`: the one-off registrations from a shell. Credentials come from the environment only
//! (never an argument: arguments show in `ps` and shell history). This file only parses, sets up
//! logging, dispatches and exits; each command is a module of `commands`.

mod args;
mod commands;
mod exit;
mod fleet;
mod output;
mod settings;
mod stop;
mod verbose;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    let client = cli.command.client();
    verbose::init(client.map_or(0, |c| c.verbose));
    let json = client.is_some_and(|c| c.json);
    match cli.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            output::failure(&failure, json);
            ExitCode::from(failure.code())
        }
    }
}
