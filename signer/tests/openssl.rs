//! OpenSSL as the independent judge: every signature we make verifies with stock
//! `openssl cms -verify` (chain and CRLs included), and `openssl cms -decrypt` unwraps the
//! content key for RSA (OAEP) and EC (ECDH) recipients; with that key, OpenSSL's AES-256-GCM
//! decrypts our chunks.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_pki::to_pem;
use axis_signer::limits::*;
use axis_signer::*;
use axis_testkit::*;

#[test]
fn openssl_verifies_both_document_signatures_and_the_submission() {
    let p = standard_package();
    let d = Dir::new(&fixture().crls);
    let manifest = d.write("manifest.bin", p.document.manifest().as_bytes());
    for (name, sig) in [
        ("personal.der", p.document.personal_signature()),
        ("seal.der", p.document.seal_signature()),
    ] {
        let sig = d.write(name, sig);
        let (ok, err) = cms_verify(&d, &sig, &manifest, NOW);
        assert!(ok, "{name}: {err}");
        assert_eq!(
            std::fs::read(d.path("verified.out")).unwrap(),
            p.document.manifest().as_bytes()
        );
    }
    let header = d.write("header.bin", p.sealed.submission.header().as_bytes());
    let sig = d.write("submission.der", p.sealed.submission.signature());
    let (ok, err) = cms_verify(&d, &sig, &header, NOW);
    assert!(ok, "submission: {err}");

    // The judge can say no: other content, or a revoked signer.
    let other = d.write("other.bin", b"not the manifest");
    let sig = d.path("seal.der");
    assert!(!cms_verify(&d, &sig, &other, NOW).0);
}

#[test]
fn openssl_refuses_a_signature_by_a_revoked_certificate() {
    let f = fixture();
    let m = naming_signer(manifest(&[&f.b], &[]), &f.revoked.cert)
        .encode()
        .unwrap();
    let revoked =
        SignedDocument::sign(m, &f.revoked.signer(), SIGNED, &f.a.seal_signer(), SIGNED).unwrap();
    let d = Dir::new(&fixture().crls);
    let manifest = d.write("manifest.bin", revoked.manifest().as_bytes());
    let sig = d.write("personal.der", revoked.personal_signature());
    let (ok, err) = cms_verify(&d, &sig, &manifest, NOW);
    assert!(!ok);
    assert!(err.contains("revoked"), "{err}");
}

/// `who`'s entry of the key envelope (a whole CMS EnvelopedData), by its place in the header.
fn entry_of(p: &Package, who: &Agency) -> Vec<u8> {
    let h = p.sealed.submission.header().header();
    let i = h.recipients.iter().position(|r| *r == who.id).unwrap();
    KeyEnvelope::parse(&p.sealed.key_envelope)
        .unwrap()
        .entry(i)
        .unwrap()
        .to_vec()
}

/// Decrypts `who`'s key-envelope entry with `openssl cms -decrypt` as `who`; returns the
/// content key.
fn openssl_unwrap(d: &Dir, p: &Package, who: &Agency) -> Vec<u8> {
    let env = d.write("envelope.der", &entry_of(p, who));
    let key = d.write("key.pem", who.enc_key_pem().as_bytes());
    let cert = d.write("recip.pem", to_pem("CERTIFICATE", who.enc.der()).as_bytes());
    let out = d.path("content-key.bin");
    let (ok, err) = openssl(&[
        "cms".as_ref(),
        "-decrypt".as_ref(),
        "-binary".as_ref(),
        "-inform".as_ref(),
        "DER".as_ref(),
        "-in".as_ref(),
        env.as_os_str(),
        "-inkey".as_ref(),
        key.as_os_str(),
        "-recip".as_ref(),
        cert.as_os_str(),
        "-out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(ok, "openssl cms -decrypt as {}: {err}", who.name);
    std::fs::read(out).unwrap()
}

#[test]
fn openssl_unwraps_the_content_key_for_rsa_and_ec_recipients_and_decrypts_the_chunks() {
    let f = fixture();
    let p = standard_package();
    let header = p.sealed.submission.header();
    let d = Dir::new(&fixture().crls);
    // B has a P-256 encryption key (KeyAgreeRecipientInfo), C an RSA one (KeyTransRecipientInfo).
    for who in [&f.b, &f.c] {
        let key = openssl_unwrap(&d, &p, who);
        assert_eq!(key.len(), 32);
        // The key is the one the signed header commits to…
        let mut commitment = b"axis-signer v1 content-key commitment\0".to_vec();
        commitment.extend_from_slice(&key);
        assert_eq!(
            openssl::sha::sha256(&commitment),
            header.header().key_commitment,
            "{}",
            who.name
        );
        // …and OpenSSL's AES-256-GCM decrypts the manifest part with it.
        let mut manifest = Vec::new();
        for frame in frames(&p.ciphertext) {
            let (part, _, _) = frame_id(&frame);
            if part != 0 {
                continue;
            }
            let mut nonce = [0u8; 12];
            nonce[3..12].copy_from_slice(&frame[8..17]);
            let body = &frame[FRAME_HEADER_LEN..];
            let (ct, tag) = body.split_at(body.len() - 16);
            manifest.extend(
                openssl::symm::decrypt_aead(
                    openssl::symm::Cipher::aes_256_gcm(),
                    &key,
                    Some(&nonce),
                    header.binding_digest(),
                    ct,
                    tag,
                )
                .unwrap(),
            );
        }
        assert_eq!(manifest, p.document.manifest().as_bytes());
    }
    // An agency that is not a recipient cannot unwrap anything, from any entry.
    for who in [&f.b, &f.c] {
        let env = d.write("envelope.der", &entry_of(&p, who));
        let key = d.write("key-d.pem", f.d.enc_key_pem().as_bytes());
        let cert = d.write(
            "recip-d.pem",
            to_pem("CERTIFICATE", f.d.enc.der()).as_bytes(),
        );
        let (ok, _) = openssl(&[
            "cms".as_ref(),
            "-decrypt".as_ref(),
            "-inform".as_ref(),
            "DER".as_ref(),
            "-in".as_ref(),
            env.as_os_str(),
            "-inkey".as_ref(),
            key.as_os_str(),
            "-recip".as_ref(),
            cert.as_os_str(),
        ]);
        assert!(!ok);
    }
}
