//! Dates and timestamps: written strictly as VNPT's library writes them (`yyyy/MM/dd`,
//! `yyyy/MM/dd HH:mm:ss`), read leniently but explicitly (§9.2): besides those, ISO
//! `yyyy-MM-dd` (VNPT turns it into null), `dd/MM/yyyy` (VNPT misreads it as the year 0034)
//! and the legacy .NET timestamp `dd/MM/yyyy HH:mm:ss`. Anything else is an error naming the
//! field, never a silent default.

use time::{Date, Month, PrimitiveDateTime, Time};

/// Formats `yyyy/MM/dd`.
pub fn format_date(d: Date) -> String {
    format!("{:04}/{:02}/{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Formats `yyyy/MM/dd HH:mm:ss`.
pub fn format_timestamp(t: PrimitiveDateTime) -> String {
    format!(
        "{} {:02}:{:02}:{:02}",
        format_date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn number(s: &str, min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Reads a date in one of the accepted forms.
pub fn parse_date(s: &str) -> Option<Date> {
    let sep = if s.contains('-') { '-' } else { '/' };
    let mut parts = s.split(sep);
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (y, m, d) = if a.len() == 4 {
        (number(a, 4, 4)?, number(b, 1, 2)?, number(c, 1, 2)?)
    } else if sep == '/' && c.len() == 4 {
        (number(c, 4, 4)?, number(b, 1, 2)?, number(a, 1, 2)?)
    } else {
        return None;
    };
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()
}

/// Reads a timestamp in one of the accepted forms.
pub fn parse_timestamp(s: &str) -> Option<PrimitiveDateTime> {
    let (date, time) = s.split_once([' ', 'T'])?;
    let date = parse_date(date)?;
    let mut parts = time.split(':');
    let (h, m, sec) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let time = Time::from_hms(
        u8::try_from(number(h, 1, 2)?).ok()?,
        u8::try_from(number(m, 2, 2)?).ok()?,
        u8::try_from(number(sec, 2, 2)?).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn accepted_forms() {
        for s in ["2015/09/30", "2015-09-30", "30/09/2015", "2015/9/30"] {
            assert_eq!(parse_date(s), Some(date!(2015 - 09 - 30)), "{s}");
        }
        for s in [
            "2015/09/30 08:05:09",
            "30/09/2015 08:05:09",
            "2015-09-30T08:05:09",
        ] {
            assert_eq!(
                parse_timestamp(s),
                Some(datetime!(2015-09-30 08:05:09)),
                "{s}"
            );
        }
        assert_eq!(format_date(date!(2015 - 09 - 30)), "2015/09/30");
        assert_eq!(
            format_timestamp(datetime!(2015-09-30 08:05:09)),
            "2015/09/30 08:05:09"
        );
    }

    #[test]
    fn refused_forms() {
        for s in [
            "",
            "2015/02/30",
            "15/09/30",
            "2015.09.30",
            "2015/09/30/1",
            "x",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
        for s in [
            "2015/09/30",
            "2015/09/30 25:00:00",
            "2015/09/30 08:05",
            "2015/09/30 8:5:9",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }
}
