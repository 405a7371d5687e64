//! Throwaway certificates for the embedded origin and test proxies: a CA made at start, a server
//! certificate it signs for `localhost`, `127.0.0.1` and `::1`, and a client certificate for
//! mutual TLS. Clients trust the CA.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA and a server certificate signed by it.
pub struct CertSet {
    /// CA certificate, PEM.
    pub ca_pem: String,
    /// CA certificate, DER.
    pub ca_der: CertificateDer<'static>,
    /// Server certificate, PEM.
    pub cert_pem: String,
    /// Server certificate, DER.
    pub cert_der: CertificateDer<'static>,
    /// Server private key, PKCS#8 PEM.
    pub key_pem: String,
    /// Server private key, DER.
    pub key_der: Vec<u8>,
    /// A client certificate signed by the same CA (for mutual TLS), PEM.
    pub client_cert_pem: String,
    /// Its private key, PKCS#8 PEM.
    pub client_key_pem: String,
}

impl CertSet {
    /// The server key for rustls.
    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// Makes a CA and a server certificate for loopback names plus `extra_names`.
pub fn generate(extra_names: &[String]) -> Result<CertSet, rcgen::Error> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "gauntlet throwaway CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    names.extend(extra_names.iter().cloned());
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "gauntlet origin");
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &ca)?;

    let mut client_params = CertificateParams::new(vec!["gauntlet-client".to_string()])?;
    client_params
        .distinguished_name
        .push(DnType::CommonName, "gauntlet client");
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_key = KeyPair::generate()?;
    let client = client_params.signed_by(&client_key, &ca)?;
    Ok(CertSet {
        client_cert_pem: client.pem(),
        client_key_pem: client_key.serialize_pem(),
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        cert_pem: cert.pem(),
        cert_der: cert.der().clone(),
        key_pem: key.serialize_pem(),
        key_der: key.serialize_der(),
    })
}
