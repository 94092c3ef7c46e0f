//! The command line: clap definitions, each command with an example.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Exchange signed, end-to-end-encrypted documents through the axis.
#[derive(Debug, Parser)]
#[command(
    name = "axis",
    version,
    about = "Exchange signed, end-to-end-encrypted documents through the axis",
    after_help = "\
The configuration file names the axis's nodes, the root certificate and this agency's
certificates and encrypted keys; each key's passphrase comes from its own passphrase_file or
passphrase_env, else the top-level passphrase_file, else AXIS_KEY_PASS (docs/DEPLOY.md lists
every key). `axis check-config` says what is wrong with it.

Examples:
  export AXIS_CONFIG=/etc/axis/g22.toml
  axis send --to 000.00.00.H41 --code 7816/VPCP-TTĐT --subject \"V/v kết nối\" cong-van.pdf
  axis inbox --follow
  axis open 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d --out incoming/
  axis history 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d"
)]
pub(crate) struct Cli {
    /// The client configuration file (TOML).
    #[arg(long, global = true, env = "AXIS_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Sign, encrypt and send a document to one or more agencies.
    #[command(after_help = "\
Examples:
  axis send --to 000.00.00.H41 --to 000.00.00.H53 --code 7816/VPCP-TTĐT \\
      --subject \"V/v kết nối, liên thông văn bản\" --priority 1 cong-van.pdf phu-luc.xlsx
  axis send --edxml 7816.edxml                      # a DMS's edXML package, to its To agencies
  axis send --to 000.00.00.H41 --code 7820/VPCP-TTĐT --subject \"Thay thế văn bản 7816\" \\
      --business replacement --refers-to 000.00.00.G22,2015/09/30,7816/VPCP-TTĐT \\
      --business-reason \"Sai sót số liệu\" --due-date 2015/10/15 cong-van-moi.pdf

With --edxml the package is read and checked before anything connects (a refused package sends
nothing); every field comes from it, the recipients from its To elements unless --to is given.

The document is signed by the [personal] certificate's holder, then sealed by the agency; it
is encrypted for each recipient's encryption certificate from the directory. The command prints
the message id and the verified acceptance. To retry an upload whose outcome is unknown, give
the same --message-id: the axis then returns the receipt of the first acceptance.")]
    Send(Box<SendArgs>),

    /// List the deliveries waiting for this agency (or follow new ones).
    #[command(after_help = "\
Examples:
  axis inbox                       # what is pending, then exit
  axis inbox --after 42 --follow   # everything after cursor 42, and new ones as they come

One line per delivery: cursor, message id, sender, size in bytes, acceptance time.")]
    Inbox(InboxArgs),

    /// Fetch, decrypt and verify a document, write its files, and send the delivery receipt.
    #[command(after_help = "\
Examples:
  axis open 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d --out incoming/7816
  axis open 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d --out incoming/7816 --edxml \\
      --ack-edxml status_inbox_01.edxml

Writes each attachment and document.json (the metadata and who signed) into the directory,
only after both signatures and every attachment's digest verified; on any failure nothing is
left. With --edxml, also document.edxml: the package as the sender's DMS wrote it, with every
attachment. Then sends the signed delivery receipt (status 01), unless --no-ack.")]
    Open(OpenArgs),

    /// Send a business status on a received document (02–06, 15, 16).
    #[command(after_help = "\
Examples:
  axis status 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d 03
  axis status 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d 02 --reason \"Sai thẩm quyền\"
  axis status 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d --edxml status_acceptance_03.edxml
  axis status 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d 02 --unopened \\
      --reason \"Không mở được: không có khóa cho cơ quan\"

Codes: 02 rejected, 03 accepted, 04 assigned, 05 processing, 06 completed,
15 agree to a recall or update, 16 refuse it.

02 --unopened refuses a document this agency cannot open (no key for it, a signature that does
not verify…): the refusal names only what the routing header says, so it needs nothing from
inside the package. It must be the agency's first status on the document.")]
    Status(StatusArgs),

    /// Recall a sent document from one recipient (status 13).
    #[command(after_help = "\
Example:
  axis recall 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d --recipient 000.00.00.H41 \\
      --reason \"Văn bản ban hành nhầm\"

The recipient answers with 15 (agrees) or 16 (refuses); see `axis history`.")]
    Recall(RecallArgs),

    /// Show the verified timeline of a document, per recipient.
    #[command(after_help = "\
Examples:
  axis history 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d
  axis history 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d --edxml statuses/

With --edxml, every status is also written as an edXML status package,
DIR/<recipient>-<nn>-status-<code>.edxml (files already there with the same bytes are kept).

Every line was verified: the signature of the agency that stated it, the receipt chain, and
the axis's log evidence.")]
    History(HistoryArgs),

    /// Look agencies up in the directory; register and update them (operator).
    #[command(
        subcommand,
        after_help = "\
Examples:
  axis directory lookup 000.00.00.H41
  axis directory list
  axis --config operator.toml directory publish-crl ca-dir/crl/state.crl.pem
  axis --config operator.toml directory import units.csv
  axis directory sync --copy units.der
  axis directory unit 000.00.01.H53

lookup, list, unit, units and sync need any configuration; register, update, publish-crl and
import an operator's."
    )]
    Directory(DirectoryCommand),

    /// edXML packages (QCVN 102:2016) without an axis: inspect what a DMS wrote.
    #[command(
        subcommand,
        after_help = "\
Example:
  axis edxml show 7816.edxml

Sending, opening, statuses and history take edXML too: see --edxml in `axis send --help`,
`axis open --help`, `axis status --help` and `axis history --help`."
    )]
    Edxml(EdxmlCommand),

    /// Show the limits the axis enforces.
    #[command(after_help = "\
Example:
  axis limits")]
    Limits,

    /// Check the configuration: say exactly what is wrong, one line per problem.
    #[command(
        name = "check-config",
        after_help = "\
Examples:
  axis --config /etc/axis/g22.toml check-config
  axis --config /etc/axis/g22.toml check-config --offline

Loads every file the configuration names and checks each part: the agency id, the endpoints and
deadlines, the root, each certificate's profile and agency id, each key's passphrase and that it
is its certificate's key. Then (unless --offline) connects to every endpoint, fetches the trust
material and verifies each certificate now with revocation, reports how long each CRL stays
current, and compares the directory's entry of this agency with the configuration. Lines start
with ok, WARN or FAIL; the exit code is 1 if any line is FAIL."
    )]
    CheckConfig {
        /// Check the files only; do not contact the axis.
        #[arg(long)]
        offline: bool,
    },

    /// For auditors: the axis's signed log — tree heads, consistency, monitoring.
    #[command(
        subcommand,
        after_help = "\
Examples:
  axis audit export 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d --out evidence.axb
  axis audit verify evidence.axb --root root.pem --log-key log-signer.pem
  axis audit verify evidence.axb --root root.pem --log-key log-signer.pem \\
      --witness w1.pub.pem --witness w2.pub.pem --witness w3.pub.pem --min-witnesses 2
  axis audit monitor --state head.axh --interval 60
  axis audit witness --state witness.sth --key witness.key.pem --log-key log-signer.pem

verify needs no configuration and no network: the root certificate and the log key only."
    )]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Export one document's evidence bundle: header, signatures, every receipt and status,
    /// the CAs and CRLs, a signed tree head and the inclusion proofs (verified before writing).
    #[command(after_help = "\
Example:
  axis audit export 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d --out evidence.axb

Either party may export: the sender gets every recipient's chain, a recipient its own.")]
    Export {
        /// The message id.
        message_id: String,
        /// Where to write the bundle.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Verify an evidence bundle offline, with only the root certificate and the log key;
    /// print who sent what to whom and the status timeline, and per recipient that the bundle
    /// holds every statement the log held as of its tree head (the axis's signed completeness
    /// statement); exit non-zero naming the first failure (a history cut short names the
    /// recipient). Needs no configuration and no network.
    #[command(after_help = "\
Exit codes: 0 VERIFIED, 1 NOT VERIFIED, 5 an old (version 1) bundle: everything else verified,
COMPLETENESS NOT PROVEN, 2 usage.

Example:
  axis audit verify evidence.axb --root root.cert.pem --log-key axis-log-signer.cert.pem
  axis audit verify evidence.axb --root root.cert.pem --log-key axis-log-signer.cert.pem \\
      --witness w1.pub.pem --witness w2.pub.pem --min-witnesses 2

--log-key takes the log signer's certificate or its public key (PEM or DER). With
--min-witnesses K, the bundle's tree head must be cosigned by K of the --witness keys: each of
them saw that head as a continuation of the history it had cosigned, so the axis cannot show
this history to the auditor and another one to someone else without K witnesses colluding.")]
    Verify {
        /// The bundle file.
        bundle: std::path::PathBuf,
        /// The root certificate (PEM or DER): the only trust anchor.
        #[arg(long, value_name = "FILE")]
        root: std::path::PathBuf,
        /// The axis log signer's certificate or public key (PEM or DER).
        #[arg(long = "log-key", value_name = "FILE")]
        log_key: std::path::PathBuf,
        /// A witness's public key (PEM or DER SubjectPublicKeyInfo, ECDSA P-256); repeat for
        /// several. Only cosignatures by these witnesses count.
        #[arg(long = "witness", value_name = "FILE")]
        witnesses: Vec<std::path::PathBuf>,
        /// Refuse the bundle unless its tree head is cosigned by at least K of the --witness
        /// keys (default 0: cosignatures are not required).
        #[arg(long = "min-witnesses", value_name = "K", default_value_t = 0)]
        min_witnesses: usize,
    },
    /// Make a witness key: a new ECDSA P-256 key, encrypted (PKCS#8, the passphrase from
    /// --passphrase-file or AXIS_KEY_PASS), and its public key, which verifiers pass with
    /// `axis audit verify --witness` and the axis operator lists in `[witnesses]`.
    #[command(after_help = "\
Example:
  axis audit witness-key --out witness.key.pem --public witness.pub.pem --passphrase-file w.pass")]
    WitnessKey {
        /// Where to write the encrypted private key (never overwritten).
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
        /// Where to write the public key (PEM SubjectPublicKeyInfo).
        #[arg(long, value_name = "FILE")]
        public: std::path::PathBuf,
        /// A file holding the key's passphrase (else AXIS_KEY_PASS).
        #[arg(long = "passphrase-file", value_name = "FILE")]
        passphrase_file: Option<std::path::PathBuf>,
    },
    /// Witness the axis's log: check each new tree head against the last one this witness
    /// cosigned (kept in the state file) and cosign it only if the log is consistent with it;
    /// the cosignature goes to the axis, which serves it with the head. A head that is not
    /// consistent (two roots for one size, a rewritten, shrunk or emptied log) is REFUSED, never
    /// cosigned: exit code 3, both heads kept as evidence.
    #[command(after_help = "\
Exit codes: 0 cosigned (or nothing to cosign yet), 3 REFUSED (split view, fork, rewritten,
shrunk or emptied log; the head shown is kept beside the state file as STATE.refused), 4 axis
unreachable (--once; the loop tries again), 1 other errors, 2 usage.

Example:
  axis audit witness --state witness.sth --key witness.key.pem --passphrase-file w.pass \\
      --log-key axis-log-signer.cert.pem --interval 60
  axis audit witness --state witness.sth --key witness.key.pem --log-key log.pem --once")]
    Witness {
        /// The file holding the last head this witness cosigned (created on the first run;
        /// written durably before any cosignature leaves).
        #[arg(long, value_name = "FILE")]
        state: std::path::PathBuf,
        /// The witness's key, ECDSA P-256: an encrypted key file, or a `pkcs11:` URI of a key on
        /// a token.
        #[arg(long, value_name = "FILE|URI")]
        key: std::path::PathBuf,
        /// A file holding the key file's passphrase (else AXIS_KEY_PASS), or the token's PIN
        /// (unless the URI has a pin-source).
        #[arg(long = "passphrase-file", value_name = "FILE")]
        passphrase_file: Option<std::path::PathBuf>,
        /// The log signer's certificate or public key (PEM or DER): the log this witness follows.
        #[arg(long = "log-key", value_name = "FILE")]
        log_key: std::path::PathBuf,
        /// Also write each cosignature (DER) to this file.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
        /// Seconds between checks.
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        interval: u64,
        /// Check and cosign once, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Prove that the axis signed a false completeness statement: CLAIM is a bundle (version 2,
    /// it must verify) whose signed statement says how many statements the log holds per
    /// recipient; --holding is another bundle of the same message (any version, it must
    /// verify) whose statements were proven in the same log. A statement held for a recipient
    /// the claim covers, logged below the claim's tree size, that the claim's bundle does not
    /// hold, contradicts the claim: both were signed with the log key. When the two tree heads
    /// differ in size, the RFC 9162 consistency proof between them is asked of the axis
    /// (needs --config); offline, give bundles proven under heads of the same size.
    #[command(after_help = "\
Exit codes: 3 MISBEHAVIOUR PROVEN (the proof is printed), 0 nothing held contradicts the claim,
1 a bundle does not verify or the heads are not of one log, 2 usage.

Example:
  axis audit check-misbehaviour short.axb --holding ours.axb --root root.cert.pem \\
    --log-key axis-log-signer.cert.pem")]
    CheckMisbehaviour {
        /// The bundle whose completeness statement is checked.
        claim: std::path::PathBuf,
        /// A bundle holding statements of the same message (for example the one exported when
        /// they were logged, or the other party's).
        #[arg(long, value_name = "FILE")]
        holding: std::path::PathBuf,
        /// The root certificate (PEM or DER): the only trust anchor.
        #[arg(long, value_name = "FILE")]
        root: std::path::PathBuf,
        /// The axis log signer's certificate or public key (PEM or DER).
        #[arg(long = "log-key", value_name = "FILE")]
        log_key: std::path::PathBuf,
    },
    /// Save a signed tree head of the axis's log (verified) to a file.
    #[command(after_help = "\
Example:
  axis audit tree-head --out head-2026-11-23.sth
  axis audit tree-head --size 1200 --out head-1200.sth")]
    TreeHead {
        /// The tree size (default: the latest head).
        #[arg(long, value_name = "N")]
        size: Option<u64>,
        /// Where to write it.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Prove that the log today extends a tree head saved earlier (nothing removed, changed or
    /// reordered); exits non-zero if it does not.
    #[command(after_help = "\
Example:
  axis audit consistency --old head-2026-11-23.sth")]
    Consistency {
        /// The earlier signed tree head (as `axis audit tree-head` wrote it).
        #[arg(long, value_name = "FILE")]
        old: std::path::PathBuf,
    },
    /// Follow the log: every new tree head must extend the last one seen (kept in the state
    /// file). A log rewritten, forked, shrunk or emptied is an ALERT: exit code 3, with or
    /// without --once. An axis that cannot be reached is a WARNING: --once exits with code 4,
    /// otherwise the monitor tries again at the next interval.
    #[command(after_help = "\
Exit codes: 0 consistent (or nothing to compare yet), 3 ALERT, 4 axis unreachable (--once),
1 other errors, 2 usage.

Example:
  axis audit monitor --state witness.sth --interval 5
  axis audit monitor --state witness.sth --once      # one check, e.g. from cron")]
    Monitor {
        /// The file holding the last tree head seen (created on the first run).
        #[arg(long, value_name = "FILE")]
        state: std::path::PathBuf,
        /// Seconds between checks.
        #[arg(long, value_name = "SECS", default_value_t = 5)]
        interval: u64,
        /// Check once and exit.
        #[arg(long)]
        once: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum EdxmlCommand {
    /// Parse an edXML package and print it as JSON (the reference's element names as keys;
    /// each attachment with its name, content type, decoded size and SHA-256). Exits non-zero
    /// with the error, which names the element, on malformed or hostile input.
    #[command(after_help = "\
Example:
  axis edxml show 7816.edxml")]
    Show {
        /// The package.
        file: PathBuf,
    },
}

/// What a business-typed document does to an earlier one (edXML `BussinessDocType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum BusinessType {
    /// 0: a new document.
    New,
    /// 1: revokes (recalls) the document --refers-to names.
    Revocation,
    /// 2: updates it.
    Update,
    /// 3: replaces it.
    Replacement,
}

/// The manifest fields `axis send` conflicts with `--edxml` (the package holds them).
const FIELDS: [&str; 16] = [
    "subject",
    "code",
    "document_type",
    "priority",
    "files",
    "business",
    "refers_to",
    "business_reason",
    "due_date",
    "content",
    "place",
    "date",
    "signer_competence",
    "signer_position",
    "signer_name",
    "response_for",
];

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// An edXML package (QCVN 102:2016) a DMS wrote: its fields, attachments and recipients.
    #[arg(long, value_name = "FILE", conflicts_with_all = FIELDS)]
    pub(crate) edxml: Option<PathBuf>,
    /// A recipient agency id (repeat for several); with --edxml, instead of the package's To.
    #[arg(long = "to", value_name = "ID", required_unless_present = "edxml")]
    pub(crate) to: Vec<String>,
    /// The subject (trích yếu).
    #[arg(long, value_name = "TEXT", required_unless_present = "edxml")]
    pub(crate) subject: Option<String>,
    /// Number and notation, e.g. 7816/VPCP-TTĐT.
    #[arg(
        long,
        value_name = "NUMBER/NOTATION",
        required_unless_present = "edxml"
    )]
    pub(crate) code: Option<String>,
    /// Document type name.
    #[arg(long = "type", value_name = "NAME", default_value = "Công văn")]
    pub(crate) document_type: String,
    /// Urgency: 0 normal, 1 urgent, 2 very urgent, 3 flash, 4 flash (timed).
    #[arg(long, value_name = "0-4", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=4))]
    pub(crate) priority: u8,
    /// Business type: new, or a revocation, update or replacement of the --refers-to document.
    #[arg(long, value_enum, default_value_t = BusinessType::New, requires_ifs = [
        ("revocation", "refers_to"), ("update", "refers_to"), ("replacement", "refers_to"),
    ])]
    pub(crate) business: BusinessType,
    /// The DocumentId a revocation, update or replacement is about
    /// (e.g. 000.00.00.G22,2015/09/30,7816/VPCP-TTĐT).
    #[arg(long, value_name = "DOCUMENT_ID")]
    pub(crate) refers_to: Option<String>,
    /// Why (BussinessDocReason) for a revocation, update or replacement.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub(crate) business_reason: String,
    /// A document this one answers (ResponseFor), by DocumentId (repeat for several).
    #[arg(long, value_name = "DOCUMENT_ID")]
    pub(crate) response_for: Vec<String>,
    /// Due date (hạn xử lý), yyyy/MM/dd.
    #[arg(long, value_name = "DATE")]
    pub(crate) due_date: Option<String>,
    /// Content summary.
    #[arg(long, value_name = "TEXT")]
    pub(crate) content: Option<String>,
    /// Place of promulgation (e.g. Hà Nội).
    #[arg(long, value_name = "TEXT")]
    pub(crate) place: Option<String>,
    /// Date of promulgation, yyyy/MM/dd (default: today).
    #[arg(long, value_name = "DATE")]
    pub(crate) date: Option<String>,
    /// Signing authority (SignerInfo/Competence), e.g. "KT. BỘ TRƯỞNG". Any of the three signer
    /// options replaces the personal certificate's name and title; those not given are empty.
    #[arg(long, value_name = "TEXT")]
    pub(crate) signer_competence: Option<String>,
    /// The signer's position (SignerInfo/Position).
    #[arg(long, value_name = "TEXT")]
    pub(crate) signer_position: Option<String>,
    /// The signer's full name (SignerInfo/FullName).
    #[arg(long, value_name = "TEXT")]
    pub(crate) signer_name: Option<String>,
    /// Use this message id (to retry an earlier attempt); default: a new one.
    #[arg(long, value_name = "UUID")]
    pub(crate) message_id: Option<String>,
    /// The files to attach, in order.
    #[arg(value_name = "FILE", required_unless_present = "edxml")]
    pub(crate) files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct InboxArgs {
    /// Only deliveries after this cursor.
    #[arg(long, value_name = "CURSOR")]
    pub(crate) after: Option<String>,
    /// Keep running and print new deliveries as they arrive.
    #[arg(long)]
    pub(crate) follow: bool,
}

#[derive(Debug, Args)]
pub(crate) struct OpenArgs {
    /// The message id.
    pub(crate) message_id: String,
    /// Directory to write the attachments and document.json into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Do not send the delivery receipt (status 01).
    #[arg(long)]
    pub(crate) no_ack: bool,
    /// Also write DIR/document.edxml: the edXML package with every attachment, as the
    /// sender's DMS wrote it (VNPT-style for a document sent without edXML).
    #[arg(long)]
    pub(crate) edxml: bool,
    /// Send the delivery receipt (01) from this edXML status package the DMS wrote: its
    /// Description, StaffInfo and Timestamp, signed by the agency seal.
    #[arg(long, value_name = "FILE", conflicts_with = "no_ack")]
    pub(crate) ack_edxml: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The message id.
    pub(crate) message_id: String,
    /// The status code: 02–06, 15 or 16.
    #[arg(required_unless_present = "edxml", conflicts_with = "edxml")]
    pub(crate) code: Option<String>,
    /// Reason or description.
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "",
        conflicts_with = "edxml"
    )]
    pub(crate) reason: String,
    /// Refuse (02) a document this agency cannot open, naming nothing inside it (needs
    /// --reason).
    #[arg(long, conflicts_with = "edxml")]
    pub(crate) unopened: bool,
    /// The edXML status package a DMS wrote (02–06, 13, 15, 16): its code, Description,
    /// StaffInfo and Timestamp, signed by the agency seal; 13 recalls from the recipient its
    /// ResponseFor/OrganId names.
    #[arg(long, value_name = "FILE")]
    pub(crate) edxml: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RecallArgs {
    /// The message id.
    pub(crate) message_id: String,
    /// The recipient to take the document back from.
    #[arg(long, value_name = "ID")]
    pub(crate) recipient: String,
    /// Why.
    #[arg(long, value_name = "TEXT")]
    pub(crate) reason: String,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The message id.
    pub(crate) message_id: String,
    /// Also write every status as an edXML status package into this directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) edxml: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DirectoryCommand {
    /// Show one agency.
    #[command(after_help = "\
Example:
  axis directory lookup 000.00.00.H41")]
    Lookup {
        /// The agency id.
        id: String,
    },
    /// List every agency.
    #[command(after_help = "\
Example:
  axis directory list")]
    List,
    /// Register an agency (operator configuration).
    #[command(after_help = "\
Example:
  axis --config operator.toml directory register --id 000.00.00.H41 \\
      --name \"UBND tỉnh Nghệ An\" --encryption-cert h41/encryption.cert.pem \\
      --seal-cert h41/seal.cert.pem")]
    Register(RegisterArgs),
    /// Change an agency's name, parent or certificates (operator configuration).
    #[command(after_help = "\
Example:
  axis --config operator.toml directory update --id 000.00.00.H41 \\
      --encryption-cert h41/encryption-2027.cert.pem")]
    Update(UpdateArgs),
    /// Publish a newer CRL of a known CA (operator configuration).
    #[command(after_help = "\
Example:
  axis --config operator.toml directory publish-crl ca-dir/crl/state.crl.pem")]
    PublishCrl {
        /// The CRL file (PEM or DER).
        file: PathBuf,
    },
    /// Import the whole unit directory from a CSV or JSON file as its next version, signed
    /// with the operator's key (operator configuration). All or nothing: a bad unit refuses
    /// the file, naming its line, field and reason, before anything connects. Importing the
    /// same file again changes nothing; a changed file sends only the changes.
    #[command(after_help = "\
Examples:
  axis --config operator.toml directory import units.csv
  axis --config operator.toml directory import units.json --copy units.der

CSV: a header naming the columns id, name (required), parent, code_qd20, then one unit a line
(RFC 4180 quoting). JSON: an array of objects {\"id\", \"name\", \"parent\", \"code_qd20\"}.
Ids are QCVN 102:2016 (NNN.NN.NN.LNN); a parent must be in the file, under the same level-1
code, at most four levels; names 1-200 characters. At most 250,000 units and 64 MiB.")]
    Import {
        /// The unit file (.csv or .json).
        file: PathBuf,
        /// The file's format, when its name does not say.
        #[arg(long, value_enum)]
        format: Option<crate::units_file::UnitFormat>,
        /// A verified copy of the directory to start from and to update (see `sync`).
        #[arg(long, value_name = "FILE")]
        copy: Option<PathBuf>,
    },
    /// Keep a verified copy of the unit directory: the first time a full snapshot, then only
    /// the changes; every version is checked offline against the root (operator's signature,
    /// versions contiguous, digest of the list).
    #[command(after_help = "\
Example:
  axis directory sync --copy units.der")]
    Sync {
        /// The copy (DER, FORMATS.md \"DirectorySnapshot\"); created if missing.
        #[arg(long, value_name = "FILE")]
        copy: PathBuf,
        /// Also print every unit as CSV.
        #[arg(long)]
        print: bool,
    },
    /// Show one unit of the unit directory.
    #[command(after_help = "\
Example:
  axis directory unit 000.00.01.H53")]
    Unit {
        /// The unit id.
        id: String,
    },
    /// List units of the unit directory, a page at a time.
    #[command(after_help = "\
Example:
  axis directory units --parent 000.00.00.H53")]
    Units {
        /// Only the children of this unit.
        #[arg(long, value_name = "ID")]
        parent: Option<String>,
        /// Start after this unit id.
        #[arg(long, value_name = "ID")]
        after: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Debug, Args)]
pub(crate) struct RegisterArgs {
    /// The agency id.
    #[arg(long, value_name = "ID")]
    pub(crate) id: String,
    /// Official name.
    #[arg(long, value_name = "NAME")]
    pub(crate) name: String,
    /// Parent unit's id.
    #[arg(long, value_name = "ID")]
    pub(crate) parent: Option<String>,
    /// Its agency-encryption certificate (PEM).
    #[arg(long, value_name = "PEM")]
    pub(crate) encryption_cert: PathBuf,
    /// Its agency-seal certificate (PEM).
    #[arg(long, value_name = "PEM")]
    pub(crate) seal_cert: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    /// The agency id.
    #[arg(long, value_name = "ID")]
    pub(crate) id: String,
    /// New official name.
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// New parent unit's id.
    #[arg(long, value_name = "ID")]
    pub(crate) parent: Option<String>,
    /// New agency-encryption certificate (PEM).
    #[arg(long, value_name = "PEM")]
    pub(crate) encryption_cert: Option<PathBuf>,
    /// New agency-seal certificate (PEM).
    #[arg(long, value_name = "PEM")]
    pub(crate) seal_cert: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn every_command_has_an_example() {
        let cli = super::Cli::command();
        cli.clone().debug_assert();
        let missing = axis_testkit::cli::commands_without_example(&cli);
        assert!(missing.is_empty(), "no example in --help of: {missing:?}");
    }
}
