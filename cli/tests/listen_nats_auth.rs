//! `tscb listen --nats` as NATS users deploy it: TLS with their own CA (`--nats-ca`), a client
//! certificate for a server that verifies clients (`--nats-cert`, `--nats-key`), a user and
//! password from the environment, and a credentials file (`--nats-creds`) for a user of an
//! operator-mode server, whose operator, account and user JWTs the test makes and signs itself.
//! No secret (password, NKey seed, JWT) may appear in anything the listener prints.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use common::listener::{message, post, scratch, Listener, PASSWORD};
use common::nats::{create_stream, stored, NatsServer, SUBJECT};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use serde_json::json;

const NATS_PASSWORD: &str = "nats-SECRET-77";

/// PEM files in a scratch directory, all signed by one CA.
struct Pems {
    ca: String,
    /// The server's, for 127.0.0.1.
    cert: String,
    key: String,
    /// A client's, for mutual TLS.
    client_cert: String,
    client_key: String,
}

fn certificates(dir: &Path) -> Pems {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "listen_nats_auth CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().signed_by(&key, &ca).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client.distinguished_name.push(DnType::CommonName, "tscb listen");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client.signed_by(&client_key, &ca).unwrap();
    let files = [
        ("ca.pem", ca.pem()),
        ("cert.pem", cert.pem()),
        ("key.pem", key.serialize_pem()),
        ("client-cert.pem", client_cert.pem()),
        ("client-key.pem", client_key.serialize_pem()),
    ];
    let [ca, cert, key, client_cert, client_key] = files.map(|(name, pem)| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        path.to_str().unwrap().to_owned()
    });
    Pems { ca, cert, key, client_cert, client_key }
}

/// A TLS server with a user and password; the tests' client trusts `ca`.
fn tls_server(dir: &Path, ca: &str, cert: &str, key: &str) -> Option<NatsServer> {
    let ca = ca.to_owned();
    let args = ["--tls", "--tlscert", cert, "--tlskey", key, "--user", "tscb", "--pass", NATS_PASSWORD];
    let connect = Box::new(move || {
        async_nats::ConnectOptions::with_user_and_password("tscb".into(), NATS_PASSWORD.into())
            .add_root_certificates(ca.clone().into())
            .require_tls(true)
    });
    NatsServer::start_with(&dir.join("store"), None, &args, "tls", connect)
}

/// `tscb listen` with `more` NATS options and NATS_PW in its environment.
fn listen(more: &[&str]) -> Command {
    let mut command = common::command(&[], &["listen", "--listen", "127.0.0.1:0", "--any-source"]);
    command.args(more).env("NATS_PW", NATS_PASSWORD);
    command
}

fn fails(mut command: Command) -> String {
    let out = command.output().unwrap();
    assert!(!out.status.success(), "started: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn over_tls_with_the_users_ca_and_a_password_from_the_environment_messages_are_stored() {
    let dir = scratch("nats-tls");
    let Pems { ca, cert, key, .. } = certificates(&dir);
    let Some(server) = tls_server(&dir, &ca, &cert, &key) else { return };
    create_stream(&server, Duration::from_secs(30 * 60));
    let url = server.url();
    let auth = ["--nats-user", "tscb", "--nats-password-env", "NATS_PW"];
    let nats = ["--nats", url.as_str(), "--nats-subject", SUBJECT];

    let listener = Listener::spawn(listen(&[&nats[..], &auth, &["--nats-ca", &ca]].concat()));
    assert_eq!(post(listener.addr, "/", &message("t-1", 1, PASSWORD)).0, 200);
    let ids: Vec<String> = stored(&server).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["t-1"]);
    assert!(!listener.stderr().contains(NATS_PASSWORD), "{}", listener.stderr());

    // Without the CA the server's certificate is not trusted: no start, and it says why.
    let stderr = fails(listen(&[&nats[..], &auth].concat()));
    assert!(stderr.contains(&format!("could not connect to NATS at {url}")), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
    // A CA file that is not there is named.
    let stderr = fails(listen(&[&nats[..], &auth, &["--nats-ca", "/nonexistent/ca.pem"]].concat()));
    assert!(stderr.contains("could not read --nats-ca /nonexistent/ca.pem"), "{stderr}");
    // A wrong password, also given in the URL, is refused and shown nowhere.
    let wrong = format!("tls://tscb:{NATS_PASSWORD}-not@127.0.0.1:{}", server.port);
    let stderr = fails(listen(&["--nats", &wrong, "--nats-subject", SUBJECT, "--nats-ca", &ca]));
    assert!(stderr.contains(&format!("could not connect to NATS at {url}")), "{stderr}");
    assert!(!stderr.contains(NATS_PASSWORD), "{stderr}");
}

/// A server that verifies clients (nats-server's `tls { verify: true }`): only a client with a
/// certificate signed by `ca` gets in. No user or password: the certificate is the credential.
fn mutual_tls_server(dir: &Path, pems: &Pems) -> Option<NatsServer> {
    let Pems { ca, cert, key, client_cert, client_key } = pems;
    let args = ["--tlsverify", "--tlscacert", ca, "--tlscert", cert, "--tlskey", key];
    let (ca, client_cert, client_key) = (ca.clone(), client_cert.clone(), client_key.clone());
    let connect = Box::new(move || {
        async_nats::ConnectOptions::new()
            .add_root_certificates(ca.clone().into())
            .add_client_certificate(client_cert.clone().into(), client_key.clone().into())
            .require_tls(true)
    });
    NatsServer::start_with(&dir.join("store"), None, args.as_slice(), "tls", connect)
}

/// The base64 lines of a PEM file: what must never be printed of a key.
fn pem_body(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().filter(|line| !line.starts_with("-----") && !line.is_empty()).map(str::to_owned).collect()
}

#[test]
fn a_server_that_verifies_clients_takes_the_listener_with_its_client_certificate() {
    let dir = scratch("nats-mtls");
    let pems = certificates(&dir);
    let Some(server) = mutual_tls_server(&dir, &pems) else { return };
    create_stream(&server, Duration::from_secs(30 * 60));
    let url = server.url();
    let nats = ["--nats", url.as_str(), "--nats-subject", SUBJECT, "--nats-ca", &pems.ca];

    // Without a client certificate the server closes the connection: no start, and it says so.
    let stderr = fails(listen(&nats));
    assert!(stderr.contains(&format!("could not connect to NATS at {url}")), "{stderr}");
    assert!(stderr.contains("the server wants a client certificate: --nats-cert and --nats-key"), "{stderr}");

    let mutual = ["--nats-cert", pems.client_cert.as_str(), "--nats-key", pems.client_key.as_str()];
    let listener = Listener::spawn(listen(&[&nats[..], &mutual].concat()));
    assert_eq!(post(listener.addr, "/", &message("m-1", 1, PASSWORD)).0, 200);
    let ids: Vec<String> = stored(&server).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["m-1"]);
    let stderr = listener.stderr();
    assert!(pem_body(&pems.client_key).iter().all(|line| !stderr.contains(line)), "{stderr}");
}

#[test]
fn a_client_certificate_needs_its_key_and_a_bad_key_file_is_named_but_not_shown() {
    let dir = scratch("nats-mtls-files");
    let pems = certificates(&dir);
    // Checked before any connection: no server is needed, and none listens here.
    let nats = ["--nats", "tls://127.0.0.1:1", "--nats-subject", SUBJECT];

    for (given, missing) in [("--nats-cert", "--nats-key"), ("--nats-key", "--nats-cert")] {
        let out = listen(&[&nats[..], &[given, &pems.client_cert]].concat()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{given} alone: {stderr}");
        assert!(stderr.contains(missing), "{given} alone: {stderr}");
    }

    let with =
        |cert: &str, key: &str| listen(&[&nats[..], &["--nats-cert", cert, "--nats-key", key]].concat());
    let stderr = fails(with(&pems.client_cert, "/nonexistent/key.pem"));
    assert!(stderr.contains("could not read --nats-key /nonexistent/key.pem"), "{stderr}");
    let stderr = fails(with("/nonexistent/cert.pem", &pems.client_key));
    assert!(stderr.contains("could not read --nats-cert /nonexistent/cert.pem"), "{stderr}");
    // A key file that is not a PEM key is named; what it holds is not shown.
    let secret = dir.join("not-a-key.pem");
    let text = "-----BEGIN PRIVATE KEY-----\nSECRET-KEY-MATERIAL!!\n-----END PRIVATE KEY-----\n";
    std::fs::write(&secret, text).unwrap();
    let stderr = fails(with(&pems.client_cert, secret.to_str().unwrap()));
    assert!(stderr.contains(&format!("no PEM private key in --nats-key {}", secret.display())), "{stderr}");
    assert!(!stderr.contains("SECRET-KEY-MATERIAL"), "{stderr}");
}

#[test]
fn every_nats_file_is_read_bounded_and_a_wrong_one_is_named_before_any_connection() {
    let dir = scratch("nats-files-bounded");
    let pems = certificates(&dir);
    // No server listens at port 1: each of these must fail on the file, before connecting.
    let nats = ["--nats", "tls://127.0.0.1:1", "--nats-subject", SUBJECT];
    let with = |option: &str, path: &str| {
        let mut more = vec![option, path];
        if option == "--nats-cert" {
            more.extend(["--nats-key", pems.client_key.as_str()]);
        }
        fails(listen(&[&nats[..], &more].concat()))
    };
    let big = dir.join("big.pem");
    std::fs::write(&big, vec![b'A'; 1024 * 1024 + 1]).unwrap();
    let big = big.to_str().unwrap();
    let no_certificate = dir.join("no-certificate.pem");
    std::fs::write(&no_certificate, "not a certificate\n").unwrap();
    let no_certificate = no_certificate.to_str().unwrap();

    for option in ["--nats-ca", "--nats-cert", "--nats-creds"] {
        // A device that never ends is refused, not read until the memory is gone.
        let stderr = with(option, "/dev/zero");
        assert!(
            stderr.contains(&format!("could not read {option} /dev/zero: it is not a regular file")),
            "{stderr}"
        );
        let stderr = with(option, big);
        assert!(
            stderr.contains(&format!("could not read {option} {big}: it is larger than 1 MiB")),
            "{stderr}"
        );
    }
    for option in ["--nats-ca", "--nats-cert"] {
        let stderr = with(option, no_certificate);
        assert!(stderr.contains(&format!("no PEM certificate in {option} {no_certificate}")), "{stderr}");
    }
}

/// A JWT as nats-server reads them: `{"typ":"JWT","alg":"ed25519-nkey"}`, the claims, and the
/// issuer's Ed25519 signature, each base64url without padding.
fn jwt(issuer: &nkeys::KeyPair, subject: &str, name: &str, nats: serde_json::Value) -> String {
    let b64 = |bytes: &[u8]| data_encoding::BASE64URL_NOPAD.encode(bytes);
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap();
    let claims = json!({
        "jti": data_encoding::BASE32_NOPAD.encode(format!("{name}-{}", now.as_nanos()).as_bytes()),
        "iat": now.as_secs(),
        "iss": issuer.public_key(),
        "sub": subject,
        "name": name,
        "nats": nats,
    });
    let signed =
        format!("{}.{}", b64(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#), b64(claims.to_string().as_bytes()));
    let signature = issuer.sign(signed.as_bytes()).unwrap();
    format!("{signed}.{}", b64(&signature))
}

/// A user of `account` (its JWT signed by it) as a credentials file, and the user's seed.
fn creds(dir: &Path, name: &str, account: &nkeys::KeyPair) -> (String, String) {
    let user = nkeys::KeyPair::new_user();
    let claims =
        json!({"type": "user", "version": 2, "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1});
    let token = jwt(account, &user.public_key(), name, claims);
    let seed = user.seed().unwrap();
    let text = format!(
        "-----BEGIN NATS USER JWT-----\n{token}\n------END NATS USER JWT------\n\n\
         -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
    );
    let path = dir.join(format!("{name}.creds"));
    std::fs::write(&path, text).unwrap();
    (path.to_str().unwrap().to_owned(), seed)
}

#[test]
fn a_credentials_file_of_an_operator_mode_server_authenticates_and_its_seed_is_never_shown() {
    let dir = scratch("nats-creds");
    let operator = nkeys::KeyPair::new_operator();
    let account = nkeys::KeyPair::new_account();
    let nats = |kind: &str| json!({"type": kind, "version": 2});
    let operator_jwt = jwt(&operator, &operator.public_key(), "tscb-test", nats("operator"));
    // JetStream is on for an account only where its limits allow storage.
    let limits = json!({
        "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": true,
        "conn": -1, "leaf": -1, "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1,
    });
    let account_jwt = jwt(
        &operator,
        &account.public_key(),
        "TSCB",
        json!({"type": "account", "version": 2, "limits": limits}),
    );
    // JetStream needs a system account to start.
    let system = nkeys::KeyPair::new_account();
    let system_jwt = jwt(&operator, &system.public_key(), "SYS", nats("account"));
    let config = dir.join("server.conf");
    std::fs::write(
        &config,
        format!(
            "operator: {operator_jwt}\nsystem_account: {sys}\nresolver: MEMORY\n\
             resolver_preload: {{\n  {sys}: {system_jwt}\n  {}: {account_jwt}\n}}\n",
            account.public_key(),
            sys = system.public_key(),
        ),
    )
    .unwrap();
    let (good, seed) = creds(&dir, "listener", &account);
    let client_creds = good.clone();
    let connect = Box::new(move || {
        let text = std::fs::read_to_string(&client_creds).unwrap();
        async_nats::ConnectOptions::with_credentials(&text).unwrap()
    });
    let args = ["-c", config.to_str().unwrap()];
    let Some(server) = NatsServer::start_with(&dir.join("store"), None, &args, "nats", connect) else {
        return;
    };
    create_stream(&server, Duration::from_secs(30 * 60));
    let url = server.url();

    let listener =
        Listener::spawn(listen(&["--nats", &url, "--nats-subject", SUBJECT, "--nats-creds", &good]));
    assert_eq!(post(listener.addr, "/", &message("c-1", 1, PASSWORD)).0, 200);
    let ids: Vec<String> = stored(&server).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["c-1"]);
    let token = std::fs::read_to_string(&good).unwrap().lines().nth(1).unwrap().to_owned();
    let stderr = listener.stderr();
    assert!(!stderr.contains(&seed) && !stderr.contains(&token), "{stderr}");

    // A user of an account the server does not know is refused; its seed is not shown either.
    let (stranger, stranger_seed) = creds(&dir, "stranger", &nkeys::KeyPair::new_account());
    let stderr = fails(listen(&["--nats", &url, "--nats-subject", SUBJECT, "--nats-creds", &stranger]));
    assert!(stderr.contains(&format!("could not connect to NATS at {url}")), "{stderr}");
    assert!(!stderr.contains(&stranger_seed), "{stderr}");
    // A file that is not there is named.
    let stderr =
        fails(listen(&["--nats", &url, "--nats-subject", SUBJECT, "--nats-creds", "/nonexistent.creds"]));
    assert!(stderr.contains("could not read --nats-creds /nonexistent.creds"), "{stderr}");
}
