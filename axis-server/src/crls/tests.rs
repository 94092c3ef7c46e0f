use std::time::Duration;

use time::OffsetDateTime;
use time::macros::datetime;

use super::Freshness;
use crate::trust::CrlInForce;

const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);
const DAY: Duration = Duration::from_secs(86_400);

fn crl(issuer: &str, next_update: Option<OffsetDateTime>) -> CrlInForce {
    CrlInForce {
        issuer: issuer.into(),
        number: 1,
        next_update,
    }
}

#[track_caller]
fn check(crls: &[CrlInForce], want: Freshness) {
    assert_eq!(Freshness::of(crls, NOW, DAY), want);
}

#[test]
fn the_worst_crl_in_force_decides() {
    let root = crl("CN=Root", Some(NOW + time::Duration::days(60)));
    let ca_soon = crl("CN=CA", Some(NOW + time::Duration::hours(3)));
    let ca_past = crl("CN=CA", Some(NOW - time::Duration::seconds(1)));
    check(&[], Freshness::Fresh);
    check(std::slice::from_ref(&root), Freshness::Fresh);
    // Exactly the warning time away: still fresh; a second less: degraded.
    check(&[crl("CN=CA", Some(NOW + DAY))], Freshness::Fresh);
    check(
        &[crl("CN=CA", Some(NOW + DAY - Duration::from_secs(1)))],
        Freshness::Expiring {
            issuer: "CN=CA".into(),
            next_update: NOW + DAY - Duration::from_secs(1),
        },
    );
    check(
        &[root.clone(), ca_soon],
        Freshness::Expiring {
            issuer: "CN=CA".into(),
            next_update: NOW + time::Duration::hours(3),
        },
    );
    // At its nextUpdate a CRL is stale (pki refuses it from that instant).
    check(
        &[crl("CN=CA", Some(NOW))],
        Freshness::Expired {
            issuer: "CN=CA".into(),
            next_update: Some(NOW),
        },
    );
    check(
        &[root.clone(), ca_past],
        Freshness::Expired {
            issuer: "CN=CA".into(),
            next_update: Some(NOW - time::Duration::seconds(1)),
        },
    );
    check(
        &[root, crl("CN=Old", None)],
        Freshness::Expired {
            issuer: "CN=Old".into(),
            next_update: None,
        },
    );
}

#[test]
fn health_says_ok_or_degraded_and_why() {
    assert_eq!(Freshness::Fresh.health(NOW), "ok\n");
    let soon = Freshness::Expiring {
        issuer: "CN=CA".into(),
        next_update: NOW + time::Duration::seconds(90),
    };
    assert_eq!(
        soon.health(NOW),
        "degraded: the CRL of CN=CA expires at 2026-12-01T12:01:30Z (in 90 s); publish a fresh one\n"
    );
    let past = Freshness::Expired {
        issuer: "CN=CA".into(),
        next_update: Some(NOW),
    };
    assert!(
        past.health(NOW)
            .starts_with("degraded: the CRL of CN=CA expired at 2026-12-01T12:00:00Z;")
    );
}
