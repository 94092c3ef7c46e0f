#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tonic::{Code, Status};

use super::*;

fn with_reason(code: Code, reason: &str) -> Status {
    let mut s = Status::new(code, "refused");
    s.metadata_mut()
        .insert(reasons::METADATA_KEY, reason.parse().unwrap());
    s
}

#[track_caller]
fn check(status: Status, kind: ErrorKind, reason: Option<&str>, says: &str) {
    let e = status_error("submit 1234", &status);
    assert_eq!(*e.kind(), kind, "{e}");
    assert_eq!(e.reason(), reason);
    assert!(e.message().starts_with("submit 1234: "), "{e}");
    assert!(e.message().contains(says), "{says:?} not in {e}");
}

#[test]
fn statuses_map_to_stable_kinds_with_the_servers_reason() {
    let rejected = |r: &str| ErrorKind::Rejected {
        reason: r.to_owned(),
    };
    check(
        with_reason(Code::InvalidArgument, reasons::RECIPIENT_UNKNOWN),
        rejected(reasons::RECIPIENT_UNKNOWN),
        Some(reasons::RECIPIENT_UNKNOWN),
        "refused [RECIPIENT_UNKNOWN]",
    );
    check(
        with_reason(Code::FailedPrecondition, reasons::DIGEST_MISMATCH),
        rejected(reasons::DIGEST_MISMATCH),
        Some(reasons::DIGEST_MISMATCH),
        "DIGEST_MISMATCH",
    );
    check(
        with_reason(Code::ResourceExhausted, reasons::RATE_LIMITED),
        rejected(reasons::RATE_LIMITED),
        Some(reasons::RATE_LIMITED),
        "RATE_LIMITED",
    );
    check(
        Status::invalid_argument("bad"),
        ErrorKind::InvalidInput,
        None,
        "bad",
    );
    check(
        with_reason(Code::PermissionDenied, reasons::NOT_AUTHORIZED),
        ErrorKind::PermissionDenied,
        Some(reasons::NOT_AUTHORIZED),
        "NOT_AUTHORIZED",
    );
    check(
        Status::unauthenticated("no client certificate"),
        ErrorKind::Unauthenticated,
        None,
        "check [tls]",
    );
    check(
        Status::not_found("no such message"),
        ErrorKind::NotFound,
        None,
        "no such message",
    );
    check(
        Status::unavailable("connection refused"),
        ErrorKind::Transport,
        None,
        "retry",
    );
    check(
        Status::internal("database"),
        ErrorKind::Server,
        None,
        "axis operator",
    );
}

#[test]
fn transient_statuses_are_the_ones_worth_resuming() {
    assert!(is_transient(&Status::unavailable("")));
    assert!(is_transient(&Status::unknown("h2 protocol error")));
    assert!(is_transient(&Status::cancelled("")));
    assert!(!is_transient(&Status::unauthenticated("")));
    assert!(!is_transient(&Status::permission_denied("")));
    assert!(!is_transient(&Status::invalid_argument("")));
    assert!(!is_transient(&Status::not_found("")));
}

#[test]
fn timestamps_convert_and_bad_ones_are_refused() {
    let ts = |seconds, nanos| prost_types::Timestamp { seconds, nanos };
    let t = timestamp(Some(&ts(1_767_225_600, 5)), "time").unwrap();
    assert_eq!(t, time::macros::datetime!(2026-01-01 0:00:00.000000005 UTC));
    assert!(timestamp(None, "time").is_err());
    assert!(timestamp(Some(&ts(0, -1)), "time").is_err());
    assert!(timestamp(Some(&ts(0, 1_000_000_000)), "time").is_err());
    assert!(timestamp(Some(&ts(i64::MAX, 0)), "time").is_err());
}

fn delivery() -> pb::Delivery {
    pb::Delivery {
        cursor: "42".into(),
        message_id: "0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d".into(),
        sender: "000.00.00.G22".into(),
        routing_header: vec![1],
        submission_signature: vec![2],
        size: 1000,
        accepted_at: Some(prost_types::Timestamp {
            seconds: 1_767_225_600,
            nanos: 0,
        }),
        key_envelope_entry: Some(pb::KeyEnvelopeEntry {
            entry: vec![3],
            index: 1,
            path: vec![vec![4; 32], vec![5; 32]],
        }),
    }
}

#[test]
fn deliveries_convert_and_malformed_ones_are_refused() {
    let before = std::time::Instant::now();
    let d = Delivery::try_from(delivery()).unwrap();
    // Stamped on arrival, here (the acceptance time is the axis's, in whole seconds: a wait
    // measured from it is off by up to a second).
    assert!(before <= d.received_at && d.received_at <= std::time::Instant::now());
    assert_eq!(d.cursor, "42");
    assert_eq!(
        d.message_id.to_string(),
        "0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d"
    );
    assert_eq!(d.sender.as_str(), "000.00.00.G22");
    assert_eq!(d.size, 1000);
    assert_eq!(
        (
            d.key_envelope_entry.entry.as_slice(),
            d.key_envelope_entry.index,
            d.key_envelope_entry.path.as_slice()
        ),
        (&[3u8][..], 1, &[[4u8; 32], [5u8; 32]][..])
    );
    for broken in [
        pb::Delivery {
            message_id: "not-a-uuid".into(),
            ..delivery()
        },
        pb::Delivery {
            sender: "G22".into(),
            ..delivery()
        },
        pb::Delivery {
            cursor: String::new(),
            ..delivery()
        },
        pb::Delivery {
            accepted_at: None,
            ..delivery()
        },
        // No entry; a path hash of another size; a path longer than any tree of recipients.
        pb::Delivery {
            key_envelope_entry: None,
            ..delivery()
        },
        pb::Delivery {
            key_envelope_entry: Some(pb::KeyEnvelopeEntry {
                entry: vec![3],
                index: 0,
                path: vec![vec![4; 31]],
            }),
            ..delivery()
        },
        pb::Delivery {
            key_envelope_entry: Some(pb::KeyEnvelopeEntry {
                entry: vec![3],
                index: 0,
                path: vec![vec![4; 32]; 10],
            }),
            ..delivery()
        },
    ] {
        let e = Delivery::try_from(broken).unwrap_err();
        assert_eq!(*e.kind(), ErrorKind::Verification, "{e}");
    }
}

#[test]
fn agencies_convert() {
    let a = AgencyInfo::try_from(pb::Agency {
        agency_id: "000.00.00.H41".into(),
        name: "UBND tỉnh Nghệ An".into(),
        parent_id: String::new(),
        encryption_certificate: vec![1],
        seal_certificate: vec![2],
        updated_at: None,
    })
    .unwrap();
    assert_eq!(a.agency_id.as_str(), "000.00.00.H41");
    assert_eq!(a.parent_id, None);
    let page = AgencyPage::try_from(pb::ListAgenciesResponse {
        agencies: vec![],
        next_after_agency_id: String::new(),
    })
    .unwrap();
    assert!(page.next_after.is_none());
}
