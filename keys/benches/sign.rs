//! Signatures per second, and documents sealed per second (10 KB, one recipient: the person's
//! and the seal's CMS signatures, the header's seal signature, the encryption): keys on a
//! SoftHSM 2 token against the same algorithm in key files, in one run.
//! `cargo bench -p axis-keys --bench sign` (SoftHSM 2 installed). Prints medians of 5 rounds.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use axis_keys::{KeySigner, KeyUse, Pkcs11Uri, TokenKey};
use axis_pki::demo::DemoPki;
use axis_pki::{KeyAlgorithm, PrivateKey, Profile, PublicKey, Subject, TrustStore};
use axis_signer::MessageId;
use axis_signer::limits::DEFAULT_CHUNK_SIZE;
use axis_testkit::seal::{SenderKeys, seal_by};
use axis_testkit::softhsm::TestToken;
use time::OffsetDateTime;

fn rate(key: &dyn KeySigner, n: usize) -> f64 {
    let msg = [0x5au8; 256];
    let mut rounds: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                key.sign(&msg).unwrap();
            }
            n as f64 / t.elapsed().as_secs_f64()
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[2]
}

fn median(mut rounds: Vec<f64>) -> f64 {
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2]
}

/// Documents sealed per second by `sender` for `recipient`: 10 KB, median of 5 rounds of `n`.
fn seal_rate(
    store: &TrustStore,
    sender: &SenderKeys<'_>,
    recipient: &axis_pki::demo::AgencyCreds,
    n: usize,
) -> f64 {
    let body = vec![0x42u8; 10 * 1024];
    let now = OffsetDateTime::now_utc();
    median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..n {
                    seal_by(
                        store,
                        now,
                        sender,
                        &[recipient],
                        &[("cong-van.pdf", &body)],
                        MessageId::random().unwrap(),
                        DEFAULT_CHUNK_SIZE,
                    );
                }
                n as f64 / t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// Seal throughput: the sender's personal and seal keys on `token`, against the demo agency's
/// key files of the same algorithm.
fn seal_throughput(token: &TestToken) {
    let pki = DemoPki::new(OffsetDateTime::now_utc()).unwrap();
    let (r, c) = pki.crls(1, &[]).unwrap();
    let store = TrustStore::new(vec![pki.root.clone()], vec![pki.ca.clone()], vec![r, c]).unwrap();
    let recipient = pki
        .agency("000.00.00.H41", "Cơ quan nhận", "Người nhận", "Văn thư")
        .unwrap();
    let id = axis_pki::AgencyId::parse("000.00.00.G22").unwrap();
    for (name, alg, n) in [
        ("P-256", KeyAlgorithm::EcdsaP256, 100),
        ("RSA-2048", KeyAlgorithm::Rsa2048, 50),
    ] {
        // The same sender twice: its keys on the token, then in files.
        // As `DemoPki::agency` issues them: the seal names the agency, the personal
        // certificate the person and her title.
        let certify = |key: &dyn KeySigner, profile: Profile| {
            let public = PublicKey::from_spki_der(key.public_key_der()).unwrap();
            let mut subject = Subject::new(match profile {
                Profile::PersonalSigner => "Người ký",
                _ => "Cơ quan gửi",
            });
            subject.agency_id = Some(id.clone());
            if profile == Profile::PersonalSigner {
                subject.title = Some("Chánh Văn phòng".to_owned());
                subject.organization = Some("Cơ quan gửi".to_owned());
            }
            pki.issue_for(profile, subject, 30, &public).unwrap()
        };
        let on_token = |table: &str| -> Box<dyn KeySigner> {
            let uri = Pkcs11Uri::parse(&token.uri(&format!("seal-{name}-{table}"))).unwrap();
            Box::new(TokenKey::generate(&uri, None, alg, KeyUse::Sign).unwrap())
        };
        let in_file =
            |_: &str| -> Box<dyn KeySigner> { Box::new(PrivateKey::generate(alg).unwrap()) };
        let mut rates = Vec::new();
        for make in [&on_token as &dyn Fn(&str) -> Box<dyn KeySigner>, &in_file] {
            let (personal, seal) = (make("personal"), make("seal"));
            let personal_cert = certify(personal.as_ref(), Profile::PersonalSigner);
            let seal_cert = certify(seal.as_ref(), Profile::AgencySeal);
            let sender = SenderKeys {
                id: id.clone(),
                name: "Cơ quan gửi".to_owned(),
                personal: (personal.as_ref(), &personal_cert),
                seal: (seal.as_ref(), &seal_cert),
            };
            rates.push(seal_rate(&store, &sender, &recipient, n));
        }
        let (t, f) = (rates[0], rates[1]);
        println!(
            "seal 10 KB, 1 recipient, {name}: token {t:.0} docs/s, file {f:.0} docs/s, \
             file/token {:.1}x",
            f / t
        );
    }
}

fn main() {
    let token = TestToken::new("bench");
    for (name, alg, n) in [
        ("ECDSA P-256", KeyAlgorithm::EcdsaP256, 500),
        ("RSA-2048 PKCS#1", KeyAlgorithm::Rsa2048, 200),
    ] {
        let uri = Pkcs11Uri::parse(&token.uri(&format!("k-{n}"))).unwrap();
        let on_token = TokenKey::generate(&uri, None, alg, KeyUse::Sign).unwrap();
        let file = PrivateKey::generate(alg).unwrap();
        let (t, f) = (rate(&on_token, n), rate(&file, n));
        println!(
            "{name}: token {t:.0} sig/s, file {f:.0} sig/s, file/token {:.1}x",
            f / t
        );
    }
    seal_throughput(&token);
}
