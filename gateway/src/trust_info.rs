//! `axis-gateway trust-info`: what a DMS (and its administrator) needs to connect to the
//! gateway and to know whom it talks to, and nothing secret.

use std::fmt::Write as _;

use crate::config::Config;

use crate::tls::fingerprint;

/// Why the report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TrustInfoError {
    /// The agency's configuration.
    #[error(transparent)]
    Agency(#[from] axis_client::Error),
    /// The listener's TLS files.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

/// The report (reads the agency's configuration and its certificates; no network).
pub fn trust_info(config: &Config) -> Result<String, TrustInfoError> {
    let agency = axis_client::ClientConfig::from_file(&config.agency_config)?;
    let mut out = String::new();
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
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
            "beyond loopback (TLS required)"
        }
    );
    let _ = writeln!(out, "\nJSON API (new integrations)");
    let _ = writeln!(
        out,
        "  endpoint        {base}/api/v1  (described at {base}/openapi.json)"
    );
    let _ = writeln!(
        out,
        "  authentication  {}",
        match (
            config.json_token.is_some(),
            config.tls.as_ref().is_some_and(|t| t.client_ca.is_some())
        ) {
            (true, true) => "a client certificate and Authorization: Bearer <the JSON token>",
            (true, false) =>
                "Authorization: Bearer <the JSON token> (from the configured token file)",
            (false, true) => "a client certificate",
            (false, false) => "none (loopback only)",
        }
    );
    match &config.tls {
        None => {
            let _ = writeln!(
                out,
                "\nTLS             none: plain HTTP on loopback (add [tls] to listen beyond it)"
            );
        }
        Some(files) => {
            let _ = writeln!(
                out,
                "\nTLS (what the DMS must trust: pin or add to its trust store)"
            );
            for (i, c) in crate::tls::certificates(&files.cert)?.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  {:<15} SHA-256 {}",
                    if i == 0 { "gateway cert" } else { "  its CA" },
                    fingerprint(c)
                );
            }
            let _ = writeln!(out, "  file            {}", files.cert.display());
            match &files.client_ca {
                Some(ca) => {
                    let _ = writeln!(
                        out,
                        "\nClient certificates (what the gateway trusts: the DMS presents one chaining to)"
                    );
                    for c in crate::tls::certificates(ca)? {
                        let _ = writeln!(out, "  client CA       SHA-256 {}", fingerprint(&c));
                    }
                }
                None => {
                    let _ = writeln!(out, "  client certs    not asked for");
                }
            }
        }
    }
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
