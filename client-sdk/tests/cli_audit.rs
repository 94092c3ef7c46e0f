//! `axis audit verify` and `axis audit check-misbehaviour` as an auditor runs them, offline,
//! with the root certificate and the log key in files: a complete bundle is VERIFIED; a history
//! cut short (the last status of a recipient, or all of them) is NOT VERIFIED naming the
//! recipient (exit 1); an old version 1 bundle ends with COMPLETENESS NOT PROVEN (exit 5); and
//! a bundle whose completeness statement the axis signed falsely verifies, but the statement it
//! left out, held in another bundle, proves the lie (exit 3). With witnesses: a version 3
//! bundle cosigned by two witnesses passes `--min-witnesses 2` and fails `--min-witnesses 3`
//! naming the shortfall (exit 1); a changed cosignature is refused, not skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use axis_client::evidence::EvidenceBundle;
use axis_client::pki::{KeyAlgorithm, PrivateKey, to_pem};
use axis_testkit::fixture;
use axis_testkit::log::{SampleBundle, completeness_of, cosigned, ten_status_bundle};

const AXIS: &str = env!("CARGO_BIN_EXE_axis");

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new(sample: &SampleBundle) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("root.der"), &fixture().root).unwrap();
        std::fs::write(
            dir.path().join("log-key.der"),
            sample.log.cert.public_key_der(),
        )
        .unwrap();
        Files { dir }
    }

    fn put(&self, name: &str, bundle: &EvidenceBundle) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bundle.encode().unwrap()).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn put_bytes(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    }

    fn file(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    fn axis(&self, args: &[&str]) -> Output {
        let (root, key) = (self.file("root.der"), self.file("log-key.der"));
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--root", &root, "--log-key", &key]);
        Command::new(AXIS)
            .args(&all)
            .env_remove("AXIS_CONFIG")
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
            .output()
            .unwrap()
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `bundle` without the statements `remove` picks, its completeness statement kept.
fn without(bundle: &EvidenceBundle, remove: impl Fn(usize, &str) -> bool) -> EvidenceBundle {
    let mut b = bundle.clone();
    b.statements = bundle
        .statements
        .iter()
        .enumerate()
        .filter(|(i, s)| !remove(*i, s.recipient.as_str()))
        .map(|(_, s)| s.clone())
        .collect();
    b
}

#[test]
fn verify_refuses_a_history_cut_short_naming_the_recipient() {
    let sample = ten_status_bundle();
    let files = Files::new(&sample);
    let b = &sample.bundle;
    let (rb, rc) = (fixture().b.id.as_str(), fixture().c.id.as_str());

    let out = files.axis(&["audit", "verify", &files.put("complete.axb", b)]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("VERIFIED"), "{t}");
    assert!(
        t.contains(&format!("Recipient {rb}: received at"))
            && t.contains("complete as of tree head"),
        "{t}"
    );

    // B's 06 (its last statement) removed; then every status of C.
    let last_b = b
        .statements
        .iter()
        .rposition(|s| s.recipient.as_str() == rb)
        .unwrap();
    for (name, cut, who) in [
        ("no-06.axb", without(b, |i, _| i == last_b), rb),
        ("no-c.axb", without(b, |_, r| r == rc), rc),
    ] {
        let out = files.axis(&["audit", "verify", &files.put(name, &cut)]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {t}");
        assert!(t.contains("NOT VERIFIED"), "{name}: {t}");
        assert!(
            t.contains(&format!("the history of {who} is cut short")),
            "{name}: {t}"
        );
    }
}

#[test]
fn verify_says_completeness_not_proven_for_a_version_1_bundle() {
    let sample = ten_status_bundle();
    let files = Files::new(&sample);
    let mut v1 = sample.bundle.clone();
    v1.completeness = None;
    let out = files.axis(&["audit", "verify", &files.put("v1.axb", &v1)]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(5), "{t}");
    assert!(t.contains("COMPLETENESS NOT PROVEN"), "{t}");
    assert!(!t.contains("\nVERIFIED"), "{t}");
}

#[test]
fn check_misbehaviour_proves_a_false_completeness_statement() {
    let sample = ten_status_bundle();
    let files = Files::new(&sample);
    let honest = &sample.bundle;
    let rb = fixture().b.id.as_str();
    // The axis cuts B's 06 and signs a completeness statement that agrees with the cut.
    let last_b = honest
        .statements
        .iter()
        .rposition(|s| s.recipient.as_str() == rb)
        .unwrap();
    let mut lying = without(honest, |i, _| i == last_b);
    let at = lying.tree_head.head().timestamp + time::Duration::hours(1);
    lying.completeness = Some(completeness_of(&lying, at, &sample.log.signer()));
    let (lie, held) = (files.put("lie.axb", &lying), files.put("held.axb", honest));

    // Alone, the lie verifies: nothing in it shows what it left out.
    let out = files.axis(&["audit", "verify", &lie]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Whoever holds the 06 proves the lie.
    let out = files.axis(&["audit", "check-misbehaviour", &lie, "--holding", &held]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(t.contains("MISBEHAVIOUR PROVEN"), "{t}");
    assert!(t.contains(&format!("holds 4 statement(s) for {rb}")), "{t}");
    assert!(t.contains("status 06"), "{t}");

    // An honest claim: nothing held contradicts it.
    let out = files.axis(&["audit", "check-misbehaviour", &held, "--holding", &lie]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("no contradiction"), "{t}");
}

#[test]
fn verify_counts_the_witnesses_cosignatures_and_names_a_shortfall() {
    let sample = ten_status_bundle();
    let files = Files::new(&sample);
    let log_key = sample.log.cert.public_key_der();
    // Three witnesses' keys, as `axis audit witness-key` writes their public halves; A and B
    // cosigned the bundle's head, C did not.
    let keys: Vec<PrivateKey> = (0..3)
        .map(|_| PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap())
        .collect();
    let public: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let pem = to_pem("PUBLIC KEY", k.public_key_der());
            files.put_bytes(&format!("w{i}.pub.pem"), pem.as_bytes())
        })
        .collect();
    let at = sample.bundle.tree_head.head().timestamp + time::Duration::minutes(1);
    let v3 = cosigned(&sample.bundle, log_key, &[&keys[0], &keys[1]], at);
    let bundle = files.put("cosigned.axb", &v3);
    let v2 = files.put("v2.axb", &sample.bundle);
    let verify = |bundle: &str, witnesses: &[&String], k: &str| {
        let mut args = vec!["audit", "verify", bundle];
        for w in witnesses {
            args.extend(["--witness", w.as_str()]);
        }
        args.extend(["--min-witnesses", k]);
        let out = files.axis(&args);
        (out.status.code(), text(&out))
    };
    let (a, b, c) = (&public[0], &public[1], &public[2]);

    // A and B given, 2 required: VERIFIED, both counted, each with when it cosigned as an
    // auditor reads it (RFC 3339, UTC, whole seconds).
    let at_rfc3339 = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert!(at_rfc3339.ends_with('Z'), "{at_rfc3339}");
    let (code, t) = verify(&bundle, &[a, b], "2");
    assert_eq!(code, Some(0), "{t}");
    assert!(t.contains("\nVERIFIED"), "{t}");
    assert!(
        t.contains("The tree head is cosigned by 2 witness(es):")
            && t.contains("(of 2 given, 2 required)")
            && t.matches(&format!(" at {at_rfc3339}")).count() >= 2,
        "{at_rfc3339} twice in {t}"
    );
    // A, B and C given, 3 required: two cosigned, so NOT VERIFIED, naming the shortfall.
    let (code, t) = verify(&bundle, &[a, b, c], "3");
    assert_eq!(code, Some(1), "{t}");
    assert!(t.contains("NOT VERIFIED"), "{t}");
    assert!(
        t.contains("the tree head is cosigned by 2 of the 3 witnesses given, 3 required"),
        "{t}"
    );
    assert!(!t.contains("\nVERIFIED"), "{t}");
    // A and C given, 2 required: only A's counts.
    let (code, t) = verify(&bundle, &[a, c], "2");
    assert_eq!(code, Some(1), "{t}");
    assert!(
        t.contains("cosigned by 1 of the 2 witnesses given, 2 required"),
        "{t}"
    );
    // The same evidence without cosignatures (version 2) under 1 required: none counted.
    let (code, t) = verify(&v2, &[a, b], "1");
    assert_eq!(code, Some(1), "{t}");
    assert!(
        t.contains("cosigned by 0 of the 2 witnesses given, 1 required"),
        "{t}"
    );
    // More required than keys given is a usage error.
    let (code, t) = verify(&bundle, &[a, b], "3");
    assert_eq!(code, Some(2), "{t}");
    assert!(
        t.contains("--min-witnesses 3 needs at least 3 --witness keys, 2 given"),
        "{t}"
    );
    // A changed octet in a cosignature's signature: refused naming it, not skipped (even
    // though the other witness alone would make 1).
    let mut bytes = v3.encode().unwrap();
    let sig = v3.cosignatures[0].as_bytes();
    let at = bytes.windows(sig.len()).position(|w| w == sig).unwrap() + sig.len() - 1;
    bytes[at] ^= 1;
    let changed = files.put_bytes("changed.axb", &bytes);
    let (code, t) = verify(&changed, &[a, b], "1");
    assert_eq!(code, Some(1), "{t}");
    assert!(
        t.contains("NOT VERIFIED") && t.contains("cosignature 0"),
        "{t}"
    );
}
