//! Unit tests of what the integration tests reach only indirectly: how an element is named in
//! errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axis_pki::AgencyId;

use super::*;

#[test]
fn elements_are_named_in_errors() {
    let h41 = AgencyId::parse("000.00.00.H41").unwrap();
    for (item, text) in [
        (BundleItem::TrustAnchor, "the root certificate"),
        (BundleItem::Submission, "the submission"),
        (BundleItem::Intermediate { index: 0 }, "CA certificate 0"),
        (BundleItem::Crl { index: 2 }, "CRL 2"),
        (BundleItem::TreeHead, "the tree head"),
        (BundleItem::Acceptance, "the acceptance"),
        (
            BundleItem::Statement {
                index: 3,
                recipient: Some(h41),
            },
            "statement 3 (to 000.00.00.H41)",
        ),
        (
            BundleItem::Statement {
                index: 4,
                recipient: None,
            },
            "statement 4",
        ),
    ] {
        assert_eq!(item.to_string(), text);
    }
    let e = Error::BundleItem {
        at: 4512,
        item: BundleItem::Statement {
            index: 3,
            recipient: Some(AgencyId::parse("000.00.00.H41").unwrap()),
        },
        source: Box::new(Error::Signer(axis_signer::Error::Signature(
            SignatureError::BadSignature {
                role: SignatureRole::Receipt,
            },
        ))),
    };
    assert_eq!(
        e.to_string(),
        "statement 3 (to 000.00.00.H41) at byte 4512: the receipt signature value is invalid"
    );
}
