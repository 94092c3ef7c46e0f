//! Where each element of a bundle is, and where its bytes stop making sense.
//!
//! Before anything is parsed, the bundle's outer structure is walked once: every element's tag
//! and length (strict DER: single-octet tags, definite lengths in their shortest form), down to
//! the OCTET STRINGs that hold the signed items. A file cut short, with bytes after its end, or
//! with an element where another belongs is refused with the element named and its byte
//! offset ([`LayoutError`]); a well-formed walk gives the offset of each element
//! ([`Layout`]), which every later error about that element carries.

use std::fmt;

use axis_signer::cms::der;

use super::BundleItem;

/// What is wrong with the bytes of a bundle, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{element} at byte {at}: {problem}")]
pub struct LayoutError {
    /// The element (`the bundle`, `statement 3 (to 000.00.00.H41): its signature`, …).
    pub element: String,
    /// The offset of its first byte (its tag) in the bundle, or where something unexpected
    /// starts.
    pub at: usize,
    /// What is wrong there.
    pub problem: LayoutProblem,
}

/// What is wrong at a place in a bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayoutProblem {
    /// The element declares more bytes than the file (or its enclosing element) holds.
    Truncated {
        /// The bytes its tag and length declare, header included.
        declared: usize,
        /// The bytes there are from its first byte.
        available: usize,
    },
    /// Bytes after the end of the bundle.
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// An element other than the one that belongs here (or none where one must be).
    Unexpected {
        /// What belongs here.
        expected: &'static str,
    },
    /// The tag or length is not DER (a multi-octet tag, an indefinite or non-minimal length).
    NotDer,
}

impl fmt::Display for LayoutProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayoutProblem::Truncated {
                declared,
                available,
            } => write!(
                f,
                "cut short: it declares {declared} bytes, {available} remain"
            ),
            LayoutProblem::TrailingBytes { count } => {
                write!(f, "{count} bytes after the end of the bundle")
            }
            LayoutProblem::Unexpected { expected } => write!(f, "expected {expected}"),
            LayoutProblem::NotDer => f.write_str("not a DER tag and length"),
        }
    }
}

/// The offset of each element of a well-formed bundle.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layout {
    pub(crate) submission: usize,
    pub(crate) intermediates: Vec<usize>,
    pub(crate) crls: Vec<usize>,
    pub(crate) tree_head: usize,
    pub(crate) acceptance: usize,
    pub(crate) statements: Vec<usize>,
    pub(crate) completeness: usize,
    pub(crate) cosignatures: Vec<usize>,
}

impl Layout {
    /// Where `item` starts (0 for what is not in the bundle: the auditor's root).
    pub(crate) fn at(&self, item: &BundleItem) -> usize {
        match item {
            BundleItem::TrustAnchor => 0,
            BundleItem::Submission => self.submission,
            BundleItem::Intermediate { index } => {
                self.intermediates.get(*index).copied().unwrap_or(0)
            }
            BundleItem::Crl { index } => self.crls.get(*index).copied().unwrap_or(0),
            BundleItem::TreeHead => self.tree_head,
            BundleItem::Acceptance => self.acceptance,
            BundleItem::Statement { index, .. } => {
                self.statements.get(*index).copied().unwrap_or(0)
            }
            BundleItem::Completeness => self.completeness,
            BundleItem::Cosignature { index } => {
                self.cosignatures.get(*index).copied().unwrap_or(0)
            }
        }
    }
}

/// One element found by the walk.
#[derive(Clone, Copy)]
struct Span {
    /// Its first byte (the tag).
    at: usize,
    /// Its first content byte.
    content: usize,
    /// One past its last byte, as declared.
    end: usize,
}

/// A cursor over `[pos, limit)` of the bundle; `limit` is where the enclosing element ends, or
/// the end of the file if that comes first.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    limit: usize,
}

/// What a failed read found: a located error, or an element cut short whose available part
/// the caller may walk to find the innermost cut.
enum Miss {
    Error(LayoutError),
    Cut { span: Span, element: String },
}

type Step<T> = Result<T, LayoutError>;

impl<'a> Cursor<'a> {
    fn is_empty(&self) -> bool {
        self.pos >= self.limit
    }

    /// Reads the next element, which must carry `tag`.
    fn read(
        &mut self,
        tag: u8,
        element: impl Fn() -> String,
        expected: &'static str,
    ) -> Result<Span, Miss> {
        let at = self.pos;
        let input = &self.bytes[at..self.limit];
        let unexpected = |expected| {
            Miss::Error(LayoutError {
                element: element(),
                at,
                problem: LayoutProblem::Unexpected { expected },
            })
        };
        let Some((&found, rest)) = input.split_first() else {
            return Err(unexpected(expected));
        };
        if found != tag {
            return Err(unexpected(expected));
        }
        let not_der = || {
            Miss::Error(LayoutError {
                element: element(),
                at,
                problem: LayoutProblem::NotDer,
            })
        };
        let cut = |declared: usize| {
            Miss::Error(LayoutError {
                element: element(),
                at,
                problem: LayoutProblem::Truncated {
                    declared,
                    available: input.len(),
                },
            })
        };
        let Some((&first, rest)) = rest.split_first() else {
            return Err(cut(2));
        };
        let (header, len) = if first < 0x80 {
            (2, usize::from(first))
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err(not_der());
            }
            if rest.len() < n {
                return Err(cut(2 + n));
            }
            if rest[0] == 0 {
                return Err(not_der());
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return Err(not_der());
            }
            (2 + n, len)
        };
        let span = Span {
            at,
            content: at + header,
            end: at + header + len,
        };
        if span.end > self.limit {
            return Err(Miss::Cut {
                span,
                element: element(),
            });
        }
        self.pos = span.end;
        Ok(span)
    }

    /// The cursor over an element's content (up to what is there, for a cut one).
    fn inside(&self, span: Span) -> Cursor<'a> {
        Cursor {
            bytes: self.bytes,
            pos: span.content,
            limit: span.end.min(self.limit),
        }
    }

    /// Fails unless the element's content is all read.
    fn done(&self, element: impl Fn() -> String) -> Step<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(LayoutError {
                element: element(),
                at: self.pos,
                problem: LayoutProblem::Unexpected {
                    expected: "nothing more",
                },
            })
        }
    }
}

/// Turns a cut element into the innermost error: `walk` goes through the part that is there;
/// if it finds nothing wrong inside, the element itself is reported as cut.
fn innermost(
    parent: &Cursor<'_>,
    miss: Miss,
    walk: impl FnOnce(&mut Cursor<'_>) -> Step<()>,
) -> LayoutError {
    match miss {
        Miss::Error(e) => e,
        Miss::Cut { span, element } => {
            let mut inner = parent.inside(span);
            match walk(&mut inner) {
                Err(e) => e,
                Ok(()) => LayoutError {
                    element,
                    at: span.at,
                    problem: LayoutProblem::Truncated {
                        declared: span.end - span.at,
                        available: parent.limit - span.at,
                    },
                },
            }
        }
    }
}

/// A primitive element: a cut one is the innermost.
fn primitive(
    c: &mut Cursor<'_>,
    tag: u8,
    element: impl Fn() -> String,
    expected: &'static str,
) -> Step<Span> {
    c.read(tag, element, expected)
        .map_err(|m| innermost(c, m, |_| Ok(())))
}

/// A constructed element whose content `walk` reads.
fn constructed(
    c: &mut Cursor<'_>,
    tag: u8,
    element: impl Fn() -> String + Copy,
    expected: &'static str,
    walk: impl FnOnce(&mut Cursor<'_>) -> Step<()>,
) -> Step<Span> {
    match c.read(tag, element, expected) {
        Ok(span) => {
            let mut inner = c.inside(span);
            walk(&mut inner)?;
            inner.done(element)?;
            Ok(span)
        }
        Err(m) => Err(innermost(c, m, walk)),
    }
}

const OCTETS: &str = "an OCTET STRING";
const SEQ: &str = "a SEQUENCE";

/// `Logged ::= SEQUENCE { entry OCTET STRING, leafIndex INTEGER, path SEQUENCE OF OCTET STRING }`.
fn logged(c: &mut Cursor<'_>, name: &dyn Fn() -> String) -> Step<()> {
    primitive(
        c,
        der::OCTET_STRING,
        || format!("{}: its log entry", name()),
        OCTETS,
    )?;
    primitive(
        c,
        der::INTEGER,
        || format!("{}: its leaf index", name()),
        "an INTEGER",
    )?;
    let path = || format!("{}: its inclusion path", name());
    constructed(c, der::SEQUENCE, path, SEQ, |p| {
        let mut i = 0;
        while !p.is_empty() {
            primitive(
                p,
                der::OCTET_STRING,
                || format!("{}: hash {i} of its inclusion path", name()),
                OCTETS,
            )?;
            i += 1;
        }
        Ok(())
    })?;
    Ok(())
}

/// The recipient a statement names, for messages (empty if unreadable).
fn recipient_at(bytes: &[u8], span: Span) -> String {
    std::str::from_utf8(&bytes[span.content..span.end])
        .ok()
        .filter(|s| s.len() <= 32 && axis_pki::AgencyId::parse(s).is_ok())
        .map(|s| format!(" (to {s})"))
        .unwrap_or_default()
}

/// Walks a bundle's structure (see the module docs).
pub(crate) fn scan(bytes: &[u8]) -> Result<Layout, LayoutError> {
    let mut layout = Layout::default();
    let mut top = Cursor {
        bytes,
        pos: 0,
        limit: bytes.len(),
    };
    let bundle = || "the bundle".to_owned();
    let span = constructed(&mut top, der::SEQUENCE, bundle, SEQ, |b| {
        walk_bundle(b, &mut layout)
    })?;
    if span.end < bytes.len() {
        return Err(LayoutError {
            element: "the bundle".to_owned(),
            at: span.end,
            problem: LayoutProblem::TrailingBytes {
                count: bytes.len() - span.end,
            },
        });
    }
    Ok(layout)
}

fn walk_bundle(b: &mut Cursor<'_>, layout: &mut Layout) -> Step<()> {
    let name = |s: &'static str| move || s.to_owned();
    primitive(
        b,
        der::OID,
        name("the format identifier"),
        "an OBJECT IDENTIFIER",
    )?;
    let version = primitive(b, der::INTEGER, name("the version"), "an INTEGER")?;
    // Version 2 adds the completeness statement after the statements (version 1 has none),
    // version 3 the cosignatures after it; any other version is refused when the bundle is
    // parsed.
    let version = &b.bytes[version.content..version.end];
    let with_completeness = version == [2] || version == [3];
    let with_cosignatures = version == [3];
    layout.submission = primitive(
        b,
        der::OCTET_STRING,
        name("the submission: its routing header"),
        OCTETS,
    )?
    .at;
    primitive(
        b,
        der::OCTET_STRING,
        name("the submission: its signature"),
        OCTETS,
    )?;
    for (list, what, offsets) in [
        (
            "the CA certificates",
            "CA certificate",
            &mut layout.intermediates,
        ),
        ("the CRLs", "CRL", &mut layout.crls),
    ] {
        constructed(
            b,
            der::SEQUENCE,
            move || list.to_owned(),
            SEQ,
            |l| {
                while !l.is_empty() {
                    let i = offsets.len();
                    offsets.push(
                        primitive(l, der::OCTET_STRING, || format!("{what} {i}"), OCTETS)?.at,
                    );
                }
                Ok(())
            },
        )?;
    }
    layout.tree_head = primitive(b, der::OCTET_STRING, name("the tree head"), OCTETS)?.at;
    primitive(
        b,
        der::OCTET_STRING,
        name("the tree head: its signature"),
        OCTETS,
    )?;
    let acceptance = || "the acceptance".to_owned();
    layout.acceptance = constructed(b, der::SEQUENCE, acceptance, SEQ, |a| {
        logged(a, &acceptance)
    })?
    .at;
    let statements = &mut layout.statements;
    constructed(b, der::SEQUENCE, name("the statements"), SEQ, |l| {
        while !l.is_empty() {
            let i = statements.len();
            let plain = move || format!("statement {i}");
            let s = constructed(l, der::SEQUENCE, plain, SEQ, |s| {
                let r = primitive(
                    s,
                    der::UTF8_STRING,
                    || format!("statement {i}: its recipient"),
                    "a UTF8String",
                )?;
                let to = recipient_at(s.bytes, r);
                let named = || format!("statement {i}{to}");
                primitive(
                    s,
                    der::OCTET_STRING,
                    || format!("{}: its receipt", named()),
                    OCTETS,
                )?;
                primitive(
                    s,
                    der::OCTET_STRING,
                    || format!("{}: its signature", named()),
                    OCTETS,
                )?;
                let logged_name = || format!("{}: its logged entry", named());
                constructed(s, der::SEQUENCE, logged_name, SEQ, |g| logged(g, &named))?;
                Ok(())
            })?;
            statements.push(s.at);
        }
        Ok(())
    })?;
    if with_completeness {
        layout.completeness = primitive(
            b,
            der::OCTET_STRING,
            name("the completeness statement"),
            OCTETS,
        )?
        .at;
        primitive(
            b,
            der::OCTET_STRING,
            name("the completeness statement: its signature"),
            OCTETS,
        )?;
    }
    if with_cosignatures {
        let offsets = &mut layout.cosignatures;
        constructed(b, der::SEQUENCE, name("the cosignatures"), SEQ, |l| {
            while !l.is_empty() {
                let i = offsets.len();
                let c = constructed(
                    l,
                    der::SEQUENCE,
                    move || format!("cosignature {i}"),
                    SEQ,
                    |c| {
                        // What it signs is one element; its own parser reads inside.
                        primitive(
                            c,
                            der::SEQUENCE,
                            || format!("cosignature {i}: the tree head it cosigns"),
                            SEQ,
                        )?;
                        primitive(
                            c,
                            der::OCTET_STRING,
                            || format!("cosignature {i}: its signature"),
                            OCTETS,
                        )?;
                        Ok(())
                    },
                )?;
                offsets.push(c.at);
            }
            Ok(())
        })?;
    }
    Ok(())
}
