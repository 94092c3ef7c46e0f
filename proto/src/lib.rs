//! # axis-proto
//!
//! The Axis wire contract, `axis.v1`: the `Exchange` service (submit, subscribe, fetch,
//! acknowledge, statuses, recall, history, limits), the `Directory` service and the `Log`
//! service (signed tree heads, inclusion and consistency proofs, entries), generated from
//! `proto/axis/v1/*.proto` at build time with protox and tonic-prost-build. No logic lives here;
//! conversions to domain types live at the edges (the server's and the SDK's `convert.rs`).
//!
//! Signed artefacts (routing headers, submission signatures, key envelopes, receipts) are opaque
//! `bytes` whose formats `axis-signer` defines: nothing re-serializes them to verify a signature.
//!
//! [`codec`] is the codec of every method (prost, with a smaller encode buffer than tonic's
//! default, for long-lived `Subscribe` streams); [`unbuffered`] the `Subscribe` stream's response body,
//! which keeps no encode buffer between messages. [`reasons`] holds the machine-readable reasons of Axis errors, shared by the server and the
//! SDK.
//!
//! ```
//! use axis_proto::v1::{SubmitRequest, submit_request::Part};
//! let first = SubmitRequest { part: Some(Part::Chunk(vec![1, 2, 3])) };
//! assert!(matches!(first.part, Some(Part::Chunk(_))));
//! ```
#![forbid(unsafe_code)]

/// `axis.v1`: generated messages, clients and servers.
#[allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]
pub mod v1 {
    tonic::include_proto!("axis.v1");
}

pub mod codec;
pub mod reasons;
pub mod unbuffered;

/// The encoded `FileDescriptorSet` of `axis.v1`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/axis_v1_descriptor.bin"));

#[cfg(test)]
mod tests {
    use prost::Message as _;
    use prost_types::FileDescriptorSet;

    /// Every service, method, message and field of `axis.v1` carries a comment: the `.proto`
    /// files are the integrators' reference.
    #[test]
    fn every_element_of_the_contract_is_documented() {
        let fds = FileDescriptorSet::decode(super::FILE_DESCRIPTOR_SET).unwrap();
        let mut missing = Vec::new();
        let mut services = Vec::new();
        for file in fds.file.iter().filter(|f| f.package() == "axis.v1") {
            let info = file.source_code_info.as_ref().expect("source info kept");
            let documented = |path: &[i32]| {
                info.location.iter().any(|l| {
                    l.path == path
                        && (l
                            .leading_comments
                            .as_deref()
                            .is_some_and(|c| !c.trim().is_empty())
                            || l.trailing_comments
                                .as_deref()
                                .is_some_and(|c| !c.trim().is_empty()))
                })
            };
            for (i, s) in file.service.iter().enumerate() {
                services.push(s.name().to_owned());
                for (j, m) in s.method.iter().enumerate() {
                    if !documented(&[6, i as i32, 2, j as i32]) {
                        missing.push(format!("rpc {}.{}", s.name(), m.name()));
                    }
                }
            }
            for (i, m) in file.message_type.iter().enumerate() {
                for (j, f) in m.field.iter().enumerate() {
                    if !documented(&[4, i as i32, 2, j as i32]) && !documented(&[4, i as i32]) {
                        missing.push(format!("field {}.{}", m.name(), f.name()));
                    }
                }
            }
        }
        services.sort();
        assert_eq!(services, ["Directory", "Exchange", "Log"]);
        assert!(missing.is_empty(), "undocumented: {missing:#?}");
    }
}
