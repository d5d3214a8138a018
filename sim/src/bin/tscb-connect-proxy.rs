//! `tscb-connect-proxy`: `tscb_sim::ConnectProxy` as a process, for the C and Python tests of
//! clients behind a proxy. It tunnels to loopback targets only.

use std::io::Write;
use std::process::ExitCode;

use tscb_sim::{ConnectProxy, ProxyConfig};

const USAGE: &str = "\
usage: tscb-connect-proxy [--credentials USER:PASSWORD] [--refuse STATUS] [--max-tunnels N]
                          [--idle-timeout SECONDS]

Runs a CONNECT proxy on a free port of 127.0.0.1 that tunnels to loopback targets only, until
killed. The first line printed is `proxying on http://127.0.0.1:PORT`; then one line per CONNECT
(`CONNECT target status`, without credentials).

  --credentials USER:PASSWORD   answer 407 unless Proxy-Authorization carries these (test
                                values only: arguments show in `ps`)
  --refuse STATUS               answer every CONNECT with STATUS (e.g. 403) instead of a tunnel
  --max-tunnels N               the most tunnels open at once; 503 beyond (default 64)
  --idle-timeout SECONDS        close a tunnel in which nothing moved for this long (default 30)";

fn parse(args: &[String]) -> Result<ProxyConfig, String> {
    let mut config = ProxyConfig::default();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || args.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--credentials" => {
                let value = value()?;
                let (user, password) = value.split_once(':').ok_or("--credentials needs USER:PASSWORD")?;
                config.credentials = Some((user.to_owned(), password.to_owned()));
            }
            "--refuse" => {
                let status = value()?.parse::<u16>().map_err(|_| "--refuse needs a status".to_owned())?;
                config.refuse.push(("*".to_owned(), status));
            }
            "--max-tunnels" => {
                config.max_tunnels =
                    value()?.parse().map_err(|_| "--max-tunnels needs a number".to_owned())?;
            }
            "--idle-timeout" => {
                let seconds = value()?.parse::<f64>().ok().filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9);
                let seconds = seconds.ok_or("--idle-timeout needs a positive number of seconds")?;
                config.idle_timeout = std::time::Duration::from_secs_f64(seconds);
            }
            _ => return Err(format!("unknown argument: {flag}")),
        }
    }
    Ok(config)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let config = match parse(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("tscb-connect-proxy: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let proxy = match ConnectProxy::start_with(config) {
        Ok(proxy) => proxy,
        Err(e) => {
            eprintln!("tscb-connect-proxy: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout();
    let _ = writeln!(out, "proxying on {}", proxy.url()).and_then(|()| out.flush());
    let mut shown = 0;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let (requests, count) = proxy.requests_since(shown);
        for r in &requests {
            let _ = writeln!(out, "{} {} {}", r.method, r.target, r.status).and_then(|()| out.flush());
        }
        shown = count;
    }
}
