//! TLS: the client's rustls configuration (the platform's roots plus the CAs the user adds) and
//! turning a failed handshake into words a user can act on.
//!
//! Certificate checks are never switched off: the only knob is *more* trusted roots.

use std::error::Error as StdError;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{AlertDescription, CertificateError};

use crate::codes;
use crate::config::ExtraCa;
use crate::error::setup_error;
use crate::error::{Error, Result};
use crate::files::{read_bounded, Links, MAX_PEM_BYTES};

fn invalid(message: String) -> Error {
    Error::InvalidInput { code: codes::CA_FILE_INVALID, message }
}

/// Every certificate in `sources`, or [`codes::CA_FILE_INVALID`] for the first source that is
/// missing, unreadable, not PEM, or holds no certificate.
fn load(sources: &[ExtraCa]) -> Result<Vec<CertificateDer<'static>>> {
    let mut roots = Vec::new();
    for source in sources {
        let (what, text) = match source {
            ExtraCa::Pem(pem) => ("the CA certificate PEM text".to_owned(), pem.clone()),
            ExtraCa::File(path) => {
                let what = format!("the CA file {}", path.display());
                // Bounded: a path such as /dev/zero must be an error, not an out-of-memory abort.
                let text = read_bounded(path, MAX_PEM_BYTES, Links::Follow)
                    .map_err(|e| invalid(format!("cannot read {what}: {e}")))?;
                (what, text)
            }
        };
        let before = roots.len();
        for cert in CertificateDer::pem_slice_iter(&text) {
            let cert = cert.map_err(|e| invalid(format!("{what} is not valid PEM: {e}")))?;
            roots.push(cert);
        }
        if roots.len() == before {
            return Err(invalid(format!("{what} holds no certificate (no \"BEGIN CERTIFICATE\" block)")));
        }
    }
    Ok(roots)
}

/// The client's TLS configuration: the platform's verifier (which on Linux also reads
/// `SSL_CERT_FILE` / `SSL_CERT_DIR`), with `extra` CAs trusted as well.
pub(crate) fn client_config(extra: &[ExtraCa]) -> Result<rustls::ClientConfig> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let roots = load(extra)?;
    // An explicit provider, so that the library neither needs nor installs a process-wide default.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| setup_error("TLS", e))?;
    let builder = if roots.is_empty() {
        builder.with_platform_verifier().map_err(|e| setup_error("TLS certificate verification", e))?
    } else {
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider)
            .map_err(|e| invalid(format!("a CA certificate could not be used: {e}")))?;
        // "dangerous" is only the name of the API for a custom verifier: this one is the
        // platform's, with full checks, and more roots.
        builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier))
    };
    Ok(builder.with_no_client_auth())
}

/// The rustls error somewhere in `error`'s sources, if the failure was the TLS handshake.
///
/// `std::io::Error::source` skips the error it wraps, so an I/O error is looked inside as well.
pub(crate) fn find_rustls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            if let Some(tls) = find_rustls_error(inner) {
                return Some(tls);
            }
        }
        next = e.source();
    }
    None
}

/// What went wrong in the handshake, in words, with what to do where there is something to do.
pub(crate) fn describe(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InvalidCertificate(cert) => describe_certificate(cert),
        rustls::Error::AlertReceived(alert) => format!(
            "the server refused the TLS handshake (alert: {}); {}",
            alert_words(*alert),
            "something between you and the service may be intercepting TLS, or it does not speak \
             TLS 1.2 or 1.3"
        ),
        rustls::Error::InvalidMessage(_) => {
            "the server did not answer with TLS (is the base URL's scheme or port right?)".to_owned()
        }
        other => format!("the TLS handshake failed: {other}"),
    }
}

fn describe_certificate(error: &CertificateError) -> String {
    match error {
        CertificateError::UnknownIssuer => "the server's certificate was issued by a certificate \
            authority that is not trusted here (unknown issuer); if your network or proxy uses its \
            own CA, trust it with ca_file (CLI --ca-file or THINGSPACE_CA_FILE) or SSL_CERT_FILE"
            .to_owned(),
        CertificateError::NotValidForName => {
            "the server's certificate is for another name than the host in the base URL".to_owned()
        }
        CertificateError::NotValidForNameContext { expected, presented } => format!(
            "the server's certificate is for another name: it names {} but not {}",
            presented.iter().map(|name| plain_name(name)).collect::<Vec<_>>().join(", "),
            expected.to_str()
        ),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "the server's certificate has expired (or this machine's clock is wrong)".to_owned()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "the server's certificate is not valid yet (or this machine's clock is wrong)".to_owned()
        }
        CertificateError::Revoked => "the server's certificate has been revoked".to_owned(),
        other => format!("the server's certificate was refused: {other:?}"),
    }
}

/// `DnsName("localhost")` and `IpAddress(127.0.0.1)`, as rustls words them, as just the name.
fn plain_name(presented: &str) -> &str {
    let inner = presented
        .strip_prefix("DnsName(")
        .or_else(|| presented.strip_prefix("IpAddress("))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(presented);
    inner.trim_matches('"')
}

fn alert_words(alert: AlertDescription) -> String {
    match alert {
        AlertDescription::HandshakeFailure => "handshake failure".to_owned(),
        AlertDescription::ProtocolVersion => "no protocol version in common".to_owned(),
        AlertDescription::InsufficientSecurity => "insufficient security".to_owned(),
        AlertDescription::AccessDenied => "access denied".to_owned(),
        AlertDescription::UnrecognisedName => "the server does not know this name".to_owned(),
        AlertDescription::NoApplicationProtocol => "no application protocol in common".to_owned(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rustls_error_inside_an_io_error() {
        let tls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let outer = Outer(io);
        let found = find_rustls_error(&outer).expect("found");
        assert!(describe(found).contains("unknown issuer"));
        assert!(find_rustls_error(&std::io::Error::other("plain")).is_none());
    }

    #[test]
    fn names_the_presented_and_expected_names() {
        let e = CertificateError::NotValidForNameContext {
            expected: rustls::pki_types::ServerName::try_from("127.0.0.2").unwrap(),
            presented: vec!["DnsName(\"localhost\")".to_owned(), "IpAddress(127.0.0.1)".to_owned()],
        };
        let words = describe_certificate(&e);
        assert_eq!(
            words,
            "the server's certificate is for another name: it names localhost, 127.0.0.1 but not 127.0.0.2"
        );
    }

    #[test]
    fn refuses_sources_without_a_certificate() {
        let e = load(&[ExtraCa::Pem(b"not a certificate".to_vec())]).unwrap_err();
        assert_eq!(e.error_code(), codes::CA_FILE_INVALID);
        let e = load(&[ExtraCa::File("/nonexistent/ca.pem".into())]).unwrap_err();
        assert_eq!(e.error_code(), codes::CA_FILE_INVALID);
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }
}
