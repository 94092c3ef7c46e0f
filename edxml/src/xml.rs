//! The hardened reading of XML: quick-xml's pull parser into a small bounded tree of the
//! header, with attachment data kept as borrowed slices of the input (never copied).
//!
//! Refused before anything is interpreted: a DTD (`Error::Dtd`), any entity other than the
//! five predefined ones (`Error::Entity`), a non-UTF-8 encoding, characters XML forbids, and
//! every budget of [`Limits`] as soon as it is passed.

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use crate::error::{Error, Limit, Problem};
use crate::limits::Limits;

/// Elements whose text is attachment data: kept as slices, not decoded here.
const DATA_ELEMENTS: [&str; 2] = ["ContentTransferEncoded", "AttachmentData"];

/// The SOAP 1.1 and 1.2 envelope namespaces.
const SOAP_NS: [&str; 2] = [
    "http://schemas.xmlsoap.org/soap/envelope/",
    "http://www.w3.org/2003/05/soap-envelope",
];

/// One attribute.
#[derive(Debug)]
pub(crate) struct Attr {
    /// As written (`xlink:href`).
    pub(crate) qname: String,
    /// Local name (`href`).
    pub(crate) local: String,
    /// Resolved namespace ("" for none: unprefixed attributes have none).
    pub(crate) namespace: String,
    pub(crate) value: String,
}

/// One element of the bounded tree.
#[derive(Debug)]
pub(crate) struct Node<'a> {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) attrs: Vec<Attr>,
    /// Text content (not for data elements), CR/LF normalised, not trimmed.
    pub(crate) text: String,
    /// Raw text pieces of a data element, borrowed from the input.
    pub(crate) data: Vec<&'a [u8]>,
    pub(crate) children: Vec<Node<'a>>,
}

impl Node<'_> {
    fn new(namespace: String, name: String) -> Self {
        Node {
            namespace,
            name,
            attrs: Vec::new(),
            text: String::new(),
            data: Vec::new(),
            children: Vec::new(),
        }
    }
}

fn xml_err(position: u64, e: impl std::fmt::Display) -> Error {
    Error::Xml {
        position,
        message: e.to_string(),
    }
}

fn path_of(stack: &[Node<'_>]) -> String {
    let names: Vec<&str> = stack.iter().map(|n| n.name.as_str()).collect();
    names.join("/")
}

/// Whether a character may appear in an XML 1.0 document.
fn allowed_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Appends text, normalising literal CR LF and CR to LF (XML 1.0 §2.11) and checking
/// characters.
fn push_text(out: &mut String, text: &str, path: impl Fn() -> String) -> Result<(), Error> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !allowed_char(c) {
            return Err(Error::malformed(path(), Problem::InvalidCharacter));
        }
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Ok(())
}

struct Budget<'l> {
    limits: &'l Limits,
    events: usize,
    header: usize,
}

impl Budget<'_> {
    fn event(&mut self, stack: &[Node<'_>]) -> Result<(), Error> {
        self.events += 1;
        if self.events > self.limits.max_events {
            return Err(Error::Limit {
                limit: Limit::Elements,
                element: path_of(stack),
                found: self.events as u64,
                max: self.limits.max_events as u64,
            });
        }
        Ok(())
    }

    fn text(&mut self, added: usize, node_len: usize, stack: &[Node<'_>]) -> Result<(), Error> {
        self.header += added;
        if node_len > self.limits.max_text {
            return Err(Error::Limit {
                limit: Limit::TextLength,
                element: path_of(stack),
                found: node_len as u64,
                max: self.limits.max_text as u64,
            });
        }
        if self.header > self.limits.max_header {
            return Err(Error::Limit {
                limit: Limit::HeaderSize,
                element: path_of(stack),
                found: self.header as u64,
                max: self.limits.max_header as u64,
            });
        }
        Ok(())
    }
}

/// Reads the whole input into a bounded tree and returns its root.
pub(crate) fn read_tree<'a>(input: &'a [u8], limits: &Limits) -> Result<Node<'a>, Error> {
    if input.len() as u64 > limits.max_input {
        return Err(Error::Limit {
            limit: Limit::InputSize,
            element: "edXML".into(),
            found: input.len() as u64,
            max: limits.max_input,
        });
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut reader = NsReader::from_reader(input);
    {
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.trim_text(false);
    }
    let mut budget = Budget {
        limits,
        events: 0,
        header: 0,
    };
    let mut stack: Vec<Node<'a>> = Vec::new();
    let mut root: Option<Node<'a>> = None;
    loop {
        let position = reader.buffer_position();
        let step = match reader.read_resolved_event() {
            Ok((ns, event)) => Ok((resolve(ns, position)?, event)),
            Err(e) => Err(e),
        };
        let (namespace, event) = step.map_err(|e| xml_err(reader.error_position(), e))?;
        match event {
            Event::DocType(_) => return Err(Error::Dtd),
            Event::Decl(d) => {
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(|e| xml_err(position, e))?;
                    if !enc.eq_ignore_ascii_case(b"utf-8") && !enc.eq_ignore_ascii_case(b"utf8") {
                        return Err(xml_err(
                            position,
                            format!(
                                "encoding `{}` (edXML is UTF-8)",
                                String::from_utf8_lossy(&enc)
                            ),
                        ));
                    }
                }
            }
            Event::PI(_) | Event::Comment(_) => budget.event(&stack)?,
            Event::Start(e) => {
                budget.event(&stack)?;
                if root.is_some() {
                    return Err(xml_err(position, "content after the root element"));
                }
                if stack.len() >= limits.max_depth {
                    return Err(Error::Limit {
                        limit: Limit::Depth,
                        element: path_of(&stack),
                        found: stack.len() as u64 + 1,
                        max: limits.max_depth as u64,
                    });
                }
                let name = std::str::from_utf8(e.local_name().into_inner())
                    .map_err(|e| xml_err(position, e))?
                    .to_owned();
                if stack.is_empty() {
                    if name == "Envelope" && SOAP_NS.contains(&namespace.as_str()) {
                        return Err(Error::LegacySoapEnvelope);
                    }
                    if name != "edXML" {
                        return Err(Error::NotEdxml { found: name });
                    }
                }
                let mut node = Node::new(namespace, name);
                read_attrs(&reader, &e, &mut node, &stack, limits, position)?;
                let added: usize = node.attrs.iter().map(|a| a.value.len()).sum();
                budget.text(added, 0, &stack)?;
                stack.push(node);
            }
            Event::End(_) => {
                let Some(node) = stack.pop() else {
                    return Err(xml_err(position, "unexpected end tag"));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Empty(_) => return Err(xml_err(position, "empty element not expanded")),
            Event::Text(t) => {
                if stack.is_empty() && t.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                text(&mut stack, &mut budget, t.into_inner(), position)?;
            }
            Event::CData(t) => text(&mut stack, &mut budget, t.into_inner(), position)?,
            Event::GeneralRef(r) => {
                let Some(node) = stack.last_mut() else {
                    return Err(xml_err(position, "reference outside the root element"));
                };
                if DATA_ELEMENTS.contains(&node.name.as_str()) {
                    return Err(Error::malformed(path_of(&stack), Problem::ReferenceInData));
                }
                let c = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) if allowed_char(c) => c,
                        Ok(_) | Err(_) => {
                            return Err(Error::malformed(
                                path_of(&stack),
                                Problem::InvalidCharacter,
                            ));
                        }
                    }
                } else {
                    match &*r {
                        b"lt" => '<',
                        b"gt" => '>',
                        b"amp" => '&',
                        b"quot" => '"',
                        b"apos" => '\'',
                        other => {
                            return Err(Error::Entity {
                                element: path_of(&stack),
                                name: String::from_utf8_lossy(other).into_owned(),
                            });
                        }
                    }
                };
                node.text.push(c);
                let len = node.text.len();
                budget.text(c.len_utf8(), len, &stack)?;
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(xml_err(
            input.len() as u64,
            "the document ends inside an element",
        ));
    }
    root.ok_or_else(|| xml_err(0, "no root element"))
}

/// Text or CDATA: kept as a slice in a data element, else checked, normalised and appended.
fn text<'a>(
    stack: &mut [Node<'a>],
    budget: &mut Budget<'_>,
    content: std::borrow::Cow<'a, [u8]>,
    position: u64,
) -> Result<(), Error> {
    let Some(node) = stack.last_mut() else {
        return Err(xml_err(position, "text outside the root element"));
    };
    if DATA_ELEMENTS.contains(&node.name.as_str()) {
        match content {
            std::borrow::Cow::Borrowed(b) => node.data.push(b),
            // A reader over a slice always borrows.
            std::borrow::Cow::Owned(_) => return Err(xml_err(position, "unexpected owned text")),
        }
        return budget.event(stack);
    }
    let s = std::str::from_utf8(&content).map_err(|e| xml_err(position, e))?;
    let mut add = String::with_capacity(s.len());
    push_text(&mut add, s, || path_of(stack))?;
    let len = match stack.last_mut() {
        Some(node) => {
            node.text.push_str(&add);
            node.text.len()
        }
        None => 0,
    };
    budget.text(add.len(), len, stack)
}

fn resolve(ns: ResolveResult<'_>, position: u64) -> Result<String, Error> {
    match ns {
        ResolveResult::Bound(n) => Ok(String::from_utf8_lossy(n.as_ref()).into_owned()),
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Unknown(p) => Err(xml_err(
            position,
            format!("undeclared prefix `{}`", String::from_utf8_lossy(&p)),
        )),
    }
}

fn read_attrs(
    reader: &NsReader<&[u8]>,
    e: &BytesStart<'_>,
    node: &mut Node<'_>,
    stack: &[Node<'_>],
    limits: &Limits,
    position: u64,
) -> Result<(), Error> {
    let path = || {
        let mut p = path_of(stack);
        if !p.is_empty() {
            p.push('/');
        }
        p.push_str(&node.name);
        p
    };
    let mut count = 0usize;
    for attr in e.attributes().with_checks(true) {
        let attr = attr.map_err(|e| xml_err(position, e))?;
        count += 1;
        if count > limits.max_attributes {
            return Err(Error::Limit {
                limit: Limit::Attributes,
                element: path(),
                found: count as u64,
                max: limits.max_attributes as u64,
            });
        }
        let key = attr.key;
        let qname = std::str::from_utf8(key.as_ref()).map_err(|e| xml_err(position, e))?;
        if qname == "xmlns" || qname.starts_with("xmlns:") {
            continue;
        }
        let value = match attr.unescape_value() {
            Ok(v) => v.into_owned(),
            Err(quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(
                _,
                name,
            ))) => {
                return Err(Error::Entity {
                    element: path(),
                    name,
                });
            }
            Err(e) => return Err(xml_err(position, e)),
        };
        if !value.chars().all(allowed_char) {
            return Err(Error::malformed(path(), Problem::InvalidCharacter));
        }
        let (resolved, local) = reader.resolve_attribute(key);
        let namespace = resolve(resolved, position)?;
        node.attrs.push(Attr {
            qname: qname.to_owned(),
            local: String::from_utf8_lossy(local.as_ref()).into_owned(),
            namespace,
            value,
        });
    }
    Ok(())
}
