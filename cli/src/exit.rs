//! The exit codes, the one place that decides them, and what a failed command carries back to
//! `main` (the only place that exits).

use tscb::{Error, ErrorKind};

/// The help's epilogue: where credentials come from, and what each exit code means.
pub(crate) const EXIT_CODES: &str = "\
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

pub(crate) const INTERNAL: u8 = 1;
/// As clap's own usage errors.
pub(crate) const USAGE: u8 = 2;
/// `plan --exit-code` when something would change (as `git diff --exit-code`).
pub(crate) const CHANGES_PENDING: u8 = 8;

/// Why the command failed, as printed and as the exit code.
pub(crate) enum Failure {
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

impl Failure {
    pub(crate) fn code(&self) -> u8 {
        match self {
            Failure::Tscb(e) => exit_code(e.kind()),
            Failure::Internal(_) => INTERNAL,
            Failure::Exit(code) => *code,
        }
    }
}

pub(crate) fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput => 3,
        ErrorKind::Api => 4,
        ErrorKind::Auth => 5,
        ErrorKind::Transport | ErrorKind::Timeout => 6,
        ErrorKind::InvalidResponse => 7,
        // Internal faults, and any kind added later: never mistaken for success or the network.
        _ => INTERNAL,
    }
}
