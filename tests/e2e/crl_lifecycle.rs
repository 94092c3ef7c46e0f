//! A CRL's expiry is announced before it stops traffic, and a fresh CRL written over the
//! configured file ends the outage without a restart (issue #16).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axis_pki::to_pem;
use axis_proto::v1 as pb;
use axis_tests::{TestAxis, TestPki, channel_to, reason};
use time::OffsetDateTime;

use crate::faults::http_get;

/// The node's log lines whose message starts with `prefix`, with their level.
fn logged(log: &Path, prefix: &str) -> Vec<(String, serde_json::Value)> {
    let text = std::fs::read_to_string(log).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(prefix))
        })
        .map(|v| {
            (
                v["level"].as_str().unwrap_or("").to_owned(),
                v["fields"].clone(),
            )
        })
        .collect()
}

/// Polls `check` every 100 ms until it holds, for at most a minute.
async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within a minute");
}

async fn healthz(axis: &TestAxis) -> String {
    let (code, body) = http_get(axis.metrics_addr(), "/healthz").await.unwrap();
    assert_eq!(code, 200, "{body}");
    body
}

/// The smallest `axis_crl_next_update_seconds` (the CRL closest to its nextUpdate).
async fn crl_seconds_left(axis: &TestAxis) -> i64 {
    let (_, body) = http_get(axis.metrics_addr(), "/metrics").await.unwrap();
    body.lines()
        .filter(|l| l.starts_with("axis_crl_next_update_seconds{issuer=\""))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<i64>().unwrap())
        .min()
        .expect("a CRL gauge per CRL in force")
}

/// One call on a new connection.
async fn new_connection_call(axis: &TestAxis, who: &axis_pki::demo::Issued) -> Result<(), String> {
    let ch = channel_to(axis.addr, &axis.pki, who)
        .await
        .map_err(|e| e.to_string())?;
    pb::exchange_client::ExchangeClient::new(ch)
        .get_limits(pb::GetLimitsRequest {})
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crl_about_to_expire_is_announced_refuses_after_expiry_and_a_fresh_file_restores_traffic()
{
    let pki = Arc::new(TestPki::new(1));
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("node.log");
    let axis = TestAxis::start_logged(
        pki.clone(),
        Path::new(env!("CARGO_BIN_EXE_axis-test-node")),
        &log,
        |c| {
            c.trust.crl_warn_before_secs = 3600;
            c.trust.crl_poll_secs = 1;
        },
    )
    .await;
    let a = &pki.agencies[0];
    let ca_file = axis.config.trust.crls[1].clone();
    let write_ca_crl = |der: &[u8]| {
        // Written whole then renamed, as an operator's `mv` would, so no half file is read.
        let tmp = ca_file.with_extension("tmp");
        std::fs::write(&tmp, to_pem("X509 CRL", der)).unwrap();
        std::fs::rename(&tmp, &ca_file).unwrap();
    };
    assert_eq!(healthz(&axis).await, "ok\n");
    assert!(crl_seconds_left(&axis).await > 80 * 86_400);
    let mut ax = pb::exchange_client::ExchangeClient::new(axis.channel(&a.tls).await);
    ax.get_limits(pb::GetLimitsRequest {}).await.unwrap();

    // The issuing CA publishes a CRL that expires in 15 seconds (number 2, over the file).
    let (_, short) = pki
        .pki
        .crls_until(
            2,
            &[],
            OffsetDateTime::now_utc() + time::Duration::seconds(15),
        )
        .unwrap();
    write_ca_crl(&short);
    eventually("degraded", || async {
        healthz(&axis).await.starts_with("degraded: the CRL of ")
    })
    .await;
    let left = crl_seconds_left(&axis).await;
    assert!(left <= 15, "{left}");
    eventually("the new CRL and the warning logged", || async {
        !logged(&log, "a CRL expires soon").is_empty() || !logged(&log, "a CRL expired").is_empty()
    })
    .await;
    assert_eq!(
        logged(&log, "CRL file changed: the new CRL is in force").len(),
        1
    );
    // Degraded is not unready: traffic still flows.
    assert_eq!(
        http_get(axis.metrics_addr(), "/readyz").await.unwrap().0,
        200
    );

    // Past its nextUpdate: the CA's certificates are refused — on open connections at their
    // next call, with the reason they always had, and on new ones at the handshake.
    eventually("refused on the open connection", || {
        let mut ax = ax.clone();
        async move { ax.get_limits(pb::GetLimitsRequest {}).await.is_err() }
    })
    .await;
    let e = ax.get_limits(pb::GetLimitsRequest {}).await.unwrap_err();
    assert_eq!(
        (e.code(), reason(&e).as_str()),
        (tonic::Code::PermissionDenied, "CERTIFICATE_REJECTED"),
        "{e:?}"
    );
    assert!(e.message().contains("stale"), "{e:?}");
    assert!(new_connection_call(&axis, &a.tls).await.is_err());
    assert!(healthz(&axis).await.contains("expired at"));
    assert!(crl_seconds_left(&axis).await <= 0);
    let expired = logged(&log, "a CRL expired");
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0].0, "ERROR");
    let warned = logged(&log, "a CRL expires soon");
    assert!(warned.len() <= 1, "warned once at most: {warned:?}");

    // A worse CRL is refused and the one in force kept: an older number, and a CRL by another
    // PKI's CA of the same name (its signature does not verify).
    let (_, older) = pki.pki.crls(1, &[]).unwrap();
    write_ca_crl(&older);
    eventually("the older CRL refused", || async {
        !logged(&log, "CRL file changed but its CRL is refused").is_empty()
    })
    .await;
    let (_, foreign) = TestPki::new(0).pki.crls(9, &[]).unwrap();
    write_ca_crl(&foreign);
    eventually("the foreign CRL refused", || async {
        logged(&log, "CRL file changed but its CRL is refused").len() == 2
    })
    .await;
    for (level, fields) in logged(&log, "CRL file changed but its CRL is refused") {
        assert_eq!(
            (level.as_str(), fields["reason"].as_str()),
            ("WARN", Some("BAD_CRL"))
        );
    }
    assert!(healthz(&axis).await.contains("expired at"));

    // A fresh CRL over the file: traffic resumes, without a restart.
    let (_, fresh) = pki.pki.crls(3, &[]).unwrap();
    write_ca_crl(&fresh);
    eventually("healthy again", || async { healthz(&axis).await == "ok\n" }).await;
    new_connection_call(&axis, &a.tls).await.unwrap();
    ax.get_limits(pb::GetLimitsRequest {}).await.unwrap();
    assert!(crl_seconds_left(&axis).await > 80 * 86_400);
    assert_eq!(logged(&log, "the CRLs in force are current").len(), 1);
    axis.stop().await;
}
