//! The command line: every subcommand, its options, and the examples its `--help` prints.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::secrets::{CaPassArg, KeyPassArg, NewKeyPassArg, P12PassArg};
use crate::tokens::TokenKeyArg;

const ABOUT: &str = "Axis PKI administration: an offline root, issuing CAs, certificates from \
fixed profiles, revocation and CRLs, verification, PKCS#12 export";

const LONG_ABOUT: &str = "Axis PKI administration: an offline root, issuing CAs, certificates \
from fixed profiles, revocation and CRLs, verification, PKCS#12 export.

All state lives in the CA directory (--dir, default ./axis-pki-ca): the index axis-pki.json, the \
CA certificates and their encrypted keys, a copy of every issued certificate and each CA's CRL. \
Commands that change it hold an exclusive lock and change it atomically or not at all.

Passphrases are never taken from the command line. Each comes from a file option or else from an \
environment variable holding the passphrase itself:
  --ca-pass-file FILE       or AXIS_PKI_CA_PASS       the CA key that signs
  --new-key-pass-file FILE  or AXIS_PKI_NEW_KEY_PASS  protects a newly generated key (>= 8 chars)
  --key-pass-file FILE      or AXIS_PKI_KEY_PASS      an existing key (export)
  --p12-pass-file FILE      or AXIS_PKI_P12_PASS      protects a PKCS#12 bundle (>= 8 chars)

Exit status: 0 on success, 1 when the operation fails (the directory is left unchanged), 2 on a \
command-line usage error.";

const MAIN_EXAMPLES: &str = "\
Examples:
  export AXIS_PKI_DIR=./ca
  axis-pki init --name \"Axis Root CA\" --new-key-pass-file root.pass
  axis-pki ca --id state --name \"CA for state agencies\" \\
      --ca-pass-file root.pass --new-key-pass-file state.pass
  axis-pki issue --ca state --profile agency-seal --agency-id 000.00.00.G22 \\
      --name \"Văn phòng Chính phủ\" --ca-pass-file state.pass --new-key-pass-file g22.pass
  axis-pki list
  axis-pki verify 000.00.00.G22-agency-seal.cert.pem";

const INIT_EXAMPLES: &str = "\
Examples:
  openssl rand -base64 24 > root.pass && chmod 600 root.pass
  axis-pki --dir ./ca init --name \"Axis Root CA\" --org \"Ban Cơ yếu Chính phủ\" \\
      --new-key-pass-file root.pass
  # Under the arc your organisation registered (here IANA enterprise number 32473):
  axis-pki --dir ./ca init --name \"Axis Root CA\" --policy-arc 1.3.6.1.4.1.32473.1 \\
      --new-key-pass-file root.pass
  # The root key generated on an HSM or token, never outside it (PIN from a file):
  axis-pki --dir ./ca init --name \"Axis Root CA\" \\
      --key 'pkcs11:token=axis-root;object=root-2026?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/root/hsm.pin'

Creates ./ca with the root key (root/root.key.pem, encrypted, mode 0600), the self-signed root \
certificate (root/root.cert.pem: distribute it as the trust anchor) and the root's first CRL \
(crl/root.crl.pem, CRL number 1). Keep the root key and its passphrase offline.

Every certificate of the PKI names its profile by a certificate policy <arc>.1.<n>; the root \
carries <arc>.1.1, and verifiers read the arc from it, so it is chosen here once and configured \
nowhere else. The default arc, 2.999.1, is under ITU-T X.660's example arc (owned by nobody); a \
production PKI should use an arc its operator registered (an IANA Private Enterprise Number, \
free: 1.3.6.1.4.1.<PEN>.<…>, or its national registration authority's). Keep every component \
below 2^31: Go before 1.22 cannot parse larger ones (2.25.<UUID> arcs, for instance).";

const CA_EXAMPLES: &str = "\
Example:
  axis-pki --dir ./ca ca --id state --name \"CA for state agencies\" \\
      --ca-pass-file root.pass --new-key-pass-file state.pass

Writes cas/state/ca.cert.pem, cas/state/ca.key.pem (encrypted, mode 0600) and crl/state.crl.pem \
(CRL number 1). --ca-pass-file is the root key's passphrase; --new-key-pass-file protects the new \
CA's key.";

const ISSUE_EXAMPLES: &str = "\
Examples:
  # An agency seal, key generated here (written encrypted, mode 0600):
  axis-pki issue --ca state --profile agency-seal --agency-id 000.00.00.G22 \\
      --name \"Văn phòng Chính phủ\" --ca-pass-file state.pass --new-key-pass-file g22.pass \\
      --out ./g22
  # A person who signs for the agency:
  axis-pki issue --ca state --profile personal-signer --agency-id 000.00.00.G22 \\
      --name \"Trần Văn Sơn\" --title \"Phó Thủ tướng\" --ca-pass-file state.pass \\
      --new-key-pass-file son.pass --basename tran-van-son
  # From a CSR: the agency keeps its key, nothing but the certificate is written:
  axis-pki issue --ca state --profile agency-tls-client --csr h41-tls.csr \\
      --ca-pass-file state.pass --out ./h41
  # The axis server:
  axis-pki issue --ca state --profile axis-server-tls --dns axis.example.vn --ip 10.0.0.5 \\
      --ca-pass-file state.pass --new-key-pass-file server.pass
  # The seal's key generated on the agency's token (no key file is written):
  axis-pki issue --ca state --profile agency-seal --agency-id 000.00.00.G22 \\
      --name \"Văn phòng Chính phủ\" --ca-pass-file state.pass \\
      --key 'pkcs11:token=g22;object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:g22.pin'

Writes <out>/<basename>.cert.pem, <basename>.chain.pem (the certificate, then the issuing CA) \
and, without --csr, <basename>.key.pem. The default basename is <agency-id or name>-<profile>. \
Existing files are never overwritten.";

const CSR_EXAMPLES: &str = "\
Examples:
  # A request from the agency's token (the key never leaves it), for the CA to issue:
  axis-pki csr --profile agency-seal --agency-id 000.00.00.H41 --name \"UBND tỉnh Nghệ An\" \\
      --key 'pkcs11:token=h41;object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=env:H41_PIN' \\
      --out h41-seal.csr
  # From an encrypted key file:
  axis-pki csr --profile axis-server-tls --dns axis.example.vn --key server.key.pem \\
      --key-pass-file server.pass --out server.csr
  # Then, at the CA:
  axis-pki issue --ca state --profile agency-seal --csr h41-seal.csr --ca-pass-file state.pass

Writes a PKCS#10 request (PEM) signed by the key, with the names the profile needs and nothing \
else; it needs no CA directory. `openssl req -verify -in FILE` checks it.";

const REVOKE_EXAMPLES: &str = "\
Example:
  axis-pki list                      # find the serial
  axis-pki revoke --serial 4A1F0C… --reason key-compromise --ca-pass-file state.pass

Records the revocation and publishes the issuing CA's new CRL (next CRL number) in one locked \
step; --ca-pass-file is the passphrase of the CA that issued the certificate (the root's, to \
revoke an issuing CA). Revocation is final.";

const CRL_EXAMPLES: &str = "\
Examples:
  axis-pki crl --ca state --ca-pass-file state.pass          # next update in 7 days
  axis-pki crl --ca root --days 180 --ca-pass-file root.pass

Writes crl/<id>.crl.pem with the next CRL number, listing every revocation of that CA. \
Relying parties reject certificates once their CA's CRL is past its next update: re-run it \
before then (e.g. daily from cron).";

const VERIFY_EXAMPLES: &str = "\
Examples:
  axis-pki verify ./g22/000.00.00.G22-agency-seal.cert.pem
  axis-pki verify server.cert.pem --profile axis-server-tls --at 2027-06-01T00:00:00Z

Checks the certificate against this directory: the root as the trust anchor, the issuing CAs, \
each CA's current CRL (revocation fails closed), validity at --at (default: now) and the profile \
(from --profile, or the one the certificate names). Exit status 0 when valid, 1 when rejected.";

const LIST_EXAMPLES: &str = "\
Examples:
  axis-pki list
  axis-pki list --ca state --json | jq '.certificates[] | select(.status == \"valid\")'";

const EXPORT_EXAMPLES: &str = "\
Examples:
  axis-pki export --cert g22/000.00.00.G22-agency-seal.cert.pem \\
      --key g22/000.00.00.G22-agency-seal.key.pem --key-pass-file g22.pass \\
      --p12-pass-file p12.pass --out g22-seal.p12
  # For Windows before 10 1709 / Server 2016, or Java before 8u301:
  axis-pki export --cert … --key … --legacy --out g22-seal-legacy.p12

The bundle holds the key, the certificate and its chain (issuing CA and root). Check it with \
`openssl pkcs12 -info -noout -in g22-seal.p12`.";

/// `axis-pki`: the Axis PKI administrators' CLI.
#[derive(Debug, Parser)]
#[command(
    name = "axis-pki",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = MAIN_EXAMPLES,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// The CA directory.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "AXIS_PKI_DIR",
        default_value = "./axis-pki-ca"
    )]
    pub(crate) dir: PathBuf,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the CA directory with a new root CA (key, self-signed certificate, first CRL).
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitArgs),
    /// Create an issuing CA signed by the root.
    #[command(after_help = CA_EXAMPLES)]
    Ca(CaArgs),
    /// Issue an end-entity certificate from a profile, with a new key or from a CSR.
    #[command(after_help = ISSUE_EXAMPLES)]
    Issue(Box<IssueArgs>),
    /// Make a certificate request (PKCS#10) from a key on a token or in a file.
    #[command(after_help = CSR_EXAMPLES)]
    Csr(CsrArgs),
    /// Revoke a certificate and publish its CA's new CRL.
    #[command(after_help = REVOKE_EXAMPLES)]
    Revoke(RevokeArgs),
    /// Publish a fresh CRL for a CA.
    #[command(after_help = CRL_EXAMPLES)]
    Crl(CrlArgs),
    /// Verify a certificate against this CA directory (chain, validity, revocation, profile).
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
    /// List the CAs and every certificate they issued, with status.
    #[command(after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Export a key, its certificate and chain as a PKCS#12 bundle.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Common name of the root CA, e.g. "Axis Root CA".
    #[arg(long, value_name = "NAME")]
    pub(crate) name: String,
    /// Organization (O) of the root CA.
    #[arg(long, value_name = "ORG")]
    pub(crate) org: Option<String>,
    /// Root key type: rsa4096, rsa3072, rsa2048 or p256 [default: rsa4096].
    #[arg(long, value_name = "TYPE")]
    pub(crate) key_type: Option<String>,
    /// Validity in days [default: 7305, 20 years; at most 10958].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub(crate) days: Option<u32>,
    /// Days until the first CRL's next update [default: 90; at most 400].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=400))]
    pub(crate) crl_days: Option<u32>,
    /// The OID arc of the PKI's profile policies (<arc>.1.<n>), e.g. 1.3.6.1.4.1.<PEN>.1
    /// [default: 2.999.1, the example arc].
    #[arg(long, value_name = "OID")]
    pub(crate) policy_arc: Option<String>,
    #[command(flatten)]
    pub(crate) new_key_pass: NewKeyPassArg,
    #[command(flatten)]
    pub(crate) token: TokenKeyArg,
}

#[derive(Debug, Args)]
pub(crate) struct CaArgs {
    /// Short id of the CA, used with --ca later: 1–32 of a-z, 0-9, '-' (`root` is reserved).
    #[arg(long, value_name = "ID")]
    pub(crate) id: String,
    /// Common name of the CA, e.g. "CA for state agencies".
    #[arg(long, value_name = "NAME")]
    pub(crate) name: String,
    /// Organization (O) of the CA.
    #[arg(long, value_name = "ORG")]
    pub(crate) org: Option<String>,
    /// Key type: rsa4096, rsa3072, rsa2048 or p256 [default: rsa4096].
    #[arg(long, value_name = "TYPE")]
    pub(crate) key_type: Option<String>,
    /// Validity in days [default: 3653, 10 years, or up to the root's end; at most 7305].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub(crate) days: Option<u32>,
    /// Days until the first CRL's next update [default: 7; at most 400].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=400))]
    pub(crate) crl_days: Option<u32>,
    #[command(flatten)]
    pub(crate) ca_pass: CaPassArg,
    #[command(flatten)]
    pub(crate) new_key_pass: NewKeyPassArg,
    #[command(flatten)]
    pub(crate) token: TokenKeyArg,
}

#[derive(Debug, Args)]
pub(crate) struct IssueArgs {
    /// Id of the issuing CA [default: the only issuing CA, if there is just one].
    #[arg(long, value_name = "ID")]
    pub(crate) ca: Option<String>,
    /// Profile: agency-seal, personal-signer, agency-encryption, agency-tls-client,
    /// axis-server-tls, axis-log-signer or axis-operator.
    #[arg(long, value_name = "PROFILE")]
    pub(crate) profile: String,
    /// Agency id (mã định danh, QCVN 102:2016), e.g. 000.00.00.G22; required for agency and
    /// personal profiles [default: the CSR's].
    #[arg(long, value_name = "ID")]
    pub(crate) agency_id: Option<String>,
    /// Common name: the agency's or person's name [default: the CSR's; for axis-server-tls the
    /// first --dns].
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Organization (O); for a person, the agency they sign for.
    #[arg(long, value_name = "ORG")]
    pub(crate) org: Option<String>,
    /// Organizational unit (OU).
    #[arg(long, value_name = "UNIT")]
    pub(crate) ou: Option<String>,
    /// Locality (L): province or city.
    #[arg(long, value_name = "PLACE")]
    pub(crate) locality: Option<String>,
    /// Position of a personal signer, e.g. "Phó Thủ tướng" (personal-signer only, required).
    #[arg(long, value_name = "POSITION")]
    pub(crate) title: Option<String>,
    /// DNS name of the server (axis-server-tls only; repeatable).
    #[arg(long = "dns", value_name = "HOST")]
    pub(crate) dns: Vec<String>,
    /// IP address of the server (axis-server-tls only; repeatable).
    #[arg(long = "ip", value_name = "ADDR")]
    pub(crate) ip: Vec<IpAddr>,
    /// Key type of the generated key: rsa2048, rsa3072, rsa4096 or p256 [default: the
    /// profile's: rsa2048 for seal, signer and encryption, p256 for the others].
    #[arg(long, value_name = "TYPE", conflicts_with = "csr")]
    pub(crate) key_type: Option<String>,
    /// Validity in days [default: the profile's, capped at the issuing CA's end].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub(crate) days: Option<u32>,
    /// Issue for the public key of this PKCS#10 request (PEM or DER) instead of generating a key.
    #[arg(long, value_name = "FILE", conflicts_with = "key")]
    pub(crate) csr: Option<PathBuf>,
    /// Directory to write the certificate, chain and key into (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) out: PathBuf,
    /// Base name of the output files [default: <agency-id or name>-<profile>].
    #[arg(long, value_name = "NAME")]
    pub(crate) basename: Option<String>,
    #[command(flatten)]
    pub(crate) ca_pass: CaPassArg,
    #[command(flatten)]
    pub(crate) new_key_pass: NewKeyPassArg,
    #[command(flatten)]
    pub(crate) token: TokenKeyArg,
}

#[derive(Debug, Args)]
pub(crate) struct CsrArgs {
    /// The key: a pkcs11: URI (a key on a token; without pin-source, --key-pass-file or
    /// $AXIS_PKI_KEY_PASS gives the PIN) or an encrypted PKCS#8 file.
    #[arg(long, value_name = "URI|FILE")]
    pub(crate) key: String,
    /// The profile the certificate is for: it decides which names the request must carry.
    #[arg(long, value_name = "PROFILE")]
    pub(crate) profile: String,
    /// Agency id (mã định danh), e.g. 000.00.00.H41; required for agency and personal profiles.
    #[arg(long, value_name = "ID")]
    pub(crate) agency_id: Option<String>,
    /// Common name: the agency's or person's name [default for axis-server-tls: the first --dns].
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Organization (O).
    #[arg(long, value_name = "ORG")]
    pub(crate) org: Option<String>,
    /// Organizational unit (OU).
    #[arg(long, value_name = "UNIT")]
    pub(crate) ou: Option<String>,
    /// Locality (L).
    #[arg(long, value_name = "PLACE")]
    pub(crate) locality: Option<String>,
    /// Position of a personal signer (personal-signer only, required).
    #[arg(long, value_name = "POSITION")]
    pub(crate) title: Option<String>,
    /// DNS name of the server (axis-server-tls only; repeatable).
    #[arg(long = "dns", value_name = "HOST")]
    pub(crate) dns: Vec<String>,
    /// IP address of the server (axis-server-tls only; repeatable).
    #[arg(long = "ip", value_name = "ADDR")]
    pub(crate) ip: Vec<IpAddr>,
    /// Where to write the request (PEM; never overwritten).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) key_pass: KeyPassArg,
}

#[derive(Debug, Args)]
pub(crate) struct RevokeArgs {
    /// Serial number in hex, as `axis-pki list` or `openssl x509 -noout -serial` prints it.
    #[arg(long, value_name = "HEX")]
    pub(crate) serial: String,
    /// Why: unspecified, key-compromise, ca-compromise, affiliation-changed, superseded,
    /// cessation-of-operation or privilege-withdrawn.
    #[arg(long, value_name = "REASON")]
    pub(crate) reason: String,
    /// Days until the new CRL's next update [default: 7 for an issuing CA, 90 for the root].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=400))]
    pub(crate) crl_days: Option<u32>,
    #[command(flatten)]
    pub(crate) ca_pass: CaPassArg,
}

#[derive(Debug, Args)]
pub(crate) struct CrlArgs {
    /// The CA whose CRL to publish: an issuing CA's id, or `root`.
    #[arg(long, value_name = "ID")]
    pub(crate) ca: String,
    /// Days until the CRL's next update [default: 7 for an issuing CA, 90 for the root].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=400))]
    pub(crate) days: Option<u32>,
    #[command(flatten)]
    pub(crate) ca_pass: CaPassArg,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The certificate (PEM or DER). Further PEM certificates in the file are used as
    /// intermediates, so a .chain.pem file works too.
    #[arg(value_name = "CERT")]
    pub(crate) cert: PathBuf,
    /// The profile it must have [default: the one the certificate names].
    #[arg(long, value_name = "PROFILE")]
    pub(crate) profile: Option<String>,
    /// Verify at this instant (RFC 3339, e.g. 2027-06-01T00:00:00Z) instead of now.
    #[arg(long, value_name = "TIME")]
    pub(crate) at: Option<String>,
    /// Extra intermediate certificates (PEM), untrusted: they only help build the path.
    #[arg(long, value_name = "FILE")]
    pub(crate) chain: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only certificates issued by this CA (an issuing CA's id, or `root` for the issuing CAs).
    #[arg(long, value_name = "ID")]
    pub(crate) ca: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The certificate (PEM or DER) issued by this CA directory.
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: PathBuf,
    /// Its private key (encrypted PKCS#8 PEM, as `issue` writes it).
    #[arg(long, value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// Where to write the PKCS#12 bundle (never overwritten; mode 0600).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Friendly name shown by importers [default: the certificate's common name].
    #[arg(long, value_name = "FRIENDLY")]
    pub(crate) name: Option<String>,
    /// 3DES and a SHA-1 MAC instead of AES-256 and SHA-256, for old Windows and Java importers.
    #[arg(long)]
    pub(crate) legacy: bool,
    #[command(flatten)]
    pub(crate) key_pass: KeyPassArg,
    #[command(flatten)]
    pub(crate) p12_pass: P12PassArg,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_an_example() {
        let missing = axis_testkit::cli::commands_without_example(&super::Cli::command());
        assert!(missing.is_empty(), "no example in --help of: {missing:?}");
    }
}
