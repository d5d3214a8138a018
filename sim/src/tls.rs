//! HTTPS for the simulator: a throw-away CA and a server certificate for `localhost` and
//! `127.0.0.1`, made at start, and a connection type that reads and writes plain TCP or TLS
//! alike, so that the HTTP code does not care which.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// The names the server certificate is for.
pub const CERTIFICATE_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// A CA made for this run and a server configuration whose certificate it signed.
pub(crate) struct Identity {
    pub(crate) ca_pem: String,
    pub(crate) config: Arc<ServerConfig>,
}

fn cert_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("cannot make the simulator's TLS certificate: {e}"))
}

/// Makes a new CA and a server certificate for [`CERTIFICATE_NAMES`]; with `expired`, one whose
/// validity ended in 2021 (for tests of what a client says about it).
pub(crate) fn identity(expired: bool) -> io::Result<Identity> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "tscb-sim throw-away CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(cert_error)?)
        .map_err(cert_error)?;

    let names: Vec<String> = CERTIFICATE_NAMES.iter().map(|n| (*n).to_owned()).collect();
    let mut params = CertificateParams::new(names).map_err(cert_error)?;
    params.distinguished_name.push(DnType::CommonName, "tscb-sim");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate().map_err(cert_error)?;
    let cert = params.signed_by(&key, &ca).map_err(cert_error)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(cert_error)?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone()], key_der)
        .map_err(cert_error)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Identity { ca_pem: ca.pem(), config: Arc::new(config) })
}

/// One accepted connection, plain or TLS (the handshake happens on the first read or write).
pub(crate) enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Conn {
    pub(crate) fn new(stream: TcpStream, tls: Option<&Arc<ServerConfig>>) -> io::Result<Conn> {
        Ok(match tls {
            None => Conn::Plain(stream),
            Some(config) => {
                let session = ServerConnection::new(Arc::clone(config)).map_err(io::Error::other)?;
                Conn::Tls(Box::new(StreamOwned::new(session, stream)))
            }
        })
    }

    /// The socket underneath, for socket options and shutdown.
    pub(crate) fn tcp(&mut self) -> &mut TcpStream {
        match self {
            Conn::Plain(stream) => stream,
            Conn::Tls(tls) => &mut tls.sock,
        }
    }

    /// Says goodbye properly on TLS (`close_notify`), so that a client reading to the end of the
    /// stream sees an orderly end rather than a truncation.
    pub(crate) fn close_notify(&mut self) {
        if let Conn::Tls(tls) = self {
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(stream) => stream.read(buf),
            Conn::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(stream) => stream.write(buf),
            Conn::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(stream) => stream.flush(),
            Conn::Tls(tls) => tls.flush(),
        }
    }
}
