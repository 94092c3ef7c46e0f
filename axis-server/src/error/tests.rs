use super::*;

/// Numbers the variants (faults after the others). It has no `_` arm, so a new variant does
/// not compile until it is given a number here, and then
/// [`every_reason_the_server_emits_is_listed_in_axis_proto`] fails until it has a sample.
fn variant(e: &ServerError) -> usize {
    use ServerError::*;
    match e {
        Unauthenticated => 0,
        OperatorOnly => 1,
        AgencyOnly => 2,
        Malformed { .. } => 3,
        Protocol(_) => 4,
        SenderNotCaller { .. } => 5,
        Signature { .. } => 6,
        KeyEnvelopeMismatch => 7,
        RecipientUnknown(_) => 8,
        DocumentTooLarge { .. } => 9,
        TooManyRecipients { .. } => 10,
        ChunkTooLarge { .. } => 11,
        LengthMismatch { .. } => 12,
        DigestMismatch => 13,
        MessageIdConflict(_) => 14,
        MessageNotFound(_) => 15,
        StatementNotAllowed(_) => 16,
        ChainRejected(_) => 17,
        StatementTime { .. } => 18,
        ChainConflict => 19,
        Withdrawn => 20,
        AgencyNotFound(_) => 21,
        AgencyExists(_) => 22,
        BadCertificate { .. } => 23,
        BadCrl(_) => 24,
        LogUnavailable(_) => 25,
        RateLimited(_) => 26,
        TooManyStreams { .. } => 27,
        ShuttingDown => 28,
        CommitFailed(_) => 29,
        Storage(_) => 30,
        KeyEnvelopeRecipients { .. } => 31,
        SenderIsRecipient(_) => 32,
        CursorInvalid(_) => 33,
        DirectoryInvalid(_) => 46,
        DirectoryConflict(_) => 47,
        DirectoryVersionUnknown(_) => 48,
        DirectoryResync { .. } => 49,
        UnitNotFound(_) => 50,
        Internal(f) => match f {
            Fault::Migration(_) => 34,
            Fault::File { .. } => 35,
            Fault::TrustMaterial(_) => 36,
            Fault::Reflection(_) => 37,
            Fault::LogState { .. } => 38,
            Fault::StoredData { .. } => 39,
            Fault::OutOfRange { .. } => 40,
            Fault::EncodeEntry(_) => 41,
            Fault::SignTreeHead(_) => 42,
            Fault::Random => 43,
            Fault::Task { .. } => 44,
            Fault::Invariant(_) => 45,
        },
        Cosignature { .. } => 46,
        VersionRetired { .. } => 51,
    }
}
const VARIANTS: usize = 52;

/// One value of every variant (every signature reason too).
async fn samples() -> Vec<ServerError> {
    use ServerError::*;
    let id: AgencyId = "000.00.00.G22".parse().unwrap();
    let now = time::OffsetDateTime::UNIX_EPOCH;
    let join_error = tokio::spawn(std::future::pending::<()>());
    join_error.abort();
    let join_error = join_error.await.unwrap_err();
    let mut all = vec![
        Unauthenticated,
        OperatorOnly,
        AgencyOnly,
        ServerError::malformed("x", "y"),
        Protocol("p"),
        SenderNotCaller {
            sender: id.clone(),
            caller: id.clone(),
        },
        KeyEnvelopeMismatch,
        VersionRetired {
            what: "routing header",
            detail: "version 1".into(),
        },
        KeyEnvelopeRecipients {
            missing: vec![id.clone()],
            unexpected: 1,
        },
        SenderIsRecipient(id),
        CursorInvalid("-1".into()),
        RecipientUnknown("r".into()),
        DocumentTooLarge { len: 2, max: 1 },
        TooManyRecipients { count: 2, max: 1 },
        ChunkTooLarge { len: None, max: 1 },
        LengthMismatch {
            expected: 1,
            found: 2,
        },
        DigestMismatch,
        MessageIdConflict("m".into()),
        MessageNotFound("m".into()),
        StatementNotAllowed("s".into()),
        ChainRejected("c".into()),
        StatementTime { time: now, now },
        ChainConflict,
        Withdrawn,
        AgencyNotFound("a".into()),
        AgencyExists("a".into()),
        BadCertificate {
            what: "seal",
            detail: "d".into(),
        },
        BadCrl("c".into()),
        DirectoryInvalid("d".into()),
        DirectoryConflict(2),
        DirectoryVersionUnknown(9),
        DirectoryResync {
            since: 1,
            behind: 2000,
        },
        UnitNotFound("u".into()),
        LogUnavailable("l".into()),
        RateLimited("a".into()),
        TooManyStreams {
            agency: "a".into(),
            max: 1,
        },
        ShuttingDown,
        CommitFailed("c".into()),
        Storage(sqlx::Error::PoolClosed),
        sqlx::migrate::MigrateError::VersionMissing(1).into(),
        Fault::File {
            path: "/x".into(),
            source: std::io::Error::other("e"),
        }
        .into(),
        Fault::TrustMaterial("t".into()).into(),
        Fault::Reflection("r".into()).into(),
        ServerError::log_state("frontier", "d"),
        ServerError::stored("row", "d"),
        Fault::OutOfRange {
            what: "tree size",
            value: u64::MAX,
        }
        .into(),
        Fault::EncodeEntry("e".into()).into(),
        Fault::SignTreeHead("s".into()).into(),
        Fault::Random.into(),
        Fault::Task {
            task: "t",
            source: join_error,
        }
        .into(),
        ServerError::invariant("i"),
    ];
    for reason in CosignatureReason::ALL {
        all.push(Cosignature {
            reason,
            detail: "d".into(),
        });
    }
    for reason in SignatureReason::ALL {
        all.push(Signature {
            what: "w",
            detail: "d".into(),
            reason,
        });
    }
    all
}

#[tokio::test]
async fn every_reason_the_server_emits_is_listed_in_axis_proto() {
    let samples = samples().await;
    let mut covered = [false; VARIANTS];
    for e in &samples {
        covered[variant(e)] = true;
        assert!(
            axis_proto::reasons::ALL.contains(&e.reason()),
            "{e:?} has the unlisted reason {}",
            e.reason()
        );
    }
    let missing: Vec<usize> = (0..VARIANTS).filter(|&i| !covered[i]).collect();
    assert!(missing.is_empty(), "variants without a sample: {missing:?}");
}

#[tokio::test]
async fn the_axis_own_faults_keep_their_details_from_the_client() {
    for e in samples().await {
        let public = e.public_message();
        if e.is_internal() {
            assert!(
                ["storage failure", "internal error"].contains(&public.as_str()),
                "{e:?} tells the client {public:?}"
            );
            assert!(matches!(
                e.reason(),
                axis_proto::reasons::STORAGE | axis_proto::reasons::INTERNAL
            ));
        } else {
            assert_eq!(public, e.to_string());
        }
    }
}

/// The signer's classification names each refusal with its own reason of `axis_proto`.
#[test]
fn each_signature_refusal_has_its_own_reason() {
    use axis_proto::reasons as r;
    assert_eq!(
        SignatureReason::ALL.map(SignatureReason::reason),
        [
            r::SIGNATURE_INVALID,
            r::CERTIFICATE_REVOKED,
            r::CERTIFICATE_REJECTED,
            r::SIGNER_AGENCY_MISMATCH,
            r::SIGNING_TIME_INVALID,
        ]
    );
}
