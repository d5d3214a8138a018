//! The option groups that several commands share, flattened into each: the client options (only
//! on the commands that call ThingSpace, so `listen` and `sim` do not show them) and the fleet
//! file and pace of `plan` and `apply`.

// The doc comments below are clap's help text, read in a terminal, where <…> around a URL
// would only be noise, and the TOML table names `[defaults]` and `[[account]]` are not links.
#![allow(rustdoc::bare_urls, rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use clap::Args;
use tscb::{AccountName, CallbackUrl, ServiceName};

// clap value parsers into core's checked types: a bad value is refused while the arguments are
// parsed, before anything is read or sent, and `main` reports it as the library's own error (its
// code and message, exit code 3), as the call would have.

pub(crate) fn account(value: &str) -> Result<AccountName, tscb::Error> {
    AccountName::new(value)
}

pub(crate) fn service(value: &str) -> Result<ServiceName, tscb::Error> {
    ServiceName::new(value)
}

pub(crate) fn callback_url(value: &str) -> Result<CallbackUrl, tscb::Error> {
    CallbackUrl::new(value)
}

/// The library's input error that a value parser above refused an argument with, if that is
/// why parsing failed.
pub(crate) fn refused_value(error: &clap::Error) -> Option<tscb::Error> {
    let source = std::error::Error::source(error)?;
    match source.downcast_ref::<tscb::Error>()? {
        tscb::Error::InvalidInput { code, message } => {
            Some(tscb::Error::invalid_argument(code, message.clone()))
        }
        _ => None,
    }
}

/// How to reach ThingSpace and how to print: the commands that call it flatten this group.
#[derive(Args)]
#[command(next_help_heading = "Client options")]
pub(crate) struct ClientArgs {
    /// Show what the client does on stderr: -v its decisions (retries, sign-ins), -vv every
    /// request too (method, path, status, duration; never a secret)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// The API's base URL (default: THINGSPACE_BASE_URL, else production,
    /// https://thingspace.verizon.com/api)
    #[arg(long, value_name = "URL")]
    pub(crate) base_url: Option<String>,
    /// Run the command against a simulator started in this process (the base URL and the
    /// credentials from the environment are then ignored)
    #[arg(long)]
    pub(crate) sim: bool,
    /// Print JSON for scripts instead of text for people
    #[arg(long)]
    pub(crate) json: bool,
    /// How long the command's call may take in all, in seconds: sign-in, retries and their
    /// waits included (default: the library's call timeout, 120 s)
    #[arg(long, value_name = "SECS")]
    pub(crate) call_timeout: Option<f64>,
    /// Send the login even if the same credentials were refused (or had an unknown outcome) in
    /// the last hour. Five failed logins in a row lock the account
    #[arg(long)]
    pub(crate) ignore_login_guard: bool,
    /// Also trust the CA certificates in this PEM file (a corporate proxy's, or the simulator's
    /// from `tscb sim --tls`), instead of the one THINGSPACE_CA_FILE names; SSL_CERT_FILE and
    /// SSL_CERT_DIR work as well
    #[arg(long, value_name = "PATH")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Go through this proxy (http://host:port), whatever HTTPS_PROXY, ALL_PROXY and NO_PROXY say;
    /// "" for none. Credentials in it would show in `ps`: put them in HTTPS_PROXY instead
    #[arg(long, value_name = "URL")]
    pub(crate) proxy: Option<String>,
}

/// The fleet file that `plan` and `apply` read, and whether listeners missing from it go.
#[derive(Args)]
pub(crate) struct FleetArgs {
    /// The fleet file (TOML: [defaults] and [[account]] tables)
    #[arg(short = 'f', long, value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Also deregister listeners that are registered but not in the file
    #[arg(long)]
    pub(crate) prune: bool,
}

/// How hard `plan` and `apply` may press the service.
#[derive(Args)]
pub(crate) struct Pace {
    /// How many requests may be in flight at once
    #[arg(long, value_name = "N", default_value_t = tscb::fleet::DEFAULT_CONCURRENCY)]
    pub(crate) concurrency: usize,
    /// At most N requests per second, in all
    #[arg(long, value_name = "N")]
    pub(crate) max_rate: Option<f64>,
}
