//! Key material of a local cluster, generated in Rust: a CA, the serving certificates of
//! the apiserver, controller-manager and scheduler signed by it, and the service-account
//! signing key. All keys are ECDSA P-256, which takes about a millisecond in all (the
//! components would otherwise each generate an RSA key of their own at start).

use std::net::{IpAddr, Ipv4Addr};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::error::{ClusterError, Result};

/// PEM-encoded key material for one cluster.
pub(crate) struct ClusterCerts {
    pub ca_cert_pem: String,
    pub serving_cert_pem: String,
    pub serving_key_pem: String,
    /// Serving certificate and key of kube-controller-manager (127.0.0.1, localhost).
    pub controller_manager: (String, String),
    /// Serving certificate and key of kube-scheduler (127.0.0.1, localhost).
    pub scheduler: (String, String),
    pub sa_private_pem: String,
    pub sa_public_pem: String,
}

fn cert_err(e: rcgen::Error) -> ClusterError {
    ClusterError::Config(format!("generating certificates: {e}"))
}

/// Generates a fresh CA, a serving certificate for 127.0.0.1 / localhost and the
/// in-cluster service names, and an ECDSA P-256 service-account key pair.
pub(crate) fn generate() -> Result<ClusterCerts> {
    let ca_key = KeyPair::generate().map_err(cert_err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "o2dms local cluster CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(cert_err)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let serving_key = KeyPair::generate().map_err(cert_err)?;
    let mut params = CertificateParams::new(vec![
        "localhost".to_string(),
        "kubernetes".to_string(),
        "kubernetes.default".to_string(),
        "kubernetes.default.svc".to_string(),
    ])
    .map_err(cert_err)?;
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::new(10, 96, 0, 1))));
    params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let serving_cert = params.signed_by(&serving_key, &issuer).map_err(cert_err)?;

    let sa_key = KeyPair::generate().map_err(cert_err)?;
    Ok(ClusterCerts {
        ca_cert_pem: ca_cert.pem(),
        serving_cert_pem: serving_cert.pem(),
        serving_key_pem: serving_key.serialize_pem(),
        controller_manager: loopback_serving_cert("kube-controller-manager", &issuer)?,
        scheduler: loopback_serving_cert("kube-scheduler", &issuer)?,
        sa_private_pem: sa_key.serialize_pem(),
        sa_public_pem: sa_key.public_key_pem(),
    })
}

/// A fresh private CA named `ca_name` and a serving certificate for 127.0.0.1 and
/// localhost signed by it: (CA certificate, serving certificate, serving key), PEM.
pub(crate) fn private_ca_and_loopback_cert(ca_name: &str) -> Result<(String, String, String)> {
    let ca_key = KeyPair::generate().map_err(cert_err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(cert_err)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let (cert, key) = loopback_serving_cert("o2dms loopback server", &issuer)?;
    Ok((ca_cert.pem(), cert, key))
}

/// A serving certificate for 127.0.0.1 and localhost signed by the CA: (cert, key) PEM.
fn loopback_serving_cert(
    common_name: &str,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<(String, String)> {
    let key = KeyPair::generate().map_err(cert_err)?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(cert_err)?;
    params
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, issuer).map_err(cert_err)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// A random hex token of 32 characters (from /dev/urandom).
pub(crate) fn random_token() -> Result<String> {
    use std::io::Read;
    let mut buf = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| ClusterError::io("reading /dev/urandom", e))?;
    Ok(hex::encode(buf))
}

/// The DER bytes of the first certificate in a PEM text.
pub(crate) fn pem_to_der(pem: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END CERTIFICATE-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| ClusterError::Config(format!("decoding a PEM certificate: {e}")))
}
