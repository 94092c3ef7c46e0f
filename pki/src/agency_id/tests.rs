use super::*;
use proptest::prelude::*;

#[track_caller]
fn ok(input: &str, level1: &str, level: u8, parent: Option<&str>) {
    let id = AgencyId::parse(input).unwrap();
    assert_eq!(id.as_str(), input);
    assert_eq!(id.level1_code(), level1);
    assert_eq!(id.level(), level);
    assert_eq!(id.parent().as_ref().map(AgencyId::as_str), parent);
}

#[track_caller]
fn bad(input: &str, expected: AgencyIdError) {
    assert_eq!(AgencyId::parse(input).unwrap_err(), expected);
}

fn seg(segment: AgencySegment, found: &str) -> AgencyIdError {
    AgencyIdError::Segment {
        segment,
        found: found.into(),
    }
}

#[test]
fn valid_identifiers() {
    ok("000.00.00.G22", "G22", 1, None);
    ok("000.00.00.H41", "H41", 1, None);
    ok("000.00.01.H53", "H53", 2, Some("000.00.00.H53"));
    ok("000.01.01.H53", "H53", 3, Some("000.00.01.H53"));
    ok("000.12.31.H53", "H53", 3, Some("000.00.31.H53"));
    ok("002.00.20.H13", "H13", 4, Some("000.00.20.H13"));
    assert_eq!(
        AgencyId::parse("000.00.00.K54").unwrap().group_letter(),
        'K'
    );
}

#[test]
fn each_malformed_segment_is_named() {
    bad("00.00.00.G22", seg(AgencySegment::Level4, "00"));
    bad("0a0.00.00.G22", seg(AgencySegment::Level4, "0a0"));
    bad("000.0.00.G22", seg(AgencySegment::Level3, "0"));
    bad("000.00.x0.G22", seg(AgencySegment::Level2, "x0"));
    bad("000.00.00.g22", seg(AgencySegment::Level1, "g22"));
    bad("000.00.00.G2", seg(AgencySegment::Level1, "G2"));
    bad("000.00.00.22G", seg(AgencySegment::Level1, "22G"));
    bad("000.00.00.Ğ22", seg(AgencySegment::Level1, "Ğ22"));
    bad("28.22.H17", AgencyIdError::SegmentCount { found: 3 });
    bad("", AgencyIdError::SegmentCount { found: 1 });
    bad("000.00.00.G22.", AgencyIdError::SegmentCount { found: 5 });
    bad(&"0".repeat(65), AgencyIdError::TooLong { len: 65 });
}

#[test]
fn error_message_names_the_segment() {
    let msg = AgencyId::parse("000.00.00.g22").unwrap_err().to_string();
    assert!(msg.contains("segment 4"), "{msg}");
    assert!(msg.contains("`g22`"), "{msg}");
}

proptest! {
    #[test]
    fn display_round_trips(a in 0u16..1000, b in 0u8..100, c in 0u8..100, l in b'A'..=b'Z', n in 0u8..100) {
        let text = format!("{a:03}.{b:02}.{c:02}.{}{n:02}", char::from(l));
        let id = AgencyId::parse(&text).unwrap();
        prop_assert_eq!(id.to_string(), text.clone());
        prop_assert_eq!(text.parse::<AgencyId>().unwrap(), id.clone());
        // Walking up the hierarchy always ends at the level-1 body in at most three steps.
        let mut cur = id;
        let mut steps = 0;
        while let Some(p) = cur.parent() { cur = p; steps += 1; }
        prop_assert!(steps <= 3);
        prop_assert_eq!(cur.level(), 1);
    }

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,80}") {
        let _ = AgencyId::parse(&s);
    }
}
