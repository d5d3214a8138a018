//! `tscb`: the one-off registrations from a shell. Credentials come from the environment only
//! (never an argument: arguments show in `ps` and shell history). This file only parses, sets up
//! logging, dispatches and exits; each command is a module of `commands`.

// The doc comments of the clap model are its help text, read in a terminal, where <…> around a
// URL would only be noise.
#![allow(rustdoc::bare_urls)]

mod args;
mod commands;
mod exit;
mod fleet;
mod output;
mod settings;
mod stop;
mod verbose;

use std::process::ExitCode;

use clap::Parser as _;

/// `tscb` is not dumpable: no core dump, and other processes of the user cannot read its memory
/// (`/proc/PID/mem`, ptrace without CAP_SYS_PTRACE). Set first, since almost every command
/// holds credentials, read from the environment as soon as the arguments are parsed. A failure
/// is no reason not to run: the call cannot fail on Linux with these arguments.
fn disable_core_dumps() {
    // SAFETY: prctl with PR_SET_DUMPABLE takes one integer argument and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    disable_core_dumps();
    let cli = match commands::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => match args::refused_value(&error) {
            Some(refused) => {
                // `--json` cannot be read from a parse that failed: look for it among the words.
                let json = std::env::args_os().take_while(|a| a != "--").any(|a| a == "--json");
                let failure = exit::Failure::Tscb(refused);
                output::failure(&failure, json);
                return ExitCode::from(failure.code());
            }
            None => error.exit(),
        },
    };
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
