//! The command line's model (clap's) and the dispatch: one module per command, each with its
//! arguments and a `run` that returns a [`Failure`] for `main` to report and exit with.

// The doc comments below are clap's help text, read in a terminal.
#![allow(rustdoc::bare_urls)]

mod apply;
mod completions;
mod deregister;
mod list;
mod listen;
mod login;
mod man;
mod plan;
mod register;
mod sim;

use clap::{Parser, Subcommand};

use crate::args::ClientArgs;
use crate::exit::{Failure, EXIT_CODES};

#[derive(Parser)]
#[command(name = "tscb", version, about = "Register, list and remove ThingSpace callback listeners", after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Register a callback listener for a service
    Register(register::RegisterArgs),
    /// List an account's callback listeners (passwords masked unless --show-passwords)
    List(list::ListArgs),
    /// Remove the callback listener of a service
    Deregister(deregister::DeregisterArgs),
    /// Show what `apply` would do to make the accounts' listeners those of a fleet file
    Plan(plan::PlanArgs),
    /// Make the accounts' listeners those of a fleet file (shows the plan and asks first)
    Apply(apply::ApplyArgs),
    /// Check the credentials: get an OAuth token and log in (prints nothing secret). Needs
    /// THINGSPACE_CLIENT_ID/SECRET and THINGSPACE_LOGIN_USERNAME/PASSWORD: fixed tokens cannot be
    /// checked without a call
    Login(login::LoginArgs),
    /// Receive callback messages: check each and write the accepted ones as JSON lines
    Listen(Box<listen::ListenArgs>),
    /// Run the local ThingSpace simulator until interrupted
    Sim(sim::SimArgs),
    /// Print a shell's completion script for tscb, e.g. `tscb completions bash >
    /// ~/.local/share/bash-completion/completions/tscb`
    Completions(completions::CompletionsArgs),
    /// Write the manual pages (tscb.1 and one per command) to a directory (`make man`)
    #[command(hide = true)]
    Man(man::ManArgs),
}

impl Command {
    /// The client options of a command that calls ThingSpace: its `-v` and `--json` apply to
    /// the whole run, its failure included.
    pub(crate) fn client(&self) -> Option<&ClientArgs> {
        match self {
            Command::Register(a) => Some(&a.client),
            Command::List(a) => Some(&a.client),
            Command::Deregister(a) => Some(&a.client),
            Command::Plan(a) => Some(&a.client),
            Command::Apply(a) => Some(&a.client),
            Command::Login(a) => Some(&a.client),
            Command::Listen(_) | Command::Sim(_) | Command::Completions(_) | Command::Man(_) => None,
        }
    }

    pub(crate) fn run(self) -> Result<(), Failure> {
        match self {
            Command::Register(args) => register::run(args),
            Command::List(args) => list::run(args),
            Command::Deregister(args) => deregister::run(args),
            Command::Plan(args) => plan::run(&args),
            Command::Apply(args) => apply::run(&args),
            Command::Login(args) => login::run(&args),
            Command::Listen(args) => listen::run(*args),
            Command::Sim(args) => sim::run(&args),
            Command::Completions(args) => completions::run(&args),
            Command::Man(args) => man::run(&args),
        }
    }
}
