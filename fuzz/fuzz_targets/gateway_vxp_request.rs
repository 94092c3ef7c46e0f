//! Untrusted requests at the gateway (what any local process can send it): the `XroadVnpt-*`
//! sign-header JSON and its HMAC, the `to` parameter, the `sendEdoc` body (raw, or a multipart
//! part `file_doc`), and the JSON API's multipart send (a `metadata` JSON part and file parts)
//! made into a document.
#![no_main]
use std::sync::OnceLock;

use axis_gateway::submission::{self, Submission};
use axis_gateway::vxp::{self, auth};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, header};
use libfuzzer_sys::fuzz_target;

const SYSTEM: &str = "vxp.saas.01";
const SECRET: &[u8] = b"secret-of-the-dms-0001";
const BOUNDARY: &str = "axisfuzzboundary";
/// The body budget (a fuzzed body is far smaller: its limit is reached by parts, not bytes).
const MAX_BODY: u64 = 1 << 20;

/// A gateway configuration with one VXP system (its secret read from a file at parse time).
fn config() -> &'static axis_gateway::Config {
    static CONFIG: OnceLock<axis_gateway::Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret"), SECRET).unwrap();
        let text = format!(
            "agency_config = \"agency.toml\"\n[[vxp.systems]]\nid = \"{SYSTEM}\"\nsecret_file = \"secret\"\n"
        );
        axis_gateway::Config::from_toml(&text, dir.path()).unwrap()
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    })
}

fn request(content_type: &str, body: &[u8]) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/sendEdoc")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_vec()))
        .unwrap()
}

fn multipart() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    match selector % 5 {
        // The HMAC headers: the sign-header as sent, with its true HMAC (so the parameters
        // are read) or with a wrong one (refused, whatever the JSON).
        0 | 1 => {
            let Ok(sign) = HeaderValue::from_bytes(rest) else {
                return;
            };
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET);
            let mut tag = ring::hmac::sign(&key, rest).as_ref().to_vec();
            let true_tag = selector % 5 == 0;
            if !true_tag {
                tag[0] ^= 1;
            }
            let mut headers = HeaderMap::new();
            headers.insert("xroadvnpt-sign-header", sign);
            headers.insert(
                "xroadvnpt-hash-header",
                HeaderValue::from_str(&hex::encode(&tag)).unwrap(),
            );
            match auth::authenticate(&headers, config()) {
                Ok(call) => {
                    assert!(true_tag, "a wrong HMAC authenticated");
                    assert_eq!(call.system, SYSTEM);
                    if let Some(to) = call.param("to") {
                        let _ = vxp::parse_to(to);
                    }
                    let _ = call.param("messagetype");
                }
                Err(auth::AuthError::UnknownSystem(s)) => assert_ne!(s, SYSTEM),
                Err(auth::AuthError::Hmac(_)) => {}
            }
        }
        // `to` alone (a JSON array, one id, or ids separated by commas).
        2 => {
            if let Ok(to) = std::str::from_utf8(rest)
                && let Ok(ids) = vxp::parse_to(to)
            {
                assert!(ids.len() <= to.len());
            }
        }
        // `sendEdoc`'s raw body: taken as sent, never altered.
        3 => {
            let body = runtime().block_on(submission::read_package(
                request("application/octet-stream", rest),
                MAX_BODY,
            ));
            if let Ok(body) = body {
                assert_eq!(body, rest);
            }
            // The same bytes as a multipart body: the part `file_doc` (or the first file).
            let _ = runtime().block_on(submission::read_package(
                request(&multipart(), rest),
                MAX_BODY,
            ));
        }
        // The JSON API's send: metadata and attachments (or one package) made into a document.
        _ => {
            let read = runtime().block_on(submission::read(request(&multipart(), rest), MAX_BODY));
            if let Ok(s) = read {
                if let Submission::Json { files, .. } = &s {
                    assert!(files.len() <= submission::MAX_PARTS);
                }
                let _ = s.digest();
                if let Ok(doc) = s.document(None) {
                    assert!(!doc.recipients.is_empty());
                }
            }
        }
    }
});
