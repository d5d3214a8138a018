//! Where the command's settings come from: the environment (credentials never come from an
//! argument), the client options, and the state directory for refused logins.

use tscb::env::EnvSettings;
use tscb::{codes, Client, ClientBuilder, Error};
use tscb_sim::Simulator;

use crate::args::ClientArgs;
use crate::exit::Failure;
use crate::output;

/// Whether `tscb login` has anything to check: credentials, not just fixed tokens. With --sim
/// the simulator's own credentials are used.
pub(crate) fn has_credentials() -> Result<bool, Error> {
    for name in [tscb::env::CLIENT_ID, tscb::env::LOGIN_USERNAME] {
        if env(name)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A variable from the environment, refused by name when it is not UTF-8 (see
/// [`tscb::env::var`]).
pub(crate) fn env(name: &str) -> Result<Option<String>, Error> {
    tscb::env::var(name)
}

/// Runs `call` with the client that `options` describe: against a simulator started for it with
/// `--sim` (and stopped after it), else against the configured service. Then warns, whatever the
/// outcome, when refused logins could not be remembered.
pub(crate) fn with_client<T>(
    options: &ClientArgs,
    call: impl FnOnce(&Client) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let sim = if options.sim {
        Some(
            Simulator::start()
                .map_err(|e| Failure::Internal(format!("could not start the simulator: {e}")))?,
        )
    } else {
        None
    };
    let client = client(options, sim.as_ref())?;
    let outcome = call(&client);
    // A problem with the guard file never stops the command, but the user should know that
    // refused logins are not being remembered.
    if let Some(warning) = client.login_guard_warning() {
        output::warning(&warning, options.json);
    }
    outcome
}

fn client(cli: &ClientArgs, sim: Option<&Simulator>) -> Result<Client, Failure> {
    let timeout = cli.call_timeout.map(tscb::timeout_from_secs).transpose()?;
    let with_timeout = |builder: ClientBuilder| match timeout {
        Some(t) => builder.call_timeout(t),
        None => builder,
    };
    if let Some(sim) = sim {
        // Never the environment's credentials: they may be real, and this is a test server.
        let c = sim.config();
        return with_timeout(Client::builder())
            .base_url(sim.base_url())
            .credentials(c.client_id.clone(), c.client_secret.clone(), c.username.clone(), c.password.clone())
            .build()
            .map_err(Failure::Tscb);
    }
    // The options win over the variables, as clap's `env` did.
    let options =
        EnvSettings { base_url: cli.base_url.clone(), ca_file: cli.ca_file.clone(), ..Default::default() };
    let settings = EnvSettings::read()?.with_overrides(options);
    if !settings.has_credentials() {
        return Err(Failure::Tscb(Error::invalid_argument(
            codes::BEARER_TOKEN_MISSING,
            format!("{}, or use --sim", tscb::env::NO_CREDENTIALS),
        )));
    }
    let mut builder = with_timeout(settings.builder()?);
    if let Some(proxy) = &cli.proxy {
        builder = builder.proxy(proxy.as_str());
    }
    if let Some(path) = refused_logins_file() {
        builder = builder.login_guard_file(path).ignore_login_guard(cli.ignore_login_guard);
    }
    builder.build().map_err(Failure::Tscb)
}

/// Where refused logins are remembered between runs: `$XDG_STATE_HOME/tscb/refused-logins`, or
/// `~/.local/state/tscb/refused-logins` (the XDG base directory rules: a relative
/// `XDG_STATE_HOME` is ignored). `None` without either, and then only this run is guarded.
fn refused_logins_file() -> Option<std::path::PathBuf> {
    let absolute =
        |name: &str| std::env::var_os(name).map(std::path::PathBuf::from).filter(|p| p.is_absolute());
    let state = absolute("XDG_STATE_HOME").or_else(|| absolute("HOME").map(|h| h.join(".local/state")))?;
    Some(state.join("tscb").join("refused-logins"))
}
