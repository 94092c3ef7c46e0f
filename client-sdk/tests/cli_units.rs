//! `axis directory import` refuses a bad unit file before it reads its configuration or
//! connects anywhere, naming the line, the field and the reason; a good file gets as far as
//! needing the configuration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

const AXIS: &str = env!("CARGO_BIN_EXE_axis");

fn import(dir: &tempfile::TempDir, name: &str, text: &str) -> Output {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    Command::new(AXIS)
        .args(["directory", "import", path.to_str().unwrap()])
        .env_remove("AXIS_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn a_bad_unit_file_is_refused_with_its_line_field_and_reason_before_anything_connects() {
    let dir = tempfile::tempdir().unwrap();
    let mut units = axis_testkit::directory::generate(200);
    units[57].parent = "000.00.77.G01".into();
    let csv = axis_testkit::directory::to_csv(&units);
    let out = import(&dir, "units.csv", &csv);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    // Line 59: the header, then units 0..=57.
    assert!(
        err.contains("line 59: parent: 000.00.77.G01 is not in the directory")
            && err.contains("nothing was imported"),
        "{err}"
    );

    let mut units = axis_testkit::directory::generate(50);
    units[3].name = "x".repeat(201);
    let json = axis_testkit::directory::to_json(&units);
    let out = import(&dir, "units.json", &json);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 5: name: 201 characters; at most 200"),
        "{err}"
    );

    let out = import(&dir, "units.txt", "id,name\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("say --format csv or --format json"), "{err}");
}

#[test]
fn a_good_unit_file_is_read_then_the_configuration_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let csv = axis_testkit::directory::to_csv(&axis_testkit::directory::generate(300));
    let out = import(&dir, "units.csv", &csv);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no configuration"), "{err}");
}
