//! Taking a detached CMS signature apart and putting it back, to make the variants that still
//! verify but are not the one byte form (certificate sets reordered, parameters spelled out,
//! unsigned attributes, the ECDSA twin); and the twin itself.

use axis_signer::cms::der::{self, Reader};

/// The order n of the P-256 group.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// `(r, n − s)` for a P-256 `ECDSA-Sig-Value` (DER): the other value that verifies.
pub fn ecdsa_twin(value: &[u8]) -> Vec<u8> {
    let mut r = Reader::new(value, "ECDSA-Sig-Value");
    let mut s = r.sequence().unwrap();
    let r_raw = s.any().unwrap().raw.to_vec();
    let s_val = s.expect(der::INTEGER).unwrap().value;
    let s_val = s_val.strip_prefix(&[0][..]).unwrap_or(s_val);
    let mut v = [0u8; 32];
    v[32 - s_val.len()..].copy_from_slice(s_val);
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(P256_N[i]) - i16::from(v[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    let skip = out.iter().take_while(|&&b| b == 0).count();
    let mut c = out[skip..].to_vec();
    if c[0] & 0x80 != 0 {
        c.insert(0, 0);
    }
    der::seq(&[&r_raw, &der::tlv(der::INTEGER, &c)])
}

/// A detached SignedData taken apart: its certificates, and its one SignerInfo's fields.
pub struct CmsParts {
    /// The certificates, in the order found.
    pub certs: Vec<Vec<u8>>,
    /// issuerAndSerialNumber (DER).
    pub sid: Vec<u8>,
    /// The SignerInfo's digest AlgorithmIdentifier (DER).
    pub digest_alg: Vec<u8>,
    /// The signed attributes, `[0]` and all.
    pub signed_attrs: Vec<u8>,
    /// The signature AlgorithmIdentifier (DER).
    pub sig_alg: Vec<u8>,
    /// The signature value.
    pub value: Vec<u8>,
    /// The unsigned attributes, `[1]` and all, if any.
    pub unsigned: Option<Vec<u8>>,
}

fn oid(dotted: &str) -> Vec<u8> {
    der::oid(&der::oid_content(dotted).unwrap())
}

impl CmsParts {
    /// Takes `sig` apart (it must be a well-formed detached SignedData with one signer).
    pub fn take_apart(sig: &[u8]) -> Self {
        let mut r = Reader::new(sig, "CMS");
        let mut ci = r.sequence().unwrap();
        ci.oid().unwrap();
        let mut e = ci.nested(der::context(0)).unwrap();
        let mut sd = e.sequence().unwrap();
        sd.u64().unwrap();
        sd.expect(der::SET).unwrap();
        sd.sequence().unwrap();
        let set = sd.expect(der::context(0)).unwrap();
        let mut c = Reader::new(set.value, "CMS");
        let mut certs = Vec::new();
        while !c.is_empty() {
            certs.push(c.any().unwrap().raw.to_vec());
        }
        let mut infos = sd.nested(der::SET).unwrap();
        let mut si = infos.sequence().unwrap();
        si.u64().unwrap();
        CmsParts {
            certs,
            sid: si.any().unwrap().raw.to_vec(),
            digest_alg: si.any().unwrap().raw.to_vec(),
            signed_attrs: si.any().unwrap().raw.to_vec(),
            sig_alg: si.any().unwrap().raw.to_vec(),
            value: si.octet_string().unwrap().to_vec(),
            unsigned: si
                .optional(der::context(1))
                .unwrap()
                .map(|t| t.raw.to_vec()),
        }
    }

    /// Puts the parts back in the order they are (nothing sorted: the test decides).
    pub fn put_together(&self) -> Vec<u8> {
        let certs: Vec<&[u8]> = self.certs.iter().map(Vec::as_slice).collect();
        let mut si = vec![
            der::uint(1),
            self.sid.clone(),
            self.digest_alg.clone(),
            self.signed_attrs.clone(),
            self.sig_alg.clone(),
            der::octets(&self.value),
        ];
        si.extend(self.unsigned.clone());
        let si: Vec<&[u8]> = si.iter().map(Vec::as_slice).collect();
        let sha256 = der::seq(&[&oid("2.16.840.1.101.3.4.2.1")]);
        let sd = der::seq(&[
            &der::uint(1),
            &der::cons(der::SET, &[&sha256]),
            &der::seq(&[&oid("1.2.840.113549.1.7.1")]),
            &der::cons(der::context(0), &certs),
            &der::cons(der::SET, &[&der::seq(&si)]),
        ]);
        der::seq(&[
            &oid("1.2.840.113549.1.7.2"),
            &der::tlv(der::context(0), &sd),
        ])
    }

    /// The same signature with the ECDSA twin of its value.
    pub fn with_twin_value(sig: &[u8]) -> Vec<u8> {
        let mut p = CmsParts::take_apart(sig);
        p.value = ecdsa_twin(&p.value);
        p.put_together()
    }
}
