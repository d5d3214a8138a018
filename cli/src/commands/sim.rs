//! `tscb sim`: the simulator in the foreground, printing what a client needs to reach it (the
//! simulator's own start-up printout, the same as `tscb-sim`'s), until SIGINT or SIGTERM.

use std::path::PathBuf;

use clap::Args;
use tscb_sim::Simulator;

use crate::exit::{Failure, USAGE};

#[derive(Args)]
pub(crate) struct SimArgs {
    /// The address to listen on
    #[arg(long, default_value = "127.0.0.1:9000", value_name = "ADDR")]
    listen: String,
    /// Allow an ADDR that is not loopback; the admin API then needs the admin token that
    /// the simulator prints at start
    #[arg(long)]
    allow_remote: bool,
    /// Serve HTTPS with a certificate signed by a CA made for this run
    #[arg(long)]
    tls: bool,
    /// With --tls: where to write that CA's certificate (default: tscb-sim-ca-PORT.pem in
    /// the temporary directory); give it to clients with --ca-file
    #[arg(long, value_name = "PATH", requires = "tls")]
    ca_out: Option<PathBuf>,
}

pub(crate) fn run(args: &SimArgs) -> Result<(), Failure> {
    let config = tscb_sim::SimConfig { allow_remote: args.allow_remote, ..tscb_sim::SimConfig::default() };
    let listen = &args.listen;
    let sim = match Simulator::builder().config(config).listen(listen).tls(args.tls).start() {
        Ok(sim) => sim,
        // A refused (not loopback) or malformed address is a usage error, as clap's are.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            eprintln!("error: cannot listen on {listen}: {e}");
            return Err(Failure::Exit(USAGE));
        }
        Err(e) => return Err(Failure::Internal(format!("could not start the simulator on {listen}: {e}"))),
    };
    sim.save_ca(args.ca_out.as_deref())
        .map_err(|e| Failure::Internal(format!("could not write the simulator's CA certificate: {e}")))?;
    // Runs until SIGINT or SIGTERM, then stops the simulator and exits 0 (see stop.rs).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| Failure::Internal(format!("could not start a runtime for the signal handlers: {e}")))?;
    let _entered = runtime.enter();
    let mut stop = crate::stop::Stop::install().map_err(Failure::Internal)?;
    // A reader that went away (a closed pipe) must not stop the simulator it started.
    let _ = sim.write_banner(&mut std::io::stdout().lock());
    runtime.block_on(std::future::poll_fn(|cx| stop.poll(cx)));
    drop(sim);
    Ok(())
}
