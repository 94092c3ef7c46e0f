//! `axis-gateway trust-info`: what a DMS (and its administrator) needs to connect to the
//! gateway and to know whom it talks to, and nothing secret.

use std::fmt::Write as _;

use crate::config::Config;

/// SHA-256 of DER bytes, as `openssl x509 -fingerprint -sha256` prints it.
fn fingerprint(der: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    d.as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The report (reads the agency's configuration and its certificates; no network).
pub fn trust_info(config: &Config) -> Result<String, axis_client::Error> {
    let agency = axis_client::ClientConfig::from_file(&config.agency_config)?;
    let mut out = String::new();
    let scheme = "http";
    let base = format!("{scheme}://{}", config.listen);
    let _ = writeln!(
        out,
        "agency            {}",
        agency
            .agency
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(
                || "(none: an operator configuration; the gateway will not start)".into()
            )
    );
    let _ = writeln!(
        out,
        "axis              {} (TLS name {})",
        agency.endpoints.join(", "),
        agency.server_name
    );
    let _ = writeln!(out, "\nVXP-compatible API (point VNPT's VXP SDK here)");
    let _ = writeln!(out, "  endpoint        {base}");
    if config.vxp_systems.is_empty() {
        let _ = writeln!(
            out,
            "  systems         none configured: add [[vxp.systems]] with id and secret_file"
        );
    }
    for s in &config.vxp_systems {
        let _ = writeln!(
            out,
            "  systemid        {} (HMAC-SHA256 secret of {} bytes, from the configuration; give it to that DMS only)",
            s.id,
            s.secret.expose().len()
        );
    }
    let _ = writeln!(
        out,
        "  listening       {}",
        if config.listen.ip().is_loopback() {
            "loopback only: the DMS must run on this machine"
        } else {
            "beyond loopback: protect it with TLS in front, or a firewall"
        }
    );
    let _ = writeln!(out, "\nHealth and metrics");
    let _ = writeln!(out, "  {base}/healthz   {base}/metrics");
    let _ = writeln!(out, "\nWhat the gateway trusts and signs with");
    let _ = writeln!(
        out,
        "  root            SHA-256 {}",
        fingerprint(&agency.root)
    );
    for (name, c) in [
        ("seal", &agency.seal),
        ("personal", &agency.personal),
        ("encryption", &agency.encryption),
    ] {
        if let Some(c) = c {
            let _ = writeln!(out, "  {name:<15} SHA-256 {}", fingerprint(c.certificate()));
        }
    }
    let _ = writeln!(
        out,
        "  tls (to axis)   SHA-256 {}",
        fingerprint(agency.tls.certificate())
    );
    Ok(out)
}
