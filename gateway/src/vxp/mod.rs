//! The VXP-compatible API: the paths, methods, headers and JSON envelopes of the national
//! axis's VXP service as VNPT's Java SDK calls it (domain reference §4.3, §9.4), so a DMS in
//! service is pointed at its agency's gateway by changing one URL.
//!
//! | path | what the gateway does |
//! | --- | --- |
//! | `POST /sendEdoc` | `messagetype=edoc`: the edXML document is checked, sealed, kept and sent (`DocId` = its Axis message id); `messagetype=status`: the edXML status is checked, kept and sent signed by the agency seal. The body is the raw edXML (what the SDK's helper really sends, `application/octet-stream`) or a multipart part `file_doc` |
//! | `POST /getReceivedEdocList` | the mailbox: received documents (`messagetype=edoc`) or statuses (`status`) not yet acknowledged by `updateStatus` |
//! | `POST /getEdoc`, `GET /downloadEdoc` | one item as edXML: base64 in `data`, or the raw file |
//! | `POST /updateStatus` | `status=done\|fail`: the DMS's transport acknowledgement of a mailbox item |
//! | `POST /getSentEdocList` | what this agency's DMSs sent, per recipient, with the state of the send and the recipient's last status |
//! | `POST\|GET /countReceiveEdoc`, `/countReceiveStatus` | the mailbox's counts |
//! | `POST /getAgenciesList` | the agencies registered at the axis, in the VXP's fields |
//! | `POST /getAgenciesListQD20`, `/getSynchronizeUnit` | the unit directory, from the gateway's verified copy ([`crate::directory`]), in the VXP's fields (`code102` beside the QĐ 20 `code`) |
//! | `POST /registerAgency`, `/deleteAgency` | the directory is the axis operator's: refused (`NOT_OFFERED`) or answered OK without effect, as `[vxp] agency_admin` says |
//!
//! Every request is authenticated by the `XroadVnpt-*` HMAC headers ([`auth`]); every answer
//! is well-formed JSON in the SDK's envelope `{status: "OK"|"FAIL", ErrorCode, ErrorDesc, …}`
//! (HTTP 200, as the SDK expects: it reads the envelope, not the HTTP status), with `ErrorCode`
//! `"0"` on success and otherwise the reason (`HMAC_INVALID`, `RECIPIENT_UNKNOWN`,
//! `EDXML_DTD`…). Times are RFC 3339 in UTC.

pub mod auth;

use std::sync::Arc;

use axis_proto::reasons::gateway as gw;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::error::Refusal;
use crate::service::Gateway;
use crate::store::{OutRow, kind, mail_state};

/// The calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    SendEdoc,
    GetReceivedEdocList,
    GetEdoc,
    DownloadEdoc,
    UpdateStatus,
    GetSentEdocList,
    CountReceiveEdoc,
    CountReceiveStatus,
    GetAgenciesList,
    GetAgenciesListQd20,
    GetSynchronizeUnit,
    RegisterAgency,
    DeleteAgency,
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Call::SendEdoc => "sendEdoc",
            Call::GetReceivedEdocList => "getReceivedEdocList",
            Call::GetEdoc => "getEdoc",
            Call::DownloadEdoc => "downloadEdoc",
            Call::UpdateStatus => "updateStatus",
            Call::GetSentEdocList => "getSentEdocList",
            Call::CountReceiveEdoc => "countReceiveEdoc",
            Call::CountReceiveStatus => "countReceiveStatus",
            Call::GetAgenciesList => "getAgenciesList",
            Call::GetAgenciesListQd20 => "getAgenciesListQD20",
            Call::GetSynchronizeUnit => "getSynchronizeUnit",
            Call::RegisterAgency => "registerAgency",
            Call::DeleteAgency => "deleteAgency",
        }
    }
}

/// Most items in one list answer.
const LIST_MAX: i64 = 1000;

/// The routes of the VXP-compatible API.
pub fn router() -> Router<Arc<Gateway>> {
    let mut r = Router::new();
    for call in [
        Call::SendEdoc,
        Call::GetReceivedEdocList,
        Call::GetEdoc,
        Call::UpdateStatus,
        Call::GetSentEdocList,
        Call::GetAgenciesList,
        Call::GetAgenciesListQd20,
        Call::GetSynchronizeUnit,
        Call::RegisterAgency,
        Call::DeleteAgency,
    ] {
        r = r.route(
            &format!("/{}", call.name()),
            post(move |s: State<Arc<Gateway>>, req: Request| handle(s, req, call)),
        );
    }
    // The counts are documented as GET and sent as POST; downloadEdoc is a real GET.
    for call in [Call::CountReceiveEdoc, Call::CountReceiveStatus] {
        r = r.route(
            &format!("/{}", call.name()),
            get(move |s: State<Arc<Gateway>>, req: Request| handle(s, req, call))
                .post(move |s: State<Arc<Gateway>>, req: Request| handle(s, req, call)),
        );
    }
    r.route(
        "/downloadEdoc",
        get(move |s: State<Arc<Gateway>>, req: Request| handle(s, req, Call::DownloadEdoc)),
    )
}

/// What a call answers: the extra fields of the envelope, or a raw file.
enum Answer {
    Json(Value),
    File(Vec<u8>),
}

async fn handle(State(gw_): State<Arc<Gateway>>, req: Request, call: Call) -> Response {
    let (parts, body) = req.into_parts();
    let result = match auth::authenticate(&parts.headers, &gw_.config) {
        Err(auth::AuthError::Hmac(why)) => Err(Refusal::new(
            gw::HMAC_INVALID,
            StatusCode::UNAUTHORIZED,
            format!("{why}; sign the request with the system's secret"),
        )),
        Err(auth::AuthError::UnknownSystem(id)) => Err(Refusal::new(
            gw::SYSTEM_UNKNOWN,
            StatusCode::UNAUTHORIZED,
            format!("systemid {id:?} is not configured at this gateway"),
        )),
        Ok(vxp) => dispatch(&gw_, &vxp, call, Request::from_parts(parts, body)).await,
    };
    match result {
        Ok(answer) => {
            gw_.metrics.call("vxp", call.name(), "ok");
            match answer {
                Answer::File(bytes) => {
                    ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
                }
                Answer::Json(extra) => {
                    let mut envelope =
                        json!({"status": "OK", "ErrorCode": "0", "ErrorDesc": "Success"});
                    if let (Some(e), Value::Object(extra)) = (envelope.as_object_mut(), extra) {
                        e.extend(extra);
                    }
                    axum::Json(envelope).into_response()
                }
            }
        }
        Err(r) => {
            gw_.metrics.call("vxp", call.name(), &r.reason);
            tracing::info!(call = call.name(), reason = %r.reason, message = %r.message, "VXP call refused");
            axum::Json(json!({"status": "FAIL", "ErrorCode": r.reason, "ErrorDesc": r.message}))
                .into_response()
        }
    }
}

async fn dispatch(
    gw_: &Arc<Gateway>,
    vxp: &auth::VxpCall,
    call: Call,
    req: Request,
) -> Result<Answer, Refusal> {
    match call {
        Call::SendEdoc => send_edoc(gw_, vxp, req).await,
        Call::GetReceivedEdocList => {
            let kind = message_kind(vxp)?;
            let items = gw_.db.mail_list(kind, false, LIST_MAX).await?;
            let data: Vec<Value> = items
                .iter()
                .map(|i| {
                    json!({
                        "docId": i.id,
                        "serviceType": "eDoc",
                        "messageType": i.kind,
                        "created_time": rfc3339(i.created_ms),
                        "updated_time": rfc3339(i.updated_ms),
                        "from": i.from_agency,
                        "to": i.to_agency,
                        "status": i.state,
                        "status_desc": state_desc(&i.state),
                    })
                })
                .collect();
            Ok(Answer::Json(json!({ "data": data })))
        }
        Call::GetEdoc | Call::DownloadEdoc => {
            let id = vxp
                .param("docid")
                .ok_or_else(|| Refusal::malformed("docId is missing"))?;
            let bytes = mail_package(gw_, id).await?;
            if call == Call::DownloadEdoc {
                Ok(Answer::File(bytes))
            } else {
                Ok(Answer::Json(json!({
                    "data": base64::engine::general_purpose::STANDARD.encode(bytes)
                })))
            }
        }
        Call::UpdateStatus => {
            let id = vxp
                .param("docid")
                .ok_or_else(|| Refusal::malformed("docid is missing"))?;
            let state = match vxp.param("status").map(str::to_ascii_lowercase).as_deref() {
                Some("done") => mail_state::DONE,
                Some("fail") => mail_state::FAIL,
                other => {
                    return Err(Refusal::malformed(format!(
                        "status {other:?}: updateStatus takes done or fail"
                    )));
                }
            };
            if gw_.db.mail_set_state(id, state).await? {
                Ok(Answer::Json(json!({})))
            } else {
                Err(Refusal::not_found(format!(
                    "no item {id} in this gateway's mailbox"
                )))
            }
        }
        Call::GetSentEdocList => {
            let kind = message_kind(vxp)?;
            let rows = gw_.db.outbox_list(kind, LIST_MAX).await?;
            let mut data = Vec::new();
            for row in rows.iter().filter(|r| r.system_id == vxp.system) {
                data.extend(sent_items(gw_, row).await?);
            }
            Ok(Answer::Json(json!({ "data": data })))
        }
        Call::CountReceiveEdoc => Ok(Answer::Json(
            json!({ "count": gw_.db.mail_count(kind::EDOC).await? }),
        )),
        Call::CountReceiveStatus => Ok(Answer::Json(
            json!({ "count": gw_.db.mail_count(kind::STATUS).await? }),
        )),
        Call::GetAgenciesListQd20 | Call::GetSynchronizeUnit => {
            let copy = crate::directory::copy(gw_)
                .await
                .map_err(|e| Refusal::from_sdk("the unit directory", &e))?;
            Ok(Answer::Json(json!({
                "data": copy.map(|c| unit_list(&c, call == Call::GetAgenciesListQd20)).unwrap_or_default()
            })))
        }
        Call::GetAgenciesList => {
            let all = gw_
                .client
                .list_all_agencies()
                .await
                .map_err(|e| Refusal::from_sdk("the axis directory", &e))?;
            let data: Vec<Value> = all
                .iter()
                .map(|a| {
                    let v = json!({
                        "id": a.agency_id.to_string(),
                        "code": a.agency_id.to_string(),
                        "pid": a.parent_id.as_ref().map(ToString::to_string).unwrap_or_default(),
                        "pcode": a.parent_id.as_ref().map(ToString::to_string).unwrap_or_default(),
                        "name": a.name,
                        "mail": "",
                        "mobile": "",
                        "fax": "",
                        "centerCode": "",
                        "isAgency": true,
                        "modifyDate": a.updated_at.map(|t| rfc3339(crate::store::millis(t))).unwrap_or_default(),
                        "deleted": false,
                    });
                    v
                })
                .collect();
            Ok(Answer::Json(json!({ "data": data })))
        }
        Call::RegisterAgency | Call::DeleteAgency => match gw_.config.agency_admin {
            crate::config::AgencyAdmin::AcceptNoop => Ok(Answer::Json(json!({}))),
            crate::config::AgencyAdmin::Refuse => Err(Refusal::new(
                gw::NOT_OFFERED,
                StatusCode::FORBIDDEN,
                "the axis directory is kept by the axis operator; ask them to register or \
                 remove agencies",
            )),
        },
    }
}

/// The units of the verified directory copy in the VXP's fields: `id`, `code`, `pid`/`pcode`
/// are QCVN 102 ids; with `qd20` (`getAgenciesListQD20`) `code` is the unit's QĐ 20 code where
/// it has one and `code102` its QCVN 102 id. `modifyDate` is when the operator signed the
/// copy's version.
pub fn unit_list(copy: &axis_client::evidence::VerifiedDirectory, qd20: bool) -> Vec<Value> {
    let signed = copy
        .version()
        .issued_at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    copy.units()
        .units()
        .iter()
        .map(|u| {
            let id = u.id.to_string();
            let parent = u
                .parent
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let mut v = json!({
                "id": id,
                "code": id,
                "pid": parent,
                "pcode": parent,
                "name": u.name,
                "mail": "",
                "mobile": "",
                "fax": "",
                "centerCode": "",
                "isAgency": true,
                "modifyDate": signed,
                "deleted": false,
            });
            if qd20 && let Some(o) = v.as_object_mut() {
                if let Some(q) = &u.code_qd20 {
                    o.insert("code".into(), json!(q.to_string()));
                }
                o.insert("code102".into(), json!(id));
            }
            v
        })
        .collect()
}

fn message_kind(vxp: &auth::VxpCall) -> Result<&'static str, Refusal> {
    match vxp
        .param("messagetype")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("edoc") => Ok(kind::EDOC),
        Some("status") => Ok(kind::STATUS),
        Some(other) => Err(Refusal::malformed(format!(
            "messagetype {other:?}: edoc or status"
        ))),
    }
}

fn state_desc(state: &str) -> &'static str {
    match state {
        mail_state::DONE => "the DMS stored it",
        mail_state::FAIL => "the DMS could not use it",
        _ => "waiting for the DMS",
    }
}

/// The kept package of a mailbox item.
pub(crate) async fn mail_package(gw_: &Gateway, id: &str) -> Result<Vec<u8>, Refusal> {
    let item = gw_
        .db
        .mail_get(id)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("no item {id} in this gateway's mailbox")))?;
    match item.package {
        Some(p) => Ok(p),
        None => tokio::fs::read(gw_.received_package(&item.message_id))
            .await
            .map_err(|e| Refusal::internal("reading a kept document", e)),
    }
}

/// The lines of `getSentEdocList` for one outbox row: one per recipient.
async fn sent_items(gw_: &Gateway, row: &OutRow) -> Result<Vec<Value>, Refusal> {
    let statuses = gw_.db.mail_statuses_of(&row.message_id).await?;
    let (code, notation) = row.code.split_once('/').unwrap_or((&row.code, ""));
    Ok(row
        .parties
        .split(' ')
        .filter(|p| !p.is_empty())
        .map(|to| {
            let last = statuses
                .iter()
                .rfind(|s| s.from_agency == to)
                .and_then(|s| s.status_code.clone())
                .unwrap_or_default();
            json!({
                "serviceType": "eDoc",
                "senderDocId": row.id,
                "receiverDocId": row.message_id,
                "fromCode": gw_.me.to_string(),
                "toCode": to,
                "title": row.subject,
                "notation": if row.kind == kind::EDOC { format!("{code}/{notation}") } else { row.code.clone() },
                "messageType": row.kind,
                "sentTime": rfc3339(row.created_ms),
                "receivedTime": row.accepted_ms.map(rfc3339).unwrap_or_default(),
                "sendStatus": row.state,
                "sendStatusDesc": row.error_message.clone().unwrap_or_default(),
                "sendErrorCode": row.error_reason.clone().unwrap_or_default(),
                "receiveStatus": last,
                "receiveStatusDesc": "",
            })
        })
        .collect())
}

/// `sendEdoc`: the body, then the document or status path.
async fn send_edoc(
    gw_: &Arc<Gateway>,
    vxp: &auth::VxpCall,
    req: Request,
) -> Result<Answer, Refusal> {
    if let Some(from) = vxp.param("from")
        && from != gw_.me.as_str()
    {
        return Err(Refusal::new(
            gw::SENDER_NOT_AGENCY,
            StatusCode::FORBIDDEN,
            format!("from is {from}; this gateway sends for {}", gw_.me),
        ));
    }
    let kind = message_kind(vxp)?;
    // Held until the document is sealed and kept (the end of this function).
    let _share = crate::submission::reserve(gw_, &req).await?;
    let reading = std::time::Instant::now();
    let body = crate::submission::read_package(req, gw_.config.max_body_bytes).await?;
    gw_.metrics
        .stage(crate::metrics::stage::SEND_BODY, reading.elapsed());
    if let Some(h) = vxp.param("hash-file") {
        check_hash_file(h, &body)?;
    }
    let accepted = if kind == kind::STATUS {
        crate::outbox::accept_status(gw_, &vxp.system, &body).await?
    } else {
        let to = match vxp.param("to") {
            Some(t) => Some(parse_to(t)?),
            None => None,
        };
        crate::outbox::accept_edoc(
            gw_,
            &vxp.system,
            &crate::submission::Submission::Edxml(body),
            to,
            crate::outbox::Signing::SealOnly,
        )
        .await?
    };
    Ok(Answer::Json(json!({ "DocId": accepted.id })))
}

/// `to`: a JSON array of agency ids (or one id, or ids separated by commas).
pub fn parse_to(t: &str) -> Result<Vec<axis_client::AgencyId>, Refusal> {
    let list: Vec<String> = match serde_json::from_str::<Value>(t) {
        Ok(Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect(),
        _ => t.split(',').map(|s| s.trim().to_owned()).collect(),
    };
    list.iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|e| Refusal::malformed(format!("to: {s:?} is not an agency id: {e}")))
        })
        .collect()
}

/// `hash-file`: the SHA-256 of the package, as 64 hex digits or as VNPT's SDK writes it (each
/// byte's leading zero dropped).
fn check_hash_file(given: &str, body: &[u8]) -> Result<(), Refusal> {
    let given = given.trim().to_ascii_lowercase();
    let matches = |bytes: &[u8]| {
        let d = ring::digest::digest(&ring::digest::SHA256, bytes);
        let full = hex::encode(d.as_ref());
        let vnpt: String = d.as_ref().iter().map(|b| format!("{b:x}")).collect();
        given == full || given == vnpt
    };
    if matches(body) || matches(crate::outbox::trim_body(body)) {
        Ok(())
    } else {
        Err(Refusal::malformed(
            "hash-file is not the SHA-256 of the package sent; the body was damaged or is not \
             the file hashed",
        ))
    }
}

/// Milliseconds since the epoch as RFC 3339 (UTC).
pub fn rfc3339(ms: i64) -> String {
    crate::store::from_millis("time", ms)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
