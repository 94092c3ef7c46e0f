//! Object identifiers (DER content octets) used by the formats; each is checked against its
//! dotted form in the tests.

use std::sync::OnceLock;

use crate::cms::der::Reader;
use crate::error::{Error, FormatError};

/// id-data, 1.2.840.113549.1.7.1
pub(crate) const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
/// id-signedData, 1.2.840.113549.1.7.2
pub(crate) const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// id-envelopedData, 1.2.840.113549.1.7.3
pub(crate) const ENVELOPED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03];
/// id-contentType, 1.2.840.113549.1.9.3
pub(crate) const CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
/// id-messageDigest, 1.2.840.113549.1.9.4
pub(crate) const MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
/// id-signingTime, 1.2.840.113549.1.9.5
pub(crate) const SIGNING_TIME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
/// id-aa-signingCertificateV2, 1.2.840.113549.1.9.16.2.47 (RFC 5035)
pub(crate) const SIGNING_CERTIFICATE_V2: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
];
/// id-aa-CMSAlgorithmProtection, 1.2.840.113549.1.9.52 (RFC 6211)
pub(crate) const CMS_ALGORITHM_PROTECTION: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x34];
/// smimeCapabilities, 1.2.840.113549.1.9.15 (RFC 8551 §2.5.2)
pub(crate) const SMIME_CAPABILITIES: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0f];
/// id-sha256, 2.16.840.1.101.3.4.2.1
pub(crate) const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
/// rsaEncryption, 1.2.840.113549.1.1.1
pub(crate) const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-RSAES-OAEP, 1.2.840.113549.1.1.7
pub(crate) const RSAES_OAEP: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x07];
/// id-mgf1, 1.2.840.113549.1.1.8
pub(crate) const MGF1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
/// sha256WithRSAEncryption, 1.2.840.113549.1.1.11
pub(crate) const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
/// ecdsa-with-SHA256, 1.2.840.10045.4.3.2
pub(crate) const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/// id-ecPublicKey, 1.2.840.10045.2.1
pub(crate) const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1 (P-256), 1.2.840.10045.3.1.7
pub(crate) const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// dhSinglePass-stdDH-sha256kdf-scheme, 1.3.132.1.11.1 (RFC 5753)
pub(crate) const ECDH_STD_SHA256_KDF: &[u8] = &[0x2b, 0x81, 0x04, 0x01, 0x0b, 0x01];
/// id-aes256-wrap, 2.16.840.1.101.3.4.1.45 (RFC 3565)
pub(crate) const AES256_WRAP: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2d];
/// id-aes256-CBC, 2.16.840.1.101.3.4.1.42
pub(crate) const AES256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];

/// The Axis format OIDs, under Axis's own arc (fixed, not a PKI's policy arc):
/// `<AXIS_OID_ARC>.2.<n>`. The first element of every structure the seal key signs is one of
/// these, so a manifest can never be read as a routing header or a receipt (all three are
/// signed by the same agency seal).
///
/// This is the one register of the numbers, for the signer's formats and those defined above it
/// (`axis-evidence`): a number is never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The manifest (`.2.1`).
    Manifest = 1,
    /// The routing header (`.2.2`).
    RoutingHeader = 2,
    /// A receipt or status (`.2.3`).
    Receipt = 3,
    /// A log entry (`.2.4`, axis-evidence).
    LogEntry = 4,
    /// A tree head (`.2.5`, axis-evidence).
    TreeHead = 5,
    /// A log proof (`.2.6`, axis-evidence).
    LogProof = 6,
    /// An evidence bundle (`.2.7`, axis-evidence).
    EvidenceBundle = 7,
    /// A completeness statement (`.2.8`, axis-evidence): what the log holds for one message.
    Completeness = 8,
    /// A version of the unit directory, signed by the axis operator (`.2.9`, axis-evidence).
    DirectoryVersion = 9,
    /// A verified copy of the unit directory: a signed version and its units (`.2.10`,
    /// axis-evidence).
    DirectorySnapshot = 10,
    /// A witness's cosignature of a tree head (`.2.11`, axis-evidence).
    Cosignature = 11,
}

impl Format {
    const ALL: [Format; 11] = [
        Format::Manifest,
        Format::RoutingHeader,
        Format::Receipt,
        Format::LogEntry,
        Format::TreeHead,
        Format::LogProof,
        Format::EvidenceBundle,
        Format::Completeness,
        Format::DirectoryVersion,
        Format::DirectorySnapshot,
        Format::Cosignature,
    ];

    /// The dotted OID, `<AXIS_OID_ARC>.2.<n>`.
    pub fn dotted(self) -> String {
        format!("{}.2.{}", axis_pki::AXIS_OID_ARC, self as u8)
    }

    /// DER content octets of the format's OID.
    pub fn oid(self) -> &'static [u8] {
        static CACHE: OnceLock<[Vec<u8>; 11]> = OnceLock::new();
        let all = CACHE.get_or_init(|| {
            Format::ALL.map(|f| axis_pki::der::oid_content(&f.dotted()).unwrap_or_default())
        });
        // ALL lists the formats in register order; the index of each is its place there.
        let i = Format::ALL.iter().position(|f| *f == self).unwrap_or(0);
        &all[i]
    }

    /// Opens an encoded structure of this format: one SEQUENCE with nothing after it, starting
    /// with this format's OID (a receipt is never read as a manifest) and version 1. Returns a
    /// reader over the fields that follow; errors name `what`.
    pub fn open<'a>(self, bytes: &'a [u8], what: &'static str) -> Result<Reader<'a>, Error> {
        self.open_versions(bytes, what, 1).map(|(r, _)| r)
    }

    /// [`Format::open`] for a format with versions 1 to `latest`; returns the version too.
    pub fn open_versions<'a>(
        self,
        bytes: &'a [u8],
        what: &'static str,
        latest: u64,
    ) -> Result<(Reader<'a>, u64), Error> {
        let mut outer = Reader::new(bytes, what);
        let mut r = outer.sequence()?;
        outer.finish()?;
        if r.oid()? != self.oid() {
            return Err(FormatError::WrongFormat { expected: what }.into());
        }
        let version = r.u64()?;
        if !(1..=latest).contains(&version) {
            return Err(FormatError::UnsupportedVersion { what, version }.into());
        }
        Ok((r, version))
    }

    /// The format of an encoded Axis structure (a SEQUENCE whose first element is a format
    /// OID), read without checking the rest; `None` for anything else.
    pub fn of(bytes: &[u8]) -> Option<Format> {
        let mut outer = Reader::new(bytes, "Axis structure");
        let oid = outer.sequence().ok()?.oid().ok()?;
        Format::ALL.into_iter().find(|f| f.oid() == oid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axis_pki::der::oid_content;

    #[test]
    fn constants_match_their_dotted_form() {
        for (c, dotted) in [
            (DATA, "1.2.840.113549.1.7.1"),
            (SIGNED_DATA, "1.2.840.113549.1.7.2"),
            (ENVELOPED_DATA, "1.2.840.113549.1.7.3"),
            (CONTENT_TYPE, "1.2.840.113549.1.9.3"),
            (MESSAGE_DIGEST, "1.2.840.113549.1.9.4"),
            (SIGNING_TIME, "1.2.840.113549.1.9.5"),
            (SIGNING_CERTIFICATE_V2, "1.2.840.113549.1.9.16.2.47"),
            (CMS_ALGORITHM_PROTECTION, "1.2.840.113549.1.9.52"),
            (SMIME_CAPABILITIES, "1.2.840.113549.1.9.15"),
            (SHA256, "2.16.840.1.101.3.4.2.1"),
            (RSA_ENCRYPTION, "1.2.840.113549.1.1.1"),
            (RSAES_OAEP, "1.2.840.113549.1.1.7"),
            (MGF1, "1.2.840.113549.1.1.8"),
            (SHA256_WITH_RSA, "1.2.840.113549.1.1.11"),
            (ECDSA_WITH_SHA256, "1.2.840.10045.4.3.2"),
            (EC_PUBLIC_KEY, "1.2.840.10045.2.1"),
            (P256, "1.2.840.10045.3.1.7"),
            (ECDH_STD_SHA256_KDF, "1.3.132.1.11.1"),
            (AES256_WRAP, "2.16.840.1.101.3.4.1.45"),
            (AES256_CBC, "2.16.840.1.101.3.4.1.42"),
        ] {
            assert_eq!(oid_content(dotted).unwrap(), c, "{dotted}");
        }
    }

    #[test]
    fn format_oids_are_distinct_and_under_the_axis_arc() {
        let m = Format::Manifest.oid();
        let h = Format::RoutingHeader.oid();
        let r = Format::Receipt.oid();
        assert!(!m.is_empty() && m != h && h != r && m != r);
        let all = Format::ALL.map(Format::oid);
        for (i, a) in all.iter().enumerate() {
            assert!(!a.is_empty());
            assert!(all[i + 1..].iter().all(|b| b != a), "format {i} repeats");
        }
        assert!(Format::Receipt.dotted().starts_with(axis_pki::AXIS_OID_ARC));
        assert_eq!(
            Format::EvidenceBundle.dotted(),
            format!("{}.2.7", axis_pki::AXIS_OID_ARC)
        );
    }

    #[test]
    fn the_format_of_an_encoding_is_its_first_oid() {
        use crate::cms::der;
        for f in Format::ALL {
            let bytes = der::seq(&[&der::oid(f.oid()), &der::uint(1)]);
            assert_eq!(Format::of(&bytes), Some(f));
        }
        assert_eq!(Format::of(&der::seq(&[&der::oid(SHA256)])), None);
        assert_eq!(Format::of(&der::octets(Format::Receipt.oid())), None);
        assert_eq!(Format::of(&[]), None);
    }
}
