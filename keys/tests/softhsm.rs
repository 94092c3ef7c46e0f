//! Keys on a real PKCS#11 token (SoftHSM 2), judged by OpenSSL: signatures verify, envelopes
//! open, and each way of getting it wrong is its own error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axis_keys::{Error, Key, KeyRef, KeyUse, Pin, Pkcs11Uri, TokenKey};
use axis_pki::{Decrypter, KeyAlgorithm, KeyOp, KeyOpError, KeyPair, KeySigner, SignatureScheme};
use axis_testkit::softhsm::TestToken;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};

fn uri(text: &str) -> Pkcs11Uri {
    Pkcs11Uri::parse(text).unwrap()
}

fn public(key: &dyn KeyPair) -> PKey<Public> {
    PKey::public_key_from_der(key.public_key_der()).unwrap()
}

fn verify(key: &dyn KeyPair, sig: &[u8], msg: &[u8], pss: bool) -> bool {
    let pk = public(key);
    let mut v = openssl::sign::Verifier::new(MessageDigest::sha256(), &pk).unwrap();
    if pss {
        v.set_rsa_padding(openssl::rsa::Padding::PKCS1_PSS).unwrap();
        v.set_rsa_pss_saltlen(openssl::sign::RsaPssSaltlen::DIGEST_LENGTH)
            .unwrap();
        v.set_rsa_mgf1_md(MessageDigest::sha256()).unwrap();
    }
    v.verify_oneshot(sig, msg).unwrap()
}

#[test]
fn p256_signatures_made_on_the_token_verify_with_openssl() {
    let t = TestToken::new("p256");
    let key = TokenKey::generate(
        &uri(&t.uri("seal")),
        None,
        KeyAlgorithm::EcdsaP256,
        KeyUse::Sign,
    )
    .unwrap();
    assert_eq!(KeyPair::algorithm(&key), KeyAlgorithm::EcdsaP256);
    // The generated key got an id, and the URI with it finds it again.
    assert!(key.uri().id().is_some_and(|id| id.len() == 16));
    let again = TokenKey::open(&uri(&t.uri("seal")), None).unwrap();
    assert_eq!(again.public_key_der(), key.public_key_der());
    for i in 0..20u8 {
        let msg = vec![i; 100 + usize::from(i)];
        let sig = key.sign(&msg).unwrap();
        assert!(verify(&key, &sig, &msg, false));
        let parsed = openssl::ecdsa::EcdsaSig::from_der(&sig).unwrap();
        let half = openssl::bn::BigNum::from_hex_str(
            "7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8",
        )
        .unwrap();
        assert!(parsed.s() <= &*half, "S is low");
    }
    // ECDSA only: an RSA scheme is the wrong key type.
    assert_eq!(
        key.sign_with(SignatureScheme::RsaPkcs1Sha256, b"x"),
        Err(KeyOpError::WrongKeyType {
            op: KeyOp::Sign,
            alg: KeyAlgorithm::EcdsaP256
        })
    );
}

#[test]
fn rsa_signatures_pkcs1_and_pss_verify_with_openssl() {
    let t = TestToken::new("rsa");
    let key = TokenKey::generate(
        &uri(&t.uri("ca")),
        None,
        KeyAlgorithm::Rsa2048,
        KeyUse::Sign,
    )
    .unwrap();
    assert_eq!(KeyPair::algorithm(&key), KeyAlgorithm::Rsa2048);
    let msg = b"a CRL's tbsCertList";
    assert!(verify(&key, &key.sign(msg).unwrap(), msg, false));
    let pss = key.sign_with(SignatureScheme::RsaPssSha256, msg).unwrap();
    assert!(verify(&key, &pss, msg, true));
    // A signing key may not decrypt.
    assert_eq!(
        key.decrypt_oaep_sha256(&[0u8; 256]),
        Err(KeyOpError::NotPermitted { op: KeyOp::Decrypt })
    );
}

#[test]
fn rsa_oaep_sha256_decrypts_on_the_token() {
    let t = TestToken::new("oaep");
    let key = TokenKey::generate(
        &uri(&t.uri("enc")),
        None,
        KeyAlgorithm::Rsa2048,
        KeyUse::Decrypt,
    )
    .unwrap();
    let pk = public(&key);
    let encrypt = |msg: &[u8]| {
        let mut enc = openssl::encrypt::Encrypter::new(&pk).unwrap();
        enc.set_rsa_padding(openssl::rsa::Padding::PKCS1_OAEP)
            .unwrap();
        enc.set_rsa_oaep_md(MessageDigest::sha256()).unwrap();
        enc.set_rsa_mgf1_md(MessageDigest::sha256()).unwrap();
        let mut out = vec![0u8; enc.encrypt_len(msg).unwrap()];
        let n = enc.encrypt(msg, &mut out).unwrap();
        out.truncate(n);
        out
    };
    for msg in [[7u8; 32], [0u8; 32], [0xff; 32]] {
        let ct = encrypt(&msg);
        assert_eq!(key.decrypt_oaep_sha256(&ct).unwrap().as_slice(), msg);
        let mut bad = ct.clone();
        bad[100] ^= 1;
        assert_eq!(
            key.decrypt_oaep_sha256(&bad),
            Err(KeyOpError::Rejected { op: KeyOp::Decrypt })
        );
    }
    assert_eq!(
        key.decrypt_oaep_sha256(&[1u8; 17]),
        Err(KeyOpError::Rejected { op: KeyOp::Decrypt })
    );
    // A decryption key may not sign.
    assert_eq!(
        key.sign(b"x"),
        Err(KeyOpError::NotPermitted { op: KeyOp::Sign })
    );
}

#[test]
fn ecdh_on_the_token_agrees_with_openssl() {
    let t = TestToken::new("ecdh");
    let key = TokenKey::generate(
        &uri(&t.uri("enc")),
        None,
        KeyAlgorithm::EcdsaP256,
        KeyUse::Decrypt,
    )
    .unwrap();
    let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
    let eph = openssl::ec::EcKey::generate(&group).unwrap();
    let mut ctx = openssl::bn::BigNumContext::new().unwrap();
    let point = eph
        .public_key()
        .to_bytes(
            &group,
            openssl::ec::PointConversionForm::UNCOMPRESSED,
            &mut ctx,
        )
        .unwrap();
    let eph = PKey::from_ec_key(eph).unwrap();
    let peer = public(&key);
    let mut d = openssl::derive::Deriver::new(&eph).unwrap();
    d.set_peer(&peer).unwrap();
    let expected = d.derive_to_vec().unwrap();
    assert_eq!(key.ecdh_p256(&point).unwrap().as_slice(), expected);
    // A point off the curve never reaches the token.
    let mut off = point.clone();
    off[64] ^= 1;
    assert_eq!(
        key.ecdh_p256(&off),
        Err(KeyOpError::Rejected { op: KeyOp::Derive })
    );
    assert_eq!(
        key.decrypt_oaep_sha256(&[0u8; 256]),
        Err(KeyOpError::WrongKeyType {
            op: KeyOp::Decrypt,
            alg: KeyAlgorithm::EcdsaP256
        })
    );
}

#[test]
fn a_wrong_pin_is_its_own_error_and_so_is_a_missing_one() {
    let t = TestToken::new("pin");
    TokenKey::generate(
        &uri(&t.uri("k")),
        None,
        KeyAlgorithm::EcdsaP256,
        KeyUse::Sign,
    )
    .unwrap();
    let other = TestToken::new("pin2");
    let u = uri(&other.uri_without_pin("k"));
    match TokenKey::open(&u, Some(Pin::new("not-the-pin".into()))) {
        Err(Error::WrongPin { token }) => assert_eq!(token, other.label),
        other => panic!("{other:?}"),
    }
    match TokenKey::open(&u, None) {
        Err(Error::NoPin { token }) => assert_eq!(token, other.label),
        other => panic!("{other:?}"),
    }
    // The first token is logged in now; another PIN for it is still refused.
    match TokenKey::open(
        &uri(&t.uri_without_pin("k")),
        Some(Pin::new("wrong".into())),
    ) {
        Err(Error::WrongPin { .. }) => {}
        other => panic!("{other:?}"),
    }
    // The right PIN given by the caller (a key's passphrase setting) works.
    TokenKey::open(&uri(&t.uri_without_pin("k")), Some(t.pin())).unwrap();
    // A PIN file that is not there is named.
    let missing = format!(
        "{}&pin-source=file:/nonexistent/pin",
        t.uri_without_pin("k")
    );
    match TokenKey::open(&uri(&missing), None) {
        Err(Error::PinSource { source_name, .. }) => {
            assert_eq!(source_name, "file /nonexistent/pin")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_absent_token_is_named_at_once() {
    let t = TestToken::new("present");
    let text = t.uri("k").replace(&t.label, "no-such-token");
    match TokenKey::open(&uri(&text), None) {
        Err(Error::TokenNotFound { token, present }) => {
            assert_eq!(token, "no-such-token");
            assert!(present.contains(&t.label), "{present:?}");
        }
        other => panic!("{other:?}"),
    }
    let e = TokenKey::open(&uri(&text), None).err().unwrap().to_string();
    assert!(
        e.starts_with("token \"no-such-token\" is not present"),
        "{e}"
    );
}

#[test]
fn keys_that_are_not_there_twice_there_or_of_the_wrong_type_are_each_named() {
    let t = TestToken::new("types");
    match TokenKey::open(&uri(&t.uri("nothing")), None) {
        Err(Error::KeyNotFound { object, .. }) => assert_eq!(object, "object=nothing"),
        other => panic!("{other:?}"),
    }
    let text = t.uri("dup");
    let (path, query) = text.split_once('?').unwrap();
    TokenKey::generate(
        &uri(&format!("{path};id=%01?{query}")),
        None,
        KeyAlgorithm::EcdsaP256,
        KeyUse::Sign,
    )
    .unwrap();
    match TokenKey::generate(
        &uri(&t.uri("dup")),
        None,
        KeyAlgorithm::EcdsaP256,
        KeyUse::Sign,
    ) {
        Err(Error::KeyExists { .. }) => {}
        other => panic!("{other:?}"),
    }
    // A second key with the same label (another id) makes the label alone ambiguous.
    TokenKey::generate(
        &uri(&format!("{path};id=%02?{query}")),
        None,
        KeyAlgorithm::EcdsaP256,
        KeyUse::Sign,
    )
    .unwrap();
    match TokenKey::open(&uri(&t.uri("dup")), None) {
        Err(Error::KeyAmbiguous { count, .. }) => assert_eq!(count, 2),
        other => panic!("{other:?}"),
    }
    TokenKey::open(&uri(&format!("{path};id=%02?{query}")), None).unwrap();

    // Keys Axis does not use, made with the token's own API: P-384, RSA-1024.
    let raw = cryptoki::context::Pkcs11::new(&t.module).unwrap();
    let _ = raw.initialize(cryptoki::context::CInitializeArgs::new(
        cryptoki::context::CInitializeFlags::OS_LOCKING_OK,
    ));
    let listing = axis_keys::slot_list_lock();
    let slot = raw
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| raw.get_token_info(*s).is_ok_and(|i| i.label() == t.label))
        .unwrap();
    drop(listing);
    let s = raw.open_rw_session(slot).unwrap();
    let _ = s.login(
        cryptoki::session::UserType::User,
        Some(&cryptoki::types::AuthPin::from(t.pin.as_str())),
    );
    use cryptoki::object::Attribute as A;
    let p384 = vec![0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
    s.generate_key_pair(
        &cryptoki::mechanism::Mechanism::EccKeyPairGen,
        &[
            A::Token(true),
            A::EcParams(p384),
            A::Label(b"p384".to_vec()),
        ],
        &[
            A::Token(true),
            A::Private(true),
            A::Sign(true),
            A::Label(b"p384".to_vec()),
        ],
    )
    .unwrap();
    s.generate_key_pair(
        &cryptoki::mechanism::Mechanism::RsaPkcsKeyPairGen,
        &[
            A::Token(true),
            A::ModulusBits(1024u64.into()),
            A::PublicExponent(vec![1, 0, 1]),
            A::Label(b"rsa1024".to_vec()),
        ],
        &[
            A::Token(true),
            A::Private(true),
            A::Sign(true),
            A::Label(b"rsa1024".to_vec()),
        ],
    )
    .unwrap();
    drop(s);
    for (object, found) in [
        ("p384", "an EC key on a curve other than P-256"),
        ("rsa1024", "RSA-1024"),
    ] {
        match TokenKey::open(&uri(&t.uri(object)), None) {
            Err(Error::WrongKeyType { found: f, .. }) => assert_eq!(f, found),
            other => panic!("{object}: {other:?}"),
        }
    }
}

#[test]
fn a_dropped_login_is_redone_and_sessions_are_shared_between_threads() {
    let t = TestToken::new("pool");
    let key = Arc::new(
        TokenKey::generate(
            &uri(&t.uri("tls")),
            None,
            KeyAlgorithm::EcdsaP256,
            KeyUse::Sign,
        )
        .unwrap(),
    );
    key.sign(b"before").unwrap();
    key.log_out_for_test().unwrap();
    let sig = key.sign(b"after").unwrap();
    assert!(verify(key.as_ref(), &sig, b"after", false));
    // More threads than sessions: every one signs, the pool makes them take turns.
    let threads: Vec<_> = (0..2 * axis_keys::MAX_SESSIONS)
        .map(|i| {
            let key = key.clone();
            std::thread::spawn(move || {
                let msg = format!("message {i}");
                let sig = key.sign(msg.as_bytes()).unwrap();
                (msg, sig)
            })
        })
        .collect();
    for th in threads {
        let (msg, sig) = th.join().unwrap();
        assert!(verify(key.as_ref(), &sig, msg.as_bytes(), false));
    }
}

#[test]
fn key_refs_load_either_kind_through_one_type() {
    let t = TestToken::new("keyref");
    TokenKey::generate(
        &uri(&t.uri("seal")),
        None,
        KeyAlgorithm::Rsa2048,
        KeyUse::Sign,
    )
    .unwrap();
    let r = KeyRef::parse(&t.uri("seal")).unwrap();
    let key: Key = TokenKey::open(r.uri().unwrap(), None).unwrap().into();
    assert!(key.is_token());
    assert!(
        key.to_pkcs8_der().is_none(),
        "a token key never leaves the token"
    );
    // Where the key is, named without its PIN.
    assert_eq!(
        key.location(),
        format!(
            "pkcs11:token={};object=seal?module-path={}&pin-source=file:{}",
            t.label,
            t.module.display(),
            t.pin_file.display()
        )
    );
    let signer = key.signer();
    assert!(verify(
        signer.as_ref(),
        &signer.sign(b"m").unwrap(),
        b"m",
        false
    ));
    let file: Key = axis_pki::PrivateKey::generate(KeyAlgorithm::EcdsaP256)
        .unwrap()
        .into();
    assert_eq!(file.location(), "key file");
    assert!(verify(&file, &file.sign(b"m").unwrap(), b"m", false));
}
