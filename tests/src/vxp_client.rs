//! A legacy DMS's VXP client, written here from the protocol alone (domain reference §4, §9.4)
//! and sharing no code with the gateway: HTTP/1.1 by hand over TCP, the `XroadVnpt-*`
//! headers, the HMAC-SHA256 of the sign-header JSON, the JSON envelopes. It sends `sendEdoc`
//! as VNPT's SDK really does (the raw edXML and a CRLF, `application/octet-stream`) or as a
//! real multipart part `file_doc`.

use std::net::SocketAddr;

use base64::Engine as _;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// How `sendEdoc` carries the package.
#[derive(Clone, Copy, Debug)]
pub enum Body {
    /// The raw edXML followed by CRLF, `application/octet-stream` (VNPT's SDK).
    Raw,
    /// `multipart/form-data` with the part `file_doc`.
    Multipart,
}

/// A DMS's VXP client.
#[derive(Clone)]
pub struct VxpClient {
    pub addr: SocketAddr,
    pub system: String,
    pub secret: Vec<u8>,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// The JSON envelope.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// `ErrorCode` of the envelope.
    pub fn error_code(&self) -> String {
        self.json()["ErrorCode"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl VxpClient {
    pub fn new(addr: SocketAddr, system: &str, secret: &[u8]) -> Self {
        VxpClient {
            addr,
            system: system.into(),
            secret: secret.to_vec(),
        }
    }

    /// The signed headers of a call, in the SDK's layout.
    pub fn headers(&self, params: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut pairs = vec![
            (
                "XroadVnpt-timestamp".to_owned(),
                "15032026T101010+0700".to_owned(),
            ),
            ("XroadVnpt-systemid".to_owned(), self.system.clone()),
        ];
        for (k, v) in params {
            pairs.push((format!("XroadVnpt-{k}"), (*v).to_owned()));
        }
        // Gson writes a flat object of strings; escape as JSON does.
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), Value::String(v.clone())))
            .collect();
        let sign = format!("{{{}}}", body.join(","));
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.secret);
        let hash = hex::encode(ring::hmac::sign(&key, sign.as_bytes()).as_ref());
        let names: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
        let mut h = pairs;
        h.push(("XroadVnpt-sign-header-key".into(), names.join(";")));
        h.push(("XroadVnpt-sign-header".into(), sign));
        h.push(("XroadVnpt-hash-header".into(), hash));
        h.push(("XroadVnpt-version".into(), "3.0.201608".into()));
        h
    }

    /// One request with these headers.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        content_type: &str,
        body: &[u8],
    ) -> Answer {
        let mut req = format!(
            "{method} /{path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: JAVASDKAgent/1.0.0 XRoad/VPCP\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        for (k, v) in headers {
            req.extend_from_slice(k.as_bytes());
            req.extend_from_slice(b": ");
            req.extend_from_slice(v.as_bytes());
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(body);
        let mut s = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        // A server may answer (and close) before reading a refused body.
        let _ = s.write_all(&req).await;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        parse_response(&out)
    }

    /// A call with its parameters and body (POST unless `downloadEdoc`).
    pub async fn call(&self, path: &str, params: &[(&str, &str)], body: &[u8]) -> Answer {
        let method = if path == "downloadEdoc" {
            "GET"
        } else {
            "POST"
        };
        let ct = if body == b"{}" {
            "application/json"
        } else {
            "application/x-www-form-urlencoded"
        };
        self.raw(method, path, &self.headers(params), ct, body)
            .await
    }

    /// `sendEdoc`.
    pub async fn send_edoc(
        &self,
        from: &str,
        messagetype: &str,
        package: &[u8],
        how: Body,
    ) -> Answer {
        let params = [
            ("from", from),
            ("servicetype", "eDoc"),
            ("messagetype", messagetype),
        ];
        self.send_with(&params, package, how).await
    }

    /// `sendEdoc` with these parameters.
    pub async fn send_with(&self, params: &[(&str, &str)], package: &[u8], how: Body) -> Answer {
        let headers = self.headers(params);
        match how {
            Body::Raw => {
                let mut body = package.to_vec();
                body.extend_from_slice(b"\r\n");
                self.raw(
                    "POST",
                    "sendEdoc",
                    &headers,
                    "application/octet-stream",
                    &body,
                )
                .await
            }
            Body::Multipart => {
                let boundary = "----VxpBoundary7MA4YWxkTrZu0gW";
                let mut body = format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file_doc\"; filename=\"doc.edxml\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .into_bytes();
                body.extend_from_slice(package);
                body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
                self.raw(
                    "POST",
                    "sendEdoc",
                    &headers,
                    &format!("multipart/form-data; boundary={boundary}"),
                    &body,
                )
                .await
            }
        }
    }

    /// `getReceivedEdocList`: the mailbox's items (docId, from, …).
    pub async fn received(&self, messagetype: &str) -> Vec<Value> {
        let a = self
            .call(
                "getReceivedEdocList",
                &[("servicetype", "eDoc"), ("messagetype", messagetype)],
                b"",
            )
            .await;
        let j = a.json();
        assert_eq!(j["status"], "OK", "{j}");
        j["data"].as_array().cloned().unwrap_or_default()
    }

    /// `getEdoc`: the package, decoded from base64.
    pub async fn get_edoc(&self, doc_id: &str) -> Vec<u8> {
        let a = self.call("getEdoc", &[("docId", doc_id)], b"{}").await;
        let j = a.json();
        assert_eq!(j["status"], "OK", "{j}");
        base64::engine::general_purpose::STANDARD
            .decode(j["data"].as_str().unwrap())
            .unwrap()
    }

    /// `updateStatus`.
    pub async fn update_status(&self, doc_id: &str, status: &str) -> Answer {
        self.call(
            "updateStatus",
            &[("docid", doc_id), ("status", status)],
            b"{}",
        )
        .await
    }

    /// Polls `getReceivedEdocList` until `n` items are there (or 60 s pass).
    pub async fn wait_for(&self, messagetype: &str, n: usize) -> Vec<Value> {
        for _ in 0..600 {
            let items = self.received(messagetype).await;
            if items.len() >= n {
                return items;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{n} {messagetype} items never arrived");
    }
}

/// An HTTP/1.1 answer read to the end (the body de-chunked).
pub fn parse_response(out: &[u8]) -> Answer {
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {}", String::from_utf8_lossy(out)));
    let head = String::from_utf8_lossy(&out[..end]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap();
    let chunked = lines.any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let mut body = out[end + 4..].to_vec();
    if chunked {
        let mut plain = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&rest[..nl])
                    .split(';')
                    .next()
                    .unwrap()
                    .trim(),
                16,
            )
            .unwrap();
            rest = &rest[nl + 2..];
            if size == 0 {
                break;
            }
            plain.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body = plain;
    }
    Answer { status, body }
}
