//! The desired state as people write it: the one schema of the `tscb` command's TOML fleet file
//! and of Python's `tscb.plan(client, desired)` dict, turned into a [`Desired`] here.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::ffi::OsString;

use serde::Deserialize;

use super::plan::{Desired, DesiredAccount};
use crate::codes;
use crate::error::Error;
use crate::input::{CallbackCredentials, CallbackUrl, ServiceName};
use crate::model::CallbackRegistration;
use crate::validate;

/// The desired state as written: optional `defaults`, and a list of `account` entries.
///
/// The keys, the same in a TOML fleet file and in a Python dict:
///
/// - `defaults` (optional): any of `url`, `username`, `password_env` and `services`, for every
///   account that does not set its own;
/// - `account` (a list; in TOML, `[[account]]` tables): `name` (the billing account name,
///   required) and any of `url`, `username`, `password_env` and `services`.
///
/// Each service of `services` (a list of service names) is registered with the account's `url`
/// and `username`, and the password held by the environment variable that `password_env` names
/// (so that no password is written in the desired state itself). An account needs `services`
/// and `url`, its own or from `defaults`; `services = []` means none (with pruning: remove
/// every listener). Unknown keys are refused.
///
/// ```toml
/// [defaults]
/// url = "https://listener.example.com/thingspace"
/// username = "fleet"
/// password_env = "LISTENER_PW"
/// services = ["CarrierService", "DeviceUsage"]
///
/// [[account]]
/// name = "0000123456-00001"
///
/// [[account]]
/// name = "0000123456-00002"
/// services = ["CarrierService"]
/// ```
///
/// Generic over how a string (`S`) and an account entry (`A`) are held, so that a caller can
/// keep where each value was written (the CLI uses toml's `Spanned`) and point at it when
/// [`FleetSpec::resolve`] refuses it; plain values by default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "S: Deserialize<'de>, A: Deserialize<'de>"))]
pub struct FleetSpec<S = String, A = AccountSpec<S>> {
    /// What every account gets unless it sets its own.
    pub defaults: Option<SpecDefaults<S>>,
    /// The accounts, each at most once.
    #[serde(default = "Vec::new")]
    pub account: Vec<A>,
}

/// The `defaults` of a [`FleetSpec`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "S: Deserialize<'de>"))]
pub struct SpecDefaults<S = String> {
    /// The callback URL.
    pub url: Option<S>,
    /// The callback username.
    pub username: Option<S>,
    /// The environment variable that holds the callback password.
    pub password_env: Option<S>,
    /// The services to register.
    pub services: Option<Vec<S>>,
}

/// One `account` of a [`FleetSpec`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "S: Deserialize<'de>"))]
pub struct AccountSpec<S = String> {
    /// The billing account name.
    pub name: S,
    /// The callback URL, instead of the default.
    pub url: Option<S>,
    /// The callback username, instead of the default.
    pub username: Option<S>,
    /// The environment variable that holds the callback password, instead of the default.
    pub password_env: Option<S>,
    /// The services to register, instead of the default.
    pub services: Option<Vec<S>>,
}

impl<S> AsRef<AccountSpec<S>> for AccountSpec<S> {
    fn as_ref(&self) -> &AccountSpec<S> {
        self
    }
}

/// The value a [`SpecError`] is about.
#[derive(Debug)]
pub enum SpecField<'a, S, A> {
    /// The account entry as a whole (e.g. it has no `services`).
    Account(&'a A),
    /// The account's `name`.
    Name(&'a S),
    /// One of the `services`.
    Service(&'a S),
    /// The `url` used.
    Url(&'a S),
    /// The `username` used.
    Username(&'a S),
    /// The `password_env` used (or the password it gave).
    PasswordEnv(&'a S),
}

/// Why [`FleetSpec::resolve`] refused the desired state, and the value it is about. The
/// error's message starts with the account it is about, and never holds a password.
#[derive(Debug)]
pub struct SpecError<'a, S, A> {
    /// The error, with the code of the rule.
    pub error: Error,
    /// Where it is.
    pub field: SpecField<'a, S, A>,
}

impl<S: Borrow<str>, A: AsRef<AccountSpec<S>>> FleetSpec<S, A> {
    /// The [`Desired`] state: the defaults filled in, each password read from the environment
    /// through `env` (given, so that tests need not change the process's environment), each
    /// value checked with the rules of [`crate::Client::register_callback`] (the port of a
    /// callback URL only with `check_callback_port`), and no account or service twice.
    pub fn resolve<'a>(
        &'a self,
        env: &dyn Fn(&str) -> Option<OsString>,
        check_callback_port: bool,
    ) -> Result<Desired, SpecError<'a, S, A>> {
        let defaults = self.defaults.as_ref();
        let mut names = HashSet::new();
        let mut accounts = Vec::with_capacity(self.account.len());
        for entry in &self.account {
            let account = resolve_account(defaults, entry, env, check_callback_port)?;
            if !names.insert(account.name.clone()) {
                let name = &entry.as_ref().name;
                let message = format!("account {:?} appears more than once", name.borrow());
                return Err(SpecError {
                    error: Error::invalid(codes::FLEET_DUPLICATE, message),
                    field: SpecField::Name(name),
                });
            }
            accounts.push(account);
        }
        Ok(Desired::new(accounts))
    }
}

fn resolve_account<'a, S: Borrow<str>, A: AsRef<AccountSpec<S>>>(
    defaults: Option<&'a SpecDefaults<S>>,
    entry: &'a A,
    env: &dyn Fn(&str) -> Option<OsString>,
    check_callback_port: bool,
) -> Result<DesiredAccount, SpecError<'a, S, A>> {
    let account = entry.as_ref();
    let name: &str = account.name.borrow();
    let fail = |code, message: String, field| SpecError {
        error: Error::invalid(code, format!("account {name:?}: {message}")),
        field,
    };
    let services =
        account.services.as_ref().or(defaults.and_then(|d| d.services.as_ref())).ok_or_else(|| {
            let message = "no services (set them for the account or in defaults)".into();
            fail(codes::FLEET_FILE_INVALID, message, SpecField::Account(entry))
        })?;
    let url = account.url.as_ref().or(defaults.and_then(|d| d.url.as_ref())).ok_or_else(|| {
        let message = "no url (set it for the account or in defaults)".into();
        fail(codes::FLEET_FILE_INVALID, message, SpecField::Account(entry))
    })?;
    validate::account_name(name).map_err(|error| match error {
        Error::InvalidInput { code, message } => fail(code, message, SpecField::Name(&account.name)),
        error => SpecError { error, field: SpecField::Name(&account.name) },
    })?;
    let username = account.username.as_ref().or(defaults.and_then(|d| d.username.as_ref()));
    let password_env = account.password_env.as_ref().or(defaults.and_then(|d| d.password_env.as_ref()));
    let password = match password_env {
        None => None,
        Some(var) => Some(
            password_from(var.borrow(), env)
                .map_err(|(code, m)| fail(code, m, SpecField::PasswordEnv(var)))?,
        ),
    };

    let mut seen = HashSet::new();
    let mut registrations = Vec::with_capacity(services.len());
    for service in services {
        // Value by value, in the order of `register_callback`, so that the error points at the
        // value that broke the rule (no error code is read to find it).
        let about = |error: Error, field| match error {
            Error::InvalidInput { code, message } => {
                let message = format!("account {name:?}, service {:?}: {message}", service.borrow());
                SpecError { error: Error::invalid(code, message), field }
            }
            error => SpecError { error, field },
        };
        let service_name =
            ServiceName::new(service.borrow()).map_err(|e| about(e, SpecField::Service(service)))?;
        let callback_url = CallbackUrl::new(url.borrow()).map_err(|e| about(e, SpecField::Url(url)))?;
        if check_callback_port {
            callback_url.check_port().map_err(|e| about(e, SpecField::Url(url)))?;
        }
        let mut credentials = CallbackCredentials::default();
        if let Some(username) = username {
            credentials = credentials
                .with_username(username.borrow())
                .map_err(|e| about(e, SpecField::Username(username)))?;
        }
        if let (Some(password), Some(var)) = (&password, password_env) {
            credentials = credentials
                .with_password(password.as_str())
                .map_err(|e| about(e, SpecField::PasswordEnv(var)))?;
        }
        if !seen.insert(service.borrow()) {
            let message = format!("service {:?} appears more than once", service.borrow());
            return Err(fail(codes::FLEET_DUPLICATE, message, SpecField::Service(service)));
        }
        registrations.push(
            CallbackRegistration::new(service_name, callback_url)
                .map_err(|e| about(e, SpecField::Service(service)))?
                .with_credentials(credentials),
        );
    }
    Ok(DesiredAccount::new(name, registrations))
}

/// The callback password from the environment variable `var`; an error names the variable,
/// never its value.
fn password_from(
    var: &str,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> std::result::Result<String, (&'static str, String)> {
    if var.is_empty() || var.contains(['=', '\0']) {
        return Err((codes::FLEET_FILE_INVALID, format!("password_env {var:?} is not a variable name")));
    }
    let value = env(var)
        .ok_or_else(|| (codes::ARGUMENT_MISSING, format!("password_env names {var}, which is not set")))?;
    let value = value
        .into_string()
        .map_err(|_| (codes::ARGUMENT_ENCODING, format!("the value of {var} (password_env) is not UTF-8")))?;
    if value.is_empty() {
        return Err((codes::ARGUMENT_MISSING, format!("password_env names {var}, which is empty")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<OsString> {
        (name == "LISTENER_PW").then(|| OsString::from("listener-secret"))
    }

    fn spec(json: &str) -> FleetSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_fill_in_and_the_password_comes_from_the_environment() {
        let s = spec(
            r#"{"defaults": {"url": "https://l.example.com/cb", "services": ["CarrierService", "DeviceUsage"],
                             "password_env": "LISTENER_PW"},
                "account": [{"name": "A"}, {"name": "B", "services": ["CarrierService"], "username": "u"}]}"#,
        );
        let desired = s.resolve(&env, true).unwrap();
        assert_eq!(desired.accounts.len(), 2);
        assert_eq!(desired.accounts[0].registrations.len(), 2);
        assert_eq!(desired.accounts[0].registrations[0].password().unwrap().expose(), "listener-secret");
        assert_eq!(desired.accounts[1].registrations[0].username(), Some("u"));
        assert!(!format!("{s:?}{desired:?}").contains("listener-secret"));
    }

    #[test]
    fn an_error_says_which_value_broke_the_rule() {
        let s = spec(
            r#"{"account": [{"name": "A", "services": ["Bad Service"], "url": "https://l.example.com/cb"}]}"#,
        );
        let e = s.resolve(&env, true).unwrap_err();
        assert_eq!(e.error.error_code(), codes::SERVICE_NAME_INVALID_CHARACTER);
        assert!(matches!(e.field, SpecField::Service(v) if v == "Bad Service"));
        assert!(
            e.error.error_message().starts_with("account \"A\", service \"Bad Service\": "),
            "{}",
            e.error
        );

        let s = spec(
            r#"{"account": [{"name": "A", "services": ["S"], "url": "https://l.example.com:8443/cb"}]}"#,
        );
        let e = s.resolve(&env, true).unwrap_err();
        assert_eq!(e.error.error_code(), codes::CALLBACK_URL_PORT);
        assert!(matches!(e.field, SpecField::Url(_)));
        assert!(s.resolve(&env, false).is_ok(), "the port is checked only when asked");

        let s = spec(r#"{"account": [{"name": "A", "services": ["S"]}]}"#);
        let e = s.resolve(&env, true).unwrap_err();
        assert_eq!(e.error.error_code(), codes::FLEET_FILE_INVALID);
        assert!(matches!(e.field, SpecField::Account(_)));

        let s = spec(
            r#"{"defaults": {"url": "https://l.example.com/cb", "services": ["S"], "password_env": "NOPE"},
                         "account": [{"name": "A"}]}"#,
        );
        let e = s.resolve(&env, true).unwrap_err();
        assert_eq!(e.error.error_code(), codes::ARGUMENT_MISSING);
        assert!(matches!(e.field, SpecField::PasswordEnv(v) if v == "NOPE"));

        let s = spec(
            r#"{"defaults": {"url": "https://l.example.com/cb", "services": ["S"]},
                         "account": [{"name": "A"}, {"name": "A"}]}"#,
        );
        let e = s.resolve(&env, true).unwrap_err();
        assert_eq!(e.error.error_code(), codes::FLEET_DUPLICATE);
        assert!(matches!(e.field, SpecField::Name(v) if v == "A"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(
            serde_json::from_str::<FleetSpec>(r#"{"account": [{"name": "A", "pasword_env": "X"}]}"#).is_err()
        );
        assert!(serde_json::from_str::<FleetSpec>(r#"{"accounts": []}"#).is_err());
    }
}
