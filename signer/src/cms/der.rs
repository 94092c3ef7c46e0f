//! A small, strict DER reader and writer: the one parser of every structure this crate reads.
//!
//! Strict means: definite lengths in their shortest form, single-octet tags only, INTEGERs in
//! minimal form, BIT STRINGs with no unused bits, UTF8Strings that are UTF-8, and nothing left
//! over. Anything else is [`Error::Malformed`] naming the structure being read, so that a
//! signature always covers the one encoding a value has (no BER ambiguity to exploit).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::error::Error;

pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;
pub(crate) const UTF8_STRING: u8 = 0x0c;
pub(crate) const UTC_TIME: u8 = 0x17;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;

/// Context-specific, constructed tag `[n]`.
pub(crate) const fn context(n: u8) -> u8 {
    0xa0 | n
}

/// Context-specific, primitive tag `[n]` (IMPLICIT over a primitive type).
pub(crate) const fn context_primitive(n: u8) -> u8 {
    0x80 | n
}

/// A cursor over DER bytes. `what` names the structure for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

/// One element: its tag, its content octets, and its whole encoding.
#[derive(Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
    pub(crate) raw: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader { bytes, what }
    }

    pub(crate) fn err(&self) -> Error {
        Error::Malformed { what: self.what }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Fails unless every byte has been read.
    pub(crate) fn finish(&self) -> Result<(), Error> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(self.err())
        }
    }

    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.bytes.first().copied()
    }

    /// Reads any element.
    pub(crate) fn any(&mut self) -> Result<Tlv<'a>, Error> {
        let b = self.bytes;
        let (&tag, rest) = b.split_first().ok_or_else(|| self.err())?;
        // High-tag-number form (low five bits all set) never occurs in what we read.
        if tag & 0x1f == 0x1f {
            return Err(self.err());
        }
        let (&first, mut rest) = rest.split_first().ok_or_else(|| self.err())?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            // 0x80 is BER's indefinite length; more than 4 length octets is never needed here.
            if n == 0 || n > 4 || rest.len() < n {
                return Err(self.err());
            }
            let (len_bytes, r) = rest.split_at(n);
            rest = r;
            if len_bytes[0] == 0 {
                return Err(self.err()); // not the shortest form
            }
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
            if len < 0x80 {
                return Err(self.err()); // should have used the short form
            }
            len
        };
        if rest.len() < len {
            return Err(self.err());
        }
        let header_len = b.len() - rest.len();
        let (value, tail) = rest.split_at(len);
        let raw = &b[..header_len + len];
        self.bytes = tail;
        Ok(Tlv { tag, value, raw })
    }

    /// Reads an element that must carry `tag`.
    pub(crate) fn expect(&mut self, tag: u8) -> Result<Tlv<'a>, Error> {
        let tlv = self.any()?;
        if tlv.tag != tag {
            return Err(self.err());
        }
        Ok(tlv)
    }

    /// Reads an element with `tag` if the next element has it.
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, Error> {
        if self.peek_tag() == Some(tag) {
            self.expect(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads a constructed element with `tag` and returns a reader over its content.
    pub(crate) fn nested(&mut self, tag: u8) -> Result<Reader<'a>, Error> {
        let tlv = self.expect(tag)?;
        Ok(Reader::new(tlv.value, self.what))
    }

    pub(crate) fn sequence(&mut self) -> Result<Reader<'a>, Error> {
        self.nested(SEQUENCE)
    }

    /// A non-negative INTEGER that fits in a `u64`.
    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        self.u64_tagged(INTEGER)
    }

    pub(crate) fn u64_tagged(&mut self, tag: u8) -> Result<u64, Error> {
        let v = self.expect(tag)?.value;
        let bytes = unsigned_integer_content(v).ok_or_else(|| self.err())?;
        if bytes.len() > 8 {
            return Err(self.err());
        }
        Ok(bytes.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    pub(crate) fn octet_string(&mut self) -> Result<&'a [u8], Error> {
        Ok(self.expect(OCTET_STRING)?.value)
    }

    /// An OCTET STRING of exactly `N` octets.
    pub(crate) fn octets<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let v = self.octet_string()?;
        v.try_into().map_err(|_| self.err())
    }

    pub(crate) fn oid(&mut self) -> Result<&'a [u8], Error> {
        Ok(self.expect(OID)?.value)
    }

    /// A BIT STRING with no unused bits; returns its octets.
    pub(crate) fn bit_string(&mut self) -> Result<&'a [u8], Error> {
        let v = self.expect(BIT_STRING)?.value;
        match v.split_first() {
            Some((0, rest)) => Ok(rest),
            _ => Err(self.err()),
        }
    }

    pub(crate) fn utf8(&mut self) -> Result<&'a str, Error> {
        let v = self.expect(UTF8_STRING)?.value;
        std::str::from_utf8(v).map_err(|_| self.err())
    }

    pub(crate) fn null(&mut self) -> Result<(), Error> {
        let v = self.expect(NULL)?.value;
        if v.is_empty() {
            Ok(())
        } else {
            Err(self.err())
        }
    }

    /// UTCTime or GeneralizedTime, in the forms RFC 5280 §4.1.2.5 allows (seconds, `Z`).
    pub(crate) fn time(&mut self) -> Result<OffsetDateTime, Error> {
        let tlv = self.any()?;
        // ASCII only: the slicing below is by byte (a multi-byte character there would panic).
        if !tlv.value.is_ascii() {
            return Err(self.err());
        }
        let s = std::str::from_utf8(tlv.value).map_err(|_| self.err())?;
        let full = match tlv.tag {
            UTC_TIME if s.len() == 13 => {
                let yy: i32 = s[..2].parse().map_err(|_| self.err())?;
                let century = if yy >= 50 { "19" } else { "20" };
                format!("{century}{s}")
            }
            GENERALIZED_TIME if s.len() == 15 => s.to_owned(),
            _ => return Err(self.err()),
        };
        parse_generalized(&full).ok_or_else(|| self.err())
    }
}

/// Opens a versioned Axis structure: one SEQUENCE with nothing after it, starting with the
/// format OID `format` (a receipt is never read as a manifest) and version 1. Returns a reader
/// over the fields that follow.
pub(crate) fn open_format<'a>(
    bytes: &'a [u8],
    what: &'static str,
    format: crate::oid::Format,
) -> Result<Reader<'a>, Error> {
    let mut outer = Reader::new(bytes, what);
    let mut r = outer.sequence()?;
    outer.finish()?;
    if r.oid()? != format.oid() {
        return Err(Error::WrongFormat { expected: what });
    }
    let version = r.u64()?;
    if version != 1 {
        return Err(Error::UnsupportedVersion { what, version });
    }
    Ok(r)
}

/// Checks INTEGER content is minimal and non-negative; returns the magnitude octets.
fn unsigned_integer_content(v: &[u8]) -> Option<&[u8]> {
    match v {
        [] => None,
        [b, ..] if b & 0x80 != 0 => None, // negative
        [0] => Some(&[]),
        [0, next, ..] if next & 0x80 == 0 => None, // not minimal
        [0, rest @ ..] => Some(rest),
        _ => Some(v),
    }
}

fn parse_generalized(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 15 || b[14] != b'Z' || !b[..14].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    let year = i32::try_from(n(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
    let date = Date::from_calendar_date(year, month, u8::try_from(n(6..8)?).ok()?).ok()?;
    let time = Time::from_hms(
        u8::try_from(n(8..10)?).ok()?,
        u8::try_from(n(10..12)?).ok()?,
        u8::try_from(n(12..14)?).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

// ----- writing -----

/// Appends a TLV.
pub(crate) fn write_tlv(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
}

pub(crate) fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    write_tlv(&mut out, tag, value);
    out
}

/// A constructed element from already-encoded parts.
pub(crate) fn cons(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let body: Vec<u8> = parts.concat();
    tlv(tag, &body)
}

pub(crate) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    cons(SEQUENCE, parts)
}

/// A SET OF in DER order (elements sorted by their encodings, X.690 §11.6).
pub(crate) fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    let refs: Vec<&[u8]> = elements.iter().map(Vec::as_slice).collect();
    cons(SET, &refs)
}

pub(crate) fn uint(v: u64) -> Vec<u8> {
    uint_tagged(INTEGER, v)
}

pub(crate) fn uint_tagged(tag: u8, v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let mut content = Vec::with_capacity(9);
    if bytes[skip] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[skip..]);
    tlv(tag, &content)
}

pub(crate) fn octets(v: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, v)
}

pub(crate) fn oid(content: &[u8]) -> Vec<u8> {
    tlv(OID, content)
}

pub(crate) fn utf8(s: &str) -> Vec<u8> {
    tlv(UTF8_STRING, s.as_bytes())
}

pub(crate) fn null() -> Vec<u8> {
    tlv(NULL, &[])
}

pub(crate) fn bit_string(bits: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bits.len() + 1);
    v.push(0);
    v.extend_from_slice(bits);
    tlv(BIT_STRING, &v)
}

/// GeneralizedTime `YYYYMMDDHHMMSSZ` (whole seconds, UTC).
pub(crate) fn generalized_time(t: OffsetDateTime) -> Result<Vec<u8>, Error> {
    let t = t.to_offset(time::UtcOffset::UTC);
    if !(0..=9999).contains(&t.year()) {
        return Err(Error::TimeOutOfRange);
    }
    let s = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    Ok(tlv(GENERALIZED_TIME, s.as_bytes()))
}

/// Time as RFC 5652 §11.3 wants it for signingTime: UTCTime for 1950–2049, GeneralizedTime
/// otherwise.
pub(crate) fn cms_time(t: OffsetDateTime) -> Result<Vec<u8>, Error> {
    let t = t.to_offset(time::UtcOffset::UTC);
    if (1950..2050).contains(&t.year()) {
        let g = generalized_time(t)?;
        // Drop the century: tag and length change, the rest is the same digits.
        Ok(tlv(UTC_TIME, &g[4..]))
    } else {
        generalized_time(t)
    }
}

/// Encodes a dotted OID's content octets. Arcs up to 128 bits (UUID arcs, X.667).
pub(crate) fn oid_content(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u128> = dotted
        .split('.')
        .map(|a| a.parse::<u128>().ok())
        .collect::<Option<_>>()?;
    if arcs.len() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) {
        return None;
    }
    let mut out = Vec::new();
    let first = arcs[0].checked_mul(40)?.checked_add(arcs[1])?;
    for arc in std::iter::once(first).chain(arcs[2..].iter().copied()) {
        let mut groups = Vec::new();
        let mut v = arc;
        loop {
            groups.push((v & 0x7f) as u8);
            v >>= 7;
            if v == 0 {
                break;
            }
        }
        for (i, g) in groups.iter().rev().enumerate() {
            out.push(if i + 1 < groups.len() { g | 0x80 } else { *g });
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
