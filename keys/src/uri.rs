//! RFC 7512 `pkcs11:` URIs, the attributes Axis reads, parsed once.
//!
//! ```text
//! pkcs11:token=axis-ca;object=root-2026;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/axis/ca.pin
//! ```
//!
//! - path: `token` (label), `serial`, `manufacturer`, `model`, `slot-id` choose the token;
//!   `object` (CKA_LABEL), `id` (CKA_ID, percent-encoded bytes) and `type=private` the key;
//! - query: `module-path` (the PKCS#11 module; else the environment variable
//!   [`crate::MODULE_ENV`]), `pin-source` (`file:PATH`, an absolute path, or `env:VARIABLE`, an
//!   Axis extension for containers).
//!
//! `pin-value` is refused ([`UriError::PinValueForbidden`]): a PIN in a URI ends up in argv,
//! shell history and configuration files. Unknown attributes are refused, so that a typo
//! (`objet=`) cannot widen the match to every key on the token; so are duplicates (§2.3).

use std::fmt;
use std::path::PathBuf;

use crate::error::UriError;

/// Longest URI accepted.
pub const MAX_URI_LEN: usize = 4096;

/// Where the token's PIN is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinSource {
    /// A file holding the PIN (a trailing newline is ignored).
    File(PathBuf),
    /// An environment variable holding the PIN.
    Env(String),
}

impl fmt::Display for PinSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinSource::File(p) => write!(f, "file {}", p.display()),
            PinSource::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

/// A parsed `pkcs11:` URI naming one private key on one token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkcs11Uri {
    token: Option<String>,
    serial: Option<String>,
    manufacturer: Option<String>,
    model: Option<String>,
    slot_id: Option<u64>,
    object: Option<String>,
    id: Option<Vec<u8>>,
    module_path: Option<PathBuf>,
    pin_source: Option<PinSource>,
}

impl Pkcs11Uri {
    /// Parses and checks a URI: it names a token and a key, and carries no PIN.
    pub fn parse(text: &str) -> Result<Self, UriError> {
        if text.len() > MAX_URI_LEN {
            return Err(UriError::TooLong {
                len: text.len(),
                max: MAX_URI_LEN,
            });
        }
        let rest = text.strip_prefix("pkcs11:").ok_or(UriError::NotPkcs11)?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut uri = Pkcs11Uri {
            token: None,
            serial: None,
            manufacturer: None,
            model: None,
            slot_id: None,
            object: None,
            id: None,
            module_path: None,
            pin_source: None,
        };
        let mut seen: Vec<String> = Vec::new();
        let mut once = |name: &str| {
            if seen.iter().any(|s| s == name) {
                return Err(UriError::DuplicateAttribute {
                    attribute: name.to_owned(),
                });
            }
            seen.push(name.to_owned());
            Ok(())
        };
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = attr.split_once('=').unwrap_or((attr, ""));
            once(name)?;
            match name {
                "token" => uri.token = Some(text_value(name, value)?),
                "serial" => uri.serial = Some(text_value(name, value)?),
                "manufacturer" => uri.manufacturer = Some(text_value(name, value)?),
                "model" => uri.model = Some(text_value(name, value)?),
                "slot-id" => {
                    uri.slot_id = Some(
                        text_value(name, value)?
                            .parse()
                            .map_err(|_| UriError::BadSlotId)?,
                    )
                }
                "object" => uri.object = Some(text_value(name, value)?),
                "id" => uri.id = Some(decode(name, value)?),
                "type" => {
                    let t = text_value(name, value)?;
                    if t != "private" {
                        return Err(UriError::NotPrivateKey {
                            found: t.chars().take(32).collect(),
                        });
                    }
                }
                other => {
                    return Err(UriError::UnknownAttribute {
                        attribute: other.chars().take(32).collect(),
                    });
                }
            }
        }
        for attr in query.into_iter().flat_map(|q| q.split('&')) {
            if attr.is_empty() {
                continue;
            }
            let (name, value) = attr.split_once('=').unwrap_or((attr, ""));
            once(name)?;
            match name {
                "pin-value" => return Err(UriError::PinValueForbidden),
                "pin-source" => uri.pin_source = Some(pin_source(&text_value(name, value)?)?),
                "module-path" => uri.module_path = Some(PathBuf::from(text_value(name, value)?)),
                "module-name" => return Err(UriError::ModuleNameUnsupported),
                other => {
                    return Err(UriError::UnknownAttribute {
                        attribute: other.chars().take(32).collect(),
                    });
                }
            }
        }
        if uri.token.is_none() && uri.serial.is_none() && uri.slot_id.is_none() {
            return Err(UriError::NoToken);
        }
        if uri.object.is_none() && uri.id.is_none() {
            return Err(UriError::NoObject);
        }
        Ok(uri)
    }

    /// The token's label, if the URI gives one.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The token's serial number, if given.
    pub fn serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }

    /// The token's manufacturer, if given.
    pub fn manufacturer(&self) -> Option<&str> {
        self.manufacturer.as_deref()
    }

    /// The token's model, if given.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }

    /// The slot id, if given.
    pub fn slot_id(&self) -> Option<u64> {
        self.slot_id
    }

    /// The key's label (CKA_LABEL), if given.
    pub fn object(&self) -> Option<&str> {
        self.object.as_deref()
    }

    /// The key's CKA_ID, if given.
    pub fn id(&self) -> Option<&[u8]> {
        self.id.as_deref()
    }

    /// The PKCS#11 module, if the URI names it.
    pub fn module_path(&self) -> Option<&std::path::Path> {
        self.module_path.as_deref()
    }

    /// Where the PIN is read from, if the URI says.
    pub fn pin_source(&self) -> Option<&PinSource> {
        self.pin_source.as_ref()
    }

    /// The same URI with `id` set (after generating a key whose id the token or Axis chose).
    pub fn with_id(&self, id: Vec<u8>) -> Self {
        Pkcs11Uri {
            id: Some(id),
            ..self.clone()
        }
    }

    /// How messages name the token: its label, else its serial, else its slot.
    pub fn token_name(&self) -> String {
        match (&self.token, &self.serial, self.slot_id) {
            (Some(t), _, _) => t.clone(),
            (None, Some(s), _) => format!("serial {s}"),
            (None, None, Some(id)) => format!("slot {id}"),
            (None, None, None) => "?".to_owned(),
        }
    }

    /// How messages name the key: `object=… id=…`.
    pub fn object_name(&self) -> String {
        let mut parts = Vec::new();
        if let Some(o) = &self.object {
            parts.push(format!("object={}", encode(o.as_bytes(), false)));
        }
        if let Some(id) = &self.id {
            parts.push(format!("id={}", encode(id, true)));
        }
        parts.join(" ")
    }
}

impl std::str::FromStr for Pkcs11Uri {
    type Err = UriError;
    fn from_str(s: &str) -> Result<Self, UriError> {
        Pkcs11Uri::parse(s)
    }
}

/// The canonical form (attributes in a fixed order, values percent-encoded as needed). It
/// names the PIN's source, never the PIN.
impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path = Vec::new();
        let text = |name: &str, v: &Option<String>, out: &mut Vec<String>| {
            if let Some(v) = v {
                out.push(format!("{name}={}", encode(v.as_bytes(), false)));
            }
        };
        text("token", &self.token, &mut path);
        text("serial", &self.serial, &mut path);
        text("manufacturer", &self.manufacturer, &mut path);
        text("model", &self.model, &mut path);
        if let Some(s) = self.slot_id {
            path.push(format!("slot-id={s}"));
        }
        text("object", &self.object, &mut path);
        if let Some(id) = &self.id {
            path.push(format!("id={}", encode(id, true)));
        }
        write!(f, "pkcs11:{}", path.join(";"))?;
        let mut query = Vec::new();
        if let Some(m) = &self.module_path {
            query.push(format!(
                "module-path={}",
                encode(m.to_string_lossy().as_bytes(), false)
            ));
        }
        match &self.pin_source {
            Some(PinSource::File(p)) => query.push(format!(
                "pin-source=file:{}",
                encode(p.to_string_lossy().as_bytes(), false)
            )),
            Some(PinSource::Env(v)) => query.push(format!("pin-source=env:{v}")),
            None => {}
        }
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

fn pin_source(value: &str) -> Result<PinSource, UriError> {
    if let Some(var) = value.strip_prefix("env:") {
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(UriError::BadPinSource);
        }
        return Ok(PinSource::Env(var.to_owned()));
    }
    let path = value
        .strip_prefix("file://")
        .or_else(|| value.strip_prefix("file:"))
        .or_else(|| value.starts_with('/').then_some(value))
        .ok_or(UriError::BadPinSource)?;
    if path.is_empty() {
        return Err(UriError::BadPinSource);
    }
    Ok(PinSource::File(PathBuf::from(path)))
}

fn text_value(name: &str, value: &str) -> Result<String, UriError> {
    String::from_utf8(decode(name, value)?).map_err(|_| UriError::BadEncoding {
        attribute: name.to_owned(),
    })
}

fn decode(name: &str, value: &str) -> Result<Vec<u8>, UriError> {
    let bad = || UriError::BadEncoding {
        attribute: name.to_owned(),
    };
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Percent-encodes what is not unreserved (RFC 3986) or one of `:/@`; every byte when `all`
/// (ids are bytes, RFC 7512 §2.3 recommends encoding them whole).
fn encode(bytes: &[u8], all: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        let keep = !all && (b.is_ascii_alphanumeric() || b"-._~:/@".contains(&b));
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn refused(text: &str, expected: UriError) {
        assert_eq!(Pkcs11Uri::parse(text), Err(expected), "{text}");
    }

    #[test]
    fn a_full_uri_round_trips() {
        let text = "pkcs11:token=axis%20ca;object=root;id=%01%ff?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/axis/ca.pin";
        let uri = Pkcs11Uri::parse(text).unwrap();
        assert_eq!(uri.token(), Some("axis ca"));
        assert_eq!(uri.object(), Some("root"));
        assert_eq!(uri.id(), Some(&[1u8, 0xff][..]));
        assert_eq!(
            uri.pin_source(),
            Some(&PinSource::File("/etc/axis/ca.pin".into()))
        );
        let again = Pkcs11Uri::parse(&uri.to_string()).unwrap();
        assert_eq!(again, uri);
        assert_eq!(
            uri.to_string(),
            "pkcs11:token=axis%20ca;object=root;id=%01%FF?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/axis/ca.pin"
        );
    }

    #[test]
    fn pin_sources() {
        let p = |s: &str| {
            Pkcs11Uri::parse(&format!("pkcs11:token=t;object=k?pin-source={s}"))
                .map(|u| u.pin_source().cloned())
        };
        assert_eq!(
            p("env:AXIS_PIN"),
            Ok(Some(PinSource::Env("AXIS_PIN".into())))
        );
        assert_eq!(p("/run/pin"), Ok(Some(PinSource::File("/run/pin".into()))));
        assert_eq!(
            p("file:///run/pin"),
            Ok(Some(PinSource::File("/run/pin".into())))
        );
        assert_eq!(
            p("file:pin.txt"),
            Ok(Some(PinSource::File("pin.txt".into())))
        );
        assert_eq!(p("env:"), Err(UriError::BadPinSource));
        assert_eq!(p("env:A B"), Err(UriError::BadPinSource));
        assert_eq!(p("https://x/pin"), Err(UriError::BadPinSource));
    }

    #[test]
    fn refusals_each_name_their_cause() {
        refused("file:/etc/key.pem", UriError::NotPkcs11);
        refused(
            "pkcs11:token=t;object=k?pin-value=1234",
            UriError::PinValueForbidden,
        );
        refused(
            "pkcs11:token=t;objet=k",
            UriError::UnknownAttribute {
                attribute: "objet".into(),
            },
        );
        refused(
            "pkcs11:token=t;object=k;object=j",
            UriError::DuplicateAttribute {
                attribute: "object".into(),
            },
        );
        refused("pkcs11:object=k", UriError::NoToken);
        refused("pkcs11:token=t", UriError::NoObject);
        refused(
            "pkcs11:token=t;object=k;type=cert",
            UriError::NotPrivateKey {
                found: "cert".into(),
            },
        );
        refused(
            "pkcs11:token=t;id=%zz",
            UriError::BadEncoding {
                attribute: "id".into(),
            },
        );
        refused(
            "pkcs11:token=t;id=%0",
            UriError::BadEncoding {
                attribute: "id".into(),
            },
        );
        refused(
            "pkcs11:token=t;object=k?module-name=softhsm2",
            UriError::ModuleNameUnsupported,
        );
        refused("pkcs11:slot-id=x;object=k", UriError::BadSlotId);
        let long = format!("pkcs11:token=t;object={}", "a".repeat(MAX_URI_LEN));
        assert!(matches!(
            Pkcs11Uri::parse(&long),
            Err(UriError::TooLong { .. })
        ));
    }

    #[test]
    fn a_token_may_be_named_by_serial_or_slot() {
        let u = Pkcs11Uri::parse("pkcs11:serial=0123abcd;id=%01;type=private").unwrap();
        assert_eq!(u.token_name(), "serial 0123abcd");
        assert_eq!(u.object_name(), "id=%01");
        let u = Pkcs11Uri::parse("pkcs11:slot-id=3;object=seal").unwrap();
        assert_eq!(u.token_name(), "slot 3");
    }
}
