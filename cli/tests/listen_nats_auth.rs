//! `tscb listen --nats` as NATS users deploy it: TLS with their own CA (`--nats-ca`), a user and
//! password from the environment, and a credentials file (`--nats-creds`) for a user of an
//! operator-mode server, whose operator, account and user JWTs the test makes and signs itself.
//! No secret (password, NKey seed, JWT) may appear in anything the listener prints.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use common::listener::{message, post, scratch, Listener, PASSWORD};
use common::nats::{create_stream, stored, NatsServer, SUBJECT};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use serde_json::json;

const NATS_PASSWORD: &str = "nats-SECRET-77";

/// A CA and a certificate it signed for 127.0.0.1, as PEM files in `dir`: (ca, cert, key).
fn certificates(dir: &Path) -> (String, String, String) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "listen_nats_auth CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap().signed_by(&key, &ca).unwrap();
    let files = [("ca.pem", ca.pem()), ("cert.pem", cert.pem()), ("key.pem", key.serialize_pem())];
    let [ca, cert, key] = files.map(|(name, pem)| {
        let path = dir.join(name);
        std::fs::write(&path, pem).unwrap();
        path.to_str().unwrap().to_owned()
    });
    (ca, cert, key)
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
    let (ca, cert, key) = certificates(&dir);
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
