//! `tscb list`: an account's callback listeners, passwords masked unless asked for.

use clap::Args;
use tscb::AccountName;

use crate::args::{self, ClientArgs};
use crate::exit::Failure;
use crate::output;
use crate::settings::with_client;

#[derive(Args)]
pub(crate) struct ListArgs {
    /// The billing account name, e.g. 0000123456-00001
    #[arg(long, value_parser = args::account)]
    account: AccountName,
    /// Show the callback passwords in clear text
    #[arg(long)]
    show_passwords: bool,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

pub(crate) fn run(args: ListArgs) -> Result<(), Failure> {
    with_client(&args.client, |client| {
        let listed = client.list_callbacks(&args.account)?;
        let out = &mut std::io::stdout().lock();
        output::written(output::list(
            out,
            args.account.as_str(),
            &listed,
            args.show_passwords,
            args.client.json,
        ))
    })
}
