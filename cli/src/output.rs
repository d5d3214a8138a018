//! What the commands print: text for people (service text escaped, so it cannot play tricks
//! with a terminal), JSON for scripts (exact), errors on stderr, and whether styling (the
//! progress bar) is wanted at all.

use std::io::{IsTerminal, Write};

use serde_json::json;
use tscb::{codes, CallbackAck, RegisteredCallback};

use crate::exit::Failure;

const MASK: &str = "********";

/// Text from the service as a terminal may show it: control characters (an escape sequence
/// could recolour or rewrite the screen, a newline forge a line) and the invisible characters
/// that reorder text are shown escaped, as `\u{1b}`. `--json` output stays exact.
pub(crate) fn shown(text: &str) -> String {
    tscb::escape_invisible(text)
}

/// Whether output may be styled (a progress bar redrawn in place): only for a person at a
/// terminal on both stdout and stderr, who has not asked for plain output with `NO_COLOR`
/// (<https://no-color.org>: set and not empty) or `TERM=dumb`.
pub(crate) fn styled() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    !no_color && !dumb && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// A finished write to stdout as the command's outcome: a reader that went away (`tscb list |
/// head -1`) is not a failure of the command, which itself succeeded.
pub(crate) fn written(printed: std::io::Result<()>) -> Result<(), Failure> {
    match printed {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(write_failure),
    }
}

pub(crate) fn write_failure(e: std::io::Error) -> Failure {
    Failure::Internal(format!("could not write the output: {e}"))
}

/// The failure on stderr, as one JSON object with `--json`.
pub(crate) fn failure(failure: &Failure, json: bool) {
    match failure {
        Failure::Exit(_) => {}
        Failure::Internal(message) => {
            if json {
                eprintln!("{}", json!({"errorCode": codes::INTERNAL, "errorMessage": message}));
            } else {
                eprintln!("error: {}: {message}", codes::INTERNAL);
            }
        }
        Failure::Tscb(e) => {
            if json {
                eprintln!("{}", e.to_json());
                return;
            }
            match e.http_status() {
                Some(status) => eprintln!("error: {}: {} (HTTP {status})", e.error_code(), e.error_message()),
                None => eprintln!("error: {}: {}", e.error_code(), e.error_message()),
            }
            // The library's message names its option, not this command's flag for it.
            if e.error_code() == codes::LOGIN_BLOCKED {
                eprintln!("(to send the login anyway, pass --ignore-login-guard)");
            }
        }
    }
}

pub(crate) fn warning(warning: &str, json: bool) {
    if json {
        eprintln!("{}", json!({ "warning": warning }));
    } else {
        eprintln!("warning: {warning}");
    }
}

pub(crate) fn ack(out: &mut impl Write, done: &str, ack: &CallbackAck, json: bool) -> std::io::Result<()> {
    if json {
        writeln!(out, "{}", json!({"accountName": ack.account_name, "serviceName": ack.service_name}))
    } else {
        writeln!(out, "{done} {} for account {}", shown(&ack.service_name), shown(&ack.account_name))
    }
}

pub(crate) fn list(
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
                json!({
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
