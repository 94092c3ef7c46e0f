//! The `XroadVnpt-*` HMAC header scheme of VNPT's VXP SDK, as the domain reference (§4.2,
//! §9.4) describes what the SDK really sends.
//!
//! The SDK puts every logical parameter in a header `XroadVnpt-<name>`, then signs a JSON
//! object of those pairs: `XroadVnpt-sign-header` is that JSON, `XroadVnpt-hash-header` the
//! lowercase hex HMAC-SHA256 of its UTF-8 bytes under the system's secret.
//!
//! 1. Both headers must be there, the JSON at most [`MAX_SIGN_HEADER`] bytes and an object
//!    of at most [`MAX_PARAMS`] scalar values (a budget on untrusted input).
//! 2. The `systemid` is read **from the signed JSON** and must be configured.
//! 3. The HMAC is verified over the sign-header string **exactly as received** (never over a
//!    re-serialisation: Gson's key order and escaping are the client's), in constant time.
//! 4. Every parameter is then read from the verified JSON, never from the unsigned headers
//!    beside it. Names are compared without the prefix and without case (`docid`/`docId`).
//!
//! Quirks tolerated: the SDK sets its timestamp once per process and reuses one header map, so
//! keys of earlier calls leak into later ones; the timestamp is not checked for freshness and
//! unknown keys are ignored (replay protection comes from loopback or TLS, and from
//! idempotency: the same package twice is one send).

use std::collections::BTreeMap;

use axum::http::HeaderMap;

use crate::config::Config;

/// Largest `XroadVnpt-sign-header` accepted.
pub const MAX_SIGN_HEADER: usize = 16 * 1024;
/// Most parameters in it.
pub const MAX_PARAMS: usize = 64;
/// The header prefix.
const PREFIX: &str = "xroadvnpt-";

/// Why a VXP request is not authenticated.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthError {
    /// A header is missing or malformed, or the HMAC does not verify.
    Hmac(&'static str),
    /// The systemid is not configured.
    UnknownSystem(String),
}

/// An authenticated VXP request: the system and its signed parameters.
#[derive(Debug, Clone)]
pub struct VxpCall {
    /// The `systemid`.
    pub system: String,
    params: BTreeMap<String, String>,
}

impl VxpCall {
    /// A signed parameter, by name without the prefix, any case.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .get(&name.to_ascii_lowercase())
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Verifies a request's HMAC headers (steps above).
pub fn authenticate(headers: &HeaderMap, config: &Config) -> Result<VxpCall, AuthError> {
    // Step 1.
    let sign = headers
        .get("xroadvnpt-sign-header")
        .ok_or(AuthError::Hmac("XroadVnpt-sign-header is missing"))?
        .as_bytes();
    if sign.len() > MAX_SIGN_HEADER {
        return Err(AuthError::Hmac("XroadVnpt-sign-header is too long"));
    }
    let hash = headers
        .get("xroadvnpt-hash-header")
        .ok_or(AuthError::Hmac("XroadVnpt-hash-header is missing"))?
        .to_str()
        .map_err(|_| AuthError::Hmac("XroadVnpt-hash-header is not hex"))?;
    let tag = hex::decode(hash.trim().to_ascii_lowercase())
        .map_err(|_| AuthError::Hmac("XroadVnpt-hash-header is not hex"))?;
    let params = parse_params(sign)?;
    // Step 2.
    let system = params
        .get("systemid")
        .ok_or(AuthError::Hmac(
            "XroadVnpt-sign-header does not sign a systemid",
        ))?
        .trim()
        .to_owned();
    let configured = config
        .vxp_system(&system)
        .ok_or_else(|| AuthError::UnknownSystem(system.clone()))?;
    // Step 3.
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, configured.secret.expose());
    ring::hmac::verify(&key, sign, &tag)
        .map_err(|_| AuthError::Hmac("XroadVnpt-hash-header is not the HMAC of the sign-header"))?;
    // Step 4.
    Ok(VxpCall { system, params })
}

/// The signed JSON's pairs, names without the prefix and lowercased.
fn parse_params(sign: &[u8]) -> Result<BTreeMap<String, String>, AuthError> {
    let value: serde_json::Value = serde_json::from_slice(sign)
        .map_err(|_| AuthError::Hmac("XroadVnpt-sign-header is not a JSON object"))?;
    let object = value.as_object().ok_or(AuthError::Hmac(
        "XroadVnpt-sign-header is not a JSON object",
    ))?;
    if object.len() > MAX_PARAMS {
        return Err(AuthError::Hmac("XroadVnpt-sign-header has too many keys"));
    }
    let mut params = BTreeMap::new();
    for (k, v) in object {
        let lower = k.to_ascii_lowercase();
        let name = lower.strip_prefix(PREFIX).unwrap_or(&lower).to_owned();
        let value = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => String::new(),
            // `to` is sometimes a JSON array written as a value rather than as a string.
            other @ serde_json::Value::Array(_) => other.to_string(),
            serde_json::Value::Object(_) => {
                return Err(AuthError::Hmac("XroadVnpt-sign-header nests an object"));
            }
        };
        params.insert(name, value);
    }
    Ok(params)
}

/// What VNPT's SDK sends (for tests, the demo and the legacy client of the test suite): the
/// headers of a call signed with `secret`, parameters in the given order.
pub fn sign_headers(system: &str, secret: &[u8], params: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = vec![
        ("XroadVnpt-systemid".into(), system.into()),
        ("XroadVnpt-timestamp".into(), "01012026T000000+0700".into()),
    ];
    pairs.extend(
        params
            .iter()
            .map(|(k, v)| (format!("XroadVnpt-{k}"), (*v).to_owned())),
    );
    let mut json = serde_json::Map::new();
    for (k, v) in &pairs {
        json.insert(k.clone(), serde_json::Value::String(v.clone()));
    }
    let sign = serde_json::Value::Object(json).to_string();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let hash = hex::encode(ring::hmac::sign(&key, sign.as_bytes()).as_ref());
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    let mut headers = pairs.clone();
    headers.push(("XroadVnpt-sign-header-key".into(), names.join(";")));
    headers.push(("XroadVnpt-sign-header".into(), sign));
    headers.push(("XroadVnpt-hash-header".into(), hash));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn config() -> Config {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("s"), "secret-of-the-dms-0001").unwrap();
        Config::from_toml(
            "agency_config = \"a.toml\"\n[[vxp.systems]]\nid = \"vxp.saas.01\"\nsecret_file = \"s\"\n",
            d.path(),
        )
        .unwrap()
    }

    fn headers(pairs: &[(String, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_bytes(v.as_bytes()).unwrap(),
            );
        }
        h
    }

    #[test]
    fn a_signed_call_authenticates_and_reads_signed_values() {
        let h = headers(&sign_headers(
            "vxp.saas.01",
            b"secret-of-the-dms-0001",
            &[("docId", "abc"), ("from", "000.00.00.G22")],
        ));
        let call = authenticate(&h, &config()).unwrap();
        assert_eq!(call.system, "vxp.saas.01");
        assert_eq!(call.param("docid"), Some("abc"));
        assert_eq!(call.param("DocId"), Some("abc"));
        assert_eq!(call.param("from"), Some("000.00.00.G22"));
        assert_eq!(call.param("to"), None);
    }

    #[test]
    fn the_hmac_is_over_the_string_as_received() {
        // Keys in another order than a re-serialisation would give, Vietnamese text as UTF-8.
        let sign = r#"{"XroadVnpt-timestamp":"01012026T000000+0700","XroadVnpt-systemid":"vxp.saas.01","XroadVnpt-status":"Đã xử lý"}"#;
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"secret-of-the-dms-0001");
        let hash = hex::encode_upper(ring::hmac::sign(&key, sign.as_bytes()).as_ref());
        let h = headers(&[
            ("XroadVnpt-sign-header".into(), sign.into()),
            ("XroadVnpt-hash-header".into(), hash),
        ]);
        let call = authenticate(&h, &config()).unwrap();
        assert_eq!(call.param("status"), Some("Đã xử lý"));
    }

    #[track_caller]
    fn refused(pairs: Vec<(String, String)>, expected: AuthError) {
        assert_eq!(
            authenticate(&headers(&pairs), &config()).unwrap_err(),
            expected
        );
    }

    #[test]
    fn each_broken_variant_is_refused() {
        let good = sign_headers("vxp.saas.01", b"secret-of-the-dms-0001", &[("docid", "a")]);
        let with = |name: &str, value: &str| {
            let mut v = good.clone();
            for (k, val) in &mut v {
                if k == name {
                    *val = value.to_owned();
                }
            }
            v
        };
        let without = |name: &str| good.iter().filter(|(k, _)| k != name).cloned().collect();
        refused(
            without("XroadVnpt-hash-header"),
            AuthError::Hmac("XroadVnpt-hash-header is missing"),
        );
        refused(
            without("XroadVnpt-sign-header"),
            AuthError::Hmac("XroadVnpt-sign-header is missing"),
        );
        refused(
            with("XroadVnpt-hash-header", &"0".repeat(64)),
            AuthError::Hmac("XroadVnpt-hash-header is not the HMAC of the sign-header"),
        );
        refused(
            with("XroadVnpt-hash-header", "zz"),
            AuthError::Hmac("XroadVnpt-hash-header is not hex"),
        );
        refused(
            sign_headers("vxp.saas.01", b"another-secret-000000", &[]),
            AuthError::Hmac("XroadVnpt-hash-header is not the HMAC of the sign-header"),
        );
        refused(
            sign_headers("vxp.saas.99", b"secret-of-the-dms-0001", &[]),
            AuthError::UnknownSystem("vxp.saas.99".into()),
        );
        refused(
            with("XroadVnpt-sign-header", "[1]"),
            AuthError::Hmac("XroadVnpt-sign-header is not a JSON object"),
        );
        // A changed value in the signed JSON (the unsigned header beside it does not count).
        let tampered = with(
            "XroadVnpt-sign-header",
            &good
                .iter()
                .find(|(k, _)| k == "XroadVnpt-sign-header")
                .unwrap()
                .1
                .replace("\"a\"", "\"b\""),
        );
        refused(
            tampered,
            AuthError::Hmac("XroadVnpt-hash-header is not the HMAC of the sign-header"),
        );
    }
}
