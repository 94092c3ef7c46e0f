//! Witnesses against a real axis: two witnesses (agencies' own keys) cosign its tree heads and
//! hand the cosignatures in; the axis keeps only its operator's witnesses' cosignatures of heads
//! it signed, and serves them with the head; a split view — the axis showing a second head of
//! the same size, signed with its log key — is refused by the witnesses that saw the first,
//! and cannot gather two cosignatures.

use std::sync::Arc;

use axis_client::evidence::{
    Cosignature, SignedTreeHead, TreeHead, VerifiedTreeHead, WitnessKey, check_witnessed,
};
use axis_client::{Client, ErrorKind, WitnessStep, reasons};
use axis_pki::{KeyAlgorithm, PrivateKey, Profile, to_pem};
use axis_tests::{TestAxis, TestPki};

use crate::sdk::{client, document};

struct Witness {
    key: PrivateKey,
    last: Option<SignedTreeHead>,
}

impl Witness {
    fn new() -> Self {
        Witness {
            key: PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
            last: None,
        }
    }

    fn public(&self) -> WitnessKey {
        WitnessKey::parse(self.key.public_key_der()).unwrap()
    }

    /// One step as `axis audit witness` takes it: keep the head, then hand the cosignature in.
    async fn step(&mut self, client: &Client, log_key: &[u8]) -> WitnessStep {
        let step = client
            .witness_step(self.last.as_ref(), log_key, &self.key)
            .await
            .unwrap();
        if let WitnessStep::Cosigned {
            head, cosignature, ..
        } = &step
        {
            self.last = Some(head.signed().clone());
            client.add_cosignature(cosignature).await.unwrap();
        }
        step
    }
}

/// The axis, with `witnesses` as its operator's witnesses (`[witnesses] keys`).
async fn axis_with(pki: Arc<TestPki>, witnesses: &[&Witness]) -> (TestAxis, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let keys: Vec<_> = witnesses
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let p = dir.path().join(format!("w{i}.pub.pem"));
            std::fs::write(&p, to_pem("PUBLIC KEY", w.key.public_key_der())).unwrap();
            p
        })
        .collect();
    let axis = TestAxis::start_with(pki, |c| c.witnesses.keys = keys).await;
    (axis, dir)
}

fn log_key(pki: &TestPki) -> Vec<u8> {
    axis_pki::public_key_of(&pki.log.cert).unwrap()
}

/// A head of `size` and `root`, signed now with the axis's own log-signer key (what only the
/// axis, or whoever holds its key, can make), verified.
fn forged_head(pki: &TestPki, tree_size: u64, root_hash: [u8; 32]) -> VerifiedTreeHead {
    let now = time::OffsetDateTime::now_utc();
    let cert = pki.verified(&pki.log.cert, Profile::AxisLogSigner);
    let signer = axis_signer::Signer::new(&pki.log.key, &cert).unwrap();
    TreeHead {
        tree_size,
        root_hash,
        timestamp: now,
    }
    .sign(&signer)
    .unwrap()
    .verify(&pki.store(), now, Some(&log_key(pki)))
    .unwrap()
}

/// Makes the axis serve `head` as its head of that size from now on.
async fn serve_instead(axis: &TestAxis, head: &SignedTreeHead) {
    let db = axis_server::store::Db::connect(&axis.db.url).await.unwrap();
    let size = i64::try_from(head.head().tree_size).unwrap();
    let sql = "UPDATE tree_heads SET tree_head = $1, signature = $2 WHERE tree_size = $3";
    match db.pool() {
        axis_server::store::Pool::Sqlite(p) => {
            sqlx::query(sql)
                .bind(head.as_bytes())
                .bind(head.signature())
                .bind(size)
                .execute(p)
                .await
                .unwrap();
        }
        axis_server::store::Pool::Postgres(p) => {
            sqlx::query(sql)
                .bind(head.as_bytes())
                .bind(head.signature())
                .bind(size)
                .execute(p)
                .await
                .unwrap();
        }
    }
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witnesses_cosign_and_a_split_view_cannot_gather_two_cosignatures() {
    let pki = Arc::new(TestPki::new(3));
    let (mut w1, mut w2, mut w3) = (Witness::new(), Witness::new(), Witness::new());
    let (axis, _keys) = axis_with(pki.clone(), &[&w1, &w2, &w3]).await;
    let g22 = client(&axis, &pki.agencies[0]).await;
    let h41 = client(&axis, &pki.agencies[1]).await;
    let h53 = client(&axis, &pki.agencies[2]).await;
    let key = log_key(&pki);
    let witnesses = [w1.public(), w2.public(), w3.public()];

    // Nothing to cosign in an empty log.
    assert!(matches!(w1.step(&h41, &key).await, WitnessStep::Empty));
    // Two witnesses (two agencies) cosign the heads of 1 and of 2 entries.
    for body in [b"one", b"two"] {
        g22.send(document(&pki.agencies[1], "a.pdf", body))
            .await
            .unwrap();
        for (w, c) in [(&mut w1, &h41), (&mut w2, &h53)] {
            assert!(matches!(
                w.step(c, &key).await,
                WitnessStep::Cosigned { .. }
            ));
        }
    }
    g22.send(document(&pki.agencies[1], "c.pdf", b"three"))
        .await
        .unwrap();
    let honest = g22.cosigned_tree_head(None, 2).await.unwrap();
    assert_eq!(honest.head.head().tree_size, 2);
    assert_eq!(honest.cosignatures.len(), 2);
    check_witnessed(
        honest.head.head(),
        &key,
        &honest.cosignatures,
        &witnesses,
        2,
    )
    .unwrap();
    // The latest head (3 entries) has none yet.
    let latest = g22.cosigned_tree_head(None, 0).await.unwrap();
    assert_eq!(latest.head.head().tree_size, 3);
    assert!(latest.cosignatures.is_empty());
    let e = g22.cosigned_tree_head(None, 3).await.unwrap_err();
    assert_eq!(e.reason(), Some(reasons::LOG_UNAVAILABLE), "{e}");
    // w1 cosigns it (history A); w2 has not looked yet.
    assert!(matches!(
        w1.step(&h41, &key).await,
        WitnessStep::Cosigned { .. }
    ));
    let view_a = latest.head.clone();

    // Split view: the axis now shows another head of 3 entries, signed with its log key.
    let view_b = forged_head(&pki, 3, [0x5b; 32]);
    serve_instead(&axis, view_b.signed()).await;
    // w1 cosigned A's head of 3: same size, another root. w2 cosigned A's head of 2: B does
    // not extend it. Both refuse, with the head shown in hand.
    for (w, c, why) in [(&mut w1, &h41, "split view"), (&mut w2, &h53, "rewritten")] {
        let before = w.last.clone().unwrap();
        match w.step(c, &key).await {
            WitnessStep::Refused { head, error } => {
                assert_eq!(head.head(), view_b.head());
                assert_eq!(*error.kind(), ErrorKind::Verification, "{error}");
                assert!(error.to_string().contains(why), "{error}");
            }
            other => panic!("a witness cosigned a head it cannot prove consistent: {other:?}"),
        }
        assert_eq!(w.last.as_ref(), Some(&before), "the refused head was kept");
    }
    // A witness that never saw A cosigns B (it cannot know better); B has one cosignature.
    assert!(matches!(
        w3.step(&h41, &key).await,
        WitnessStep::Cosigned { .. }
    ));
    let b = g22.cosigned_tree_head(Some(3), 0).await.unwrap();
    assert_eq!(b.head.head(), view_b.head());
    let e = check_witnessed(b.head.head(), &key, &b.cosignatures, &witnesses, 2).unwrap_err();
    assert!(e.to_string().contains("cosigned by 1 of the 3"), "{e}");
    // A cosignature of view A, handed in now, does not join them: the axis signed B for 3.
    let of_a = Cosignature::sign(&view_a, &w2.key, time::OffsetDateTime::now_utc()).unwrap();
    let e = h53.add_cosignature(&of_a).await.unwrap_err();
    assert_eq!(e.reason(), Some(reasons::TREE_HEAD_MISMATCH), "{e}");
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_axis_keeps_only_its_witnesses_cosignatures_of_its_own_heads() {
    let pki = Arc::new(TestPki::new(2));
    let w = Witness::new();
    let (axis, _keys) = axis_with(pki.clone(), &[&w]).await;
    let g22 = client(&axis, &pki.agencies[0]).await;
    g22.send(document(&pki.agencies[1], "a.pdf", b"one"))
        .await
        .unwrap();
    let head = g22.tree_head(None).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let refused = |c: Cosignature, reason: &'static str| {
        let g22 = &g22;
        async move {
            let e = g22.add_cosignature(&c).await.unwrap_err();
            assert_eq!(e.reason(), Some(reason), "{e}");
        }
    };
    // A stranger's key: not one of the operator's witnesses.
    let stranger = Witness::new();
    refused(
        Cosignature::sign(&head, &stranger.key, now).unwrap(),
        reasons::WITNESS_UNKNOWN,
    )
    .await;
    // A size the axis never signed, and a head of another log signer (another PKI).
    refused(
        Cosignature::sign(&forged_head(&pki, 99, [1; 32]), &w.key, now).unwrap(),
        reasons::TREE_HEAD_UNKNOWN,
    )
    .await;
    let other = TestPki::new(0);
    refused(
        Cosignature::sign(&forged_head(&other, 1, head.head().root_hash), &w.key, now).unwrap(),
        reasons::TREE_HEAD_UNKNOWN,
    )
    .await;
    // A signature that does not verify: the witness's id on a stranger's signature.
    let good = Cosignature::sign(&head, &w.key, now).unwrap();
    let by_stranger = Cosignature::sign(&head, &stranger.key, now).unwrap();
    let mut bytes = by_stranger.as_bytes().to_vec();
    let (sid, wid) = (stranger.public().id(), w.public().id());
    let at = bytes.windows(32).position(|x| x == sid).unwrap();
    bytes[at..at + 32].copy_from_slice(&wid);
    refused(
        Cosignature::parse(&bytes).unwrap(),
        reasons::COSIGNATURE_INVALID,
    )
    .await;
    // Bytes that are no cosignature.
    let raw = axis_proto::v1::log_client::LogClient::new(axis.channel(&pki.agencies[0].tls).await)
        .add_cosignature(axis_proto::v1::AddCosignatureRequest {
            cosignature: b"not a cosignature".to_vec(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        raw.metadata()
            .get(reasons::METADATA_KEY)
            .and_then(|v| v.to_str().ok()),
        Some(reasons::MALFORMED)
    );
    // The good one is kept once, however often it is handed in.
    assert_eq!(g22.add_cosignature(&good).await.unwrap(), 1);
    assert_eq!(g22.add_cosignature(&good).await.unwrap(), 1);
    let served = g22.cosigned_tree_head(None, 1).await.unwrap();
    assert_eq!(served.cosignatures, vec![good]);
    axis.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exported_bundle_carries_the_witnesses_cosignatures_of_its_head() {
    let pki = Arc::new(TestPki::new(2));
    let (mut w1, mut w2, w3) = (Witness::new(), Witness::new(), Witness::new());
    let (axis, _keys) = axis_with(pki.clone(), &[&w1, &w2, &w3]).await;
    let g22 = client(&axis, &pki.agencies[0]).await;
    let h41 = client(&axis, &pki.agencies[1]).await;
    let key = log_key(&pki);
    let witnesses = [w1.public(), w2.public(), w3.public()];
    let sent = g22
        .send(document(&pki.agencies[1], "a.pdf", b"witnessed"))
        .await
        .unwrap();
    // Two of the three witnesses cosign the head; the third has not looked.
    for w in [&mut w1, &mut w2] {
        assert!(matches!(
            w.step(&h41, &key).await,
            WitnessStep::Cosigned { .. }
        ));
    }
    let bytes = g22.export_evidence(&sent.message_id).await.unwrap();
    let report = axis_client::evidence::verify_bundle(&bytes, &pki.pki.root, &key).unwrap();
    assert_eq!(report.cosignatures.len(), 2);
    // What `axis audit verify --witness W1 --witness W2 --witness W3 --min-witnesses K` checks.
    let witnessed = check_witnessed(
        report.tree_head.head(),
        &key,
        &report.cosignatures,
        &witnesses,
        2,
    )
    .unwrap();
    assert_eq!(witnessed.by.len(), 2);
    let e = check_witnessed(
        report.tree_head.head(),
        &key,
        &report.cosignatures,
        &witnesses,
        3,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the tree head is cosigned by 2 of the 3 witnesses given, 3 required"
    );
    axis.stop().await;
}
