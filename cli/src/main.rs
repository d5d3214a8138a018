//! `tscb`: the one-off registrations from a shell. Credentials come from the environment only
//! (never an argument: arguments show in `ps` and shell history).

// The doc comments below are clap's help text, read in a terminal, where <…> around a URL
// would only be noise.
#![allow(rustdoc::bare_urls)]

mod fleet;

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod verbose;
use tscb::{codes, CallbackRegistration, Client, Error, ErrorKind, RegisteredCallback};
use tscb_sim::Simulator;

mod listen;
mod settings;
mod stop;

use settings::{client, env, has_credentials};

const EXIT_CODES: &str = "\
Credentials come from the environment: THINGSPACE_CLIENT_ID and THINGSPACE_CLIENT_SECRET (OAuth)
with THINGSPACE_LOGIN_USERNAME and THINGSPACE_LOGIN_PASSWORD (session login), or THINGSPACE_BEARER_TOKEN and
THINGSPACE_SESSION_TOKEN. With --sim they are ignored: the simulator's test credentials are used,
so real secrets never go to a test server.

Exit codes:
  0  success
  1  internal error (for example, the simulator could not start)
  2  usage error (unknown command or option)
  3  bad input: nothing was sent
  4  the service answered with an error
  5  authentication failed (credentials, tokens or session refused). Do not retry a refused
     login in a loop: five failed logins in a row lock the account until Verizon support
     unlocks it. Run `tscb login` once to check the credentials. A login that was refused (or
     whose outcome is unknown) is remembered for an hour in
     $XDG_STATE_HOME/tscb/refused-logins (default ~/.local/state/tscb/refused-logins), as a
     keyed hash, never the password; until then the same credentials are not sent again (exit
     5) unless you pass --ignore-login-guard.
  6  network failure or timeout
  7  the service's answer could not be understood
  8  (tscb plan --exit-code) something would change";

/// The heading of the options that only the commands talking to ThingSpace use, so that the help
/// of `sim` and `listen` (which accept them, being global) says they do not apply there.
const CLIENT_OPTIONS: &str =
    "Options of the commands that call ThingSpace (register, list, deregister, plan, apply, login)";

#[derive(Parser)]
#[command(name = "tscb", version, about = "Register, list and remove ThingSpace callback listeners", after_help = EXIT_CODES)]
struct Cli {
    /// Show what the client does on stderr: -v its decisions (retries, sign-ins), -vv every
    /// request too (method, path, status, duration; never a secret)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// The API's base URL (default: THINGSPACE_BASE_URL, else production,
    /// https://thingspace.verizon.com/api)
    #[arg(long, global = true, help_heading = CLIENT_OPTIONS, value_name = "URL")]
    base_url: Option<String>,
    /// Run the command against a simulator started in this process (the base URL and the
    /// credentials from the environment are then ignored)
    #[arg(long, global = true, help_heading = CLIENT_OPTIONS)]
    sim: bool,
    /// Print JSON for scripts instead of text for people
    #[arg(long, global = true, help_heading = CLIENT_OPTIONS)]
    json: bool,
    /// How long the command's call may take in all, in seconds: sign-in, retries and their
    /// waits included (default: the library's call timeout, 120 s)
    #[arg(long, global = true, help_heading = CLIENT_OPTIONS, value_name = "SECS")]
    timeout: Option<f64>,
    /// Send the login even if the same credentials were refused (or had an unknown outcome) in
    /// the last hour. Five failed logins in a row lock the account
    #[arg(long, global = true, help_heading = CLIENT_OPTIONS)]
    ignore_login_guard: bool,
    /// Also trust the CA certificates in this PEM file (a corporate proxy's, or the simulator's
    /// from `tscb sim --tls`), instead of the one THINGSPACE_CA_FILE names; SSL_CERT_FILE and
    /// SSL_CERT_DIR work as well
    #[arg(long, global = true, help_heading = CLIENT_OPTIONS, value_name = "PATH")]
    ca_file: Option<std::path::PathBuf>,
    /// Go through this proxy (http://host:port), whatever HTTPS_PROXY, ALL_PROXY and NO_PROXY say;
    /// "" for none. Credentials in it would show in `ps`: put them in HTTPS_PROXY instead
    #[arg(long, global = true, help_heading = CLIENT_OPTIONS, value_name = "URL")]
    proxy: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Register a callback listener for a service
    Register(RegisterArgs),
    /// List an account's callback listeners (passwords masked unless --show-passwords)
    List {
        /// The billing account name, e.g. 0000123456-00001
        #[arg(long)]
        account: String,
        /// Show the callback passwords in clear text
        #[arg(long)]
        show_passwords: bool,
    },
    /// Remove the callback listener of a service
    Deregister {
        /// The billing account name
        #[arg(long)]
        account: String,
        /// The service name, e.g. CarrierService
        #[arg(long)]
        service: String,
    },
    /// Show what `apply` would do to make the accounts' listeners those of a fleet file
    Plan(fleet::PlanArgs),
    /// Make the accounts' listeners those of a fleet file (shows the plan and asks first)
    Apply(fleet::ApplyArgs),
    /// Check the credentials: get an OAuth token and log in (prints nothing secret). Needs
    /// THINGSPACE_CLIENT_ID/SECRET and THINGSPACE_LOGIN_USERNAME/PASSWORD: fixed tokens cannot be
    /// checked without a call
    Login,
    /// Receive callback messages: check each and write the accepted ones as JSON lines
    Listen(listen::ListenArgs),
    /// Run the local ThingSpace simulator until interrupted
    Sim {
        /// The address to listen on
        #[arg(long, default_value = "127.0.0.1:9000", value_name = "ADDR")]
        listen: String,
        /// Allow an ADDR that is not loopback; the admin API then needs the admin token that
        /// the simulator prints at start
        #[arg(long)]
        allow_remote: bool,
        /// Serve HTTPS with a certificate signed by a CA made for this run
        #[arg(long)]
        tls: bool,
        /// With --tls: where to write that CA's certificate (default: tscb-sim-ca-PORT.pem in
        /// the temporary directory); give it to clients with --ca-file
        #[arg(long, value_name = "PATH", requires = "tls")]
        ca_out: Option<std::path::PathBuf>,
    },
}

#[derive(Args)]
struct RegisterArgs {
    /// The billing account name, e.g. 0000123456-00001
    #[arg(long)]
    account: String,
    /// The service name, e.g. CarrierService
    #[arg(long)]
    service: String,
    /// The listener's URL, reachable from Verizon's data centres
    #[arg(long)]
    url: String,
    /// A username that ThingSpace echoes in every callback
    #[arg(long)]
    username: Option<String>,
    /// The name of an environment variable holding the password that ThingSpace echoes in
    /// every callback (a password is never taken as an argument)
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
}

/// Why the command failed, as printed and as the exit code.
enum Failure {
    Tscb(Error),
    Internal(String),
    /// The command printed its own report; exit with this code.
    Exit(u8),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Tscb(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    verbose::init(cli.verbose);
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Exit(code)) => ExitCode::from(code),
        Err(Failure::Internal(message)) => {
            if json {
                eprintln!("{}", serde_json::json!({"errorCode": codes::INTERNAL, "errorMessage": message}));
            } else {
                eprintln!("error: {}: {message}", codes::INTERNAL);
            }
            ExitCode::from(1)
        }
        Err(Failure::Tscb(e)) => {
            if json {
                eprintln!("{}", e.to_json());
            } else {
                match e.http_status() {
                    Some(status) => {
                        eprintln!("error: {}: {} (HTTP {status})", e.error_code(), e.error_message())
                    }
                    None => eprintln!("error: {}: {}", e.error_code(), e.error_message()),
                }
                // The library's message names its option, not this command's flag for it.
                if e.error_code() == codes::LOGIN_BLOCKED {
                    eprintln!("(to send the login anyway, pass --ignore-login-guard)");
                }
            }
            ExitCode::from(exit_code(e.kind()))
        }
    }
}

fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput => 3,
        ErrorKind::Api => 4,
        ErrorKind::Auth => 5,
        ErrorKind::Transport | ErrorKind::Timeout => 6,
        ErrorKind::InvalidResponse => 7,
        // Internal faults, and any kind added later: never mistaken for success or the network.
        _ => 1,
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    if let Command::Sim { listen, allow_remote, tls, ca_out } = &cli.command {
        return serve(listen, *allow_remote, *tls, ca_out.as_deref());
    }
    if let Command::Listen(args) = cli.command {
        return listen::run(args);
    }
    // The simulator lives as long as the command: it is dropped (and stopped) at the end.
    let sim = if cli.sim {
        Some(
            Simulator::start()
                .map_err(|e| Failure::Internal(format!("could not start the simulator: {e}")))?,
        )
    } else {
        None
    };
    let client = client(&cli, sim.as_ref())?;
    let json = cli.json;
    let outcome = execute(cli, &client, sim.is_some());
    // A problem with the guard file never stops the command, but the user should know that
    // refused logins are not being remembered.
    if let Some(warning) = client.login_guard_warning() {
        if json {
            eprintln!("{}", serde_json::json!({ "warning": warning }));
        } else {
            eprintln!("warning: {warning}");
        }
    }
    outcome
}

fn execute(cli: Cli, client: &Client, sim: bool) -> Result<(), Failure> {
    // Before stdout is locked below: their workers print progress from other threads.
    match &cli.command {
        Command::Plan(args) => return fleet::plan(client, args, cli.json),
        Command::Apply(args) => return fleet::apply(client, args, cli.json),
        _ => {}
    }
    let out = &mut std::io::stdout().lock();
    let printed = match cli.command {
        Command::Register(args) => {
            let mut registration = CallbackRegistration::new(args.service, args.url);
            if let Some(username) = args.username {
                registration = registration.with_username(username);
            }
            if let Some(var) = args.password_env {
                let password = env(&var)?.ok_or_else(|| {
                    Error::invalid_argument(
                        codes::ARGUMENT_MISSING,
                        format!("--password-env names {var}, which is not set"),
                    )
                })?;
                registration = registration.with_password(password);
            }
            let ack = client.register_callback(&args.account, &registration)?;
            print_ack(out, "registered", &ack, cli.json)
        }
        Command::List { account, show_passwords } => {
            let listed = client.list_callbacks(&account)?;
            print_list(out, &account, &listed, show_passwords, cli.json)
        }
        Command::Deregister { account, service } => {
            let ack = client.deregister_callback(&account, &service)?;
            print_ack(out, "deregistered", &ack, cli.json)
        }
        Command::Login => {
            if !sim && !has_credentials()? {
                return Err(Failure::Tscb(Error::invalid_argument(
                    codes::ARGUMENT_MISSING,
                    "tscb login checks THINGSPACE_CLIENT_ID, THINGSPACE_CLIENT_SECRET, THINGSPACE_LOGIN_USERNAME and \
                     THINGSPACE_LOGIN_PASSWORD; fixed tokens cannot be checked without a call (try `tscb list`)",
                )));
            }
            client.login()?;
            if cli.json {
                writeln!(out, "{}", serde_json::json!({"baseUrl": client.base_url(), "signedIn": true}))
            } else {
                writeln!(out, "signed in to {}", client.base_url())
            }
        }
        Command::Plan(_) | Command::Apply(_) | Command::Sim { .. } | Command::Listen(_) => {
            unreachable!("handled above")
        }
    };
    match printed {
        // The reader went away (`tscb list | head -1`): the command itself succeeded.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| Failure::Internal(format!("could not write the output: {e}"))),
    }
}

fn print_ack(out: &mut impl Write, done: &str, ack: &tscb::CallbackAck, json: bool) -> std::io::Result<()> {
    if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({"accountName": ack.account_name, "serviceName": ack.service_name})
        )
    } else {
        writeln!(out, "{done} {} for account {}", shown(&ack.service_name), shown(&ack.account_name))
    }
}

const MASK: &str = "********";

fn print_list(
    out: &mut impl Write,
    account: &str,
    listed: &[RegisteredCallback],
    show_passwords: bool,
    json: bool,
) -> std::io::Result<()> {
    let password = |cb: &RegisteredCallback| {
        cb.password.as_ref().map(|p| if show_passwords { p.expose().to_owned() } else { MASK.to_owned() })
    };
    if json {
        let items: Vec<serde_json::Value> = listed
            .iter()
            .map(|cb| {
                serde_json::json!({
                    "accountName": cb.account_name,
                    "serviceName": cb.service_name,
                    "url": cb.url,
                    "username": cb.username,
                    "password": password(cb),
                })
            })
            .collect();
        return writeln!(out, "{}", serde_json::Value::Array(items));
    }
    if listed.is_empty() {
        return writeln!(out, "no callback listeners registered for account {}", shown(account));
    }
    for cb in listed {
        let username = shown(cb.username.as_deref().unwrap_or("-"));
        let password = shown(&password(cb).unwrap_or_else(|| "-".to_owned()));
        let (service, url) = (shown(&cb.service_name), shown(&cb.url));
        writeln!(out, "{service}\t{url}\tusername: {username}\tpassword: {password}")?;
    }
    Ok(())
}

/// Text from the service as a terminal may show it: control characters (an escape sequence
/// could recolour or rewrite the screen, a newline forge a line) and the invisible characters
/// that reorder text are shown escaped, as `\u{1b}`. `--json` output stays exact.
fn shown(text: &str) -> String {
    let invisible = |c: char| {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    text.chars().map(|c| if invisible(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// `tscb sim`: the simulator in the foreground, printing what a client needs to reach it (the
/// simulator's own start-up printout, the same as `tscb-sim`'s).
fn serve(
    listen: &str,
    allow_remote: bool,
    tls: bool,
    ca_out: Option<&std::path::Path>,
) -> Result<(), Failure> {
    let config = tscb_sim::SimConfig { allow_remote, ..tscb_sim::SimConfig::default() };
    let sim = match Simulator::builder().config(config).listen(listen).tls(tls).start() {
        Ok(sim) => sim,
        // A refused (not loopback) or malformed address is a usage error, as clap's are.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            eprintln!("error: cannot listen on {listen}: {e}");
            std::process::exit(2);
        }
        Err(e) => return Err(Failure::Internal(format!("could not start the simulator on {listen}: {e}"))),
    };
    sim.save_ca(ca_out)
        .map_err(|e| Failure::Internal(format!("could not write the simulator's CA certificate: {e}")))?;
    // Runs until SIGINT or SIGTERM, then stops the simulator and exits 0 (see stop.rs).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| Failure::Internal(format!("could not start a runtime for the signal handlers: {e}")))?;
    let _entered = runtime.enter();
    let mut stop = stop::Stop::install().map_err(Failure::Internal)?;
    // A reader that went away (a closed pipe) must not stop the simulator it started.
    let _ = sim.write_banner(&mut std::io::stdout().lock());
    runtime.block_on(std::future::poll_fn(|cx| stop.poll(cx)));
    drop(sim);
    Ok(())
}
