//! The edXML DocumentId (§1.2, item 1.14): `<OrganId>,<yyyy/MM/dd>,<CodeNumber>/<CodeNotation>`,
//! for example `000.00.00.G22,2015/09/30,7816/VPCP-TTĐT`.

use std::fmt;
use std::str::FromStr;

use axis_pki::AgencyId;
use time::Date;

use crate::error::{Error, FormatError};
use crate::limits::{MAX_CODE_NOTATION, MAX_CODE_NUMBER};
use crate::package::fields::{self};

/// A document's number and notation ("số, ký hiệu"), e.g. `7816` and `VPCP-TTĐT`.
///
/// The number may not contain `/` or `,`, the notation may not contain `,` (they delimit the
/// DocumentId); neither may be empty.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Code {
    number: String,
    notation: String,
}

impl Code {
    /// Checks and builds a code.
    pub fn new(number: impl Into<String>, notation: impl Into<String>) -> Result<Self, Error> {
        let (number, notation) = (number.into(), notation.into());
        fields::required_line("CodeNumber", &number, MAX_CODE_NUMBER)?;
        fields::required_line("CodeNotation", &notation, MAX_CODE_NOTATION)?;
        if number.contains(['/', ',']) {
            return Err(FormatError::FieldInvalid {
                field: "CodeNumber",
                reason: "contains `/` or `,`",
            }
            .into());
        }
        if notation.contains(',') {
            return Err(FormatError::FieldInvalid {
                field: "CodeNotation",
                reason: "contains `,`",
            }
            .into());
        }
        Ok(Code { number, notation })
    }

    /// Parses `number/notation` as edXML's `ResponseFor/Code` writes it.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let (number, notation) = s.split_once('/').ok_or(FormatError::FieldInvalid {
            field: "Code",
            reason: "not `number/notation`",
        })?;
        Code::new(number, notation)
    }

    /// The number (CodeNumber).
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The notation (CodeNotation).
    pub fn notation(&self) -> &str {
        &self.notation
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.number, self.notation)
    }
}

/// A global document identifier. Only [`DocumentId::new`] and [`DocumentId::parse`] build one.
///
/// ```
/// use axis_signer::DocumentId;
///
/// let id = DocumentId::parse("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT")?;
/// assert_eq!(id.organ_id().as_str(), "000.00.00.G22");
/// assert_eq!(id.code().notation(), "VPCP-TTĐT");
/// assert_eq!(id.to_string(), "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT");
/// # Ok::<(), axis_signer::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DocumentId {
    organ_id: AgencyId,
    date: Date,
    code: Code,
}

/// Longest DocumentId text looked at (13 + 1 + 10 + 1 + 11 + 1 + 30 characters, 4 bytes each).
const MAX_DOCUMENT_ID_BYTES: usize =
    4 * (13 + 1 + 10 + 1 + MAX_CODE_NUMBER + 1 + MAX_CODE_NOTATION);

impl DocumentId {
    /// Builds the identifier of a document from its parts.
    pub fn new(organ_id: AgencyId, date: Date, code: Code) -> Result<Self, Error> {
        // Checked so that the text form always parses back (year 0–9999).
        if !(0..=9999).contains(&date.year()) {
            return Err(FormatError::DocumentIdMalformed {
                reason: "year outside 0000–9999",
            }
            .into());
        }
        Ok(DocumentId {
            organ_id,
            date,
            code,
        })
    }

    /// Parses the edXML text form.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.len() > MAX_DOCUMENT_ID_BYTES {
            return Err(FormatError::DocumentIdMalformed { reason: "too long" }.into());
        }
        let mut parts = s.splitn(3, ',');
        let (Some(organ), Some(date), Some(code)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(FormatError::DocumentIdMalformed {
                reason: "expected three comma-separated parts",
            }
            .into());
        };
        let organ_id = AgencyId::parse(organ).map_err(|source| FormatError::AgencyId {
            field: "DocumentId OrganId",
            source,
        })?;
        let date = fields::parse_date("DocumentId date", date)?;
        DocumentId::new(organ_id, date, Code::parse(code)?)
    }

    /// The issuing agency.
    pub fn organ_id(&self) -> &AgencyId {
        &self.organ_id
    }

    /// The promulgation date.
    pub fn date(&self) -> Date {
        self.date
    }

    /// Number and notation.
    pub fn code(&self) -> &Code {
        &self.code
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},{},{}",
            self.organ_id,
            fields::format_date(self.date),
            self.code
        )
    }
}

impl FromStr for DocumentId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        DocumentId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, ok: bool) {
        let res = DocumentId::parse(input);
        assert_eq!(res.is_ok(), ok, "{input}: {res:?}");
        if let Ok(id) = res {
            assert_eq!(id.to_string(), input);
        }
    }

    #[test]
    fn document_ids() {
        check("000.00.00.G22,2015/09/30,7816/VPCP-TTĐT", true);
        check("000.12.31.H53,2026/01/02,12/QĐ-UBND", true);
        check("000.12.31.H53,2026/01/02,12/QĐ/UBND", true); // notation may hold `/`
        check("000.12.31.H53,2026/01/02,12", false); // no notation
        check("000.12.31.H53,2026/01/02,/QĐ", false); // empty number
        check("000.12.31.H53,2026/01/02,12/", false); // empty notation
        check("000.12.31.H53,2026-01-02,12/QĐ", false); // date form
        check("000.12.31.H53,2026/02/30,12/QĐ", false); // not a date
        check("00.12.31.H53,2026/01/02,12/QĐ", false); // agency id
        check("000.12.31.H53,2026/01/02,123456789012/QĐ", false); // number too long
        check("000.12.31.H53,2026/01/02,1,2/QĐ", false); // `,` in number
        check("000.12.31.H53,2026/01/02,12/QĐ,X", false); // `,` in notation
        check("", false);
    }

    #[test]
    fn display_matches_the_edxml_form() {
        let id = DocumentId::new(
            AgencyId::parse("000.00.00.G22").unwrap(),
            time::macros::date!(2015 - 09 - 30),
            Code::new("7816", "VPCP-TTĐT").unwrap(),
        )
        .unwrap();
        assert_eq!(id.to_string(), "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT");
    }
}
