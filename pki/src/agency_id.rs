//! Agency identifiers (mã định danh) in the QCVN 102:2016 form `NNN.NN.NN.LNN`.
//!
//! The four dot-separated segments, left to right, are the level-4, level-3 and level-2 unit codes
//! and the level-1 code (a capital letter for the group and two digits: `G22` is the Government
//! Office, `H41` a province). `000.00.00.G22` is the level-1 body itself.

use std::fmt;
use std::str::FromStr;

/// Longest input [`AgencyId::parse`] looks at; anything longer is refused before it is split.
const MAX_INPUT_LEN: usize = 64;

/// A checked agency identifier, for example `000.00.00.G22`.
///
/// Only [`AgencyId::parse`] (and [`FromStr`]) constructs one, so holding an `AgencyId` means the
/// text has the QCVN 102:2016 shape.
///
/// ```
/// use axis_pki::AgencyId;
///
/// let id = AgencyId::parse("000.12.31.H53")?;
/// assert_eq!(id.level1_code(), "H53");
/// assert_eq!(id.parent().unwrap().as_str(), "000.00.31.H53");
/// # Ok::<(), axis_pki::AgencyIdError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgencyId {
    // Invariant: exactly 13 ASCII bytes in the form DDD.DD.DD.LDD.
    text: String,
}

/// Which segment of an agency identifier, counted from the left as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgencySegment {
    /// `V1V2V3`: three digits, the level-4 unit.
    Level4,
    /// `Z1Z2`: two digits, the level-3 unit.
    Level3,
    /// `Y1Y2`: two digits, the level-2 unit.
    Level2,
    /// `M1X1X2`: a capital letter and two digits, the level-1 body.
    Level1,
}

impl AgencySegment {
    const ALL: [AgencySegment; 4] = [
        AgencySegment::Level4,
        AgencySegment::Level3,
        AgencySegment::Level2,
        AgencySegment::Level1,
    ];

    /// 1-based position of the segment in the written identifier.
    pub fn position(self) -> usize {
        match self {
            AgencySegment::Level4 => 1,
            AgencySegment::Level3 => 2,
            AgencySegment::Level2 => 3,
            AgencySegment::Level1 => 4,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            AgencySegment::Level4 => "3 digits (level-4 unit), e.g. `000`",
            AgencySegment::Level3 => "2 digits (level-3 unit), e.g. `00`",
            AgencySegment::Level2 => "2 digits (level-2 unit), e.g. `00`",
            AgencySegment::Level1 => "a capital letter and 2 digits (level-1 code), e.g. `G22`",
        }
    }

    fn accepts(self, s: &str) -> bool {
        let b = s.as_bytes();
        match self {
            AgencySegment::Level4 => b.len() == 3 && b.iter().all(u8::is_ascii_digit),
            AgencySegment::Level3 | AgencySegment::Level2 => {
                b.len() == 2 && b.iter().all(u8::is_ascii_digit)
            }
            AgencySegment::Level1 => {
                b.len() == 3 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
            }
        }
    }
}

/// Why a string is not an agency identifier.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AgencyIdError {
    /// The input is longer than any identifier could be.
    #[error("agency id is {len} bytes long; an agency id is 13 characters like `000.00.00.G22`")]
    TooLong {
        /// Length of the input in bytes.
        len: usize,
    },
    /// The input does not have four dot-separated segments.
    #[error(
        "agency id has {found} dot-separated segment(s); it needs 4, like `000.00.00.G22` (NNN.NN.NN.LNN)"
    )]
    SegmentCount {
        /// Number of segments found.
        found: usize,
    },
    /// One segment has the wrong shape.
    #[error("agency id segment {} is `{found}`: expected {}", segment.position(), segment.expected())]
    Segment {
        /// The failing segment.
        segment: AgencySegment,
        /// What was found there (at most a few characters of the input).
        found: String,
    },
}

impl AgencyId {
    /// Parses the QCVN 102:2016 form `NNN.NN.NN.LNN`, saying which segment is wrong if it fails.
    pub fn parse(s: &str) -> Result<Self, AgencyIdError> {
        if s.len() > MAX_INPUT_LEN {
            return Err(AgencyIdError::TooLong { len: s.len() });
        }
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() != 4 {
            return Err(AgencyIdError::SegmentCount { found: parts.len() });
        }
        for (segment, part) in AgencySegment::ALL.into_iter().zip(&parts) {
            if !segment.accepts(part) {
                return Err(AgencyIdError::Segment {
                    segment,
                    found: (*part).to_owned(),
                });
            }
        }
        Ok(AgencyId { text: s.to_owned() })
    }

    /// The identifier as written, e.g. `000.00.00.G22`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The level-1 code (group letter and number), e.g. `G22` or `H41`.
    pub fn level1_code(&self) -> &str {
        &self.text[10..]
    }

    /// The level-1 group letter: `G` for the Government group, `H` for provincial people's
    /// committees, `K` for provincial people's councils, and so on.
    pub fn group_letter(&self) -> char {
        char::from(self.text.as_bytes()[10])
    }

    /// The level of this unit in the hierarchy: 1 for a level-1 body (`000.00.00.G22`) down to 4.
    pub fn level(&self) -> u8 {
        let segs = self.segments();
        if segs[0] != "000" {
            4
        } else if segs[1] != "00" {
            3
        } else if segs[2] != "00" {
            2
        } else {
            1
        }
    }

    /// The unit directly above this one: the most specific non-zero segment set to zero.
    /// `None` for a level-1 body.
    pub fn parent(&self) -> Option<AgencyId> {
        let mut segs = self.segments().map(str::to_owned);
        let idx = segs[..3]
            .iter()
            .position(|s| s.bytes().any(|b| b != b'0'))?;
        segs[idx] = "0".repeat(segs[idx].len());
        Some(AgencyId {
            text: segs.join("."),
        })
    }

    fn segments(&self) -> [&str; 4] {
        // The invariant fixes the offsets: DDD.DD.DD.LDD
        [
            &self.text[0..3],
            &self.text[4..6],
            &self.text[7..9],
            &self.text[10..13],
        ]
    }
}

impl FromStr for AgencyId {
    type Err = AgencyIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgencyId::parse(s)
    }
}

impl fmt::Display for AgencyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for AgencyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgencyId({})", self.text)
    }
}

#[cfg(test)]
mod tests;
