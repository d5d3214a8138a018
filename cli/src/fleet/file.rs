//! The fleet file: TOML with `[defaults]` and `[[account]]` tables, read into
//! [`tscb::fleet::Desired`]. Every value is checked here, before anything is sent, so that an
//! error can name the file, the line and the account.

use std::collections::HashSet;
use std::ffi::OsString;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;
use tscb::files::{read_bounded, Links};
use tscb::fleet::{Desired, DesiredAccount};
use tscb::{codes, CallbackRegistration, Error};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    defaults: Option<Settings>,
    #[serde(default)]
    account: Vec<Spanned<AccountToml>>,
}

/// What `[defaults]` may set, and each `[[account]]` may override.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Settings {
    url: Option<Spanned<String>>,
    username: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    services: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountToml {
    name: Spanned<String>,
    url: Option<Spanned<String>>,
    username: Option<Spanned<String>>,
    password_env: Option<Spanned<String>>,
    services: Option<Vec<Spanned<String>>>,
}

/// Where errors point: the file's name and text, to turn byte offsets into line numbers.
struct Source<'a> {
    name: String,
    text: &'a str,
}

impl Source<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
    }

    fn error(&self, code: &'static str, span: &Range<usize>, message: impl std::fmt::Display) -> Error {
        Error::invalid_argument(code, format!("{}:{}: {message}", self.name, self.line(span)))
    }
}

/// The most a fleet file may hold: some hundred thousand accounts.
pub(crate) const MAX_FLEET_BYTES: u64 = 64 * 1024 * 1024;

/// Reads and checks the fleet file at `path`, taking passwords from the environment through
/// `env` (given so that tests need not change the process's environment).
pub(crate) fn load(path: &Path, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Desired, Error> {
    let name = path.display().to_string();
    let cannot = |e: &dyn std::fmt::Display| {
        Error::invalid_argument(codes::FLEET_FILE_INVALID, format!("{name}: cannot be read: {e}"))
    };
    // Bounded: a wrong path (/dev/zero, a FIFO, a huge log) is an error, not a hang or an abort.
    let bytes = read_bounded(path, MAX_FLEET_BYTES, Links::Follow).map_err(|e| cannot(&e))?;
    let text = String::from_utf8(bytes).map_err(|_| cannot(&"it is not UTF-8 text"))?;
    parse(&name, &text, env)
}

pub(crate) fn parse(
    name: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Desired, Error> {
    let source = Source { name: name.to_owned(), text };
    let file: FileToml = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        source.error(codes::FLEET_FILE_INVALID, &span, e.message().trim_end())
    })?;
    let defaults = file.defaults.unwrap_or_default();
    let mut names = HashSet::new();
    let mut accounts = Vec::with_capacity(file.account.len());
    for entry in &file.account {
        let account = resolve(&source, &defaults, entry, env)?;
        if !names.insert(account.name.clone()) {
            let name = &entry.get_ref().name;
            return Err(source.error(
                codes::FLEET_DUPLICATE,
                &name.span(),
                format_args!("account {:?} appears more than once", name.get_ref()),
            ));
        }
        accounts.push(account);
    }
    Ok(Desired::new(accounts))
}

/// One `[[account]]` with the defaults filled in, checked value by value.
fn resolve(
    source: &Source<'_>,
    defaults: &Settings,
    entry: &Spanned<AccountToml>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<DesiredAccount, Error> {
    let account = entry.get_ref();
    let name = account.name.get_ref();
    let about = |span: &Range<usize>, code, message: String| {
        source.error(code, span, format_args!("account {name:?}: {message}"))
    };
    let pick =
        |own: &Option<Spanned<String>>, default: &Option<Spanned<String>>| own.clone().or(default.clone());
    let services = account.services.as_ref().or(defaults.services.as_ref()).ok_or_else(|| {
        about(&entry.span(), codes::FLEET_FILE_INVALID, "no services (set them here or in [defaults])".into())
    })?;
    let url = pick(&account.url, &defaults.url).ok_or_else(|| {
        about(&entry.span(), codes::FLEET_FILE_INVALID, "no url (set it here or in [defaults])".into())
    })?;
    let username = pick(&account.username, &defaults.username);
    let password_env = pick(&account.password_env, &defaults.password_env);
    let password = match &password_env {
        None => None,
        Some(var) => {
            Some(password_from(var.get_ref(), env).map_err(|(code, m)| about(&var.span(), code, m))?)
        }
    };

    let mut seen = HashSet::new();
    let mut registrations = Vec::with_capacity(services.len());
    for service in services {
        let registration = CallbackRegistration::new(service.get_ref().as_str(), url.get_ref().as_str())
            .with_credentials(username.as_ref().map(|u| u.get_ref().as_str()), password.as_deref());
        // The core's own rules, one registration at a time, so the error points at its value.
        let one = DesiredAccount::new(name.as_str(), vec![registration.clone()]);
        if let Err(e) = one.validate(true) {
            let code = static_code(e.error_code());
            let span = match code.split('.').nth(2) {
                Some("AccountName") => account.name.span(),
                Some("ServiceName") => service.span(),
                Some("CallbackUrl") => url.span(),
                Some("Username") => username.as_ref().map_or(entry.span(), Spanned::span),
                Some("Password") => password_env.as_ref().map_or(entry.span(), Spanned::span),
                _ => entry.span(),
            };
            return Err(source.error(code, &span, e.error_message()));
        }
        if !seen.insert(service.get_ref().as_str()) {
            let message = format!("service {:?} appears more than once", service.get_ref());
            return Err(about(&service.span(), codes::FLEET_DUPLICATE, message));
        }
        registrations.push(registration);
    }
    Ok(DesiredAccount::new(name.as_str(), registrations))
}

/// The callback password from the environment variable `var`; an error names the variable,
/// never its value.
fn password_from(
    var: &str,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<String, (&'static str, String)> {
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

/// The library's code as a `&'static str` (its errors carry one).
fn static_code(code: &str) -> &'static str {
    codes::ALL.iter().copied().find(|c| *c == code).unwrap_or(codes::FLEET_FILE_INVALID)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<OsString> {
        (name == "LISTENER_PW").then(|| OsString::from("listener-secret"))
    }

    fn parse_err(text: &str) -> Error {
        parse("fleet.toml", text, &env).unwrap_err()
    }

    const GOOD: &str = r#"
[defaults]
url = "https://listener.example.com/thingspace"
username = "fleet"
password_env = "LISTENER_PW"
services = ["CarrierService", "DeviceUsage"]

[[account]]
name = "0000123456-00001"

[[account]]
name = "0000123456-00002"
services = ["CarrierService"]
url = "https://eu-listener.example.com/thingspace"
"#;

    #[test]
    fn defaults_fill_in_and_accounts_override() {
        let desired = parse("fleet.toml", GOOD, &env).unwrap();
        assert_eq!(desired.accounts.len(), 2);
        let first = &desired.accounts[0];
        assert_eq!(first.registrations.len(), 2);
        assert_eq!(first.registrations[1].service_name(), "DeviceUsage");
        assert_eq!(first.registrations[0].username(), Some("fleet"));
        assert_eq!(first.registrations[0].password().unwrap().expose(), "listener-secret");
        let second = &desired.accounts[1];
        assert_eq!(second.registrations.len(), 1);
        assert_eq!(second.registrations[0].url(), "https://eu-listener.example.com/thingspace");
    }

    #[test]
    fn errors_name_the_file_line_and_account() {
        let bad_port = GOOD.replace("eu-listener.example.com/", "eu-listener.example.com:8443/");
        let e = parse_err(&bad_port);
        assert_eq!(e.error_code(), codes::CALLBACK_URL_PORT);
        assert!(e.error_message().starts_with("fleet.toml:14: account \"0000123456-00002\""), "{e}");

        let bad_service =
            GOOD.replace(r#"services = ["CarrierService"]"#, r#"services = ["Carrier Service"]"#);
        let e = parse_err(&bad_service);
        assert_eq!(e.error_code(), codes::SERVICE_NAME_INVALID_CHARACTER);
        assert!(e.error_message().starts_with("fleet.toml:13: "), "{e}");

        let twice = format!("{GOOD}\n[[account]]\nname = \"0000123456-00001\"\n");
        let e = parse_err(&twice);
        assert_eq!(e.error_code(), codes::FLEET_DUPLICATE);
        assert!(e.error_message().starts_with("fleet.toml:17: account \"0000123456-00001\""), "{e}");

        let e = parse_err(&GOOD.replace("username = \"fleet\"", "user = \"fleet\""));
        assert_eq!(e.error_code(), codes::FLEET_FILE_INVALID);
        assert!(e.error_message().starts_with("fleet.toml:4: unknown field `user`"), "{e}");

        let e = parse_err("[[account]]\nname = \"A\"\n");
        assert_eq!(e.error_code(), codes::FLEET_FILE_INVALID);
        assert!(e.error_message().contains("account \"A\": no services"), "{e}");

        let e = parse_err("[[account]\n");
        assert_eq!(e.error_code(), codes::FLEET_FILE_INVALID);
        assert!(e.error_message().starts_with("fleet.toml:1: "), "{e}");
    }

    #[test]
    fn a_missing_password_variable_is_named_and_no_value_is_shown() {
        let e = parse_err(&GOOD.replace("LISTENER_PW", "NOT_SET_PW"));
        assert_eq!(e.error_code(), codes::ARGUMENT_MISSING);
        assert!(e.error_message().contains("fleet.toml:5: account \"0000123456-00001\""), "{e}");
        assert!(e.error_message().contains("NOT_SET_PW"), "{e}");

        let long = |_: &str| Some(OsString::from("x".repeat(41) + "-listener-secret"));
        let e = parse("fleet.toml", GOOD, &long).unwrap_err();
        assert_eq!(e.error_code(), codes::PASSWORD_TOO_LONG);
        assert!(!e.to_string().contains("listener-secret"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_password_that_is_not_utf8_is_an_error() {
        use std::os::unix::ffi::OsStringExt;
        let bad = |_: &str| Some(OsString::from_vec(vec![0xff, 0xfe]));
        let e = parse("fleet.toml", GOOD, &bad).unwrap_err();
        assert_eq!(e.error_code(), codes::ARGUMENT_ENCODING);
        assert!(e.error_message().contains("LISTENER_PW"), "{e}");
    }
}
