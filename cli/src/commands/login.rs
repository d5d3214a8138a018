//! `tscb login`: checks the credentials with one OAuth token and one session login.

use std::io::Write;

use clap::Args;
use tscb::{codes, Error};

use crate::args::ClientArgs;
use crate::exit::Failure;
use crate::output;
use crate::settings::{has_credentials, with_client};

#[derive(Args)]
pub(crate) struct LoginArgs {
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

pub(crate) fn run(args: &LoginArgs) -> Result<(), Failure> {
    with_client(&args.client, |client| {
        if !args.client.sim && !has_credentials()? {
            return Err(Failure::Tscb(Error::invalid_argument(
                codes::ARGUMENT_MISSING,
                "tscb login checks THINGSPACE_CLIENT_ID, THINGSPACE_CLIENT_SECRET, THINGSPACE_LOGIN_USERNAME and \
                 THINGSPACE_LOGIN_PASSWORD; fixed tokens cannot be checked without a call (try `tscb list`)",
            )));
        }
        client.login()?;
        let out = &mut std::io::stdout().lock();
        output::written(if args.client.json {
            writeln!(out, "{}", serde_json::json!({"baseUrl": client.base_url(), "signedIn": true}))
        } else {
            writeln!(out, "signed in to {}", client.base_url())
        })
    })
}
