//! TLS for the client side: building rustls configurations from scenario options (CA file,
//! insecure mode, client certificates, resumption, ALPN), running the handshake with a deadline,
//! and classifying its failures.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::record::errors::{ErrorClass, RequestError};
use crate::scenario::TlsOptions;

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    /// A PEM file could not be read or holds nothing usable.
    #[error("{path}: {message}")]
    Pem {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The crypto provider used everywhere (ring), never the process default.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every certificate in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let err = |message: String| TlsConfigError::Pem {
        path: path.display().to_string(),
        message,
    };
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no certificate in the file".into()));
    }
    Ok(certs)
}

/// Reads the first private key in a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsConfigError::Pem {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Accepts any server certificate while still checking handshake signatures (`insecure: true`).
#[derive(Debug)]
struct AcceptAnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Builds a client configuration offering `alpn`. `extra_ca` is trusted in addition to the CA
/// file (the embedded origin's certificate).
pub fn client_config(
    opts: &TlsOptions,
    alpn: &[&[u8]],
    extra_ca: &[CertificateDer<'static>],
) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        match &opts.ca {
            Some(ca) => {
                for c in load_certs(ca)? {
                    roots.add(c)?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        for c in extra_ca {
            roots.add(c.clone())?;
        }
        builder.with_root_certificates(roots)
    };
    let mut config = match &opts.client_auth {
        Some((cert, key)) => builder.with_client_auth_cert(load_certs(cert)?, load_key(key)?)?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    if !opts.resumption {
        config.resumption = Resumption::disabled();
    }
    // Only QUIC uses it (HTTP/3 0-RTT); over TCP rustls sends early data only when asked to.
    config.enable_early_data = opts.early_data;
    Ok(Arc::new(config))
}

/// The name to send as SNI and verify against.
pub fn server_name(opts: &TlsOptions, url_host: &str) -> Result<ServerName<'static>, RequestError> {
    let name = opts.server_name.as_deref().unwrap_or(url_host);
    ServerName::try_from(name.to_string()).map_err(|e| {
        RequestError::new(
            ErrorClass::Tls,
            "server-name",
            format!("`{name}` is not a valid server name: {e}"),
        )
    })
}

/// `HandshakeFailure` -> `handshake-failure`: a Debug name as a short lowercase code, never a
/// dump of the fields some variants carry.
fn kebab(debug: &str) -> String {
    let name = debug.split(['(', ' ', '{']).next().unwrap_or(debug);
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &ch) in chars.iter().enumerate() {
        // A word starts at a capital after a small letter, or at the last capital of a run
        // followed by a small letter: `UnknownCA` -> `unknown-ca`, `UnknownPSKIdentity` ->
        // `unknown-psk-identity`.
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1);
        let starts = ch.is_ascii_uppercase()
            && match prev {
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                Some(_) => true,
                None => false,
            };
        if starts {
            out.push('-');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

/// A TLS alert's short name (`handshake-failure`, `certificate-required`), from its number.
pub fn alert_name(a: rustls::AlertDescription) -> String {
    match a {
        rustls::AlertDescription::Unknown(n) => format!("unknown-{n}"),
        a => kebab(&format!("{a:?}")),
    }
}

/// A short stable code for a certificate rustls refused: the kind of fault, not its details
/// (names and times go in the message), so that every run counts it under one code.
fn certificate_code(c: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    let kind = match c {
        C::Expired | C::ExpiredContext { .. } => "expired",
        C::NotValidYet | C::NotValidYetContext { .. } => "not-yet-valid",
        C::NotValidForName | C::NotValidForNameContext { .. } => "name-mismatch",
        C::UnknownIssuer => "unknown-issuer",
        C::BadSignature => "bad-signature",
        C::BadEncoding => "bad-encoding",
        C::Revoked => "revoked",
        C::UnknownRevocationStatus
        | C::ExpiredRevocationList
        | C::ExpiredRevocationListContext { .. } => "revocation",
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => "invalid-purpose",
        C::UnhandledCriticalExtension => "critical-extension",
        C::ApplicationVerificationFailure => "refused",
        C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => "unsupported-signature",
        _ => "other",
    };
    format!("certificate:{kind}")
}

/// The code for an error rustls raised, at the handshake or later (an alert after it).
pub fn rustls_code(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(c) => certificate_code(c),
        rustls::Error::AlertReceived(a) => format!("tls:alert:{}", alert_name(*a)),
        rustls::Error::NoApplicationProtocol => "alpn".to_string(),
        rustls::Error::InvalidMessage(_) => "not-tls".to_string(),
        rustls::Error::NoCertificatesPresented => "certificate:none".to_string(),
        _ => "handshake".to_string(),
    }
}

/// The TLS error inside an I/O error, when there is one: tokio-rustls reports a fatal alert or a
/// refused certificate as an I/O error, which must stay a `tls` error wherever it surfaces (a
/// server refusing our client certificate says so only after the client's side of a TLS 1.3
/// handshake is done, on the first read).
pub fn io_tls_error(e: &io::Error) -> Option<RequestError> {
    let inner = e.get_ref()?.downcast_ref::<rustls::Error>()?;
    Some(RequestError::new(
        ErrorClass::Tls,
        rustls_code(inner),
        e.to_string(),
    ))
}

/// Classifies a handshake failure.
pub fn handshake_error(e: &io::Error) -> RequestError {
    if let Some(t) = io_tls_error(e) {
        return t;
    }
    let code = match e.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => "closed",
        _ => "io",
    };
    RequestError::new(ErrorClass::Tls, code, e.to_string())
}

/// Runs the TLS handshake on `tcp` within `timeout`, returning the stream, its duration and
/// whether the session was resumed.
pub async fn handshake(
    connector: &TlsConnector,
    name: ServerName<'static>,
    tcp: TcpStream,
    timeout: Duration,
) -> Result<(TlsStream<TcpStream>, Duration, bool), RequestError> {
    let start = Instant::now();
    match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => {
            let resumed = matches!(
                s.get_ref().1.handshake_kind(),
                Some(rustls::HandshakeKind::Resumed)
            );
            Ok((s, start.elapsed(), resumed))
        }
        Ok(Err(e)) => Err(handshake_error(&e)),
        Err(_) => Err(RequestError::new(
            ErrorClass::Timeout,
            "tls-handshake",
            format!("no TLS handshake within {timeout:?}"),
        )),
    }
}

/// Checks the protocol the server chose by ALPN against the one asked for.
pub fn check_alpn(stream: &TlsStream<TcpStream>, wanted: &[u8]) -> Result<(), RequestError> {
    let got = stream.get_ref().1.alpn_protocol();
    if got == Some(wanted) {
        return Ok(());
    }
    let got_s = got
        .map(|g| String::from_utf8_lossy(g).into_owned())
        .unwrap_or_else(|| "none".into());
    Err(RequestError::new(
        ErrorClass::Protocol,
        format!("alpn:{got_s}"),
        format!(
            "asked for {} by ALPN, the server chose {got_s}",
            String::from_utf8_lossy(wanted)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_are_short_kebab_codes() {
        use rustls::AlertDescription as A;
        assert_eq!(alert_name(A::HandshakeFailure), "handshake-failure");
        assert_eq!(alert_name(A::UnknownCA), "unknown-ca");
        assert_eq!(alert_name(A::UnknownPSKIdentity), "unknown-psk-identity");
        assert_eq!(alert_name(A::CertificateRequired), "certificate-required");
        assert_eq!(alert_name(A::Unknown(250)), "unknown-250");
    }
}
