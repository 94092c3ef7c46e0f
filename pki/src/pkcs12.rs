//! PKCS#12 export, so that Java, .NET and Windows tooling can import an agency's key and chain.

use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::stack::Stack;
use openssl::x509::X509;

use crate::error::Error;
use crate::key::{Passphrase, PrivateKey};

/// PBKDF2 rounds for the key bag and the MAC in bundles we write.
pub const PKCS12_ROUNDS: u32 = 200_000;

/// Which encryption a PKCS#12 bundle uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Pkcs12Compat {
    /// PBES2 (PBKDF2-SHA256, AES-256-CBC) with a SHA-256 MAC: OpenSSL 3, Java 8u301+/11.0.12+,
    /// .NET 5+, Windows 10 1709+ / Server 2019+.
    #[default]
    Modern,
    /// pbeWithSHAAnd3-KeyTripleDES-CBC with a SHA-1 MAC, for older Windows and Java that cannot
    /// read AES bundles. Weaker: use only where an old importer demands it.
    Legacy3Des,
}

/// Builds a PKCS#12 bundle holding `key`, its certificate `cert_der` and the issuer chain
/// `chain_der` (nearest first), protected by `passphrase` and labelled `friendly_name`.
pub fn export_pkcs12(
    key: &PrivateKey,
    cert_der: &[u8],
    chain_der: &[Vec<u8>],
    friendly_name: &str,
    passphrase: &Passphrase,
    compat: Pkcs12Compat,
) -> Result<Vec<u8>, Error> {
    passphrase.check_strength()?;
    let cert = crate::cert::parse(cert_der)?;
    if cert.public_key().raw != key.public_key_der() {
        return Err(Error::KeyMismatch);
    }
    let pkey = key.to_openssl()?;
    let x509 = X509::from_der(cert_der).map_err(|_| Error::CertificateMalformed)?;
    let mut ca = Stack::new().map_err(|_| Error::Pkcs12Build)?;
    for c in chain_der {
        ca.push(X509::from_der(c).map_err(|_| Error::CertificateMalformed)?)
            .map_err(|_| Error::Pkcs12Build)?;
    }
    let mut b = Pkcs12::builder();
    b.name(friendly_name).pkey(&pkey).cert(&x509).ca(ca);
    match compat {
        Pkcs12Compat::Modern => {
            b.key_algorithm(Nid::AES_256_CBC)
                .cert_algorithm(Nid::AES_256_CBC)
                .key_iter(PKCS12_ROUNDS)
                .mac_iter(PKCS12_ROUNDS)
                .mac_md(openssl::hash::MessageDigest::sha256());
        }
        Pkcs12Compat::Legacy3Des => {
            b.key_algorithm(Nid::PBE_WITHSHA1AND3_KEY_TRIPLEDES_CBC)
                .cert_algorithm(Nid::PBE_WITHSHA1AND3_KEY_TRIPLEDES_CBC)
                .key_iter(PKCS12_ROUNDS)
                .mac_iter(PKCS12_ROUNDS)
                .mac_md(openssl::hash::MessageDigest::sha1());
        }
    }
    let p12 = b
        .build2(passphrase.as_str())
        .map_err(|_| Error::Pkcs12Build)?;
    p12.to_der().map_err(|_| Error::Pkcs12Build)
}
