//! The few DER encodings rcgen does not write for us: OIDs with arcs wider than 64 bits (a
//! `2.25.<UUID>` policy arc), read back to dotted form, and the certificatePolicies extension
//! value.
//!
//! [`oid_content`], [`oid_to_dotted`] and [`tlv`] are public: they are the one OID encoder and
//! decoder and the one TLV writer of the workspace (`axis-signer`, which sits above this crate,
//! uses them too).

/// DER content octets of a dotted OID; arcs may be up to 128 bits wide (the `2.25.<UUID>` arc,
/// X.667). `None` if the text is not a well-formed OID.
///
/// ```
/// assert_eq!(axis_pki::der::oid_content("2.5.4.97").unwrap(), [0x55, 0x04, 0x61]);
/// assert!(axis_pki::der::oid_content("3.1").is_none());
/// ```
pub fn oid_content(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u128> = dotted
        .split('.')
        .map(|a| a.parse::<u128>().ok())
        .collect::<Option<_>>()?;
    if arcs.len() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) {
        return None;
    }
    let mut out = Vec::new();
    let first = arcs[0].checked_mul(40)?.checked_add(arcs[1])?;
    push_base128(&mut out, first);
    for &arc in &arcs[2..] {
        push_base128(&mut out, arc);
    }
    Some(out)
}

/// The dotted form of OID content octets (arcs up to 128 bits); `None` if not minimal DER.
pub fn oid_to_dotted(content: &[u8]) -> Option<String> {
    let mut arcs: Vec<u128> = Vec::new();
    let mut value: u128 = 0;
    let mut fresh = true;
    for &b in content {
        if fresh && b == 0x80 {
            return None; // a sub-identifier with a leading zero octet
        }
        if value >> 121 != 0 {
            return None;
        }
        value = (value << 7) | u128::from(b & 0x7f);
        fresh = b & 0x80 == 0;
        if fresh {
            arcs.push(value);
            value = 0;
        }
    }
    let (&first, rest) = arcs.split_first()?;
    if !fresh {
        return None;
    }
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut out = format!("{a}.{b}");
    for arc in rest {
        out.push('.');
        out.push_str(&arc.to_string());
    }
    Some(out)
}

fn push_base128(out: &mut Vec<u8>, mut v: u128) {
    let mut tmp = [0u8; 19];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    let last = tmp.len() - 1;
    for (j, b) in tmp.iter_mut().enumerate().skip(i) {
        if j != last {
            *b |= 0x80;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// One DER element: `tag` (a single octet), the length in its shortest form, `content`.
///
/// ```
/// assert_eq!(axis_pki::der::tlv(0x04, &[1, 2]), [0x04, 0x02, 1, 2]);
/// assert_eq!(axis_pki::der::tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
/// ```
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// `certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation` with one
/// `PolicyInformation ::= SEQUENCE { policyIdentifier OBJECT IDENTIFIER }` (RFC 5280 §4.2.1.4).
pub(crate) fn certificate_policies(policy_oid_content: &[u8]) -> Vec<u8> {
    let oid = tlv(0x06, policy_oid_content);
    let info = tlv(0x30, &oid);
    tlv(0x30, &info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_oids_match_known_encodings() {
        // 2.5.4.97 organizationIdentifier
        assert_eq!(oid_content("2.5.4.97").unwrap(), vec![0x55, 0x04, 0x61]);
        // 1.2.840.113549 rsadsi
        assert_eq!(
            oid_content("1.2.840.113549").unwrap(),
            vec![0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]
        );
        assert!(oid_content("3.1").is_none());
        assert!(oid_content("1").is_none());
        assert!(oid_content("1.x").is_none());
    }

    #[test]
    fn arcs_match_openssl_encoding_and_decode_back() {
        // OpenSSL as the independent encoder, the 128-bit arc included.
        for arc in [
            crate::profile::AXIS_OID_ARC,
            crate::profile::DEFAULT_POLICY_ARC,
            "1.3.6.1.4.1.32473",
            "2.5.4.97",
            "0.9.2342.19200300.100.1.1",
        ] {
            let dotted = format!("{arc}.1.3");
            let ours = oid_content(&dotted).unwrap();
            let theirs = openssl::asn1::Asn1Object::from_str(&dotted).unwrap();
            assert_eq!(ours, theirs.as_slice(), "{dotted}");
            assert_eq!(oid_to_dotted(&ours).unwrap(), dotted);
        }
        // Not minimal, or cut short.
        assert!(oid_to_dotted(&[0x2a, 0x80, 0x01]).is_none());
        assert!(oid_to_dotted(&[0x2a, 0x86]).is_none());
        assert!(oid_to_dotted(&[]).is_none());
        assert!(oid_to_dotted(&[0xff; 20]).is_none());
    }
}
