//! `tscb listen`: a callback listener for trying things and for simple pipelines. It checks each
//! message with the core's `CallbackVerifier`, writes the accepted ones as JSON lines, and only
//! then answers 200, so that an acknowledged message is never lost.

mod log;
mod serve;
mod writer;

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use clap::Args;
use tscb::{codes, CallbackVerifier, Error, DEFAULT_PREVIOUS_PASSWORD_WINDOW};

use crate::exit::Failure;
use crate::settings::env;

#[derive(Args)]
pub(crate) struct ListenArgs {
    /// The address and port to listen on, e.g. 0.0.0.0:9001 (port 0: any free port)
    #[arg(long, value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// The username registered with the callback: messages with another are refused (401)
    #[arg(long)]
    username: Option<String>,
    /// The name of an environment variable holding the registered password: messages with
    /// another are refused (401). Without it the password is not checked
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// The name of an environment variable holding the password registered before the current
    /// one, accepted for 15 minutes from the start (ThingSpace sends it for a while after a
    /// re-registration)
    #[arg(long, value_name = "VAR", requires = "password_env")]
    previous_password_env: Option<String>,
    /// Accept messages from this address or CIDR block (repeatable); replaces the default,
    /// Verizon's documented callback addresses
    #[arg(long, value_name = "ADDR_OR_CIDR")]
    allow_source: Vec<String>,
    /// Accept messages from any source address (behind a proxy that checks them, or for tests)
    #[arg(long, conflicts_with = "allow_source")]
    any_source: bool,
    /// Accept messages only on this path (others get 404); default: any path
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM)
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Append the messages to this file (created 0600; synced to disk before each 200) instead
    /// of stdout
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// At most this many connections at once; more are closed at once
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
}

/// Runs the listener until SIGINT or SIGTERM, then finishes the requests in flight.
pub(crate) fn run(args: ListenArgs) -> Result<(), Failure> {
    let verifier = verifier(&args)?;
    if let Some(path) = &args.path {
        if !path.starts_with('/') {
            return Err(Failure::Tscb(Error::invalid_argument(
                codes::ARGUMENT_MISSING,
                format!("--path must start with '/' (got {path:?})"),
            )));
        }
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(serve::tls_config(cert, key).map_err(Failure::Internal)?),
        _ => None,
    };
    let sink = match &args.output {
        None => writer::Sink::Stdout,
        Some(path) => writer::Sink::File(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| Failure::Internal(format!("could not open {}: {e}", path.display())))?,
        ),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Internal(format!("could not start the runtime: {e}")))?;
    let (writer, writer_ended) = writer::Writer::start(sink)
        .map_err(|e| Failure::Internal(format!("could not start writing the messages: {e}")))?;
    let closer = writer.clone();
    let log = log::Log::start();
    let settings = serve::Settings {
        verifier: Arc::new(verifier),
        path: args.path.clone(),
        writer,
        max_connections: args.max_connections as usize,
        tls,
        log: log.clone(),
    };
    // serve() stops at the first stop itself; this one counts the stops, for the second.
    let mut stop = {
        let _entered = runtime.enter();
        crate::stop::Stop::install().map_err(Failure::Internal)?
    };
    let served = runtime.block_on(async {
        let work = pin!(async {
            let served = serve::serve(args.listen, settings, |local| announce(&args, local)).await;
            // The connections still open after serve's grace period may hold `Writer`s.
            closer.close();
            let _ = writer_ended.await;
            served
        });
        until_stopped_twice_or_late(work, &mut stop).await
    });
    match served {
        // The writer has ended: all it was given is written. Connections still open after the
        // grace period are cut here; their messages were never acknowledged.
        Ok(served) => {
            runtime.shutdown_timeout(Duration::from_secs(1));
            // The last refusal counts and the stop lines, unless nobody reads stderr.
            log.finish(Duration::from_secs(1));
            served.map_err(Failure::Internal)
        }
        // The writer may be stuck in a write (a pipe nobody reads): leave it, and exit 1.
        Err(why) => {
            runtime.shutdown_background();
            // Through the log, which never blocks: stderr may be stuck too.
            log.line(format!(
                "stopped {why}, perhaps before every message was written: those not written were \
                 not acknowledged (ThingSpace resends them)"
            ));
            log.finish(Duration::from_secs(1));
            Err(Failure::Exit(1))
        }
    }
}

/// How long after the first stop the listener gives up on the writer and exits: serve's grace
/// period for the requests in flight, and a little for the writer after it.
/// `TSCB_LISTEN_STOP_GRACE_MS` shortens it for tests (not documented for users).
fn stop_deadline() -> Duration {
    std::env::var("TSCB_LISTEN_STOP_GRACE_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(serve::SHUTDOWN_GRACE + Duration::from_secs(5))
}

/// `work`'s outcome; or an error when a second SIGINT or SIGTERM comes, or the deadline passes
/// after the first.
async fn until_stopped_twice_or_late<T>(
    mut work: Pin<&mut impl Future<Output = T>>,
    stop: &mut crate::stop::Stop,
) -> Result<T, String> {
    let mut stops = 0;
    let mut deadline = None;
    poll_fn(|cx| {
        if let Poll::Ready(done) = work.as_mut().poll(cx) {
            return Poll::Ready(Ok(done));
        }
        while stops < 2 && stop.poll(cx).is_ready() {
            stops += 1;
            deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(stop_deadline())));
        }
        if stops >= 2 {
            return Poll::Ready(Err("at a second signal".to_owned()));
        }
        match deadline.as_mut().map(|d| d.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(format!("{:?} after the signal", stop_deadline()))),
            _ => Poll::Pending,
        }
    })
    .await
}

fn verifier(args: &ListenArgs) -> Result<CallbackVerifier, Failure> {
    let mut verifier = CallbackVerifier::new();
    if let Some(username) = &args.username {
        verifier.set_username(username);
    }
    let secret = |var: &str| -> Result<String, Error> {
        env(var)?.ok_or_else(|| {
            Error::invalid_argument(
                codes::ARGUMENT_MISSING,
                format!("{var} is not set (named by a --…-env option)"),
            )
        })
    };
    if let Some(var) = &args.password_env {
        verifier.set_password(secret(var)?);
    }
    if let Some(var) = &args.previous_password_env {
        verifier.set_previous_password(secret(var)?, DEFAULT_PREVIOUS_PASSWORD_WINDOW);
    }
    for source in &args.allow_source {
        verifier.allow_source(source)?;
    }
    if args.any_source {
        verifier.allow_any_source();
    }
    Ok(verifier)
}

/// What the user needs to know once the socket is bound, on stderr (stdout carries the
/// messages). Never a password: only whether one is checked.
fn announce(args: &ListenArgs, local: SocketAddr) {
    let scheme = if args.tls_cert.is_some() { "https" } else { "http" };
    let path = args.path.as_deref().unwrap_or("/ (any path)");
    eprintln!("listening on {scheme}://{local}{path}");
    let sources = if args.any_source {
        "any source".to_owned()
    } else if args.allow_source.is_empty() {
        format!("Verizon's documented callback addresses ({})", tscb::VERIZON_CALLBACK_SOURCES.join(", "))
    } else {
        args.allow_source.join(", ")
    };
    eprintln!("accepting messages from: {sources}");
    let checked = |set: bool| if set { "checked" } else { "not checked" };
    eprintln!(
        "username: {}; password: {}{}",
        checked(args.username.is_some()),
        checked(args.password_env.is_some()),
        if args.previous_password_env.is_some() {
            format!(
                " (previous password accepted for {} minutes)",
                DEFAULT_PREVIOUS_PASSWORD_WINDOW.as_secs() / 60
            )
        } else {
            String::new()
        },
    );
    match &args.output {
        Some(path) => eprintln!("writing messages to {}", path.display()),
        None => eprintln!("writing messages to stdout"),
    }
}
