//! The CA index, `axis-pki.json`: the CAs, the next CRL number of each, and every certificate
//! they issued with its revocation. It is the directory's source of truth and is written last.

use std::str::FromStr;

use axis_pki::{Profile, RevocationReason, RevokedEntry, Serial};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Failure, Result};

/// Version of the index format this binary reads and writes.
pub(crate) const SCHEMA: u32 = 1;
/// The root CA's id in the index and on the command line.
pub(crate) const ROOT_ID: &str = "root";

/// The whole index.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Index {
    /// Format version ([`SCHEMA`]).
    pub(crate) schema: u32,
    /// The root first, then the issuing CAs in creation order.
    pub(crate) cas: Vec<CaRecord>,
    /// Every certificate a CA issued (issuing CAs and end entities), in issue order.
    pub(crate) certificates: Vec<CertRecord>,
}

/// A CA this directory holds the key of.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaRecord {
    /// `root`, or the slug given to `axis-pki ca --id`.
    pub(crate) id: String,
    /// The CA's common name.
    pub(crate) name: String,
    /// Its certificate's serial (hex).
    pub(crate) serial: String,
    /// `rsa4096`, `p256`, …
    pub(crate) key_type: String,
    /// Certificate path, relative to the CA directory.
    pub(crate) cert: String,
    /// Encrypted key path, relative to the CA directory.
    pub(crate) key: String,
    /// Current CRL path, relative to the CA directory.
    pub(crate) crl: String,
    /// The cRLNumber the next CRL gets.
    pub(crate) next_crl_number: u64,
    #[serde(with = "rfc3339")]
    pub(crate) not_before: OffsetDateTime,
    #[serde(with = "rfc3339")]
    pub(crate) not_after: OffsetDateTime,
    #[serde(with = "rfc3339")]
    pub(crate) created_at: OffsetDateTime,
}

/// One issued certificate.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CertRecord {
    /// Serial (uppercase hex, as `openssl x509 -serial` prints it).
    pub(crate) serial: String,
    /// Id of the CA that issued it.
    pub(crate) issuer: String,
    /// Profile name.
    pub(crate) profile: String,
    /// Subject distinguished name, printable.
    pub(crate) subject: String,
    /// Subject common name.
    pub(crate) common_name: String,
    /// Agency id, for agency and personal profiles.
    pub(crate) agency_id: Option<String>,
    #[serde(with = "rfc3339")]
    pub(crate) not_before: OffsetDateTime,
    #[serde(with = "rfc3339")]
    pub(crate) not_after: OffsetDateTime,
    #[serde(with = "rfc3339")]
    pub(crate) issued_at: OffsetDateTime,
    /// The copy in `certs/`, relative to the CA directory.
    pub(crate) path: String,
    /// Set once the certificate is revoked; never cleared.
    pub(crate) revocation: Option<Revocation>,
    /// Recorded from `certs/` after an interrupted command, not at issue time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) recovered: bool,
}

/// When and why a certificate was revoked.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Revocation {
    #[serde(with = "rfc3339")]
    pub(crate) at: OffsetDateTime,
    /// Reason name (`key-compromise`, …).
    pub(crate) reason: String,
}

impl Index {
    pub(crate) fn new() -> Self {
        Index {
            schema: SCHEMA,
            cas: Vec::new(),
            certificates: Vec::new(),
        }
    }

    /// Parses the index and checks what later code relies on.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self> {
        #[derive(Deserialize)]
        struct Version {
            schema: u32,
        }
        let v: Version = serde_json::from_slice(bytes)
            .map_err(|e| Failure::new(format!("the index is not valid JSON: {e}")))?;
        if v.schema != SCHEMA {
            return Err(Failure::new(format!(
                "the index has schema version {}; this axis-pki reads version {SCHEMA}",
                v.schema
            ))
            .hint("use the axis-pki release that wrote this directory"));
        }
        let index: Index = serde_json::from_slice(bytes)
            .map_err(|e| Failure::new(format!("the index is malformed: {e}")))?;
        index.check()?;
        Ok(index)
    }

    fn check(&self) -> Result<()> {
        let bad = |what: String| Failure::new(format!("the index is inconsistent: {what}"));
        if self.cas.first().map(|c| c.id.as_str()) != Some(ROOT_ID) {
            return Err(bad("its first CA is not the root".into()));
        }
        for (i, ca) in self.cas.iter().enumerate() {
            if self.cas[..i].iter().any(|c| c.id == ca.id) {
                return Err(bad(format!("CA `{}` appears twice", ca.id)));
            }
            Serial::from_hex(&ca.serial).map_err(|_| bad(format!("CA `{}` serial", ca.id)))?;
        }
        let mut seen = std::collections::HashSet::new();
        for c in &self.certificates {
            let serial =
                Serial::from_hex(&c.serial).map_err(|_| bad(format!("serial `{}`", c.serial)))?;
            if !seen.insert((c.issuer.as_str(), serial)) {
                return Err(bad(format!("serial {} appears twice", c.serial)));
            }
            if self.ca(&c.issuer).is_none() {
                return Err(bad(format!(
                    "serial {} names unknown CA `{}`",
                    c.serial, c.issuer
                )));
            }
            Profile::from_str(&c.profile)
                .map_err(|_| bad(format!("serial {} has profile `{}`", c.serial, c.profile)))?;
            if let Some(r) = &c.revocation {
                RevocationReason::from_str(&r.reason)
                    .map_err(|_| bad(format!("serial {} has reason `{}`", c.serial, r.reason)))?;
            }
        }
        Ok(())
    }

    /// Serializes the index (pretty JSON, trailing newline).
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut v = serde_json::to_vec_pretty(self)
            .map_err(|e| Failure::new(format!("cannot encode the index: {e}")))?;
        v.push(b'\n');
        Ok(v)
    }

    pub(crate) fn ca(&self, id: &str) -> Option<&CaRecord> {
        self.cas.iter().find(|c| c.id == id)
    }

    pub(crate) fn ca_mut(&mut self, id: &str) -> Option<&mut CaRecord> {
        self.cas.iter_mut().find(|c| c.id == id)
    }

    /// The certificate with this serial, if this directory issued it.
    pub(crate) fn find(&self, serial: &Serial) -> Option<usize> {
        self.certificates
            .iter()
            .position(|c| Serial::from_hex(&c.serial).ok().as_ref() == Some(serial))
    }

    /// The index record of an issuing CA's own certificate.
    pub(crate) fn ca_cert_record(&self, ca: &CaRecord) -> Option<&CertRecord> {
        let serial = Serial::from_hex(&ca.serial).ok()?;
        self.certificates.iter().find(|c| {
            c.issuer == ROOT_ID && Serial::from_hex(&c.serial).ok().as_ref() == Some(&serial)
        })
    }

    /// Every revocation recorded for certificates issued by `ca_id`, as CRL entries.
    pub(crate) fn revoked_by(&self, ca_id: &str) -> Result<Vec<RevokedEntry>> {
        self.certificates
            .iter()
            .filter(|c| c.issuer == ca_id)
            .filter_map(|c| c.revocation.as_ref().map(|r| (c, r)))
            .map(|(c, r)| {
                Ok(RevokedEntry {
                    serial: Serial::from_hex(&c.serial)?,
                    revoked_at: r.at,
                    reason: RevocationReason::from_str(&r.reason)?,
                })
            })
            .collect()
    }
}

/// RFC 3339 timestamps in the index.
pub(crate) mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub(crate) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let text = t.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(d)?;
        OffsetDateTime::parse(&text, &Rfc3339).map_err(serde::de::Error::custom)
    }
}

/// Formats a time for people and for JSON output.
pub(crate) fn fmt_time(t: OffsetDateTime) -> String {
    use time::format_description::well_known::Rfc3339;
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
