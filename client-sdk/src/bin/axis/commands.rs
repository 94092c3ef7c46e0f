//! One function per command; output formatting.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};
use axis_client::signer::{Code, Manifest, SignatureReport};
use axis_client::{
    AgencyId, AgencyInfo, AgencyUpdate, Business, Client, ClientConfig, DocumentId, Evidence,
    MessageId, OutgoingDocument, Priority, StatusCode,
};
use futures_util::StreamExt as _;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Usage;
use crate::cli::{
    BusinessType, Cli, Command, DirectoryCommand, EdxmlCommand, OpenArgs, RegisterArgs, SendArgs,
    StatusArgs, UpdateArgs,
};

/// How long `axis inbox` (without --follow) waits for one more delivery before it exits.
const INBOX_IDLE: Duration = Duration::from_secs(1);
/// Largest certificate or CRL file read.
const MAX_PKI_FILE: u64 = 1024 * 1024;

pub(crate) async fn run(cli: Cli) -> Result<()> {
    // Offline: an auditor verifies with files alone.
    if let Command::Audit(crate::cli::AuditCommand::Verify {
        bundle,
        root,
        log_key,
        witnesses,
        min_witnesses,
    }) = &cli.command
    {
        return crate::audit::verify(bundle, root, log_key, witnesses, *min_witnesses);
    }
    if let Command::Audit(crate::cli::AuditCommand::WitnessKey {
        out,
        public,
        passphrase_file,
    }) = &cli.command
    {
        return crate::audit::witness_key(out, public, passphrase_file.as_deref());
    }
    // Offline too unless a configuration is given (for a consistency proof).
    if let (
        Command::Audit(crate::cli::AuditCommand::CheckMisbehaviour {
            claim,
            holding,
            root,
            log_key,
        }),
        None,
    ) = (&cli.command, &cli.config)
    {
        return crate::audit::check_misbehaviour(claim, holding, root, log_key, None).await;
    }
    if let Command::Edxml(EdxmlCommand::Show { file }) = &cli.command {
        return crate::edxml::show(file);
    }
    // What a send carries is read and checked before anything connects: refused input sends
    // nothing.
    let outgoing = match &cli.command {
        Command::Send(args) => Some(outgoing(args)?),
        _ => None,
    };
    // So is a unit file: a bad one imports nothing and needs no axis to say so.
    let units = match &cli.command {
        Command::Directory(DirectoryCommand::Import { file, format, .. }) => {
            Some(crate::units_file::read(file, *format)?)
        }
        _ => None,
    };
    let config = cli.config.ok_or_else(|| {
        Usage(
            "no configuration: give --config FILE or set AXIS_CONFIG (see `axis --help`)"
                .to_owned(),
        )
    })?;
    if let Command::CheckConfig { offline } = cli.command {
        return check_config(&config, offline).await;
    }
    let config = ClientConfig::from_file(&config)
        .context("the configuration (--config FILE or AXIS_CONFIG)")?;
    let client = Client::connect(config).await?;
    match (cli.command, outgoing) {
        (Command::Send(_), Some(doc)) => send(&client, doc).await,
        (Command::Send(_), None) | (Command::Edxml(_), _) => Ok(()),
        (Command::Inbox(args), _) => inbox(&client, args.after, args.follow).await,
        (Command::Open(args), _) => open(&client, &args).await,
        (Command::Status(args), _) => status(&client, &args).await,
        (Command::Recall(args), _) => {
            recall(&client, &args.message_id, &args.recipient, &args.reason).await
        }
        (Command::History(args), _) => {
            history(&client, &args.message_id, args.edxml.as_deref()).await
        }
        (Command::Directory(cmd), _) => directory(&client, cmd, units).await,
        (Command::Limits, _) => limits(&client).await,
        (Command::Audit(cmd), _) => crate::audit::run(&client, cmd).await,
        (Command::CheckConfig { .. }, _) => Ok(()),
    }
}

/// `axis check-config`: one line per item; exit code 1 if anything fails.
async fn check_config(path: &Path, offline: bool) -> Result<()> {
    let network = if offline {
        axis_client::CheckNetwork::Offline
    } else {
        axis_client::CheckNetwork::Online
    };
    let report = axis_client::check_config(path, network, OffsetDateTime::now_utc()).await;
    for f in &report.findings {
        println!("{f}");
    }
    let problems = report.problems().count();
    if report.failed() {
        anyhow::bail!(
            "{}: {problems} problem(s); fix the FAIL lines above",
            path.display()
        );
    }
    println!("{}: ready ({problems} warning(s))", path.display());
    Ok(())
}

fn agency(s: &str, what: &str) -> Result<AgencyId> {
    Ok(AgencyId::parse(s).map_err(|e| Usage(format!("{what} \"{s}\": {e}")))?)
}

pub(crate) fn message_id(s: &str) -> Result<MessageId> {
    Ok(MessageId::parse(s).map_err(|_| {
        Usage(format!(
            "\"{s}\" is not a message id (a UUID such as 0b6f6f1e-3c1a-4f5e-9d3a-2f1e0c9b8a7d)"
        ))
    })?)
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

pub(crate) fn evidence_line(e: &Evidence) -> String {
    format!(
        "log entry #{} in a tree of {} signed by {} at {}",
        e.leaf_index,
        e.tree_size,
        e.log_signer,
        rfc3339(e.tree_head_time)
    )
}

fn status_name(s: StatusCode) -> &'static str {
    match s {
        StatusCode::Arrived => "arrived (đã đến)",
        StatusCode::Rejected => "rejected (từ chối)",
        StatusCode::Accepted => "accepted (đã tiếp nhận)",
        StatusCode::Assigned => "assigned (phân công)",
        StatusCode::Processing => "processing (đang xử lý)",
        StatusCode::Completed => "completed (hoàn thành)",
        StatusCode::RecallRequested => "recall requested (lấy lại)",
        StatusCode::ChangeAccepted => "recall/update agreed",
        StatusCode::ChangeRefused => "recall/update refused",
        _ => "status",
    }
}

/// A date option: `yyyy/MM/dd` as edXML writes it (ISO `yyyy-MM-dd` is read too).
fn date(s: &str, what: &str) -> Result<time::Date> {
    Ok(axis_client::edxml::parse_date(s)
        .ok_or_else(|| Usage(format!("{what} \"{s}\": not a date; write it yyyy/MM/dd")))?)
}

fn document_id(s: &str, what: &str) -> Result<DocumentId> {
    Ok(DocumentId::parse(s).map_err(|e| {
        Usage(format!(
            "{what} \"{s}\": {e}; write it as edXML does, e.g. \
             000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
        ))
    })?)
}

/// The document `axis send` sends: from an edXML package, or from the options and files.
fn outgoing(args: &SendArgs) -> Result<OutgoingDocument> {
    let mut doc = match &args.edxml {
        Some(file) => {
            let mut doc = crate::edxml::outgoing(file)?;
            if !args.to.is_empty() {
                doc.recipients.clear();
            }
            doc
        }
        None => document_from_options(args)?,
    };
    for to in &args.to {
        doc = doc.to(agency(to, "--to")?);
    }
    if let Some(id) = &args.message_id {
        doc = doc.message_id(message_id(id)?);
    }
    Ok(doc)
}

fn document_from_options(args: &SendArgs) -> Result<OutgoingDocument> {
    let (code, subject) = match (&args.code, &args.subject) {
        (Some(c), Some(s)) => (c, s),
        _ => return Err(Usage("--code and --subject are needed without --edxml".into()).into()),
    };
    let code = Code::parse(code).map_err(|e| {
        Usage(format!(
            "--code \"{code}\": {e}; write it as NUMBER/NOTATION, e.g. 7816/VPCP-TTĐT"
        ))
    })?;
    let priority = Priority::from_code(u64::from(args.priority))
        .map_err(|e| Usage(format!("--priority: {e}")))?;
    let mut doc = OutgoingDocument::new(code, subject.clone())
        .document_type(1, args.document_type.clone())
        .priority(priority);
    let refers = |what| {
        args.refers_to
            .as_deref()
            .ok_or_else(|| Usage(format!("--business {what} needs --refers-to DOCUMENT_ID")))
            .map_err(anyhow::Error::from)
            .and_then(|d| document_id(d, "--refers-to"))
    };
    let reason = args.business_reason.clone();
    doc = doc.business(match args.business {
        BusinessType::New => {
            if args.refers_to.is_some() || !reason.is_empty() {
                return Err(Usage(
                    "--refers-to and --business-reason go with --business revocation, update \
                     or replacement"
                        .into(),
                )
                .into());
            }
            Business::New
        }
        BusinessType::Revocation => Business::Recall {
            document: refers("revocation")?,
            reason,
        },
        BusinessType::Update => Business::Update {
            document: refers("update")?,
            reason,
        },
        BusinessType::Replacement => Business::Replace {
            document: refers("replacement")?,
            reason,
        },
    });
    for r in &args.response_for {
        doc.response_for.push(document_id(r, "--response-for")?);
    }
    if let Some(d) = &args.due_date {
        doc = doc.due(date(d, "--due-date")?);
    }
    if let Some(c) = &args.content {
        doc = doc.content(c.clone());
    }
    if let Some(p) = &args.place {
        doc.place = p.clone();
    }
    if let Some(d) = &args.date {
        doc.date = Some(date(d, "--date")?);
    }
    if args.signer_competence.is_some()
        || args.signer_position.is_some()
        || args.signer_name.is_some()
    {
        let text = |o: &Option<String>| o.clone().unwrap_or_default();
        doc = doc.signed_by(
            text(&args.signer_competence),
            text(&args.signer_position),
            text(&args.signer_name),
        );
    }
    for file in &args.files {
        if !file.is_file() {
            return Err(Usage(format!("{} is not a file", file.display())).into());
        }
        doc = doc.attach_file(file)?;
    }
    Ok(doc)
}

async fn send(client: &Client, doc: OutgoingDocument) -> Result<()> {
    let r = client.send(doc).await?;
    println!("message {}", r.message_id);
    println!("document {}", r.document_id);
    if r.duplicate {
        println!(
            "already accepted earlier: this is the receipt of the first acceptance{}",
            if r.covers_this_upload {
                ""
            } else {
                " (of an earlier upload of this message id; nothing new was stored)"
            }
        );
    }
    println!(
        "accepted by the axis at {}, {}",
        rfc3339(r.accepted_at),
        evidence_line(&r.evidence)
    );
    Ok(())
}

async fn inbox(client: &Client, after: Option<String>, follow: bool) -> Result<()> {
    if follow {
        // Failovers and resubscriptions, as they happen, apart from the deliveries.
        let mut events = client.events();
        tokio::spawn(async move {
            while let Ok(e) = events.recv().await {
                eprintln!("axis: {}", event_line(&e));
            }
        });
    }
    let mut inbox = client.inbox(after);
    let mut count = 0u64;
    loop {
        let next = if follow {
            tokio::select! {
                next = inbox.next() => next,
                _ = tokio::signal::ctrl_c() => break,
            }
        } else {
            match tokio::time::timeout(INBOX_IDLE, inbox.next()).await {
                Ok(next) => next,
                Err(_) => break,
            }
        };
        let Some(delivery) = next else { break };
        let d = delivery?;
        println!(
            "{}\t{}\t{}\t{}\t{}",
            d.cursor,
            d.message_id,
            d.sender,
            d.size,
            rfc3339(d.accepted_at)
        );
        count += 1;
    }
    match inbox.cursor() {
        Some(c) => eprintln!("{count} deliveries; to continue after them: axis inbox --after {c}"),
        None => eprintln!("no deliveries pending"),
    }
    Ok(())
}

fn event_line(e: &axis_client::ConnectionEvent) -> String {
    use axis_client::ConnectionEvent as E;
    match e {
        E::Failover {
            call,
            from,
            to,
            reason,
        } => format!("{call}: {from} failed ({reason}); now {to}"),
        E::InboxSubscribed { endpoint, after } if after.is_empty() => {
            format!("inbox subscribed on {endpoint}")
        }
        E::InboxSubscribed { endpoint, after } => {
            format!("inbox subscribed on {endpoint}, resuming after cursor {after}")
        }
        E::InboxBroken { endpoint, reason } => format!("inbox on {endpoint} broke: {reason}"),
        other => format!("{other:?}"),
    }
}

fn report_line(what: &str, r: &SignatureReport) -> String {
    let mut s = format!("{what} by {}", r.signer_name);
    if let Some(p) = &r.position {
        s.push_str(&format!(" ({p})"));
    }
    s.push_str(&format!(
        " of {} at {}, certificate {} valid until {}",
        r.agency,
        rfc3339(r.signing_time),
        r.certificate_serial,
        rfc3339(r.certificate_not_after)
    ));
    s
}

fn report_json(r: &SignatureReport) -> serde_json::Value {
    json!({
        "signer": r.signer_name,
        "position": r.position,
        "agency": r.agency.to_string(),
        "signing_time": rfc3339(r.signing_time),
        "certificate_serial": r.certificate_serial.to_string(),
        "certificate_not_after": rfc3339(r.certificate_not_after),
        "certificate_status": "good",
    })
}

fn manifest_json(m: &Manifest) -> serde_json::Value {
    let org = |o: &axis_client::signer::Organization| json!({ "organ_id": o.organ_id.to_string(), "organ_name": o.organ_name });
    json!({
        "from": org(&m.from),
        "to": m.to.iter().map(org).collect::<Vec<_>>(),
        "code_number": m.code.number(),
        "code_notation": m.code.notation(),
        "promulgation_place": m.promulgation.place,
        "promulgation_date": m.promulgation.date.to_string(),
        "document_type": { "kind": m.document_type.kind, "detail": m.document_type.detail, "name": m.document_type.name },
        "subject": m.subject,
        "content": m.content,
        "signer_info": {
            "competence": m.signer.competence,
            "position": m.signer.position,
            "full_name": m.signer.full_name,
        },
        "due_date": m.due_date.map(|d| d.to_string()),
        "to_places": m.to_places,
        "priority": m.priority.code(),
        "response_for": m.response_for.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "business_type": m.business.code(),
        "business_document": m.business.referenced().map(ToString::to_string),
        "attachments": m.attachments.iter().map(|a| json!({
            "name": a.name,
            "content_type": a.content_type,
            "description": a.description,
            "size": a.size,
            "sha256": hex::encode(a.sha256),
        })).collect::<Vec<_>>(),
    })
}

async fn open(client: &Client, args: &OpenArgs) -> Result<()> {
    let (out, ack) = (args.out.as_path(), !args.no_ack);
    let id = message_id(&args.message_id)?;
    let json_path = out.join("document.json");
    let mut ours = vec![json_path.clone()];
    if args.edxml {
        ours.push(out.join(crate::edxml::DOCUMENT_EDXML));
    }
    if let Some(p) = ours.iter().find(|p| p.exists()) {
        return Err(Usage(format!(
            "{} already exists; choose another --out directory",
            p.display()
        ))
        .into());
    }
    let delivery = client.delivery(&id).await?;
    let opened = client.open_to_dir(&delivery, out).await?;
    let m = opened.manifest();
    let report = opened.report();
    println!(
        "opened {} from {}: {} \"{}\"",
        opened.message_id(),
        opened.sender(),
        opened.document_id(),
        m.subject
    );
    match &report.personal {
        Some(p) => println!("  {}", report_line("signed", p)),
        None => println!(
            "  signed: NO PERSONAL SIGNATURE was made through Axis (the manifest says sealOnly; \
             the agency seal alone vouches for the signer it names)"
        ),
    }
    println!("  {}", report_line("sealed", &report.seal));
    for (path, a) in opened.files().iter().zip(&m.attachments) {
        println!(
            "  wrote {} ({} bytes, sha256 {})",
            path.display(),
            a.size,
            hex::encode(a.sha256)
        );
    }
    let doc = json!({
        "message_id": opened.message_id().to_string(),
        "document_id": opened.document_id().to_string(),
        "accepted_at": rfc3339(opened.accepted_at()),
        "manifest_sha256": hex::encode(report.manifest_digest),
        "manifest": manifest_json(m),
        "signatures": {
            "form": report.signature_form.as_str(),
            "personal": report.personal.as_ref().map(report_json),
            "seal": report_json(&report.seal),
        },
        "files": opened.files().iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
    });
    write_new(&json_path, &serde_json::to_vec_pretty(&doc)?)?;
    println!("  wrote {}", json_path.display());
    if args.edxml {
        crate::edxml::write_document(&opened, out)?;
    }
    if ack {
        let r = match &args.ack_edxml {
            Some(file) => crate::edxml::acknowledge(client, &opened, file).await?,
            None => client.acknowledge(&opened).await?,
        };
        println!(
            "delivery receipt {} {}: {}",
            r.receipt.status,
            if r.already_logged {
                "was already sent"
            } else {
                "sent"
            },
            evidence_line(&r.evidence)
        );
    }
    Ok(())
}

pub(crate) fn write_new(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(data)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Parses an edXML status code as people write it: `02`, `2`, `15`.
fn parse_status_code(s: &str) -> Result<StatusCode, Usage> {
    let t = s.trim();
    t.parse::<u64>()
        .ok()
        .filter(|_| t.len() <= 2)
        .and_then(|n| StatusCode::from_code(n).ok())
        .ok_or_else(|| {
            Usage(format!(
                "\"{s}\" is not an edXML status code: use 01–06, 13, 15 or 16"
            ))
        })
}

async fn status(client: &Client, args: &StatusArgs) -> Result<()> {
    let id = message_id(&args.message_id)?;
    if let Some(file) = &args.edxml {
        return crate::edxml::send_status(client, &id, file).await;
    }
    let code = args
        .code
        .as_deref()
        .ok_or_else(|| Usage("give a status code or --edxml FILE".into()))?;
    let status = parse_status_code(code)?;
    if args.unopened {
        if status != StatusCode::Rejected {
            return Err(Usage(format!(
                "--unopened refuses a document: the code is 02, not {status}"
            ))
            .into());
        }
        let r = client.refuse_unopenable(&id, &args.reason).await?;
        println!(
            "status 02 {} (unopened) sent for {id}: {}",
            status_name(r.receipt.status),
            evidence_line(&r.evidence)
        );
        return Ok(());
    }
    let r = client.send_status(&id, status, &args.reason).await?;
    println!(
        "status {} {} sent for {id}: {}",
        r.receipt.status,
        status_name(r.receipt.status),
        evidence_line(&r.evidence)
    );
    Ok(())
}

async fn recall(client: &Client, id: &str, recipient: &str, reason: &str) -> Result<()> {
    let id = message_id(id)?;
    let recipient = agency(recipient, "--recipient")?;
    let r = client.recall(&id, &recipient, reason).await?;
    println!(
        "recall (13) of {id} from {recipient} sent: {}",
        evidence_line(&r.evidence)
    );
    println!("{recipient} answers with 15 (agree) or 16 (refuse): see `axis history {id}`");
    Ok(())
}

async fn history(client: &Client, id: &str, edxml: Option<&Path>) -> Result<()> {
    let id = message_id(id)?;
    let h = client.history(&id).await?;
    println!("message {} from {}", h.message_id, h.sender);
    if let Some(d) = &h.document_id {
        println!("document {d}");
    }
    println!(
        "accepted by the axis at {}, {}",
        rfc3339(h.accepted.logged_at),
        evidence_line(&h.accepted)
    );
    for t in &h.timelines {
        match t.complete_as_of {
            Some(n) => println!(
                "{}: complete as of tree head {n} (the axis signed that its log holds exactly \
                 these {} statement(s))",
                t.recipient,
                t.events.len()
            ),
            None => println!("{}:", t.recipient),
        }
        if t.events.is_empty() {
            println!("  (no receipt yet)");
        }
        for e in &t.events {
            let mut line = format!(
                "  {}  {} {}  by {} ({})",
                rfc3339(e.time),
                e.status,
                status_name(e.status),
                e.stated_by,
                e.signer
            );
            if e.unopened {
                line.push_str(" without opening it");
            }
            if !e.reason.is_empty() {
                line.push_str(&format!(": \"{}\"", e.reason));
            }
            line.push_str(&format!(
                "  [log #{}, logged {}]",
                e.evidence.leaf_index,
                rfc3339(e.evidence.logged_at)
            ));
            println!("{line}");
        }
        if t.withdrawn {
            println!("  withdrawn: the recipient agreed to the recall");
        }
    }
    println!("every entry verified: signatures, receipt chains and the axis's log evidence");
    if let Some(dir) = edxml {
        crate::edxml::write_history(&h, dir)?;
    }
    Ok(())
}

fn print_agency(a: &AgencyInfo) {
    let parent = a
        .parent_id
        .as_ref()
        .map(|p| format!(" (under {p})"))
        .unwrap_or_default();
    let updated = a.updated_at.map(rfc3339).unwrap_or_default();
    println!("{}\t{}{parent}\t{updated}", a.agency_id, a.name);
}

fn read_file(path: &Path, what: &str) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("{what} {}", path.display()))?;
    if meta.len() > MAX_PKI_FILE {
        return Err(Usage(format!("{what} {} is too large", path.display())).into());
    }
    std::fs::read(path).with_context(|| format!("reading {what} {}", path.display()))
}

fn read_cert(path: &Path, what: &str) -> Result<Vec<u8>> {
    let data = read_file(path, what)?;
    if data.starts_with(b"-----BEGIN") {
        let text = String::from_utf8(data)
            .map_err(|_| Usage(format!("{what} {} is not PEM text", path.display())))?;
        let certs = axis_client::pki::certificates_from_pem(&text, 4)
            .map_err(|e| Usage(format!("{what} {}: {e}", path.display())))?;
        certs.into_iter().next().ok_or_else(|| {
            Usage(format!(
                "{what} {}: no certificate in the file",
                path.display()
            ))
            .into()
        })
    } else {
        Ok(data)
    }
}

fn read_crl(path: &Path) -> Result<Vec<u8>> {
    let data = read_file(path, "CRL")?;
    if !data.starts_with(b"-----BEGIN") {
        return Ok(data);
    }
    let block = pem::parse(&data).map_err(|e| Usage(format!("CRL {}: {e}", path.display())))?;
    if block.tag() != "X509 CRL" {
        return Err(Usage(format!(
            "{} holds a {} PEM block, not an X509 CRL",
            path.display(),
            block.tag()
        ))
        .into());
    }
    Ok(block.into_contents())
}

async fn directory(
    client: &Client,
    cmd: DirectoryCommand,
    units: Option<axis_client::evidence::UnitList>,
) -> Result<()> {
    match cmd {
        DirectoryCommand::Import { file, copy, .. } => {
            let units = units.context("the unit file was not read")?;
            let held = match &copy {
                Some(path) => read_copy(client, path).await?,
                None => None,
            };
            let imported = client.import_units(held.as_ref(), &units).await?;
            let v = imported.directory.version();
            if let Some(path) = &copy {
                write_copy(path, &imported.directory)?;
            }
            if imported.changes == 0 {
                println!(
                    "{}: no change; the directory stays at version {} ({} units)",
                    file.display(),
                    v.number,
                    v.units
                );
            } else {
                println!(
                    "{}: imported as version {} ({} units, {} added, changed or removed)",
                    file.display(),
                    v.number,
                    v.units,
                    imported.changes
                );
            }
        }
        DirectoryCommand::Sync { copy, print } => {
            let held = read_copy(client, &copy).await?;
            let synced = client.sync_directory(held.as_ref()).await?;
            let Some(dir) = synced.directory else {
                println!("no unit directory imported yet");
                return Ok(());
            };
            write_copy(&copy, &dir)?;
            let v = dir.version();
            println!(
                "version {} ({} units; {} {}), verified against the root",
                v.number,
                v.units,
                synced.changed,
                if synced.snapshot {
                    "from a snapshot"
                } else {
                    "changed"
                }
            );
            if print {
                for u in dir.units().units() {
                    let r = u.to_raw();
                    println!("{},{:?},{},{}", r.id, r.name, r.parent, r.code_qd20);
                }
            }
        }
        DirectoryCommand::Unit { id } => {
            let u = client.lookup_unit(&agency(&id, "unit id")?).await?;
            print_unit(&u);
        }
        DirectoryCommand::Units {
            parent,
            after,
            limit,
        } => {
            let parent = parent
                .as_deref()
                .map(|p| agency(p, "--parent"))
                .transpose()?;
            let page = client
                .list_units(after.as_deref(), parent.as_ref(), limit)
                .await?;
            for u in &page.units {
                print_unit(u);
            }
            if let Some(next) = page.next_after {
                eprintln!("more after {next} (--after {next})");
            }
        }
        DirectoryCommand::Lookup { id } => {
            let a = client.lookup_agency(&agency(&id, "agency id")?).await?;
            print_agency(&a);
        }
        DirectoryCommand::List => {
            let all = client.list_all_agencies().await?;
            for a in &all {
                print_agency(a);
            }
            eprintln!("{} agencies", all.len());
        }
        DirectoryCommand::Register(RegisterArgs {
            id,
            name,
            parent,
            encryption_cert,
            seal_cert,
        }) => {
            let id = agency(&id, "--id")?;
            let parent = parent
                .as_deref()
                .map(|p| agency(p, "--parent"))
                .transpose()?;
            let enc = read_cert(&encryption_cert, "--encryption-cert")?;
            let seal = read_cert(&seal_cert, "--seal-cert")?;
            let a = client
                .register_agency(&id, &name, parent.as_ref(), enc, seal)
                .await?;
            print!("registered ");
            print_agency(&a);
        }
        DirectoryCommand::Update(UpdateArgs {
            id,
            name,
            parent,
            encryption_cert,
            seal_cert,
        }) => {
            let mut update = AgencyUpdate::new(agency(&id, "--id")?);
            update.name = name;
            update.parent_id = parent
                .as_deref()
                .map(|p| agency(p, "--parent"))
                .transpose()?;
            update.encryption_certificate = encryption_cert
                .as_deref()
                .map(|p| read_cert(p, "--encryption-cert"))
                .transpose()?;
            update.seal_certificate = seal_cert
                .as_deref()
                .map(|p| read_cert(p, "--seal-cert"))
                .transpose()?;
            let a = client.update_agency(update).await?;
            print!("updated ");
            print_agency(&a);
        }
        DirectoryCommand::PublishCrl { file } => {
            let crl = read_crl(&file)?;
            let r = client.publish_crl(crl).await?;
            println!(
                "CRL number {} in force ({} revoked certificates; {} new revocations logged)",
                r.crl_number, r.revoked, r.revocations_logged
            );
        }
    }
    Ok(())
}

fn print_unit(u: &axis_client::UnitInfo) {
    let r = u.unit.to_raw();
    println!(
        "{}  level {}  {}{}{}",
        r.id,
        u.level,
        r.name,
        if r.parent.is_empty() {
            String::new()
        } else {
            format!("  (under {})", r.parent)
        },
        if r.code_qd20.is_empty() {
            String::new()
        } else {
            format!("  QĐ 20: {}", r.code_qd20)
        },
    );
}

/// A verified copy kept by `directory sync`/`import`, checked again now; none if the file
/// does not exist.
async fn read_copy(
    client: &Client,
    path: &Path,
) -> Result<Option<axis_client::evidence::VerifiedDirectory>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let store = client.trust_store().await?;
    let copy = axis_client::evidence::VerifiedDirectory::from_der(
        &bytes,
        &store,
        OffsetDateTime::now_utc(),
    )
    .with_context(|| {
        format!(
            "{}: the copy does not verify; remove it to take a snapshot",
            path.display()
        )
    })?;
    Ok(Some(copy))
}

fn write_copy(path: &Path, dir: &axis_client::evidence::VerifiedDirectory) -> Result<()> {
    crate::audit::write_atomic(path, &dir.to_der())
}

async fn limits(client: &Client) -> Result<()> {
    let l = client.limits().await?;
    println!("max document bytes        {}", l.max_document_bytes);
    println!("max recipients            {}", l.max_recipients);
    println!("max chunk bytes           {}", l.max_chunk_bytes);
    println!("max streams per agency    {}", l.max_streams_per_agency);
    println!(
        "calls per second (burst)  {} ({})",
        l.rate_per_agency, l.burst_per_agency
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_parse_as_people_write_them() {
        for (text, code) in [
            ("01", StatusCode::Arrived),
            ("2", StatusCode::Rejected),
            ("03", StatusCode::Accepted),
            ("04", StatusCode::Assigned),
            ("5", StatusCode::Processing),
            ("06", StatusCode::Completed),
            ("13", StatusCode::RecallRequested),
            ("15", StatusCode::ChangeAccepted),
            (" 16 ", StatusCode::ChangeRefused),
        ] {
            assert_eq!(parse_status_code(text).unwrap(), code, "{text}");
            assert_eq!(parse_status_code(&code.to_string()).unwrap(), code);
        }
        for bad in ["", "0", "07", "14", "001", "x", "-1", "99"] {
            let e = parse_status_code(bad).unwrap_err();
            assert!(e.0.contains("not an edXML status code"), "{bad}: {e}");
        }
    }

    fn send_args(args: &[&str]) -> SendArgs {
        use clap::Parser as _;
        let cli = Cli::try_parse_from([&["axis", "send"], args].concat()).unwrap();
        match cli.command {
            Command::Send(a) => *a,
            _ => panic!("not a send"),
        }
    }

    #[test]
    fn send_takes_the_manifest_fields_a_dms_needs_without_edxml() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cong-van.pdf");
        std::fs::write(&file, b"%PDF-1.7").unwrap();
        let path = file.to_str().unwrap();
        let original = "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT";
        let doc = outgoing(&send_args(&[
            "--to",
            "000.00.00.H41",
            "--code",
            "7820/VPCP-TTĐT",
            "--subject",
            "Thay thế",
            "--business",
            "replacement",
            "--refers-to",
            original,
            "--business-reason",
            "Sai số liệu",
            "--response-for",
            "000.00.00.H41,2015/09/15,120/UBND-VX",
            "--due-date",
            "2015/10/15",
            "--content",
            "Nội dung",
            "--place",
            "Hà Nội",
            "--date",
            "2015-10-01",
            "--priority",
            "2",
            "--signer-competence",
            "KT. BỘ TRƯỞNG",
            "--signer-name",
            "Nguyễn Cao Lục",
            path,
        ]))
        .unwrap();
        assert_eq!(
            doc.business,
            Business::Replace {
                document: DocumentId::parse(original).unwrap(),
                reason: "Sai số liệu".into()
            }
        );
        assert_eq!(
            doc.response_for[0].to_string(),
            "000.00.00.H41,2015/09/15,120/UBND-VX"
        );
        assert_eq!(doc.due_date, Some(time::macros::date!(2015 - 10 - 15)));
        assert_eq!(doc.date, Some(time::macros::date!(2015 - 10 - 01)));
        assert_eq!(
            (doc.content.as_str(), doc.place.as_str()),
            ("Nội dung", "Hà Nội")
        );
        assert_eq!(doc.priority, Priority::VeryUrgent);
        let signer = doc.signer.unwrap();
        assert_eq!(
            (
                signer.competence.as_str(),
                signer.position.as_str(),
                signer.full_name.as_str()
            ),
            ("KT. BỘ TRƯỞNG", "", "Nguyễn Cao Lục")
        );
        // The fields every document needs, and a file.
        let base = [
            "--to",
            "000.00.00.H41",
            "--code",
            "1/X",
            "--subject",
            "s",
            path,
        ];
        let with = |args: &[&str]| send_args(&[&base[..], args].concat());
        // A business-typed document needs the document it refers to: clap says so.
        use clap::Parser as _;
        let e = Cli::try_parse_from(
            [&["axis", "send", "--business", "replacement"], &base[..]].concat(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(e.to_string().contains("--refers-to"), "{e}");
        for (business, code) in [("revocation", 1), ("update", 2)] {
            let doc = outgoing(&with(&["--business", business, "--refers-to", original])).unwrap();
            assert_eq!(doc.business.code(), code);
        }
        // Each malformed value is a usage error naming its option.
        for (args, says) in [
            (vec!["--due-date", "15/10/2015x"], "--due-date"),
            (vec!["--response-for", "7816/VPCP"], "--response-for"),
            (vec!["--refers-to", original], "--refers-to"),
            (vec!["--business-reason", "x"], "--business-reason"),
        ] {
            let e = outgoing(&with(&args)).unwrap_err();
            assert!(e.downcast_ref::<Usage>().is_some(), "{args:?}: {e}");
            assert!(e.to_string().contains(says), "{args:?}: {e}");
        }
    }

    #[test]
    fn send_edxml_takes_the_package_and_to_replaces_its_recipients() {
        let edoc = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../edxml/tests/data/edoc_new.edxml"
        );
        let doc = outgoing(&send_args(&["--edxml", edoc])).unwrap();
        let ids: Vec<&str> = doc
            .recipients
            .iter()
            .map(|r| r.agency_id.as_str())
            .collect();
        assert_eq!(ids, ["000.00.00.H41", "000.00.00.H53", "000.00.00.H29"]);
        let doc = outgoing(&send_args(&["--edxml", edoc, "--to", "000.00.00.H53"])).unwrap();
        let ids: Vec<&str> = doc
            .recipients
            .iter()
            .map(|r| r.agency_id.as_str())
            .collect();
        assert_eq!(ids, ["000.00.00.H53"]);
        assert_eq!(
            doc.edoc().unwrap().header.to.len(),
            3,
            "the package itself is unchanged"
        );
    }
}
