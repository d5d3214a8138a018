//! The `tscb` binary over HTTPS (`tscb sim --tls`) with `--ca-file`, `THINGSPACE_CA_FILE` and
//! `SSL_CERT_FILE`, and through a CONNECT proxy from `--proxy` and the proxy variables. Every
//! environment variable is set for the child process only.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{ChildStdout, Command, Output};

use common::{read_base_url, spawn_sim, stderr, stdout, KillOnDrop, BIN, CREDENTIALS};
use tscb_sim::{ConnectProxy, ProxyConfig};
/// Every variable that could change where a request goes or whom it trusts.
const CLEARED: [&str; 12] = [
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "THINGSPACE_CA_FILE",
    "THINGSPACE_BASE_URL",
];

/// `tscb sim --tls --ca-out PATH` in the background, killed when dropped.
struct TlsSim {
    _child: KillOnDrop,
    base_url: String,
    ca: PathBuf,
    /// XDG_STATE_HOME for the runs against this simulator: the login guard file of this test
    /// alone, never the user's, and never shared with a test running at the same time.
    state: PathBuf,
    _stdout: BufReader<ChildStdout>,
}

impl TlsSim {
    fn start(name: &str) -> TlsSim {
        let ca = std::env::temp_dir().join(format!("tscb-cli-test-{}-{name}.pem", std::process::id()));
        let (child, mut out) =
            spawn_sim(&["--listen", "127.0.0.1:0", "--tls", "--ca-out", ca.to_str().unwrap()]);
        let base_url = read_base_url(&mut out);
        assert!(base_url.starts_with("https://127.0.0.1:"), "{base_url}");
        let mut second = String::new();
        out.read_line(&mut second).unwrap();
        assert!(second.starts_with(&format!("ca file: {}", ca.display())), "{second}");
        let state = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tls-state-{name}"));
        TlsSim { _child: child, base_url, ca, state, _stdout: out }
    }

    fn port(&self) -> &str {
        self.base_url.trim_start_matches("https://127.0.0.1:").trim_end_matches("/api")
    }

    /// `tscb COMMAND ... --base-url <sim>` with the sim's credentials and exactly `env` besides.
    fn run(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut command = Command::new(BIN);
        for name in CLEARED {
            command.env_remove(name);
        }
        command.env("XDG_STATE_HOME", &self.state);
        command.envs(CREDENTIALS).envs(env.iter().copied()).args(args);
        command.arg("--base-url").arg(&self.base_url).output().expect("tscb runs")
    }
}

impl Drop for TlsSim {
    fn drop(&mut self) {
        // The simulator itself is stopped when its field is dropped, after this.
        let _ = std::fs::remove_file(&self.ca);
    }
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "exit {:?}: {}", o.status.code(), String::from_utf8_lossy(&o.stderr));
    stdout(o)
}

fn failed(o: &Output, exit: i32) -> String {
    assert_eq!(o.status.code(), Some(exit), "{}", String::from_utf8_lossy(&o.stderr));
    stderr(o)
}

const REGISTER: [&str; 7] = [
    "register",
    "--account",
    "TestAccount-2",
    "--service",
    "CarrierService",
    "--url",
    "https://example.com/cb",
];

#[test]
fn the_main_path_over_https_with_ca_file_or_thingspace_ca_file() {
    let sim = TlsSim::start("main");
    let ca = sim.ca.to_str().unwrap();
    assert!(ok(&sim.run(&[], &["login", "--ca-file", ca])).starts_with("signed in to https://"));
    assert!(ok(&sim.run(
        &[],
        &[
            REGISTER[0],
            "--ca-file",
            ca,
            REGISTER[1],
            REGISTER[2],
            REGISTER[3],
            REGISTER[4],
            REGISTER[5],
            REGISTER[6]
        ]
    ))
    .contains("registered CarrierService"));
    let env = [("THINGSPACE_CA_FILE", ca)];
    assert!(ok(&sim.run(&env, &["list", "--account", "TestAccount-2"])).contains("https://example.com/cb"));
    assert!(ok(&sim.run(&env, &["deregister", "--account", "TestAccount-2", "--service", "CarrierService"]))
        .contains("deregistered"));
}

#[test]
fn ssl_cert_file_and_ssl_cert_dir_in_the_environment_are_honoured() {
    let sim = TlsSim::start("sslcert");
    let list = ["list", "--account", "TestAccount-2"];
    ok(&sim.run(&[("SSL_CERT_FILE", sim.ca.to_str().unwrap())], &list));
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ssl-cert-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&sim.ca, dir.join("sim-ca.pem")).unwrap();
    // Only that directory, so that the system's own store cannot be what made it work.
    ok(&sim.run(&[("SSL_CERT_DIR", dir.to_str().unwrap()), ("SSL_CERT_FILE", "/nonexistent")], &list));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_issuer_says_what_to_do_and_a_bad_ca_file_is_bad_input() {
    let sim = TlsSim::start("unknown");
    let err = failed(&sim.run(&[], &["list", "--account", "TestAccount-2"]), 6);
    assert!(
        err.starts_with("error: Tscb.REQUEST_FAILED.Tls: the server's certificate was issued by"),
        "{err}"
    );
    assert!(err.contains("--ca-file"), "{err}");

    let err =
        failed(&sim.run(&[], &["list", "--ca-file", "/nonexistent/ca.pem", "--account", "TestAccount-2"]), 3);
    assert!(
        err.contains("Tscb.INPUT_INVALID.CaFile.Invalid") && err.contains("/nonexistent/ca.pem"),
        "{err}"
    );
}

#[test]
fn proxies_from_the_environment_and_the_command_line() {
    let sim = TlsSim::start("proxy");
    let ca = sim.ca.to_str().unwrap();
    let proxy = ConnectProxy::start().unwrap();
    let list = ["list", "--ca-file", ca, "--account", "TestAccount-2"];
    let target = format!("127.0.0.1:{}", sim.port());

    ok(&sim.run(&[("HTTPS_PROXY", &proxy.url())], &list));
    assert_eq!(proxy.requests().len(), 1);
    assert_eq!(proxy.requests()[0].target, target);
    ok(&sim.run(&[("https_proxy", &proxy.url())], &list));
    ok(&sim.run(&[("ALL_PROXY", &proxy.url())], &list));
    assert_eq!(proxy.requests().len(), 3);

    // NO_PROXY, and an explicit "no proxy", bypass it.
    ok(&sim.run(&[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", "localhost,127.0.0.0/8")], &list));
    ok(&sim.run(&[("https_proxy", &proxy.url()), ("no_proxy", "127.0.0.1")], &list));
    let mut explicit_none = list.to_vec();
    explicit_none.extend_from_slice(&["--proxy", ""]);
    ok(&sim.run(&[("HTTPS_PROXY", &proxy.url())], &explicit_none));
    assert_eq!(proxy.requests().len(), 3);

    // An explicit proxy wins over NO_PROXY.
    let url = proxy.url();
    let mut explicit = list.to_vec();
    explicit.extend_from_slice(&["--proxy", url.as_str()]);
    ok(&sim.run(&[("NO_PROXY", "*")], &explicit));
    assert_eq!(proxy.requests().len(), 4);
}

#[test]
fn a_proxy_demanding_credentials_is_a_network_failure_that_never_shows_them() {
    let sim = TlsSim::start("proxy407");
    let ca = sim.ca.to_str().unwrap();
    let proxy = ConnectProxy::start_with(ProxyConfig {
        credentials: Some(("dave".into(), "c0rp-pr0xy-pw".into())),
        ..ProxyConfig::default()
    })
    .unwrap();
    let list = ["list", "--ca-file", ca, "--account", "TestAccount-2"];
    let good = proxy.url().replace("http://", "http://dave:c0rp-pr0xy-pw@");
    ok(&sim.run(&[("HTTPS_PROXY", &good)], &list));
    assert_eq!(proxy.requests()[0].proxy_authorization.as_deref(), Some("Basic ZGF2ZTpjMHJwLXByMHh5LXB3"));

    let wrong = proxy.url().replace("http://", "http://dave:wr0ng-pr0xy-pw@");
    for args in [&["--json"][..], &[][..]] {
        let mut all = list.to_vec();
        all.extend_from_slice(args);
        let out = sim.run(&[("HTTPS_PROXY", &wrong)], &all);
        let err = failed(&out, 6);
        assert!(err.contains("Tscb.REQUEST_FAILED.Proxy") && err.contains("407"), "{err}");
        assert!(!err.contains("wr0ng-pr0xy-pw") && !err.contains("dave"), "{err}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("wr0ng"));
    }
    let err = failed(&sim.run(&[("HTTPS_PROXY", "socks5://dave:wr0ng-pr0xy-pw@127.0.0.1:1")], &list), 3);
    assert!(err.contains("Tscb.INPUT_INVALID.Proxy.Invalid") && err.contains("HTTPS_PROXY"), "{err}");
    assert!(!err.contains("wr0ng-pr0xy-pw"), "{err}");
}
