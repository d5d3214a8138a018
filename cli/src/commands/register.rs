//! `tscb register`: one callback listener for one account's service.

use clap::Args;
use tscb::{codes, AccountName, CallbackRegistration, CallbackUrl, Error, ServiceName};

use crate::args::{self, ClientArgs};
use crate::exit::Failure;
use crate::output;
use crate::settings::{env, with_client};

#[derive(Args)]
pub(crate) struct RegisterArgs {
    /// The billing account name, e.g. 0000123456-00001
    #[arg(long, value_parser = args::account)]
    account: AccountName,
    /// The service name, e.g. CarrierService
    #[arg(long, value_parser = args::service)]
    service: ServiceName,
    /// The listener's URL, reachable from Verizon's data centres
    #[arg(long, value_parser = args::callback_url)]
    url: CallbackUrl,
    /// A username that ThingSpace echoes in every callback
    #[arg(long)]
    username: Option<String>,
    /// The name of an environment variable holding the password that ThingSpace echoes in
    /// every callback (a password is never taken as an argument)
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

pub(crate) fn run(args: RegisterArgs) -> Result<(), Failure> {
    let mut registration = CallbackRegistration::new(args.service, args.url)?;
    if let Some(username) = args.username {
        registration = registration.with_username(username)?;
    }
    with_client(&args.client, |client| {
        // Read when the client is ready, as before: a missing client setting is reported first.
        if let Some(var) = &args.password_env {
            let password = env(var)?.ok_or_else(|| {
                Error::invalid_argument(
                    codes::ARGUMENT_MISSING,
                    format!("--password-env names {var}, which is not set"),
                )
            })?;
            registration = registration.with_password(password)?;
        }
        let ack = client.register_callback(&args.account, &registration)?;
        output::written(output::ack(&mut std::io::stdout().lock(), "registered", &ack, args.client.json))
    })
}
