//! The checks every text field passes on encode and on parse; the field limits themselves
//! (domain reference §1.2, the intended BKAV `Checker` maxima, plus ours where the reference
//! names none) are in [`crate::limits`].

use time::{Date, Month};

use crate::error::{Error, FormatError};
use crate::limits::MAX_EMAIL;

/// Whether a field may hold line breaks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lines {
    Single,
    Multi,
}

/// Checks a text field: length in characters, required or not, no control characters (tab and
/// line breaks only in multi-line fields).
pub(crate) fn check_text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
    lines: Lines,
) -> Result<(), Error> {
    // Bytes bound characters from above: a cheap first cut before counting.
    if value.len() > 4 * max {
        return Err(FormatError::FieldTooLong {
            field,
            len: value.chars().take(4 * max + 1).count(),
            max,
        }
        .into());
    }
    let len = value.chars().count();
    if len > max {
        return Err(FormatError::FieldTooLong { field, len, max }.into());
    }
    if required && value.trim().is_empty() {
        return Err(FormatError::FieldEmpty { field }.into());
    }
    let allowed = |c: char| lines == Lines::Multi && matches!(c, '\t' | '\n' | '\r');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(FormatError::FieldInvalid {
            field,
            reason: "control characters",
        }
        .into());
    }
    Ok(())
}

/// A one-line field that may be empty.
pub(crate) fn optional_line(field: &'static str, value: &str, max: usize) -> Result<(), Error> {
    check_text(field, value, max, false, Lines::Single)
}

/// A one-line field that must not be empty.
pub(crate) fn required_line(field: &'static str, value: &str, max: usize) -> Result<(), Error> {
    check_text(field, value, max, true, Lines::Single)
}

/// Checks an e-mail address loosely (the reference says "format-checked" without a grammar):
/// empty, or one `@` with text on both sides and no spaces.
pub(crate) fn check_email(value: &str) -> Result<(), Error> {
    optional_line("Email", value, MAX_EMAIL)?;
    if value.is_empty() {
        return Ok(());
    }
    let mut parts = value.split('@');
    let ok = matches!((parts.next(), parts.next(), parts.next()),
        (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !value.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(FormatError::FieldInvalid {
            field: "Email",
            reason: "not an e-mail address",
        }
        .into())
    }
}

/// Formats a date as edXML writes it: `yyyy/MM/dd`.
pub(crate) fn format_date(d: Date) -> String {
    format!("{:04}/{:02}/{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Parses `yyyy/MM/dd` (exactly: four, two and two digits).
pub(crate) fn parse_date(field: &'static str, s: &str) -> Result<Date, Error> {
    let err = || Error::from(FormatError::DateMalformed { field });
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'/' || b[7] != b'/' {
        return Err(err());
    }
    let digits = |r: std::ops::Range<usize>| {
        if b[r.clone()].iter().all(u8::is_ascii_digit) {
            s[r].parse::<u16>().map_err(|_| err())
        } else {
            Err(err())
        }
    };
    let year = i32::from(digits(0..4)?);
    let month =
        Month::try_from(u8::try_from(digits(5..7)?).map_err(|_| err())?).map_err(|_| err())?;
    let day = u8::try_from(digits(8..10)?).map_err(|_| err())?;
    Date::from_calendar_date(year, month, day).map_err(|_| err())
}

/// Budget check on a list length.
pub(crate) fn check_count(what: &'static str, found: usize, max: usize) -> Result<(), Error> {
    if found > max {
        return Err(FormatError::TooMany { what, found, max }.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_CODE_NOTATION;

    #[test]
    fn text_limits_count_characters_not_bytes() {
        // "Đ" is two bytes in UTF-8 but one character.
        let s = "Đ".repeat(MAX_CODE_NOTATION);
        assert!(required_line("CodeNotation", &s, MAX_CODE_NOTATION).is_ok());
        let s = "Đ".repeat(MAX_CODE_NOTATION + 1);
        assert!(matches!(
            required_line("CodeNotation", &s, MAX_CODE_NOTATION),
            Err(Error::Format(FormatError::FieldTooLong {
                len: 31,
                max: 30,
                ..
            }))
        ));
        assert!(matches!(
            required_line("Subject", "  ", 10),
            Err(Error::Format(FormatError::FieldEmpty { .. }))
        ));
        assert!(optional_line("Fax", "a\nb", 10).is_err());
        assert!(check_text("Subject", "a\nb", 10, true, Lines::Multi).is_ok());
        assert!(check_text("Subject", "a\u{7}b", 10, true, Lines::Multi).is_err());
    }

    #[test]
    fn dates_are_exactly_yyyy_mm_dd() {
        assert_eq!(
            format_date(parse_date("d", "2015/09/30").unwrap()),
            "2015/09/30"
        );
        for bad in [
            "2015/9/30",
            "2015-09-30",
            "2015/02/30",
            "+015/09/30",
            "2015/09/3x",
        ] {
            assert!(parse_date("d", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_loosely_checked() {
        assert!(check_email("").is_ok());
        assert!(check_email("vanthu@chinhphu.vn").is_ok());
        for bad in ["a@b", "@x.vn", "a b@x.vn", "a@@x.vn"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }
}
