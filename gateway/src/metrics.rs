//! Prometheus metrics: per-call counts and errors (counted here), queue depths and ages (read
//! from the store at each scrape), and the witness's state.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The gateway's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (api, call, outcome: ok or the reason) → count.
    calls: Mutex<BTreeMap<(&'static str, String, String), u64>>,
    /// Documents submitted and accepted by the axis.
    pub sent: AtomicU64,
    /// Statuses logged by the axis for this agency.
    pub statuses_sent: AtomicU64,
    /// Documents received, verified and kept.
    pub received: AtomicU64,
    /// Deliveries refused at opening (they did not verify).
    pub receive_refused: AtomicU64,
    /// Deliveries whose opening failed here or on the way, to be tried again.
    pub receive_retried: AtomicU64,
    /// Statuses of other agencies put in the mailbox.
    pub statuses_received: AtomicU64,
    /// Tree heads the witness checked.
    pub heads_checked: AtomicU64,
    /// The last tree size the witness kept.
    pub tree_size: AtomicU64,
    /// The version of the unit directory's verified copy (0: none).
    pub directory_version: AtomicU64,
    /// Syncs of the unit directory that failed (the copy kept was used).
    pub directory_sync_failures: AtomicU64,
    /// Stage of a document's way through the gateway → (times, total seconds).
    stages: Mutex<BTreeMap<&'static str, (u64, f64)>>,
}

/// The stages timed on a document's way through the gateway (`axis_gateway_stage_seconds`).
pub mod stage {
    /// `sendEdoc` / `POST /api/v1/documents`: waiting for the body budget.
    pub const SEND_BODY_WAIT: &str = "send_body_wait";
    /// Reading the request body.
    pub const SEND_BODY: &str = "send_body";
    /// Checking, sealing and encrypting it.
    pub const SEND_SEAL: &str = "send_seal";
    /// Keeping it: the ciphertext on disk, the outbox row committed.
    pub const SEND_KEEP: &str = "send_keep";
    /// From the row committed to its submission's start (the outbox's queue).
    pub const SEND_QUEUE: &str = "send_queue";
    /// Submitting it until the axis accepted it (upload, the axis's checks and commit).
    pub const SEND_SUBMIT: &str = "send_submit";
    /// Recording the acceptance.
    pub const SEND_RECORD: &str = "send_record";
    /// From the SDK receiving the delivery from the axis to the gateway starting on it: the
    /// time it queued here for one of the `receive_concurrency` slots. (Not from the axis's
    /// acceptance: the log dates that in whole seconds, which added half a second on average.)
    pub const RECEIVE_WAIT: &str = "receive_wait";
    /// Fetching, verifying, decrypting and writing the attachments.
    pub const RECEIVE_OPEN: &str = "receive_open";
    /// The edXML package written and the document's directory synced into place.
    pub const RECEIVE_KEEP: &str = "receive_keep";
    /// The row, mailbox item and cursor committed.
    pub const RECEIVE_COMMIT: &str = "receive_commit";
    /// Receipt 01: signed, sent and its log evidence verified.
    pub const RECEIVE_RECEIPT: &str = "receive_receipt";
    /// Recording that the receipt was logged.
    pub const RECEIVE_RECORD: &str = "receive_record";
}

/// What the store says at a scrape.
#[derive(Debug, Default)]
pub struct Backlog {
    /// Outbox rows waiting for the axis.
    pub outbox_queued: i64,
    /// Age of the oldest of them, seconds.
    pub oldest_unsent_secs: f64,
    /// Received documents whose receipt 01 is not logged yet.
    pub receipts_pending: i64,
    /// Mailbox items the DMSs have not acknowledged (documents, statuses).
    pub mailbox_edoc: i64,
    /// See `mailbox_edoc`.
    pub mailbox_status: i64,
    /// Age of the oldest unacknowledged mailbox item, seconds.
    pub oldest_unacknowledged_secs: f64,
}

impl Metrics {
    /// Counts one call of an API with its outcome (`ok` or a reason).
    pub fn call(&self, api: &'static str, call: &str, outcome: &str) {
        if let Ok(mut m) = self.calls.lock() {
            *m.entry((api, call.to_owned(), outcome.to_owned()))
                .or_default() += 1;
        }
    }

    /// Adds `elapsed` to a stage's time ([`stage`]).
    pub fn stage(&self, name: &'static str, elapsed: Duration) {
        if let Ok(mut m) = self.stages.lock() {
            let e = m.entry(name).or_default();
            e.0 += 1;
            e.1 += elapsed.as_secs_f64();
        }
    }

    /// The exposition text.
    pub fn render(&self, backlog: &Backlog, log_consistent: bool) -> String {
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, value: f64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        };
        gauge(
            "axis_gateway_outbox_queued",
            "Documents and statuses waiting for the axis to accept them.",
            backlog.outbox_queued as f64,
        );
        gauge(
            "axis_gateway_oldest_unsent_seconds",
            "Age of the oldest outbox item the axis has not accepted yet.",
            backlog.oldest_unsent_secs,
        );
        gauge(
            "axis_gateway_receipts_pending",
            "Received documents whose receipt 01 is not logged yet.",
            backlog.receipts_pending as f64,
        );
        gauge(
            "axis_gateway_mailbox_documents",
            "Received documents no DMS has acknowledged (updateStatus) yet.",
            backlog.mailbox_edoc as f64,
        );
        gauge(
            "axis_gateway_mailbox_statuses",
            "Received statuses no DMS has acknowledged yet.",
            backlog.mailbox_status as f64,
        );
        gauge(
            "axis_gateway_oldest_unacknowledged_seconds",
            "Age of the oldest mailbox item no DMS has acknowledged.",
            backlog.oldest_unacknowledged_secs,
        );
        gauge(
            "axis_gateway_log_consistent",
            "1 while every tree head seen extends the last one kept; 0 once the axis's log failed that check.",
            if log_consistent { 1.0 } else { 0.0 },
        );
        gauge(
            "axis_gateway_witness_tree_size",
            "Size of the last tree head the witness kept.",
            self.tree_size.load(Ordering::Relaxed) as f64,
        );
        gauge(
            "axis_gateway_directory_version",
            "Version of the verified copy of the unit directory the agency lists answer from (0: none yet).",
            self.directory_version.load(Ordering::Relaxed) as f64,
        );
        let mut counter = |name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        };
        counter(
            "axis_gateway_documents_sent_total",
            "Documents the axis accepted from this gateway.",
            &self.sent,
        );
        counter(
            "axis_gateway_statuses_sent_total",
            "Statuses (receipts included) the axis logged from this gateway.",
            &self.statuses_sent,
        );
        counter(
            "axis_gateway_documents_received_total",
            "Documents received, verified and kept.",
            &self.received,
        );
        counter(
            "axis_gateway_deliveries_refused_total",
            "Deliveries that did not verify at opening and were not kept.",
            &self.receive_refused,
        );
        counter(
            "axis_gateway_deliveries_retried_total",
            "Deliveries whose opening failed here or on the way (connection, axis, local disk, own keys); tried again.",
            &self.receive_retried,
        );
        counter(
            "axis_gateway_statuses_received_total",
            "Statuses of other agencies put in the mailbox.",
            &self.statuses_received,
        );
        counter(
            "axis_gateway_tree_heads_checked_total",
            "Tree heads the witness checked against the last one kept.",
            &self.heads_checked,
        );
        counter(
            "axis_gateway_directory_sync_failures_total",
            "Syncs of the unit directory that failed; the lists answered from the copy kept.",
            &self.directory_sync_failures,
        );
        let _ = writeln!(
            out,
            "# HELP axis_gateway_calls_total Calls of the DMS-facing APIs by outcome (ok or the reason).\n# TYPE axis_gateway_calls_total counter"
        );
        if let Ok(m) = self.calls.lock() {
            for ((api, call, outcome), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "axis_gateway_calls_total{{api=\"{api}\",call=\"{}\",outcome=\"{}\"}} {n}",
                    escape(call),
                    escape(outcome)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP axis_gateway_stage_seconds Time documents spent in each stage of their way through the gateway (a stage's sum over the documents in it at once can pass the wall-clock time).\n# TYPE axis_gateway_stage_seconds summary"
        );
        if let Ok(m) = self.stages.lock() {
            for (name, (n, secs)) in m.iter() {
                let _ = writeln!(
                    out,
                    "axis_gateway_stage_seconds_sum{{stage=\"{name}\"}} {secs}\naxis_gateway_stage_seconds_count{{stage=\"{name}\"}} {n}"
                );
            }
        }
        out
    }
}

/// A label value as the exposition format needs it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
