//! Prometheus metrics: per-call counts and errors (counted here), queue depths and ages (read
//! from the store at each scrape), and the witness's state.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

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
        out
    }
}

/// A label value as the exposition format needs it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
