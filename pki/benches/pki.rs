//! PKI micro-benchmarks: chain verification (the server does it on every call that carries a
//! certificate), issuance and CRL signing. Prints medians; run with
//! `cargo bench -p axis-pki --bench pki`. Figures go to BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration as StdDuration, Instant};

use axis_pki::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-01-01 0:00 UTC);

fn median_of(mut samples: Vec<StdDuration>) -> StdDuration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Runs `f` in batches for about `budget`, returns the median time per call.
fn bench(name: &str, budget: StdDuration, mut f: impl FnMut()) -> StdDuration {
    // Calibrate a batch size of ~10 ms.
    let start = Instant::now();
    f();
    let one = start.elapsed().max(StdDuration::from_nanos(50));
    let batch =
        ((StdDuration::from_millis(10).as_nanos() / one.as_nanos()) as u32).clamp(1, 100_000);
    let mut samples = Vec::new();
    let end = Instant::now() + budget;
    while Instant::now() < end || samples.len() < 5 {
        let s = Instant::now();
        for _ in 0..batch {
            f();
        }
        samples.push(s.elapsed() / batch);
    }
    let m = median_of(samples);
    println!(
        "{name:<58} {:>12.1} µs   {:>10.0} /s",
        m.as_secs_f64() * 1e6,
        1.0 / m.as_secs_f64()
    );
    m
}

struct Hierarchy {
    store: TrustStore,
    leaf: Vec<u8>,
}

fn hierarchy(ca_alg: KeyAlgorithm, leaf_alg: KeyAlgorithm, revoked_entries: usize) -> Hierarchy {
    let req = |profile, subject, days| IssueRequest {
        profile,
        subject,
        not_before: T0,
        not_after: T0 + Duration::days(days),
        serial: Serial::random().unwrap(),
    };
    let root_key = PrivateKey::generate(ca_alg).unwrap();
    let root = issue_root(&req(Profile::RootCa, Subject::new("Root"), 3650), &root_key).unwrap();
    let ca_key = PrivateKey::generate(ca_alg).unwrap();
    let ca = CaSigner::new(root.der(), &root_key, T0)
        .unwrap()
        .issue(
            &req(Profile::IssuingCa, Subject::new("CA"), 1825),
            &PublicKey::from_spki_der(ca_key.public_key_der()).unwrap(),
        )
        .unwrap();
    let issuing = CaSigner::new(ca.der(), &ca_key, T0).unwrap();
    let mut subject = Subject::new("Văn phòng Chính phủ");
    subject.agency_id = Some(AgencyId::parse("000.00.00.G22").unwrap());
    let leaf_key = PrivateKey::generate(leaf_alg).unwrap();
    let leaf = issuing
        .issue(
            &req(Profile::AgencySeal, subject, 365),
            &PublicKey::from_spki_der(leaf_key.public_key_der()).unwrap(),
        )
        .unwrap();
    let revoked: Vec<RevokedEntry> = (0..revoked_entries)
        .map(|i| RevokedEntry {
            serial: Serial::from_bytes(&(i as u64 + 1).to_be_bytes()).unwrap(),
            revoked_at: T0,
            reason: RevocationReason::Superseded,
        })
        .collect();
    let crl = |ca: &CaSigner, revoked| {
        ca.issue_crl(&CrlRequest {
            this_update: T0,
            next_update: T0 + Duration::days(7),
            number: 1,
            revoked,
        })
        .unwrap()
        .der()
        .to_vec()
    };
    let root_signer = CaSigner::new(root.der(), &root_key, T0).unwrap();
    let store = TrustStore::new(
        vec![root.der().to_vec()],
        vec![ca.der().to_vec()],
        vec![crl(&root_signer, vec![]), crl(&issuing, revoked)],
    )
    .unwrap();
    Hierarchy {
        store,
        leaf: leaf.der().to_vec(),
    }
}

fn main() {
    let budget = StdDuration::from_millis(
        std::env::var("BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000),
    );
    let at = T0 + Duration::days(1);
    println!("axis-pki benchmarks (median per operation, one thread)\n");
    for (label, ca, leaf, n) in [
        (
            "verify seal: RSA-4096 root+CA, RSA-2048 leaf, empty CRLs",
            KeyAlgorithm::Rsa4096,
            KeyAlgorithm::Rsa2048,
            0,
        ),
        (
            "verify seal: P-256 root+CA, P-256 leaf, empty CRLs",
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP256,
            0,
        ),
        (
            "verify seal: RSA-4096 CAs, CRL with 1,000 entries",
            KeyAlgorithm::Rsa4096,
            KeyAlgorithm::Rsa2048,
            1_000,
        ),
        (
            "verify seal: RSA-4096 CAs, CRL with 10,000 entries",
            KeyAlgorithm::Rsa4096,
            KeyAlgorithm::Rsa2048,
            10_000,
        ),
    ] {
        let h = hierarchy(ca, leaf, n);
        bench(label, budget, || {
            h.store.verify(&h.leaf, Profile::AgencySeal, at).unwrap();
        });
    }
    let h = hierarchy(KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP256, 0);
    bench(
        "agency_id_of (parse certificate, read the binding)",
        budget,
        || {
            agency_id_of(&h.leaf).unwrap();
        },
    );

    // Issuance with an RSA-4096 issuing CA (the signature dominates).
    let ca_key = PrivateKey::generate(KeyAlgorithm::Rsa4096).unwrap();
    let root = issue_root(
        &IssueRequest {
            profile: Profile::RootCa,
            subject: Subject::new("Root"),
            not_before: T0,
            not_after: T0 + Duration::days(3650),
            serial: Serial::random().unwrap(),
        },
        &ca_key,
    )
    .unwrap();
    let root_der = root.der().to_vec();
    let signer = CaSigner::new(&root_der, &ca_key, T0).unwrap();
    let leaf_pub = PublicKey::from_spki_der(
        PrivateKey::generate(KeyAlgorithm::EcdsaP256)
            .unwrap()
            .public_key_der(),
    )
    .unwrap();
    bench(
        "issue issuing-CA certificate, RSA-4096 signer",
        budget,
        || {
            signer
                .issue(
                    &IssueRequest {
                        profile: Profile::IssuingCa,
                        subject: Subject::new("CA"),
                        not_before: T0,
                        not_after: T0 + Duration::days(365),
                        serial: Serial::random().unwrap(),
                    },
                    &leaf_pub,
                )
                .unwrap();
        },
    );
    bench("generate RSA-2048 key (OpenSSL)", budget, || {
        PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    });
    bench("generate P-256 key (ring)", budget, || {
        PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    });
}
