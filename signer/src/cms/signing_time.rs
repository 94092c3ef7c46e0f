//! The signing time a CMS SignedData claims, read before anything is verified: an auditor
//! needs it to choose the CRLs a signature is verified with (those in force when it was made).

use time::OffsetDateTime;

use super::der::{self, Reader};
use super::oid;
use super::signature::SignatureRole;
use crate::error::{Error, FormatError, SignatureError};
use crate::limits::MAX_SIGNATURE_LEN;

/// The CAdES signingTime a detached CMS SignedData claims, read without verifying anything:
/// what picks the CRLs to verify it with. The verification that follows reads it again, checks
/// it is the only one, and verifies the signature over it.
pub fn claimed_signing_time(cms: &[u8], role: SignatureRole) -> Result<OffsetDateTime, Error> {
    const CMS: &str = "CMS SignedData";
    if cms.len() > MAX_SIGNATURE_LEN {
        return Err(FormatError::TooLarge {
            what: CMS,
            len: cms.len() as u64,
            max: MAX_SIGNATURE_LEN as u64,
        }
        .into());
    }
    let mut outer = Reader::new(cms, CMS);
    let mut ci = outer.sequence()?;
    outer.finish()?;
    if ci.oid()? != oid::SIGNED_DATA {
        return Err(FormatError::Malformed { what: CMS }.into());
    }
    let mut explicit = ci.nested(der::context(0))?;
    ci.finish()?;
    let mut sd = explicit.sequence()?;
    explicit.finish()?;
    sd.u64()?; // version
    sd.nested(der::SET)?; // digestAlgorithms
    sd.sequence()?; // encapContentInfo
    sd.optional(der::context(0))?; // certificates
    let mut signer_infos = sd.nested(der::SET)?;
    sd.finish()?;
    let mut si = signer_infos.sequence()?;
    signer_infos.finish()?;
    si.u64()?; // version
    si.sequence()?; // issuerAndSerialNumber
    si.sequence()?; // digestAlgorithm
    let signed_attrs = si.expect(der::context(0))?;
    let mut attrs = Reader::new(signed_attrs.value, CMS);
    while !attrs.is_empty() {
        let mut a = attrs.sequence()?;
        if a.oid()? == oid::SIGNING_TIME {
            let mut values = a.nested(der::SET)?;
            a.finish()?;
            let t = values.time()?;
            values.finish()?;
            return Ok(t);
        }
    }
    Err(SignatureError::SignedAttributeMissing {
        role,
        attribute: "signingTime",
    }
    .into())
}

#[cfg(test)]
mod tests;
