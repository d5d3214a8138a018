//! The verifier's settings, and their rotation without a restart: the passwords come from
//! environment variables (fixed for the life of the process) or files (`--password-file`,
//! `--previous-password-file`), which SIGHUP re-reads. A reload that fails keeps the verifier in
//! force. The previous password's window starts when it is set: at the start, or at the reload
//! that changed the passwords.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use tscb::files::{read_bounded, Links};
use tscb::{codes, CallbackVerifier, Error, DEFAULT_PREVIOUS_PASSWORD_WINDOW};

use super::log::Log;
use super::serve::Verifier;
use super::ListenArgs;
use crate::settings::env;

/// A password file holds one password; anything larger is a mistake (a wrong path).
const MAX_PASSWORD_FILE_BYTES: u64 = 64 * 1024;

/// The passwords in force and when the previous one's window began. No Debug: they are secrets.
#[derive(PartialEq, Eq)]
struct Passwords {
    password: Option<String>,
    previous: Option<String>,
}

pub struct Rotation {
    in_force: Passwords,
    previous_since: Instant,
}

impl Rotation {
    /// Reads the passwords and builds the first verifier.
    pub fn start(args: &ListenArgs) -> Result<(Rotation, CallbackVerifier), Error> {
        let in_force = read(args)?;
        let rotation = Rotation { in_force, previous_since: Instant::now() };
        let verifier = rotation.verifier(args)?;
        Ok((rotation, verifier))
    }

    /// Re-reads the passwords and replaces the verifier, or keeps it and logs why not.
    pub fn reload(&mut self, args: &ListenArgs, verifier: &Verifier, log: &Log) {
        if args.password_file.is_none() && args.previous_password_file.is_none() {
            log.line("SIGHUP: nothing to reload (the passwords come from the environment)".to_owned());
            return;
        }
        let read = match read(args) {
            Ok(read) => read,
            Err(e) => {
                log.line(format!(
                    "SIGHUP: reload failed, the passwords in force are kept: {}",
                    e.error_message()
                ));
                return;
            }
        };
        let changed = read != self.in_force;
        let previous_since = if changed { Instant::now() } else { self.previous_since };
        let next = Rotation { in_force: read, previous_since };
        match next.verifier(args) {
            Ok(built) => {
                *verifier.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(built);
                *self = next;
                log.line(match (changed, self.in_force.previous.is_some()) {
                    (false, _) => "SIGHUP: reloaded, the passwords are unchanged".to_owned(),
                    (true, false) => "SIGHUP: reloaded the password".to_owned(),
                    (true, true) => format!(
                        "SIGHUP: reloaded the passwords; the previous one is accepted for {} minutes from now",
                        DEFAULT_PREVIOUS_PASSWORD_WINDOW.as_secs() / 60
                    ),
                });
            }
            Err(e) => log.line(format!(
                "SIGHUP: reload failed, the passwords in force are kept: {}",
                e.error_message()
            )),
        }
    }

    fn verifier(&self, args: &ListenArgs) -> Result<CallbackVerifier, Error> {
        let mut verifier = CallbackVerifier::new();
        if let Some(username) = &args.username {
            verifier.set_username(username);
        }
        if let Some(password) = &self.in_force.password {
            verifier.set_password(password.as_str());
        }
        if let Some(previous) = &self.in_force.previous {
            let left = DEFAULT_PREVIOUS_PASSWORD_WINDOW.saturating_sub(self.previous_since.elapsed());
            verifier.set_previous_password(previous.as_str(), left);
        }
        for source in &args.allow_source {
            verifier.allow_source(source)?;
        }
        if args.any_source {
            verifier.allow_any_source();
        }
        Ok(verifier)
    }
}

fn read(args: &ListenArgs) -> Result<Passwords, Error> {
    let password = secret(args.password_env.as_deref(), args.password_file.as_deref())?;
    let previous = secret(args.previous_password_env.as_deref(), args.previous_password_file.as_deref())?;
    if previous.is_some() && password.is_none() {
        return Err(Error::invalid_argument(
            codes::ARGUMENT_MISSING,
            "a previous password needs the current one (--password-env or --password-file)",
        ));
    }
    Ok(Passwords { password, previous })
}

fn secret(var: Option<&str>, file: Option<&Path>) -> Result<Option<String>, Error> {
    if let Some(var) = var {
        return env(var)?.map(Some).ok_or_else(|| {
            Error::invalid_argument(
                codes::ARGUMENT_MISSING,
                format!("{var} is not set (named by a --…-env option)"),
            )
        });
    }
    let Some(path) = file else { return Ok(None) };
    // The errors name the file, never what is in it.
    let unreadable = |why: String| {
        Error::invalid_argument(codes::ARGUMENT_MISSING, format!("could not read {}: {why}", path.display()))
    };
    let bytes =
        read_bounded(path, MAX_PASSWORD_FILE_BYTES, Links::Follow).map_err(|e| unreadable(e.to_string()))?;
    let mut text = String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".to_owned()))?;
    // What `echo` or an editor adds is not part of the password.
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        args: ListenArgs,
    }

    fn accepts(verifier: &Verifier, password: &str) -> bool {
        let body = serde_json::json!({"requestId": "r", "password": password, "deviceIds": []}).to_string();
        let verifier = verifier.read().unwrap().clone();
        verifier.verify("127.0.0.1".parse().unwrap(), body.as_bytes()).is_ok()
    }

    #[test]
    fn the_previous_password_window_starts_at_the_reload_that_changed_the_passwords() {
        let dir = std::env::temp_dir().join(format!("tscb-rotation-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (current, previous) = (dir.join("current"), dir.join("previous"));
        std::fs::write(&current, "one\n").unwrap();
        std::fs::write(&previous, "zero\n").unwrap();
        let args = Command::parse_from([
            "listen",
            "--any-source",
            "--password-file",
            current.to_str().unwrap(),
            "--previous-password-file",
            previous.to_str().unwrap(),
        ])
        .args;
        let (mut rotation, built) = Rotation::start(&args).unwrap();
        let verifier: Verifier = Arc::new(std::sync::RwLock::new(Arc::new(built)));
        assert!(accepts(&verifier, "zero"));
        let log = Log::start_on(std::io::sink());
        // As if the start had been 16 minutes ago: an unchanged reload keeps that window, over.
        rotation.previous_since -= std::time::Duration::from_secs(16 * 60);
        rotation.reload(&args, &verifier, &log);
        assert!(accepts(&verifier, "one") && !accepts(&verifier, "zero"));
        // A reload with new passwords starts the previous one's window anew.
        std::fs::write(&current, "two\n").unwrap();
        std::fs::write(&previous, "one\n").unwrap();
        rotation.reload(&args, &verifier, &log);
        assert!(accepts(&verifier, "two") && accepts(&verifier, "one") && !accepts(&verifier, "zero"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
