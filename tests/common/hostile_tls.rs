//! TLS servers that fail the handshake on purpose, on blocking loopback sockets: one that answers
//! the ClientHello with a fatal alert, and rustls servers with an expired certificate, a
//! certificate for another name, or a demand for a client certificate the client cannot meet.
//! Each trusts or is trusted through a CA made here, so only the one fault is left.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A TCP server that reads the ClientHello and answers with a fatal `handshake_failure` alert.
pub fn alert_server() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = [0u8; 4096];
            if s.read(&mut buf).unwrap_or(0) == 0 {
                continue;
            }
            // A TLS record: alert (21), TLS 1.2 framing, length 2, fatal (2), handshake_failure (40).
            let _ = s.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    addr
}

/// What is wrong with the rustls server.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Its certificate expired in 2001.
    Expired,
    /// Its certificate names only `elsewhere.invalid`.
    WrongName,
    /// It requires a client certificate signed by a CA no client has.
    RequiresClientCert,
}

fn new_ca() -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

/// A rustls server with one fault; its CA (PEM) is the one to trust.
pub struct FaultyTls {
    pub addr: SocketAddr,
    pub ca_pem: String,
}

impl FaultyTls {
    pub fn start(fault: Fault) -> FaultyTls {
        let ca = new_ca();
        let names = match fault {
            Fault::WrongName => vec!["elsewhere.invalid".to_string()],
            _ => vec!["localhost".to_string(), "127.0.0.1".to_string()],
        };
        let mut p = CertificateParams::new(names).unwrap();
        if matches!(fault, Fault::Expired) {
            p.not_before = date_time_ymd(2000, 1, 1);
            p.not_after = date_time_ymd(2001, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &ca).unwrap();
        let chain = vec![cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = gauntlet::proto::tls::provider();
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match fault {
            Fault::RequiresClientCert => {
                let mut roots = rustls::RootCertStore::empty();
                roots
                    .add(CertificateDer::from(new_ca().der().to_vec()))
                    .unwrap();
                let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .unwrap();
                builder.with_client_cert_verifier(v)
            }
            _ => builder.with_no_client_auth(),
        };
        let mut config = builder.with_single_cert(chain, key).unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { return };
                let config = config.clone();
                std::thread::spawn(move || {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                    let Ok(mut conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    // The handshake fails here; its alert is written before the error returns.
                    while conn.is_handshaking() {
                        if conn.complete_io(&mut s).is_err() {
                            return;
                        }
                    }
                    let mut tls = rustls::Stream::new(&mut conn, &mut s);
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf);
                    let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                });
            }
        });
        FaultyTls {
            addr,
            ca_pem: ca.pem(),
        }
    }
}
