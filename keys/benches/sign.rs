//! Signatures per second: a key on a SoftHSM 2 token against the same algorithm in a key file.
//! `cargo bench -p axis-keys --bench sign` (SoftHSM 2 installed). Prints medians of 5 rounds.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use axis_keys::{KeySigner, KeyUse, Pkcs11Uri, TokenKey};
use axis_pki::{KeyAlgorithm, PrivateKey};
use axis_testkit::softhsm::TestToken;

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
}
