//! `--nats URL --nats-subject SUBJECT`: each accepted message is published to JetStream with
//! `Nats-Msg-Id` = its `dedup_key`, and the 200 goes back only after JetStream's publish ack.
//! Two or more listeners can then share the work: the stream's duplicate window drops a resend
//! that reaches another instance, so a message is stored once whichever instance takes it. That
//! holds only if the window covers ThingSpace's whole resend span, so the start checks it.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;

use super::admin::Health;
use super::log::Log;
use super::writer::Written;

/// ThingSpace resends for up to about 20 minutes (three more attempts five minutes apart);
/// a shorter duplicate window would store a late resend twice.
pub const MIN_DUPLICATE_WINDOW: Duration = Duration::from_secs(30 * 60);

/// How long a publish waits for JetStream's ack before the message gets a 500.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Nats {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    /// Made once: a `Subject` is shared bytes, cloned per message without copying.
    subject: async_nats::Subject,
}

/// How to reach NATS; the password is never printed.
pub struct Options<'a> {
    pub url: &'a str,
    pub subject: &'a str,
    pub ca: Option<&'a Path>,
    /// A client certificate and its key (mutual TLS): (--nats-cert, --nats-key).
    pub client_certificate: Option<(&'a Path, &'a Path)>,
    pub creds: Option<&'a Path>,
    pub user_password: Option<(String, String)>,
}

impl Nats {
    /// Connects and checks that a stream captures the subject with a long enough duplicate
    /// window; `health` follows the connection from then on.
    pub async fn connect(options: Options<'_>, health: Arc<Health>, log: Log) -> Result<Nats, String> {
        let shown = without_userinfo(options.url);
        let events = log.clone();
        let mut connect = async_nats::ConnectOptions::new()
            .name("tscb listen")
            .connection_timeout(Duration::from_secs(5))
            .event_callback(move |event| {
                let (health, log) = (health.clone(), events.clone());
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            // Readiness follows the connection: messages refused while it was
                            // down say nothing about it now, and none come while unready.
                            health.sink_connected(true);
                            health.sink_result(true);
                        }
                        async_nats::Event::Disconnected | async_nats::Event::Closed => {
                            health.sink_connected(false)
                        }
                        _ => {}
                    }
                    log.line(format!("nats: {event}"));
                }
            });
        // Every file is read here first, bounded, and checked: async-nats reads them again at the
        // connection without a bound (`--nats-ca /dev/zero` would fill the memory), and names a
        // bad one only as a failed connection.
        if let Some(path) = options.ca {
            check_certificates("--nats-ca", path)?;
            connect = connect.add_root_certificates(path.to_owned()).require_tls(true);
        }
        if let Some((cert, key)) = options.client_certificate {
            check_client_certificate(cert, key)?;
            connect = connect.add_client_certificate(cert.to_owned(), key.to_owned()).require_tls(true);
        }
        if let Some(path) = options.creds {
            // A JWT and a seed in PEM-like armour: the PEM bound is ample.
            read_pem("--nats-creds", path)?;
            connect = connect
                .credentials_file(path)
                .await
                .map_err(|e| format!("could not read --nats-creds {}: {e}", path.display()))?;
        }
        if let Some((user, password)) = options.user_password {
            connect = connect.user_and_password(user, password);
        }
        let without_certificate = options.client_certificate.is_none();
        let client = connect.connect(options.url).await.map_err(|e| {
            let e = e.to_string();
            // rustls reports the server's refusal of a client without a certificate only as a TLS
            // alert ("BadCertificate", "CertificateRequired"): say what the server wants.
            let hint = if without_certificate && e.contains("alert") && e.contains("Certificate") {
                " (the server wants a client certificate: --nats-cert and --nats-key)"
            } else {
                ""
            };
            format!("could not connect to NATS at {shown}: {e}{hint}")
        })?;
        let jetstream = jetstream::ContextBuilder::new().timeout(ACK_TIMEOUT).build(client.clone());
        let subject = options.subject;
        let add = format!(
            "nats stream add TSCB_CALLBACKS --subjects '{subject}' --storage file --replicas 3 \
             --dupe-window 30m --defaults"
        );
        let stream = jetstream.stream_by_subject(subject).await.map_err(|e| {
            format!("no JetStream stream captures {subject:?} on {shown} ({e}); create one, e.g. `{add}`")
        })?;
        let mut handle = jetstream
            .get_stream(&stream)
            .await
            .map_err(|e| format!("could not read the stream {stream} on {shown}: {e}"))?;
        let window = handle
            .info()
            .await
            .map_err(|e| format!("could not read the stream {stream} on {shown}: {e}"))?
            .config
            .duplicate_window;
        if window < MIN_DUPLICATE_WINDOW {
            return Err(format!(
                "the stream {stream} drops a duplicate only within {} s, less than ThingSpace's resend \
                 span: a late resend would be stored twice. Raise it: `nats stream edit {stream} \
                 --dupe-window 30m`",
                window.as_secs()
            ));
        }
        log.line(format!(
            "nats: {subject} is captured by the stream {stream} (duplicates dropped within {} s)",
            window.as_secs()
        ));
        Ok(Nats { client, jetstream, subject: async_nats::Subject::from(subject) })
    }

    /// Publishes one message and waits for JetStream's ack: `Duplicate` when the stream already
    /// had its key (a resend, perhaps taken by another instance).
    ///
    /// While the connection is down the client would queue the publish and send it after the
    /// reconnect, long after this request got its 500: the message would then be stored behind
    /// ThingSpace's back and its resend acknowledged as a duplicate. So nothing is published
    /// then. A publish that races a disconnect can still be sent late; only an ack makes a 200,
    /// so that costs a stored message answered 500, never a lost one answered 200.
    pub async fn publish(&self, key: &str, line: String) -> io::Result<Written> {
        let state = self.client.connection_state();
        if state != async_nats::connection::State::Connected {
            return Err(io::Error::other(format!("NATS is not connected ({state})")));
        }
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", key);
        let ack = self
            .jetstream
            .publish_with_headers(self.subject.clone(), headers, line.into())
            .await
            .map_err(|e| io::Error::other(format!("could not publish to NATS: {e}")))?
            .await
            .map_err(|e| io::Error::other(format!("JetStream did not acknowledge: {e}")))?;
        Ok(if ack.duplicate { Written::Duplicate } else { Written::Written })
    }
}

/// Reads --nats-cert and --nats-key once at start, so that a missing, unreadable or empty file
/// is named as such: async-nats reads them only while connecting, and its error names neither
/// the option nor the file. The key's parse error is not shown: its text can quote the key.
fn check_client_certificate(cert: &Path, key: &Path) -> Result<(), String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::PrivateKeyDer;
    check_certificates("--nats-cert", cert)?;
    let key_pem = read_pem("--nats-key", key)?;
    PrivateKeyDer::from_pem_slice(&key_pem)
        .map(drop)
        .map_err(|_| format!("no PEM private key in --nats-key {}", key.display()))
}

/// At least one PEM certificate in the file that `option` names.
fn check_certificates(option: &str, path: &Path) -> Result<(), String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let pem = read_pem(option, path)?;
    match CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>() {
        Ok(certs) if !certs.is_empty() => Ok(()),
        Ok(_) => Err(format!("no PEM certificate in {option} {}", path.display())),
        Err(e) => Err(format!("could not read {option} {}: {e}", path.display())),
    }
}

/// The file that `option` names, bounded: `--nats-key /dev/zero` must be an error, not an
/// out-of-memory abort.
fn read_pem(option: &str, path: &Path) -> Result<Vec<u8>, String> {
    use tscb::files::{read_bounded, Links, MAX_PEM_BYTES};
    read_bounded(path, MAX_PEM_BYTES, Links::Follow)
        .map_err(|e| format!("could not read {option} {}: {e}", path.display()))
}

/// `nats://user:password@host:4222` as `nats://host:4222`: for messages and the log.
pub fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    if scheme.is_empty() {
        host.to_owned()
    } else {
        format!("{scheme}://{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_shown_without_its_credentials() {
        assert_eq!(without_userinfo("nats://u:SECRET@10.0.0.1:4222"), "nats://10.0.0.1:4222");
        assert_eq!(without_userinfo("tls://TOKEN@nats.example.com"), "tls://nats.example.com");
        assert_eq!(without_userinfo("127.0.0.1:4222"), "127.0.0.1:4222");
    }
}
