//! HTTPS end to end against the simulator with its own CA, the TLS failures a user can act on,
//! and going through a CONNECT proxy. Environment variables are only ever set for child
//! processes (the CLI), never in this process, whose tests run in parallel.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;
use tscb_sim::{SIM_CLIENT_SECRET, SIM_PASSWORD};

use common::{ACCOUNT, LISTENER};
use tscb::{codes, CallbackRegistration, Client, ClientBuilder, ErrorKind};
use tscb_sim::{ConnectProxy, ProxyConfig, Simulator};

fn https_sim() -> Simulator {
    Simulator::builder().tls(true).start().expect("simulator starts")
}

fn ca_file(sim: &Simulator) -> tempfile_path::TempPath {
    tempfile_path::TempPath::with(sim.ca_pem().unwrap().as_bytes())
}

/// A file removed when dropped, named after the process and a counter so tests do not collide.
mod tempfile_path {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub struct TempPath(PathBuf);

    impl TempPath {
        pub fn with(contents: &[u8]) -> TempPath {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::SeqCst);
            let path = std::env::temp_dir().join(format!("tscb-test-ca-{}-{n}.pem", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            TempPath(path)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

fn tokens(sim: &Simulator) -> ClientBuilder {
    Client::builder()
        .base_url(sim.base_url())
        .bearer_token(sim.config().bearer_token.clone())
        .session_token(sim.config().session_token.clone())
        .timeout(Duration::from_secs(10))
        .no_proxy()
}

fn credentials(sim: &Simulator) -> ClientBuilder {
    common::with_credentials(sim).timeout(Duration::from_secs(10)).no_proxy()
}

fn main_path(client: &Client) {
    let ack = client
        .register_callback(ACCOUNT, &CallbackRegistration::new("CarrierService", LISTENER).unwrap())
        .unwrap();
    assert_eq!(ack.service_name, "CarrierService");
    let listed = client.list_callbacks(ACCOUNT).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].url, LISTENER);
    client.deregister_callback(ACCOUNT, "CarrierService").unwrap();
    assert!(client.list_callbacks(ACCOUNT).unwrap().is_empty());
}

#[test]
fn the_main_path_runs_over_https_with_the_sims_ca_as_pem_or_file() {
    let sim = https_sim();
    assert!(sim.base_url().starts_with("https://"));
    main_path(&tokens(&sim).add_root_certificate_pem(sim.ca_pem().unwrap().as_bytes()).build().unwrap());

    let file = ca_file(&sim);
    let client = credentials(&sim).add_ca_file(file.path()).build().unwrap();
    client.login().unwrap();
    main_path(&client);
    client.logout().unwrap();
    assert!(sim.requests().iter().any(|r| r.path.ends_with("/session/login")));
}

#[test]
fn an_unknown_issuer_is_a_tls_error_that_says_how_to_trust_a_ca_and_sends_nothing() {
    let sim = https_sim();
    let client = credentials(&sim).build().unwrap();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!(err.error_code(), codes::TLS, "{err}");
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(err.http_status(), None);
    let text = err.to_string();
    assert!(
        text.contains("unknown issuer") && text.contains("ca_file") && text.contains("SSL_CERT_FILE"),
        "{text}"
    );
    assert!(!text.contains(SIM_CLIENT_SECRET) && !text.contains(SIM_PASSWORD), "{text}");
    assert!(sim.requests().is_empty(), "nothing may arrive");

    // Another simulator's CA is no help either.
    let other = https_sim();
    let client = tokens(&sim).add_root_certificate_pem(other.ca_pem().unwrap().as_bytes()).build().unwrap();
    assert_eq!(client.list_callbacks(ACCOUNT).unwrap_err().error_code(), codes::TLS);
}

#[test]
fn a_certificate_for_another_name_is_named_as_such() {
    // The certificate is for localhost and 127.0.0.1; 127.0.0.2 is loopback too, on Linux.
    let Ok(sim) = Simulator::builder().tls(true).listen("127.0.0.2:0").start() else {
        eprintln!("127.0.0.2 is not available here; skipped");
        return;
    };
    assert!(sim.base_url().starts_with("https://127.0.0.2:"));
    let client = tokens(&sim).add_root_certificate_pem(sim.ca_pem().unwrap().as_bytes()).build().unwrap();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!(err.error_code(), codes::TLS);
    let text = err.to_string();
    assert!(text.contains("it names localhost, 127.0.0.1 but not 127.0.0.2"), "{text}");
    assert!(sim.requests().is_empty());
}

#[test]
fn an_expired_certificate_is_named_as_such() {
    let sim = Simulator::builder().tls(true).expired_certificate(true).start().unwrap();
    let client = tokens(&sim).add_root_certificate_pem(sim.ca_pem().unwrap().as_bytes()).build().unwrap();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    assert_eq!(err.error_code(), codes::TLS);
    assert!(err.to_string().contains("has expired"), "{err}");
}

#[test]
fn a_refused_handshake_is_named_as_such() {
    // A server (or an intercepting middlebox) that answers the ClientHello with a fatal
    // handshake_failure alert.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut hello = [0u8; 512];
        let _ = conn.read(&mut hello);
        let _ = conn.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
    });
    let client = Client::builder()
        .base_url(format!("https://{addr}/api"))
        .bearer_token("t")
        .session_token("s")
        .max_retries(0)
        .no_proxy()
        .build()
        .unwrap();
    let err = client.list_callbacks(ACCOUNT).unwrap_err();
    server.join().unwrap();
    assert_eq!(err.error_code(), codes::TLS);
    assert!(err.to_string().contains("refused the TLS handshake (alert: handshake failure)"), "{err}");
}

#[test]
fn a_ca_that_is_missing_or_not_a_certificate_fails_build() {
    let sim = https_sim();
    for builder in [
        tokens(&sim).add_ca_file("/nonexistent/tscb-ca.pem"),
        tokens(&sim)
            .add_root_certificate_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        tokens(&sim).add_root_certificate_pem(b""),
    ] {
        let err = builder.build().unwrap_err();
        assert_eq!(err.error_code(), codes::CA_FILE_INVALID, "{err}");
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    let file = tempfile_path::TempPath::with(b"hello");
    let err = tokens(&sim).add_ca_file(file.path()).build().unwrap_err();
    assert_eq!(err.error_code(), codes::CA_FILE_INVALID);
    assert!(sim.requests().is_empty());
}

/// A CA path that is no regular file of sensible size is refused with its name and the reason,
/// at once: before, /dev/zero was read until memory ran out, a FIFO blocked for ever, and a
/// 2 MiB bundle was read whole.
#[test]
fn a_ca_file_that_is_a_device_a_fifo_or_too_large_fails_build_naming_it() {
    let sim = https_sim();
    let pem = sim.ca_pem().unwrap();
    let big = tempfile_path::TempPath::with(pem.repeat(2 * 1024 * 1024 / pem.len() + 1).as_bytes());
    let fifo = std::env::temp_dir().join(format!("tscb-test-ca-fifo-{}", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let cases = [
        (std::path::PathBuf::from("/dev/zero"), "it is not a regular file (a character device)"),
        (fifo.clone(), "it is not a regular file (a FIFO)"),
        (big.path().to_owned(), "it is larger than 1 MiB, the limit"),
    ];
    for (path, why) in cases {
        let builder = tokens(&sim).add_ca_file(&path);
        let (send, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || send.send(builder.build().map(|_| ())));
        let err = done.recv_timeout(Duration::from_secs(20)).expect("build returns").unwrap_err();
        assert_eq!(err.error_code(), codes::CA_FILE_INVALID, "{err}");
        let expected = format!("cannot read the CA file {}: {why}", path.display());
        assert!(err.to_string().contains(&expected), "{err}");
    }
    let _ = std::fs::remove_file(&fifo);
}

#[test]
fn through_a_connect_proxy_with_credentials_sent_as_proxy_authorization() {
    let sim = https_sim();
    let proxy = ConnectProxy::start_with(ProxyConfig {
        credentials: Some(("alice".into(), "pr0xy-s3cret".into())),
        ..ProxyConfig::default()
    })
    .unwrap();
    let url = proxy.url().replace("http://", "http://alice:pr0xy-s3cret@");
    let builder = tokens(&sim).add_root_certificate_pem(sim.ca_pem().unwrap().as_bytes()).proxy(url.as_str());
    assert!(!format!("{builder:?}").contains("pr0xy-s3cret"), "{builder:?}");
    main_path(&builder.build().unwrap());

    let seen = proxy.requests();
    assert!(!seen.is_empty());
    let target = sim.addr().to_string();
    for r in &seen {
        assert_eq!((r.method.as_str(), r.target.as_str(), r.status), ("CONNECT", target.as_str(), 200));
        // base64("alice:pr0xy-s3cret")
        assert_eq!(r.proxy_authorization.as_deref(), Some("Basic YWxpY2U6cHIweHktczNjcmV0"));
    }
    // The service never sees the proxy's credentials.
    assert!(sim.requests().iter().all(|r| r.header("proxy-authorization").is_none()));
}

#[test]
fn a_407_is_a_proxy_error_with_the_status_and_without_the_credentials() {
    let sim = https_sim();
    let proxy = ConnectProxy::start_with(ProxyConfig {
        credentials: Some(("alice".into(), "right-password".into())),
        ..ProxyConfig::default()
    })
    .unwrap();
    let ca = sim.ca_pem().unwrap().as_bytes().to_vec();

    let err = tokens(&sim)
        .add_root_certificate_pem(&ca)
        .proxy(proxy.url())
        .build()
        .unwrap()
        .list_callbacks(ACCOUNT)
        .unwrap_err();
    assert_eq!(err.error_code(), codes::PROXY, "{err}");
    assert_eq!(err.kind(), ErrorKind::Transport);
    let text = err.to_string();
    assert!(
        text.contains("407") && text.contains(&proxy.url()) && text.contains("give them in the proxy URL"),
        "{text}"
    );

    let wrong = proxy.url().replace("http://", "http://alice:wr0ng-passw0rd@");
    let err = tokens(&sim)
        .add_root_certificate_pem(&ca)
        .proxy(wrong)
        .build()
        .unwrap()
        .list_callbacks(ACCOUNT)
        .unwrap_err();
    assert_eq!(err.error_code(), codes::PROXY);
    let text = format!("{err} {err:?} {}", err.to_json());
    assert!(text.contains("407") && text.contains("refused the user name and password"), "{text}");
    assert!(!text.contains("wr0ng-passw0rd") && !text.contains("alice"), "{text}");
    assert!(sim.requests().is_empty());
}

#[test]
fn a_refused_connect_and_an_absent_proxy_are_proxy_errors() {
    let sim = https_sim();
    let proxy =
        ConnectProxy::start_with(ProxyConfig { refuse: vec![("*".into(), 403)], ..ProxyConfig::default() })
            .unwrap();
    let ca = sim.ca_pem().unwrap().as_bytes().to_vec();
    // By address, and by a name that must be looked up again for the second question.
    let by_name = proxy.url().replace("127.0.0.1", "localhost");
    assert_ne!(by_name, proxy.url());
    for proxy_url in [proxy.url(), by_name] {
        let err = tokens(&sim)
            .add_root_certificate_pem(&ca)
            .proxy(proxy_url.as_str())
            .build()
            .unwrap()
            .list_callbacks(ACCOUNT)
            .unwrap_err();
        assert_eq!(err.error_code(), codes::PROXY, "{err}");
        assert!(err.to_string().contains("refused to open a tunnel to 127.0.0.1:"), "{err}");
        // The proxy's own status, which the HTTP stack drops, asked for again.
        assert!(err.to_string().contains("its answer to CONNECT: HTTP 403 Forbidden"), "{proxy_url}: {err}");
    }
    assert_eq!(proxy.requests()[0].status, 403);

    // Nothing listens on a port just freed.
    let free = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let err = tokens(&sim)
        .add_root_certificate_pem(&ca)
        .proxy(format!("http://bob:hunter2-long@{free}"))
        .max_retries(0)
        .build()
        .unwrap()
        .list_callbacks(ACCOUNT)
        .unwrap_err();
    assert_eq!(err.error_code(), codes::PROXY, "{err}");
    let text = format!("{err} {err:?}");
    assert!(text.contains(&format!("could not connect to the proxy http://{free}")), "{text}");
    assert!(!text.contains("hunter2-long") && !text.contains("bob"), "{text}");
    assert!(sim.requests().is_empty());
}

#[test]
fn a_proxy_url_that_does_not_parse_fails_build_without_echoing_it() {
    let sim = https_sim();
    for bad in ["socks5://carol:s3cr3t-value@proxy:1080", "http://carol:s3cr3t-value@", "::::"] {
        let err = tokens(&sim).proxy(bad).build().unwrap_err();
        assert_eq!(err.error_code(), codes::PROXY_INVALID, "{bad}");
        assert!(!err.to_string().contains("s3cr3t-value"), "{err}");
    }
}

#[test]
fn plain_http_to_loopback_never_goes_through_a_proxy() {
    let sim = common::sim();
    let proxy = ConnectProxy::start().unwrap();
    let client = common::builder(&sim).proxy(proxy.url()).build().unwrap();
    client.list_callbacks(ACCOUNT).unwrap();
    assert!(proxy.requests().is_empty());
}
