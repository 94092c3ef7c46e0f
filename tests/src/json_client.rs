//! A new DMS's client of the gateway's JSON API, written from its OpenAPI document alone and
//! sharing no code with the gateway: HTTP/1.1 by hand over TCP, `Authorization: Bearer` when
//! the gateway has a token, JSON and RFC 9457 problem details.

use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

pub use crate::vxp_client::Answer;

/// A DMS's JSON API client.
#[derive(Clone)]
pub struct JsonClient {
    pub addr: SocketAddr,
    pub token: Option<String>,
}

impl JsonClient {
    pub fn new(addr: SocketAddr, token: Option<&str>) -> Self {
        JsonClient {
            addr,
            token: token.map(str::to_owned),
        }
    }

    /// One request; `path` starts with `/` and may carry a query string.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Answer {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if let Some(t) = &self.token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        req.push_str("\r\n");
        let mut req = req.into_bytes();
        req.extend_from_slice(body);
        let mut s = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let _ = s.write_all(&req).await;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        crate::vxp_client::parse_response(&out)
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request("GET", path, "application/json", b"").await
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let a = self.get(path).await;
        assert_eq!(
            a.status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&a.body)
        );
        a.json()
    }

    /// `POST /api/v1/documents` (or `statuses`) with the edXML as the body.
    pub async fn send_edxml(&self, path: &str, package: &[u8]) -> Answer {
        self.request("POST", path, "application/xml", package).await
    }

    /// Reads the mailbox from `cursor` until `n` items have come; returns them and the cursor
    /// to resume from.
    pub async fn wait_received(
        &self,
        kind: &str,
        mut cursor: Option<String>,
        n: usize,
    ) -> (Vec<Value>, Option<String>) {
        let mut items = Vec::new();
        for _ in 0..600 {
            let q = match &cursor {
                Some(c) => format!("/api/v1/received?kind={kind}&limit=1&cursor={c}"),
                None => format!("/api/v1/received?kind={kind}&limit=1"),
            };
            let page = self.get_json(&q).await;
            if let Some(c) = page["next_cursor"].as_str() {
                cursor = Some(c.to_owned());
            }
            let got = page["items"].as_array().cloned().unwrap_or_default();
            let empty = got.is_empty();
            items.extend(got);
            if items.len() >= n {
                return (items, cursor);
            }
            if empty {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        panic!("{n} {kind} items never arrived; got {items:?}");
    }
}
