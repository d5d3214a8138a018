//! The proxy and CA variables of the environment, as curl reads them: `https_proxy` or
//! `HTTPS_PROXY`, else `all_proxy` or `ALL_PROXY`, skipped for a host in `no_proxy`/`NO_PROXY`
//! (names, addresses, CIDR ranges); `SSL_CERT_FILE` in place of a CA file. The Python and C tests
//! only show that one variable reaches the client; the cases are here. One test in its own binary:
//! it changes the process's environment, which no other test may see half-changed.

use std::time::Duration;

use tscb::{codes, Client, Result};
use tscb_sim::{ConnectProxy, ProxyConfig, Simulator, SIM_BEARER_TOKEN, SIM_SESSION_TOKEN};

const VARIABLES: [&str; 7] =
    ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "SSL_CERT_FILE"];

/// Lists callbacks with only `vars` of the proxy and CA variables set, trusting `ca` when given.
fn list_with(vars: &[(&str, &str)], sim: &Simulator, ca: Option<&std::path::Path>) -> Result<()> {
    for name in VARIABLES {
        std::env::remove_var(name);
    }
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    let mut builder = Client::builder()
        .base_url(sim.base_url())
        .bearer_token(SIM_BEARER_TOKEN)
        .session_token(SIM_SESSION_TOKEN)
        .timeout(Duration::from_secs(10))
        .max_retries(0);
    if let Some(ca) = ca {
        builder = builder.add_ca_file(ca);
    }
    builder.build()?.list_callbacks("TestAccount-2").map(drop)
}

fn code(outcome: Result<()>) -> String {
    match outcome {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.error_code().to_owned(),
    }
}

#[test]
fn the_proxy_and_ca_variables_are_read_as_curl_reads_them() {
    let sim = Simulator::builder().tls(true).start().unwrap();
    let ca = std::env::temp_dir().join(format!("tscb-proxy-env-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, sim.ca_pem().unwrap()).unwrap();
    // A proxy that refuses everything shows whether a variable was used.
    let refusing =
        ConnectProxy::start_with(ProxyConfig { refuse: vec![("*".into(), 403)], ..ProxyConfig::default() })
            .unwrap();
    let proxy = refusing.url();
    let ca_path = Some(ca.as_path());

    assert_eq!(code(list_with(&[], &sim, ca_path)), "ok", "no variable: straight to the service");
    for name in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        assert_eq!(code(list_with(&[(name, &proxy)], &sim, ca_path)), codes::PROXY, "{name}");
    }
    assert_eq!(code(list_with(&[("HTTPS_PROXY", &proxy), ("NO_PROXY", "127.0.0.1")], &sim, ca_path)), "ok");
    let by_range = [("https_proxy", proxy.as_str()), ("no_proxy", "localhost, 127.0.0.0/8")];
    assert_eq!(code(list_with(&by_range, &sim, ca_path)), "ok");
    let elsewhere = [("HTTPS_PROXY", proxy.as_str()), ("NO_PROXY", "example.com")];
    assert_eq!(code(list_with(&elsewhere, &sim, ca_path)), codes::PROXY, "another host's exception");

    // SSL_CERT_FILE in place of a CA file.
    assert_eq!(code(list_with(&[], &sim, None)), codes::TLS);
    assert_eq!(code(list_with(&[("SSL_CERT_FILE", ca.to_str().unwrap())], &sim, None)), "ok");

    for name in VARIABLES {
        std::env::remove_var(name);
    }
    let _ = std::fs::remove_file(&ca);
}
