//! `tscb deregister`: removes the callback listener of one account's service.

use clap::Args;
use tscb::{AccountName, ServiceName};

use crate::args::{self, ClientArgs};
use crate::exit::Failure;
use crate::output;
use crate::settings::with_client;

#[derive(Args)]
pub(crate) struct DeregisterArgs {
    /// The billing account name
    #[arg(long, value_parser = args::account)]
    account: AccountName,
    /// The service name, e.g. CarrierService
    #[arg(long, value_parser = args::service)]
    service: ServiceName,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

pub(crate) fn run(args: DeregisterArgs) -> Result<(), Failure> {
    with_client(&args.client, |client| {
        let ack = client.deregister_callback(&args.account, &args.service)?;
        output::written(output::ack(&mut std::io::stdout().lock(), "deregistered", &ack, args.client.json))
    })
}
