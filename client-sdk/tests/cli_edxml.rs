//! The `axis` CLI's edXML commands as a DMS integrator runs them: `axis edxml show` prints what
//! the parser read, and hostile or malformed packages are refused with their own reason —
//! by `axis send --edxml` before it reads its configuration or connects anywhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use axis_client::edxml::{self, Package};

const AXIS: &str = env!("CARGO_BIN_EXE_axis");

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../edxml/tests/data")
        .join(name)
}

fn axis(args: &[&str]) -> Output {
    Command::new(AXIS)
        .args(args)
        .env_remove("AXIS_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn edxml_show_prints_every_sample_with_the_reference_names() {
    let samples = [
        "edoc_new.edxml",
        "edoc_revocation.edxml",
        "edoc_update.edxml",
        "edoc_replacement.edxml",
        "status_inbox_01.edxml",
        "status_acceptance_03.edxml",
        "status_cancellation_13.edxml",
        "status_change-rejection_16.edxml",
    ];
    for name in samples {
        let path = data(name);
        let out = axis(&["edxml", "show", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let h = &json["MessageHeader"];
        let parsed = edxml::parse(&std::fs::read(&path).unwrap(), &mut edxml::Discard)
            .unwrap()
            .package;
        match parsed {
            Package::Edoc(e) => {
                assert_eq!(json["Package"], "edoc");
                assert_eq!(h["DocumentId"], e.header.document_id.as_str(), "{name}");
                assert_eq!(h["From"]["OrganId"], e.header.from.organ_id.as_str());
                assert_eq!(h["To"].as_array().unwrap().len(), e.header.to.len());
                assert_eq!(
                    h["Code"]["CodeNotation"],
                    e.header.code.code_notation.as_str()
                );
                assert_eq!(
                    json["TraceHeaderList"]["Bussiness"]["BussinessDocType"],
                    e.trace.business.business_doc_type.unwrap()
                );
                let atts = json["AttachmentEncoded"]["Attachment"].as_array().unwrap();
                assert_eq!(atts.len(), e.attachments.len(), "{name}");
                for (j, a) in atts.iter().zip(&e.attachments) {
                    assert_eq!(j["AttachmentName"], a.attachment_name.as_str());
                    assert_eq!(j["ContentType"], a.content_type.as_str());
                    assert_eq!(j["Size"], a.size);
                    assert_eq!(j["SHA256"], hex::encode(a.sha256));
                }
            }
            Package::Status(s) => {
                assert_eq!(json["Package"], "status");
                assert_eq!(h["StatusCode"], s.status_code.to_string(), "{name}");
                assert_eq!(h["Description"], s.description.as_str());
                assert_eq!(h["StaffInfo"]["Staff"], s.staff_info.staff.as_str());
                assert_eq!(
                    h["ResponseFor"]["DocumentId"],
                    s.response_for.document_id.as_str()
                );
            }
        }
    }
    // The decoded file, unzipped: bien-ban.txt travels zipped in edoc_new.
    let out = axis(&["edxml", "show", data("edoc_new.edxml").to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let zipped = &json["AttachmentEncoded"]["Attachment"][1];
    assert_eq!(zipped["AttachmentName"], "bien-ban.txt");
    assert_eq!(zipped["ContentType"], "application/zip");
    assert_eq!(zipped["Size"], 700);
    assert_eq!(json["Signature"], "present, not verified");
}

/// The hostile samples, and 100 MB of nesting written for the test.
fn hostile(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let deep = dir.join("deep.edxml");
    let mut bytes = b"<edXML>".to_vec();
    bytes.extend(b"<a>".repeat((100 << 20) / 3));
    std::fs::write(&deep, &bytes).unwrap();
    assert!(bytes.len() >= (100 << 20) - 8, "{}", bytes.len());
    let mut cases: Vec<(PathBuf, &str)> = [
        ("bomb.edxml", "EDXML_DTD"),
        ("xxe.edxml", "EDXML_DTD"),
        ("zip-bomb.edxml", "EDXML_ZIP_BOMB"),
        ("broken-base64.edxml", "EDXML_BASE64"),
    ]
    .into_iter()
    .map(|(f, r)| (data(&format!("hostile/{f}")), r))
    .collect();
    cases.push((deep, "EDXML_LIMIT"));
    cases
}

#[test]
fn hostile_packages_are_refused_each_with_its_reason_and_send_reads_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    for (path, reason) in hostile(dir.path()) {
        let file = path.to_str().unwrap();
        let out = axis(&["edxml", "show", file]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        assert!(err.contains(reason), "{file}: {err}");
        assert!(out.stdout.is_empty());
        // `send --edxml` refuses it before it even reads the configuration, which does not
        // exist: nothing can have been sent.
        let out = axis(&[
            "--config",
            "/nonexistent/axis.toml",
            "send",
            "--edxml",
            file,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {err}");
        assert!(err.contains(reason), "{file}: {err}");
        assert!(!err.contains("configuration"), "{file}: {err}");
    }
}

#[test]
fn send_edxml_refuses_a_status_and_the_fields_the_package_holds() {
    let status = data("status_acceptance_03.edxml");
    let out = axis(&[
        "--config",
        "/nonexistent/axis.toml",
        "send",
        "--edxml",
        status.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is a status, not a document"), "{err}");

    // The package holds the subject: giving it too is a usage error.
    let edoc = data("edoc_new.edxml");
    let out = axis(&["send", "--edxml", edoc.to_str().unwrap(), "--subject", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    // Without --edxml the fields are needed; with it, none.
    let out = axis(&["send", "--to", "000.00.00.H41", "x.pdf"]);
    assert_eq!(out.status.code(), Some(2));
    // A well-formed package gets as far as the configuration.
    let out = axis(&[
        "--config",
        "/nonexistent/axis.toml",
        "send",
        "--edxml",
        edoc.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("configuration"), "{err}");
}
