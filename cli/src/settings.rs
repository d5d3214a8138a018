//! Where the command's settings come from: the environment (credentials never come from an
//! argument), the global options, and the state directory for refused logins.

use tscb::{codes, Client, Error};
use tscb_sim::Simulator;

use crate::{Cli, Failure};

/// Whether `tscb login` has anything to check: credentials, not just fixed tokens. With --sim
/// the simulator's own credentials are used.
pub(crate) fn has_credentials() -> Result<bool, Error> {
    for name in ["THINGSPACE_CLIENT_ID", "THINGSPACE_LOGIN_USERNAME"] {
        if env(name)?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A variable from the environment. One that is set but not UTF-8 is refused, naming the
/// variable and never its value: taken as unset, a broken THINGSPACE_BEARER_TOKEN would silently
/// switch to the OAuth credentials. An empty one is passed on as it is, for the same reason: the
/// client then says which credential is empty.
pub(crate) fn env(name: &str) -> Result<Option<String>, Error> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::invalid_argument(
            codes::ARGUMENT_ENCODING,
            format!("the environment variable {name} is not valid UTF-8"),
        )),
    }
}

pub(crate) fn client(cli: &Cli, sim: Option<&Simulator>) -> Result<Client, Failure> {
    let mut builder = Client::builder();
    if let Some(seconds) = cli.timeout {
        builder = builder.call_timeout(tscb::timeout_from_secs(seconds)?);
    }
    let (client_id, client_secret) = (env("THINGSPACE_CLIENT_ID")?, env("THINGSPACE_CLIENT_SECRET")?);
    let (username, password) = (env("THINGSPACE_LOGIN_USERNAME")?, env("THINGSPACE_LOGIN_PASSWORD")?);
    let (bearer, session) = (env("THINGSPACE_BEARER_TOKEN")?, env("THINGSPACE_SESSION_TOKEN")?);
    let none_given =
        [&client_id, &client_secret, &username, &password, &bearer, &session].iter().all(|v| v.is_none());
    if let Some(sim) = sim {
        // Never the environment's credentials: they may be real, and this is a test server.
        let c = sim.config();
        return builder
            .base_url(sim.base_url())
            .credentials(c.client_id.clone(), c.client_secret.clone(), c.username.clone(), c.password.clone())
            .build()
            .map_err(Failure::Tscb);
    }
    if let Some(url) = &cli.base_url {
        builder = builder.base_url(url);
    }
    if let Some(path) = &cli.ca_file {
        builder = builder.ca_file(path);
    }
    if let Some(proxy) = &cli.proxy {
        builder = builder.proxy(proxy.as_str());
    }
    builder = builder.credentials_from(client_id, client_secret, username, password);
    if let Some(path) = refused_logins_file() {
        builder = builder.login_guard_file(path).retry_refused_login(cli.retry_refused_login);
    }
    if let Some(token) = bearer {
        builder = builder.bearer_token(token);
    }
    if let Some(token) = session {
        builder = builder.session_token(token);
    }
    builder.build().map_err(|e| {
        let code = match e.error_code() {
            codes::BEARER_TOKEN_MISSING => Some(codes::BEARER_TOKEN_MISSING),
            codes::SESSION_TOKEN_MISSING => Some(codes::SESSION_TOKEN_MISSING),
            _ => None,
        };
        if let (Some(code), true) = (code, none_given) {
            Failure::Tscb(Error::invalid_argument(
                code,
                "no credentials: set THINGSPACE_CLIENT_ID, THINGSPACE_CLIENT_SECRET, THINGSPACE_LOGIN_USERNAME \
                 and THINGSPACE_LOGIN_PASSWORD (or THINGSPACE_BEARER_TOKEN and THINGSPACE_SESSION_TOKEN), or use --sim",
            ))
        } else {
            Failure::Tscb(e)
        }
    })
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
