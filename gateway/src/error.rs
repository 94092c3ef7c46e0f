//! What the gateway refuses, and why: one type for both APIs. A refusal carries a
//! machine-readable reason — one of `axis_proto::reasons::gateway`, an axis reason passed on
//! (`RECIPIENT_UNKNOWN`…), or an edXML parser kind (`EDXML_DTD`…) — a message for people, and
//! the HTTP status the JSON API answers with (the VXP API answers 200 with `status: FAIL`, as
//! the SDK expects).

use axis_proto::reasons::{self, gateway as gw};
use axum::http::StatusCode;

/// A refused or failed request.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The machine-readable reason.
    pub reason: String,
    /// What is wrong and what to do, for people.
    pub message: String,
    /// The HTTP status of the JSON API's problem detail.
    pub http: StatusCode,
}

impl Refusal {
    /// A refusal with its reason and HTTP status.
    pub fn new(reason: &str, http: StatusCode, message: impl Into<String>) -> Self {
        Refusal {
            reason: reason.to_owned(),
            message: message.into(),
            http,
        }
    }

    /// The request is malformed.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(gw::REQUEST_MALFORMED, StatusCode::BAD_REQUEST, message)
    }

    /// No such item.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(gw::NOT_FOUND, StatusCode::NOT_FOUND, message)
    }

    /// The gateway failed; the cause is logged, not shown.
    pub fn internal(what: &str, e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "{what}");
        Self::new(
            gw::GATEWAY_INTERNAL,
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{what} failed at the gateway; its log says why"),
        )
    }

    /// An SDK error, its reason passed on.
    pub fn from_sdk(what: &str, e: &axis_client::Error) -> Self {
        use axis_client::ErrorKind as K;
        let message = format!("{what}: {e}");
        match (e.kind(), e.reason()) {
            (K::Transport | K::DeadlineExceeded, _) => Self::new(
                gw::AXIS_UNAVAILABLE,
                StatusCode::SERVICE_UNAVAILABLE,
                message,
            ),
            // The recipient look-up: the directory has no such agency.
            (K::InvalidInput, Some(reasons::AGENCY_NOT_FOUND)) => Self::new(
                reasons::RECIPIENT_UNKNOWN,
                StatusCode::UNPROCESSABLE_ENTITY,
                message,
            ),
            (K::InvalidInput, Some(r)) => Self::new(r, StatusCode::UNPROCESSABLE_ENTITY, message),
            (K::InvalidInput, None) => Self::malformed(message),
            (K::NotFound, _) => Self::not_found(message),
            (K::Rejected { reason }, _) => {
                Self::new(reason, StatusCode::UNPROCESSABLE_ENTITY, message)
            }
            (K::PermissionDenied, r) => Self::new(
                r.unwrap_or(reasons::NOT_AUTHORIZED),
                StatusCode::FORBIDDEN,
                message,
            ),
            (_, Some(r)) => Self::new(r, StatusCode::BAD_GATEWAY, message),
            (_, None) => Self::internal(what, e),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.reason)
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Self {
        Refusal::internal("the gateway's store", e)
    }
}
