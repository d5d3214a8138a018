//! `tscb listen`: a callback listener for trying things and for simple pipelines. It checks each
//! message with the core's `CallbackVerifier`, writes the accepted ones as JSON lines, and only
//! then answers 200, so that an acknowledged message is never lost.

mod admin;
mod exec;
mod log;
mod nats;
mod passwords;
mod serve;
mod systemd;
mod writer;

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::pin::{pin, Pin};
use std::sync::{Arc, RwLock};
use std::task::Poll;
use std::time::Duration;

use clap::Args;
use tscb::{codes, Error, DEFAULT_PREVIOUS_PASSWORD_WINDOW};

use crate::exit::Failure;

#[derive(Args)]
pub(crate) struct ListenArgs {
    /// The address and port to listen on, e.g. 0.0.0.0:9001 (port 0: any free port); not
    /// given when systemd passes the socket (socket activation, LISTEN_FDS)
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    /// The username registered with the callback: messages with another are refused (401)
    #[arg(long)]
    username: Option<String>,
    /// The name of an environment variable holding the registered password: messages with
    /// another are refused (401). Without it the password is not checked
    #[arg(long, value_name = "VAR")]
    password_env: Option<String>,
    /// A file holding the registered password (a trailing newline is not part of it); re-read
    /// on SIGHUP
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    password_file: Option<PathBuf>,
    /// The name of an environment variable holding the password registered before the current
    /// one, accepted for 15 minutes from the start (ThingSpace sends it for a while after a
    /// re-registration)
    #[arg(long, value_name = "VAR")]
    previous_password_env: Option<String>,
    /// A file holding the password registered before the current one, accepted for 15 minutes
    /// from the start or from the SIGHUP that changed the passwords; re-read on SIGHUP
    #[arg(long, value_name = "FILE", conflicts_with = "previous_password_env")]
    previous_password_file: Option<PathBuf>,
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
    #[arg(long, value_name = "FILE", conflicts_with_all = ["exec", "nats"])]
    output: Option<PathBuf>,
    /// Give each message to a new process of this command (split as a shell splits words, run
    /// without a shell) as one JSON line on its stdin, with TSCB_DEDUP_KEY set; answer 200 only
    /// once it exits 0 (otherwise 500: ThingSpace resends)
    #[arg(long, value_name = "'CMD ARGS'", conflicts_with = "nats")]
    exec: Option<String>,
    /// Seconds a command of --exec may take; then it is killed and the answer is 500
    #[arg(long, value_name = "SECONDS", default_value_t = 10, requires = "exec",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    exec_timeout: u64,
    /// At most this many commands of --exec at once; further messages wait for one to end
    #[arg(long, value_name = "N", default_value_t = 8, requires = "exec",
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    exec_concurrency: u32,
    /// Publish each message to NATS JetStream at this server (nats://HOST:PORT, tls:// for
    /// TLS), answering 200 after the publish ack; needs --nats-subject
    #[arg(long, value_name = "URL", requires = "nats_subject")]
    nats: Option<String>,
    /// The subject to publish on; a stream must capture it, with a duplicate window of 30
    /// minutes or more (checked at start)
    #[arg(long, value_name = "SUBJECT", requires = "nats")]
    nats_subject: Option<String>,
    /// A CA certificate (PEM) to trust for the NATS server's TLS certificate, instead of the
    /// system's; TLS is then required
    #[arg(long, value_name = "PEM", requires = "nats")]
    nats_ca: Option<PathBuf>,
    /// A client certificate chain (PEM) to show the NATS server (mutual TLS, for a server with
    /// `tls { verify: true }`); needs --nats-key; TLS is then required
    #[arg(long, value_name = "PEM", requires_all = ["nats", "nats_key"])]
    nats_cert: Option<PathBuf>,
    /// The private key of --nats-cert (PEM); never printed
    #[arg(long, value_name = "PEM", requires_all = ["nats", "nats_cert"])]
    nats_key: Option<PathBuf>,
    /// A NATS credentials file (JWT and NKey seed)
    #[arg(long, value_name = "FILE", requires = "nats")]
    nats_creds: Option<PathBuf>,
    /// The NATS user; needs --nats-password-env
    #[arg(long, value_name = "USER", requires_all = ["nats", "nats_password_env"])]
    nats_user: Option<String>,
    /// The name of an environment variable holding the NATS user's password
    #[arg(long, value_name = "VAR", requires = "nats_user")]
    nats_password_env: Option<String>,
    /// Serve /healthz, /readyz and /metrics (Prometheus) on this address and port, a socket of
    /// their own (keep it off the internet)
    #[arg(long, value_name = "ADDR:PORT")]
    admin_listen: Option<SocketAddr>,
    /// At most this many connections at once; more are closed at once
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
}

/// Runs the listener until SIGINT or SIGTERM, then finishes the requests in flight.
pub(crate) fn run(args: ListenArgs) -> Result<(), Failure> {
    let (mut rotation, verifier) = passwords::Rotation::start(&args)?;
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
    let listener = callback_socket(&args)?;
    let admin_listener =
        match args.admin_listen {
            None => None,
            Some(addr) => Some(std::net::TcpListener::bind(addr).map_err(|e| {
                Failure::Internal(format!("could not listen on {addr} (--admin-listen): {e}"))
            })?),
        };
    let admin_local = admin_listener.as_ref().and_then(|l| l.local_addr().ok());
    let log = log::Log::start();
    let metrics = Arc::new(admin::Metrics::new());
    let health = Arc::new(admin::Health::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Internal(format!("could not start the runtime: {e}")))?;
    let (sink, writer) = match (&args.exec, &args.output) {
        _ if args.nats.is_some() => {
            let nats =
                runtime.block_on(nats::Nats::connect(nats_options(&args)?, health.clone(), log.clone()));
            (serve::Sink::Nats(Arc::new(nats.map_err(Failure::Internal)?)), None)
        }
        (Some(command), _) => {
            let timeout = Duration::from_secs(args.exec_timeout);
            let exec = exec::Exec::new(command, timeout, args.exec_concurrency as usize, log.clone())
                .map_err(|e| Failure::Tscb(Error::invalid_argument(codes::ARGUMENT_MISSING, e)))?;
            (serve::Sink::Exec(Arc::new(exec)), None)
        }
        (None, output) => {
            let sink = match output {
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
            let (writer, ended) = writer::Writer::start(sink, metrics.batches.clone())
                .map_err(|e| Failure::Internal(format!("could not start writing the messages: {e}")))?;
            (serve::Sink::Writer(writer.clone()), Some((writer, ended)))
        }
    };
    let verifier: serve::Verifier = Arc::new(RwLock::new(Arc::new(verifier)));
    let settings = serve::Settings {
        verifier: verifier.clone(),
        path: args.path.clone(),
        sink,
        max_connections: args.max_connections as usize,
        tls,
        log: log.clone(),
        metrics: metrics.clone(),
        health: health.clone(),
    };
    // serve() stops at the first stop itself; this one counts the stops, for the second.
    let (mut stop, mut hangup) = {
        let _entered = runtime.enter();
        let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map_err(|e| Failure::Internal(format!("could not install the SIGHUP handler: {e}")))?;
        (crate::stop::Stop::install().map_err(Failure::Internal)?, hangup)
    };
    if let Some(admin_listener) = admin_listener {
        let _entered = runtime.enter();
        let admin_listener = admin_listener
            .set_nonblocking(true)
            .and_then(|()| tokio::net::TcpListener::from_std(admin_listener))
            .map_err(|e| Failure::Internal(format!("could not listen for --admin-listen: {e}")))?;
        runtime.spawn(admin::serve(admin_listener, metrics.clone(), health.clone()));
    }
    let served = runtime.block_on(async {
        let reloads = async {
            while hangup.recv().await.is_some() {
                rotation.reload(&args, &verifier, &log);
            }
        };
        let work = pin!(async {
            let served = tokio::select! {
                served = serve::serve(listener, settings, |local| announce(&args, local, admin_local, &log)) => served,
                () = reloads => Err("the SIGHUP handler ended".to_owned()),
            };
            // The connections still open after serve's grace period may hold `Writer`s.
            if let Some((closer, ended)) = writer {
                closer.close();
                let _ = ended.await;
            }
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

/// Where and how to reach NATS, from --nats and its options.
fn nats_options(args: &ListenArgs) -> Result<nats::Options<'_>, Failure> {
    let user_password = match (&args.nats_user, &args.nats_password_env) {
        (Some(user), Some(var)) => {
            let password = crate::settings::env(var)?.ok_or_else(|| {
                Error::invalid_argument(
                    codes::ARGUMENT_MISSING,
                    format!("{var} is not set (named by --nats-password-env)"),
                )
            })?;
            Some((user.clone(), password))
        }
        _ => None,
    };
    Ok(nats::Options {
        url: args.nats.as_deref().unwrap_or_default(),
        subject: args.nats_subject.as_deref().unwrap_or_default(),
        ca: args.nats_ca.as_deref(),
        client_certificate: args.nats_cert.as_deref().zip(args.nats_key.as_deref()),
        creds: args.nats_creds.as_deref(),
        user_password,
    })
}

/// The callback socket: systemd's (socket activation), or bound to --listen.
fn callback_socket(args: &ListenArgs) -> Result<std::net::TcpListener, Failure> {
    let usage = |text: &str| Failure::Tscb(Error::invalid_argument(codes::ARGUMENT_MISSING, text));
    match (systemd::inherited_listener().map_err(Failure::Internal)?, args.listen) {
        (Some(inherited), None) => Ok(inherited),
        (Some(_), Some(_)) => {
            Err(usage("systemd passes the socket (LISTEN_FDS): --listen must not be given"))
        }
        (None, Some(addr)) => std::net::TcpListener::bind(addr)
            .map_err(|e| Failure::Internal(format!("could not listen on {addr}: {e}"))),
        (None, None) => Err(usage("--listen ADDR:PORT is needed (unless systemd passes the socket)")),
    }
}

/// What the user needs to know once the socket is bound, on stderr (stdout carries the
/// messages), then READY=1 to systemd. Never a password: only whether one is checked.
fn announce(args: &ListenArgs, local: SocketAddr, admin: Option<SocketAddr>, log: &log::Log) {
    let scheme = if args.tls_cert.is_some() { "https" } else { "http" };
    let path = args.path.as_deref().unwrap_or("/ (any path)");
    eprintln!("listening on {scheme}://{local}{path}");
    if let Some(admin) = admin {
        eprintln!("admin endpoints on http://{admin} (/healthz, /readyz, /metrics)");
    }
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
        checked(args.password_env.is_some() || args.password_file.is_some()),
        if args.previous_password_env.is_some() || args.previous_password_file.is_some() {
            format!(
                " (previous password accepted for {} minutes)",
                DEFAULT_PREVIOUS_PASSWORD_WINDOW.as_secs() / 60
            )
        } else {
            String::new()
        },
    );
    match (&args.exec, &args.output) {
        _ if args.nats.is_some() => eprintln!(
            "writing messages to NATS JetStream at {}, subject {}",
            nats::without_userinfo(args.nats.as_deref().unwrap_or_default()),
            args.nats_subject.as_deref().unwrap_or_default()
        ),
        (Some(command), _) => eprintln!(
            "writing messages to the stdin of {}, one process each (at most {} at once, each within {} s)",
            shlex::split(command).and_then(|words| words.into_iter().next()).unwrap_or_default(),
            args.exec_concurrency,
            args.exec_timeout
        ),
        (None, Some(path)) => eprintln!("writing messages to {}", path.display()),
        (None, None) => eprintln!("writing messages to stdout"),
    }
    if let Err(e) = systemd::notify("READY=1") {
        log.line(e);
    }
}
