//! `tscb-sim`: runs the ThingSpace simulator until killed, for tests outside Rust.

use std::io::ErrorKind;
use std::process::ExitCode;
use std::time::Duration;

use tscb_sim::{SimConfig, Simulator};

const USAGE: &str = "\
usage: tscb-sim [--listen ADDR] [--allow-remote] [--tls [--ca-out PATH]] [--session-idle-timeout SECS] [--token-lifetime SECS]

Runs a local stand-in for the ThingSpace callback API until killed.
The first line printed is `listening on http://HOST:PORT/api` (https with --tls).

  --listen ADDR                 address to listen on (default 127.0.0.1:0, a free port)
  --allow-remote                allow an ADDR that is not loopback, such as 0.0.0.0:9000; the
                                admin API (/__admin/...) then needs the admin token printed at start
  --tls                         serve HTTPS, with a certificate for localhost and 127.0.0.1
                                signed by a CA made for this run
  --ca-out PATH                 with --tls: write that CA's certificate (PEM) to PATH
                                (default: tscb-sim-ca-PORT.pem in the temporary directory)
  --session-idle-timeout SECS   idle time after which a session expires (default 1200)
  --token-lifetime SECS         lifetime of issued access tokens (default 3600)
  -h, --help                    print this help";

struct Options {
    listen: String,
    config: SimConfig,
    tls: bool,
    ca_out: Option<std::path::PathBuf>,
}

/// The options to run with, or `None` when help was asked for.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options =
        Options { listen: "127.0.0.1:0".to_owned(), config: SimConfig::default(), tls: false, ca_out: None };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.to_owned())),
            _ => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        if flag == "--allow-remote" && inline_value.is_none() {
            options.config.allow_remote = true;
            continue;
        }
        if flag == "--tls" && inline_value.is_none() {
            options.tls = true;
            continue;
        }
        let mut value =
            || inline_value.clone().or_else(|| args.next()).ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => options.listen = value()?,
            "--ca-out" => options.ca_out = Some(value()?.into()),
            "--session-idle-timeout" => {
                options.config.session_idle_timeout = seconds(&flag, &value()?)?;
            }
            "--token-lifetime" => options.config.token_lifetime = seconds(&flag, &value()?)?,
            _ => return Err(format!("unknown argument: {flag}")),
        }
    }
    if options.ca_out.is_some() && !options.tls {
        return Err("--ca-out needs --tls".to_owned());
    }
    Ok(Some(options))
}

/// Fractions are allowed so that tests can use sub-second expiry.
fn seconds(flag: &str, text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("{flag}: not a number of seconds: {text}"))
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("tscb-sim: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let sim = Simulator::builder().config(options.config).listen(&options.listen).tls(options.tls).start();
    let sim = match sim {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("tscb-sim: cannot listen on {}: {e}", options.listen);
            // A refused or malformed address is the caller's to fix, like a bad flag.
            let usage_error = e.kind() == ErrorKind::InvalidInput;
            return if usage_error { ExitCode::from(2) } else { ExitCode::FAILURE };
        }
    };
    if let Err(e) = sim.save_ca(options.ca_out.as_deref()) {
        eprintln!("tscb-sim: cannot write the CA certificate: {e}");
        return ExitCode::FAILURE;
    }
    // A reader that went away (a closed pipe) must not stop the simulator it started.
    let _ = sim.write_banner(&mut std::io::stdout().lock());
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_flags_in_both_forms() {
        let Ok(Some(o)) =
            parse(&["--listen", "0.0.0.0:9000", "--session-idle-timeout=0.5", "--token-lifetime", "7"])
        else {
            panic!("should parse");
        };
        assert_eq!(o.listen, "0.0.0.0:9000");
        assert!(!o.config.allow_remote);
        assert_eq!(o.config.session_idle_timeout, Duration::from_millis(500));
        assert_eq!(o.config.token_lifetime, Duration::from_secs(7));
        let Ok(Some(o)) = parse(&["--allow-remote"]) else { panic!("should parse") };
        assert!(o.config.allow_remote);
        assert!(matches!(parse(&["--help"]), Ok(None)));
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(parse(&["--listen"]).is_err());
        assert!(parse(&["--token-lifetime", "soon"]).is_err());
        assert!(parse(&["--token-lifetime", "-1"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
        assert!(parse(&["--ca-out", "ca.pem"]).is_err(), "--ca-out without --tls");
        assert!(parse(&["--allow-remote=yes"]).is_err());
    }
}
