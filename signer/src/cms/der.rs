//! A small, strict DER reader and writer: the one parser of every structure this crate reads,
//! public so that the formats defined above the signer (the log and evidence formats of
//! `axis-evidence`) are read by the same rules.
//!
//! Strict means: definite lengths in their shortest form, single-octet tags only, INTEGERs in
//! minimal form, BIT STRINGs with no unused bits, UTF8Strings that are UTF-8, and nothing left
//! over. Anything else is [`FormatError::Malformed`] naming the structure being read, so that a
//! signature always covers the one encoding a value has (no BER ambiguity to exploit).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::error::{Error, FormatError};

/// Universal tag of an INTEGER.
pub const INTEGER: u8 = 0x02;
/// Universal tag of a BIT STRING.
pub const BIT_STRING: u8 = 0x03;
/// Universal tag of an OCTET STRING.
pub const OCTET_STRING: u8 = 0x04;
/// Universal tag of NULL.
pub const NULL: u8 = 0x05;
/// Universal tag of an OBJECT IDENTIFIER.
pub const OID: u8 = 0x06;
/// Universal tag of a UTF8String.
pub const UTF8_STRING: u8 = 0x0c;
/// Universal tag of a UTCTime.
pub const UTC_TIME: u8 = 0x17;
/// Universal tag of a GeneralizedTime.
pub const GENERALIZED_TIME: u8 = 0x18;
/// Universal tag of a SEQUENCE (constructed).
pub const SEQUENCE: u8 = 0x30;
/// Universal tag of a SET (constructed).
pub const SET: u8 = 0x31;

/// Context-specific, constructed tag `[n]`.
pub const fn context(n: u8) -> u8 {
    0xa0 | n
}

/// Context-specific, primitive tag `[n]` (IMPLICIT over a primitive type).
pub const fn context_primitive(n: u8) -> u8 {
    0x80 | n
}

/// A cursor over DER bytes. `what` names the structure for error messages.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    what: &'static str,
}

/// One element: its tag, its content octets, and its whole encoding.
#[derive(Clone, Copy)]
pub struct Tlv<'a> {
    /// The tag octet.
    pub tag: u8,
    /// The content octets.
    pub value: &'a [u8],
    /// The whole encoding: tag, length and content.
    pub raw: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`; errors name `what`.
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Reader { bytes, what }
    }

    /// The error this reader reports: the named structure is malformed.
    pub fn err(&self) -> Error {
        FormatError::Malformed { what: self.what }.into()
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Fails unless every byte has been read.
    pub fn finish(&self) -> Result<(), Error> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(self.err())
        }
    }

    /// The tag of the next element, without reading it.
    pub fn peek_tag(&self) -> Option<u8> {
        self.bytes.first().copied()
    }

    /// Reads any element.
    pub fn any(&mut self) -> Result<Tlv<'a>, Error> {
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
    pub fn expect(&mut self, tag: u8) -> Result<Tlv<'a>, Error> {
        let tlv = self.any()?;
        if tlv.tag != tag {
            return Err(self.err());
        }
        Ok(tlv)
    }

    /// Reads an element with `tag` if the next element has it.
    pub fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, Error> {
        if self.peek_tag() == Some(tag) {
            self.expect(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads a constructed element with `tag` and returns a reader over its content.
    pub fn nested(&mut self, tag: u8) -> Result<Reader<'a>, Error> {
        let tlv = self.expect(tag)?;
        Ok(Reader::new(tlv.value, self.what))
    }

    /// Reads a SEQUENCE and returns a reader over its content.
    pub fn sequence(&mut self) -> Result<Reader<'a>, Error> {
        self.nested(SEQUENCE)
    }

    /// A non-negative INTEGER that fits in a `u64`.
    pub fn u64(&mut self) -> Result<u64, Error> {
        self.u64_tagged(INTEGER)
    }

    /// A non-negative INTEGER that fits in a `u64`, under an IMPLICIT `tag`.
    pub fn u64_tagged(&mut self, tag: u8) -> Result<u64, Error> {
        let v = self.expect(tag)?.value;
        let bytes = unsigned_integer_content(v).ok_or_else(|| self.err())?;
        if bytes.len() > 8 {
            return Err(self.err());
        }
        Ok(bytes.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    /// An OCTET STRING's content.
    pub fn octet_string(&mut self) -> Result<&'a [u8], Error> {
        Ok(self.expect(OCTET_STRING)?.value)
    }

    /// An OCTET STRING of exactly `N` octets.
    pub fn octets<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let v = self.octet_string()?;
        v.try_into().map_err(|_| self.err())
    }

    /// An OBJECT IDENTIFIER's content octets.
    pub fn oid(&mut self) -> Result<&'a [u8], Error> {
        Ok(self.expect(OID)?.value)
    }

    /// A BIT STRING with no unused bits; returns its octets.
    pub fn bit_string(&mut self) -> Result<&'a [u8], Error> {
        let v = self.expect(BIT_STRING)?.value;
        match v.split_first() {
            Some((0, rest)) => Ok(rest),
            _ => Err(self.err()),
        }
    }

    /// A UTF8String (valid UTF-8).
    pub fn utf8(&mut self) -> Result<&'a str, Error> {
        let v = self.expect(UTF8_STRING)?.value;
        std::str::from_utf8(v).map_err(|_| self.err())
    }

    /// A NULL (empty content).
    pub fn null(&mut self) -> Result<(), Error> {
        let v = self.expect(NULL)?.value;
        if v.is_empty() {
            Ok(())
        } else {
            Err(self.err())
        }
    }

    /// UTCTime or GeneralizedTime, in the forms RFC 5280 §4.1.2.5 allows (seconds, `Z`).
    pub fn time(&mut self) -> Result<OffsetDateTime, Error> {
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

/// One element (`tag`, shortest length, `content`), and the content octets of a dotted OID: the
/// workspace's one TLV writer and OID encoder, from the PKI crate below.
pub use axis_pki::der::{oid_content, tlv};

/// A constructed element from already-encoded parts.
pub fn cons(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let body: Vec<u8> = parts.concat();
    tlv(tag, &body)
}

/// A SEQUENCE of already-encoded parts.
pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    cons(SEQUENCE, parts)
}

/// A SET OF in DER order (elements sorted by their encodings, X.690 §11.6).
pub fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    let refs: Vec<&[u8]> = elements.iter().map(Vec::as_slice).collect();
    cons(SET, &refs)
}

/// A non-negative INTEGER in minimal form.
pub fn uint(v: u64) -> Vec<u8> {
    uint_tagged(INTEGER, v)
}

/// A non-negative INTEGER in minimal form, under an IMPLICIT `tag`.
pub fn uint_tagged(tag: u8, v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let mut content = Vec::with_capacity(9);
    if bytes[skip] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[skip..]);
    tlv(tag, &content)
}

/// An OCTET STRING.
pub fn octets(v: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, v)
}

/// An OBJECT IDENTIFIER from its content octets.
pub fn oid(content: &[u8]) -> Vec<u8> {
    tlv(OID, content)
}

/// A UTF8String.
pub fn utf8(s: &str) -> Vec<u8> {
    tlv(UTF8_STRING, s.as_bytes())
}

/// A NULL.
pub fn null() -> Vec<u8> {
    tlv(NULL, &[])
}

/// A BIT STRING with no unused bits.
pub fn bit_string(bits: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bits.len() + 1);
    v.push(0);
    v.extend_from_slice(bits);
    tlv(BIT_STRING, &v)
}

/// GeneralizedTime `YYYYMMDDHHMMSSZ` (whole seconds, UTC).
pub fn generalized_time(t: OffsetDateTime) -> Result<Vec<u8>, Error> {
    let t = t.to_offset(time::UtcOffset::UTC);
    if !(0..=9999).contains(&t.year()) {
        return Err(FormatError::TimeOutOfRange.into());
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
pub fn cms_time(t: OffsetDateTime) -> Result<Vec<u8>, Error> {
    let t = t.to_offset(time::UtcOffset::UTC);
    if (1950..2050).contains(&t.year()) {
        let g = generalized_time(t)?;
        // Drop the century: tag and length change, the rest is the same digits.
        Ok(tlv(UTC_TIME, &g[4..]))
    } else {
        generalized_time(t)
    }
}

#[cfg(test)]
mod tests;
