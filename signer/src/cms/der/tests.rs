use super::*;

#[track_caller]
fn check_any(input: &[u8], ok: bool) {
    let mut r = Reader::new(input, "test");
    let res = r.any().and_then(|_| r.finish());
    assert_eq!(res.is_ok(), ok, "{input:02x?}");
}

#[test]
fn lengths_must_be_definite_and_shortest() {
    check_any(&[0x04, 0x01, 0xaa], true);
    check_any(&[0x04, 0x81, 0x01, 0xaa], false); // long form for a short length
    check_any(&[0x04, 0x80, 0xaa, 0x00, 0x00], false); // indefinite
    check_any(&[0x04, 0x82, 0x00, 0x01, 0xaa], false); // leading zero length octet
    check_any(&[0x04, 0x02, 0xaa], false); // short
    check_any(&[0x04, 0x01, 0xaa, 0x00], false); // trailing
    check_any(&[0x1f, 0x01, 0x00], false); // high tag number
    check_any(&[], false);
    let long = tlv(OCTET_STRING, &[7u8; 300]);
    check_any(&long, true);
}

#[test]
fn integers_are_minimal_and_non_negative() {
    for v in [0u64, 1, 127, 128, 255, 256, u64::MAX] {
        let enc = uint(v);
        assert_eq!(Reader::new(&enc, "t").u64().unwrap(), v);
    }
    for bad in [
        &[0x02, 0x00][..],
        &[0x02, 0x01, 0x80],
        &[0x02, 0x02, 0x00, 0x01],
    ] {
        assert!(Reader::new(bad, "t").u64().is_err(), "{bad:02x?}");
    }
}

#[test]
fn times_round_trip_both_forms() {
    use time::macros::datetime;
    for t in [
        datetime!(2026-03-04 05:06:07 UTC),
        datetime!(1999-12-31 23:59:59 UTC),
        datetime!(2050-01-01 00:00:00 UTC),
    ] {
        let enc = cms_time(t).unwrap();
        assert_eq!(Reader::new(&enc, "t").time().unwrap(), t);
        let enc = generalized_time(t).unwrap();
        assert_eq!(Reader::new(&enc, "t").time().unwrap(), t);
    }
    assert_eq!(
        cms_time(datetime!(2026-01-01 0:00 UTC)).unwrap()[0],
        UTC_TIME
    );
    assert_eq!(
        cms_time(datetime!(2050-01-01 0:00 UTC)).unwrap()[0],
        GENERALIZED_TIME
    );
    let bad = tlv(GENERALIZED_TIME, b"20261301000000Z");
    assert!(Reader::new(&bad, "t").time().is_err());
}

#[test]
fn a_time_with_a_multibyte_character_is_an_error_not_a_panic() {
    // 13 bytes of UTF-8 (as UTCTime wants) whose second byte starts a two-byte character:
    // found by the signer_cms_signature fuzz target (the slicing by byte panicked).
    let mut v = b"2".to_vec();
    v.extend("Ǌ".as_bytes());
    v.extend(b"101000000Z");
    assert_eq!(v.len(), 13);
    for tag in [UTC_TIME, GENERALIZED_TIME] {
        assert!(Reader::new(&tlv(tag, &v), "t").time().is_err());
    }
}
