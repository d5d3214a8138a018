//! The fleet file: TOML in the schema of [`tscb::fleet::FleetSpec`] (documented there, the same
//! keys as Python's dicts), read into [`tscb::fleet::Desired`]. Every value is checked here,
//! before anything is sent, so that an error can name the file, the line and the account.

use std::ffi::OsString;
use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use tscb::fleet::{AccountSpec, Desired, FleetSpec, SpecField};
use tscb::{codes, Error};

/// The schema, each value with where it was written.
type FileToml = FleetSpec<Spanned<String>, Spanned<AccountSpec<Spanned<String>>>>;

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

/// Reads and checks the fleet file at `path`, taking passwords from the environment through
/// `env` (given so that tests need not change the process's environment).
pub(crate) fn load(path: &Path, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Desired, Error> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::invalid_argument(codes::FLEET_FILE_INVALID, format!("{name}: cannot be read: {e}"))
    })?;
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
    // The port is checked as the command's client does (always).
    file.resolve(env, true).map_err(|e| {
        let span = match e.field {
            SpecField::Account(entry) => entry.span(),
            SpecField::Name(value)
            | SpecField::Service(value)
            | SpecField::Url(value)
            | SpecField::Username(value)
            | SpecField::PasswordEnv(value) => value.span(),
        };
        match e.error {
            Error::InvalidInput { code, message } => source.error(code, &span, message),
            other => other,
        }
    })
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
