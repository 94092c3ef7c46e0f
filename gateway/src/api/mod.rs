//! The JSON API for new integrations, described by the OpenAPI 3 document it serves at
//! `/openapi.json` ([`OPENAPI`]). The routes are made from that document: each operation's
//! `operationId` names its handler ([`Op`]), so the document and the routes served cannot
//! drift apart (a unit test checks that every handler has an operation and every operation a
//! handler).
//!
//! Errors are RFC 9457 problem details (`application/problem+json`) with the machine-readable
//! `reason` of [`Refusal`]. When the gateway has a JSON token (required off loopback), every
//! call but `/openapi.json` needs `Authorization: Bearer <token>`, compared in constant time.

use std::collections::HashMap;
use std::sync::Arc;

use axis_proto::reasons::gateway as gw;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use serde_json::{Value, json};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::Refusal;
use crate::prepared::PrepareAnswer;
use crate::service::Gateway;
use crate::store::{MailItem, kind, mail_state};
use crate::vxp::rfc3339;

/// The OpenAPI 3 document, as served.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Most items in one page.
const PAGE_MAX: i64 = 1000;
/// Items in a page when the client does not say.
const PAGE_DEFAULT: i64 = 100;
/// The system id the JSON API's sends are kept under (the VXP API's are the DMS's systemid).
const JSON_SYSTEM: &str = "json";

/// The operations, by `operationId`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `GET /openapi.json`.
    Openapi,
    /// Send an edXML document.
    SendDocument,
    /// Step 1 of the two-step send.
    PrepareDocument,
    /// The bytes of a raw personal signature.
    ToBeSigned,
    /// Step 2 of the two-step send: the person's signature.
    SignPrepared,
    /// Send an edXML status.
    SendStatus,
    /// A page of the mailbox.
    ListReceived,
    /// One item.
    GetReceived,
    /// One item's package.
    GetReceivedEdxml,
    /// The DMS's acknowledgement.
    AckReceived,
    /// A sent document and its history.
    GetSent,
    /// A sent document's evidence bundle.
    GetSentEvidence,
    /// The directory.
    Directory,
}

impl Op {
    /// Every operation.
    pub const ALL: [Op; 13] = [
        Op::Openapi,
        Op::SendDocument,
        Op::PrepareDocument,
        Op::ToBeSigned,
        Op::SignPrepared,
        Op::SendStatus,
        Op::ListReceived,
        Op::GetReceived,
        Op::GetReceivedEdxml,
        Op::AckReceived,
        Op::GetSent,
        Op::GetSentEvidence,
        Op::Directory,
    ];

    /// Its `operationId`.
    pub fn id(self) -> &'static str {
        match self {
            Op::Openapi => "openapi",
            Op::SendDocument => "sendDocument",
            Op::PrepareDocument => "prepareDocument",
            Op::ToBeSigned => "toBeSigned",
            Op::SignPrepared => "signPrepared",
            Op::SendStatus => "sendStatus",
            Op::ListReceived => "listReceived",
            Op::GetReceived => "getReceived",
            Op::GetReceivedEdxml => "getReceivedEdxml",
            Op::AckReceived => "ackReceived",
            Op::GetSent => "getSent",
            Op::GetSentEvidence => "getSentEvidence",
            Op::Directory => "directory",
        }
    }
}

/// One route of the document: method, path, operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`…
    pub method: Method,
    /// The path, `{name}` for a parameter (axum's syntax too).
    pub path: String,
    /// The operation.
    pub op: Op,
}

/// The routes the document describes, each with its handler; an error names an operation
/// without a handler.
pub fn routes() -> Result<Vec<Route>, String> {
    let doc: Value = serde_json::from_str(OPENAPI).map_err(|e| format!("openapi.json: {e}"))?;
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("openapi.json has no paths")?;
    let mut out = Vec::new();
    for (path, item) in paths {
        let item = item.as_object().ok_or(format!("{path}: not an object"))?;
        for (method, operation) in item {
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                .map_err(|e| format!("{path}: {method}: {e}"))?;
            let id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .ok_or(format!("{method} {path}: no operationId"))?;
            let op = Op::ALL
                .into_iter()
                .find(|o| o.id() == id)
                .ok_or(format!("{method} {path}: no handler for operationId {id}"))?;
            out.push(Route {
                method,
                path: path.clone(),
                op,
            });
        }
    }
    Ok(out)
}

/// The routes of the JSON API, made from the OpenAPI document.
///
/// # Panics
/// Never for the document compiled in (the unit tests read it); a damaged document would be a
/// build defect, reported at start rather than hidden.
pub fn router() -> Router<Arc<Gateway>> {
    let mut r = Router::new();
    let routes = match routes() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "the JSON API's OpenAPI document is damaged; JSON API off");
            return r;
        }
    };
    for route in routes {
        let Ok(filter) = MethodFilter::try_from(route.method.clone()) else {
            continue;
        };
        let op = route.op;
        r = r.route(
            &route.path,
            on(filter, move |s: State<Arc<Gateway>>, req: Request| {
                handle(s, req, op)
            }),
        );
    }
    r
}

/// An RFC 9457 problem detail.
pub struct Problem(pub Refusal);

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let r = self.0;
        let body = json!({
            "type": format!("urn:axis:reason:{}", r.reason),
            "title": r.http.canonical_reason().unwrap_or("error"),
            "status": r.http.as_u16(),
            "detail": r.message,
            "reason": r.reason,
        });
        (
            r.http,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}

async fn handle(State(gw_): State<Arc<Gateway>>, req: Request, op: Op) -> Response {
    let result = match authorize(req.headers(), &gw_, op) {
        Err(r) => Err(r),
        Ok(()) => dispatch(&gw_, req, op).await,
    };
    match result {
        Ok(resp) => {
            gw_.metrics.call("json", op.id(), "ok");
            resp
        }
        Err(r) => {
            gw_.metrics.call("json", op.id(), &r.reason);
            tracing::info!(call = op.id(), reason = %r.reason, message = %r.message, "JSON API call refused");
            Problem(r).into_response()
        }
    }
}

/// The bearer token, when the gateway has one; `/openapi.json` is public.
fn authorize(headers: &HeaderMap, gw_: &Gateway, op: Op) -> Result<(), Refusal> {
    let Some(token) = gw_.config.json_token.as_ref() else {
        return Ok(());
    };
    if op == Op::Openapi {
        return Ok(());
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    if constant_time_eq(given.as_bytes(), token.expose()) {
        Ok(())
    } else {
        Err(Refusal::new(
            gw::TOKEN_INVALID,
            StatusCode::UNAUTHORIZED,
            "send Authorization: Bearer <the gateway's JSON token>",
        ))
    }
}

/// Compares the SHA-256 digests byte by byte without stopping early.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let da = ring::digest::digest(&ring::digest::SHA256, a);
    let db = ring::digest::digest(&ring::digest::SHA256, b);
    da.as_ref()
        .iter()
        .zip(db.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

async fn dispatch(gw_: &Arc<Gateway>, req: Request, op: Op) -> Result<Response, Refusal> {
    use axum::RequestExt as _;
    let mut req = req;
    let params: HashMap<String, String> = req
        .extract_parts::<Path<HashMap<String, String>>>()
        .await
        .map(|Path(p)| p)
        .unwrap_or_default();
    let query: HashMap<String, String> = req
        .extract_parts::<Query<HashMap<String, String>>>()
        .await
        .map(|Query(q)| q)
        .map_err(|e| Refusal::malformed(format!("the query string: {e}")))?;
    let id = || {
        params
            .get("id")
            .cloned()
            .ok_or_else(|| Refusal::malformed("the id is missing"))
    };
    match op {
        Op::Openapi => Ok(([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()),
        Op::SendDocument => {
            let to = match query.get("to") {
                Some(t) => Some(crate::vxp::parse_to(t)?),
                None => None,
            };
            // Held until the document is sealed and kept (the end of this arm).
            let _share = crate::submission::reserve(gw_, &req).await?;
            let reading = std::time::Instant::now();
            let body = crate::submission::read(req, gw_.config.max_body_bytes).await?;
            gw_.metrics
                .stage(crate::metrics::stage::SEND_BODY, reading.elapsed());
            let signing = if gw_.client.has_personal_signer() {
                crate::outbox::Signing::GatewayKey
            } else {
                crate::outbox::Signing::SealOnly
            };
            let a = crate::outbox::accept_edoc(gw_, JSON_SYSTEM, &body, to, signing).await?;
            Ok(accepted(&a))
        }
        Op::PrepareDocument => {
            let to = match query.get("to") {
                Some(t) => Some(crate::vxp::parse_to(t)?),
                None => None,
            };
            // Held until the document is prepared (the prepared store has its own budget).
            let _share = crate::submission::reserve(gw_, &req).await?;
            let body = crate::submission::read(req, gw_.config.max_body_bytes).await?;
            let bytes = match &body {
                crate::submission::Submission::Edxml(b) => b.len() as u64,
                crate::submission::Submission::Json { metadata, files } => {
                    metadata.len() as u64 + files.iter().map(|f| f.2.len() as u64).sum::<u64>()
                }
            };
            match crate::prepared::prepare(gw_, JSON_SYSTEM, &body, bytes, to).await? {
                PrepareAnswer::Repeat(a) => {
                    Ok(axum::Json(json!({ "id": a.id, "repeat": a.repeat })).into_response())
                }
                PrepareAnswer::Ready {
                    handle,
                    manifest,
                    document_id,
                    signer_name,
                    signer_position,
                    expires_in,
                } => Ok((
                    StatusCode::CREATED,
                    axum::Json(json!({
                        "handle": handle,
                        "manifest_sha256": hex::encode(ring::digest::digest(&ring::digest::SHA256, &manifest)),
                        "manifest": B64.encode(&manifest),
                        "document_id": document_id,
                        "signer": { "full_name": signer_name, "position": signer_position },
                        "what": format!(
                            "the signed metadata (Manifest DER, FORMATS.md §4) of document {document_id}: \
                             sender, recipients, number, subject, signer, and each attachment's \
                             size and SHA-256; {signer_name} signs it as the person with authority"
                        ),
                        "expires_in_secs": expires_in.as_secs(),
                    })),
                )
                    .into_response()),
            }
        }
        Op::ToBeSigned => {
            let handle = id()?;
            let v = json_body(req).await?;
            let certificate = b64_field(&v, "certificate")?
                .ok_or_else(|| Refusal::malformed("certificate (base64 DER) is missing"))?;
            let (tbs, at) =
                crate::prepared::to_be_signed(gw_, JSON_SYSTEM, &handle, certificate).await?;
            let at = at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
            Ok(axum::Json(json!({
                "to_be_signed": B64.encode(&tbs),
                "signing_time": at,
                "what": format!(
                    "the CMS signed attributes (DER SET OF) over the manifest of prepared send \
                     {handle}, signing time {at}: sign them with SHA-256 and post the raw \
                     signature as `signature`"
                ),
            }))
            .into_response())
        }
        Op::SignPrepared => {
            let handle = id()?;
            let v = json_body(req).await?;
            let signature = match (b64_field(&v, "cms")?, b64_field(&v, "signature")?) {
                (Some(cms), None) => crate::prepared::Signature::Cms(cms),
                (None, Some(raw)) => crate::prepared::Signature::Raw(raw),
                _ => {
                    return Err(Refusal::malformed(
                        "give exactly one of cms (a detached CMS SignedData) and signature (a raw \
                         signature over to-be-signed), base64",
                    ));
                }
            };
            let a = crate::prepared::complete(gw_, JSON_SYSTEM, &handle, signature).await?;
            Ok(accepted(&a))
        }
        Op::SendStatus => {
            let body = crate::submission::read_package(req, gw_.config.max_body_bytes).await?;
            let a = crate::outbox::accept_status(gw_, "json", &body).await?;
            Ok(accepted(&a))
        }
        Op::ListReceived => {
            let kind = match query.get("kind").map(String::as_str) {
                None | Some("edoc") => kind::EDOC,
                Some("status") => kind::STATUS,
                Some(other) => {
                    return Err(Refusal::malformed(format!(
                        "kind {other:?}: edoc or status"
                    )));
                }
            };
            let limit = match query.get("limit") {
                None => PAGE_DEFAULT,
                Some(l) => l
                    .parse::<i64>()
                    .ok()
                    .filter(|l| (1..=PAGE_MAX).contains(l))
                    .ok_or_else(|| Refusal::malformed(format!("limit {l:?}: 1 to {PAGE_MAX}")))?,
            };
            let cursor = query.get("cursor").map(|c| parse_cursor(c)).transpose()?;
            let items = gw_
                .db
                .mail_page(kind, cursor.as_ref().map(|(t, i)| (*t, i.as_str())), limit)
                .await?;
            let next = items.last().map(|i| format!("{}.{}", i.created_ms, i.id));
            Ok(axum::Json(json!({
                "items": items.iter().map(item_json).collect::<Vec<_>>(),
                "next_cursor": next,
            }))
            .into_response())
        }
        Op::GetReceived => {
            let id = id()?;
            let item = mail_item(gw_, &id).await?;
            let mut out = json!({ "item": item_json(&item) });
            if item.kind == kind::EDOC
                && let Some(r) = gw_.db.received_get(&item.message_id).await?
                && let Some(o) = out.as_object_mut()
            {
                let report: Value = serde_json::from_str(&r.report).unwrap_or(Value::Null);
                o.insert("subject".into(), json!(r.subject));
                o.insert("code".into(), json!(r.code));
                o.insert("accepted".into(), json!(rfc3339(r.accepted_ms)));
                o.insert("signature_report".into(), report);
                o.insert("receipt".into(), json!(r.ack_state));
            }
            Ok(axum::Json(out).into_response())
        }
        Op::GetReceivedEdxml => {
            let bytes = crate::vxp::mail_package(gw_, &id()?).await?;
            Ok(([(header::CONTENT_TYPE, "application/xml")], bytes).into_response())
        }
        Op::AckReceived => {
            let id = id()?;
            let v = json_body(req).await?;
            let state = match v.get("state").and_then(Value::as_str) {
                Some("done") => mail_state::DONE,
                Some("fail") => mail_state::FAIL,
                other => {
                    return Err(Refusal::malformed(format!("state {other:?}: done or fail")));
                }
            };
            if gw_.db.mail_set_state(&id, state).await? {
                Ok(StatusCode::NO_CONTENT.into_response())
            } else {
                Err(Refusal::not_found(format!(
                    "no item {id} in this gateway's mailbox"
                )))
            }
        }
        Op::GetSent => {
            let id = id()?;
            let row = gw_
                .db
                .outbox_get(&id)
                .await?
                .ok_or_else(|| Refusal::not_found(format!("nothing sent with id {id}")))?;
            let history = gw_.db.mail_statuses_of(&row.message_id).await?;
            Ok(axum::Json(json!({
                "id": row.id,
                "kind": row.kind,
                "state": row.state,
                "recipients": row.parties.split(' ').filter(|p| !p.is_empty()).collect::<Vec<_>>(),
                "attempts": row.attempts,
                "error_reason": row.error_reason,
                "leaf_index": row.leaf_index,
                "accepted": row.accepted_ms.map(rfc3339),
                "history": history.iter().map(item_json).collect::<Vec<_>>(),
            }))
            .into_response())
        }
        Op::GetSentEvidence => {
            let id = id()?;
            let row = gw_
                .db
                .outbox_get(&id)
                .await?
                .filter(|r| r.kind == kind::EDOC)
                .ok_or_else(|| Refusal::not_found(format!("no document sent with id {id}")))?;
            if row.accepted_ms.is_none() {
                return Err(Refusal::new(
                    gw::NOT_FOUND,
                    StatusCode::CONFLICT,
                    format!(
                        "document {id} is {}: the axis has not accepted it yet",
                        row.state
                    ),
                ));
            }
            let message_id = axis_client::MessageId::parse(&row.message_id)
                .map_err(|e| Refusal::internal("reading a kept message id", e))?;
            let bundle = gw_
                .client
                .export_evidence(&message_id)
                .await
                .map_err(|e| Refusal::from_sdk("exporting the evidence", &e))?;
            Ok((
                [
                    (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{id}.axb\""),
                    ),
                ],
                bundle,
            )
                .into_response())
        }
        Op::Directory => {
            let all = gw_
                .client
                .list_all_agencies()
                .await
                .map_err(|e| Refusal::from_sdk("the axis directory", &e))?;
            let out: Vec<Value> = all
                .iter()
                .map(|a| {
                    json!({
                        "id": a.agency_id.to_string(),
                        "parent": a.parent_id.as_ref().map(ToString::to_string),
                        "name": a.name,
                    })
                })
                .collect();
            Ok(axum::Json(out).into_response())
        }
    }
}

/// Largest JSON body of the calls that take one (a certificate, a signature).
const JSON_BODY_MAX: usize = 256 * 1024;

/// A small JSON body.
async fn json_body(req: Request) -> Result<Value, Refusal> {
    let body = axum::body::to_bytes(req.into_body(), JSON_BODY_MAX)
        .await
        .map_err(|e| {
            Refusal::new(
                gw::BODY_TOO_LARGE,
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the JSON body (at most {JSON_BODY_MAX} bytes): {e}"),
            )
        })?;
    serde_json::from_slice(&body)
        .map_err(|e| Refusal::malformed(format!("the body is not JSON: {e}")))
}

/// A base64 string field, decoded; `None` when absent.
fn b64_field(v: &Value, name: &str) -> Result<Option<Vec<u8>>, Refusal> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => B64
            .decode(s.trim())
            .map(Some)
            .map_err(|e| Refusal::malformed(format!("{name} is not base64: {e}"))),
        Some(_) => Err(Refusal::malformed(format!(
            "{name} must be a base64 string"
        ))),
    }
}

fn accepted(a: &crate::outbox::Accepted) -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({ "id": a.id, "repeat": a.repeat })),
    )
        .into_response()
}

async fn mail_item(gw_: &Gateway, id: &str) -> Result<MailItem, Refusal> {
    gw_.db
        .mail_get(id)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no item {id} in this gateway's mailbox")))
}

/// `created_ms.id` of the last item read.
fn parse_cursor(c: &str) -> Result<(i64, String), Refusal> {
    c.split_once('.')
        .and_then(|(t, id)| Some((t.parse().ok()?, id.to_owned())))
        .ok_or_else(|| Refusal::malformed(format!("cursor {c:?}: pass next_cursor as given")))
}

fn item_json(i: &MailItem) -> Value {
    json!({
        "id": i.id,
        "kind": i.kind,
        "message_id": i.message_id,
        "from": i.from_agency,
        "to": i.to_agency,
        "document_id": i.document_id,
        "status_code": i.status_code,
        "state": i.state,
        "created": rfc3339(i.created_ms),
        "updated": rfc3339(i.updated_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_handler_and_every_handler_an_operation() {
        let routes = routes().unwrap();
        for op in Op::ALL {
            assert_eq!(
                routes.iter().filter(|r| r.op == op).count(),
                1,
                "{} must be served by exactly one route of openapi.json",
                op.id()
            );
        }
        assert_eq!(routes.len(), Op::ALL.len());
    }

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        assert_eq!(
            parse_cursor("1700000000000.abc.def").unwrap(),
            (1_700_000_000_000, "abc.def".to_owned())
        );
        assert_eq!(
            parse_cursor("nonsense").unwrap_err().reason,
            gw::REQUEST_MALFORMED
        );
    }

    #[test]
    fn a_problem_is_rfc_9457_with_the_reason() {
        let r = Problem(Refusal::not_found("no item x")).into_response();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret-token-1234", b"secret-token-1234"));
        assert!(!constant_time_eq(b"secret-token-123", b"secret-token-1234"));
        assert!(!constant_time_eq(b"", b"secret-token-1234"));
    }
}
