//! `axis-server demo --agency ID=NAME`: the extra agencies get certificates bound to their id
//! and an `axis` configuration, like the built-in ones; a bad or repeated agency is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

const SERVER: &str = env!("CARGO_BIN_EXE_axis-server");

fn demo(dir: &std::path::Path, agencies: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(SERVER);
    cmd.args(["demo", "--dir"]).arg(dir).arg("--fresh");
    for a in agencies {
        cmd.args(["--agency", a]);
    }
    cmd.env_remove("AXIS_CONFIG").output().unwrap()
}

#[test]
fn demo_agencies_are_added_with_their_certificates_and_configuration() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("axis-data");
    let out = demo(
        &dir,
        &[
            "000.00.00.H53=UBND tỉnh Tây Ninh",
            "000.00.00.H29 = UBND tỉnh Hòa Bình",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let index = std::fs::read_to_string(dir.join("agencies/index.tsv")).unwrap();
    assert_eq!(
        index,
        "000.00.00.G22\tVăn phòng Chính phủ\n000.00.00.H41\tUBND tỉnh Nghệ An\n\
         000.00.00.H53\tUBND tỉnh Tây Ninh\n000.00.00.H29\tUBND tỉnh Hòa Bình\n"
    );
    for id in ["000.00.00.H53", "000.00.00.H29"] {
        let a = dir.join("agencies").join(id);
        let config = std::fs::read_to_string(a.join("axis.toml")).unwrap();
        assert!(config.contains(&format!("agency = \"{id}\"")), "{config}");
        for part in ["tls", "seal", "personal", "encryption"] {
            let pem = std::fs::read_to_string(a.join(format!("{part}.cert.pem"))).unwrap();
            let certs = axis_pki::certificates_from_pem(&pem, 4).unwrap();
            let bound = axis_pki::agency_id_of(&certs[0]).unwrap().unwrap();
            assert_eq!(bound.as_str(), id, "{part}");
            assert!(a.join(format!("{part}.key.pem")).exists());
        }
    }
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("000.00.00.H29 (UBND tỉnh Hòa Bình)"),
        "{said}"
    );
}

#[test]
fn a_bad_or_repeated_demo_agency_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("axis-data");
    for (args, code, says) in [
        (vec!["000.00.00.H53"], 2, "ID=NAME"),
        (vec!["H53=Tây Ninh"], 2, "H53"),
        (vec!["000.00.00.H41=Nghệ An"], 1, "listed twice"),
        (
            vec!["000.00.00.H53=A", "000.00.00.H53=B"],
            1,
            "listed twice",
        ),
        (vec!["000.00.00.H53= "], 1, "name"),
    ] {
        let out = demo(&dir, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!dir.join("axis-server.toml").exists(), "{args:?}");
    }
}
