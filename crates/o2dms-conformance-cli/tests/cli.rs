//! The `o2dms-conformance` program against the mock: reports, the catalogue, usage errors.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_o2dms-conformance"));
    c.env_remove("O2DMS_FIXTURES");
    c
}

#[test]
fn help_snapshot() {
    let out = bin().arg("--help").output().unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!("help", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn the_mock_passes_and_every_report_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (json, junit, yaml) = (
        dir.path().join("r.json"),
        dir.path().join("r.xml"),
        dir.path().join("r.yaml"),
    );
    let out = bin()
        .args(["--adapter", "mock", "--no-progress"])
        .arg("--report")
        .arg(format!("json={}", json.display()))
        .arg("--report")
        .arg(format!("junit={}", junit.display()))
        .arg("--report")
        .arg(format!("yaml={}", yaml.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("profile core      SUCCESS"), "{stdout}");
    let report: o2dms_conformance::Report =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(report.conformant());
    assert!(report.totals.all.passed > 100, "{:?}", report.totals);
    let published: o2dms_conformance::PublishedReport =
        serde_saphyr::from_str(&std::fs::read_to_string(&yaml).unwrap()).unwrap();
    assert_eq!(published.kind, "ConformanceReport");
    assert_eq!(published.implementation.name, report.adapter.name);
    assert_eq!(published.profiles[0].name, "core");
    assert_eq!(
        published.profiles[0].result,
        o2dms_conformance::Verdict::Success
    );
    assert!(
        published.reproduce.contains("--adapter mock"),
        "{}",
        published.reproduce
    );
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("profile.core"));
}

#[test]
fn a_filtered_run_is_partial_but_passes() {
    let out = bin()
        .args(["--adapter", "mock", "--no-progress", "--only", "rollback.*"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("profile core      PARTIAL"), "{stdout}");
}

#[test]
fn list_prints_the_catalogue() {
    let out = bin().arg("--list").output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), o2dms_conformance::catalogue().len());
    assert!(stdout.contains("lifecycle.create_then_get"));
}

#[test]
fn options_of_another_adapter_are_refused() {
    let out = bin()
        .args(["--adapter", "mock", "--kubeconfig", "/nonexistent"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("apply to --adapter helm only"), "{stderr}");
}

#[test]
fn a_bad_settings_file_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, "concurrency: 2\ntimeout: 5\n").unwrap();
    let out = bin()
        .args(["--adapter", "mock", "--settings"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("timeout"), "{stderr}");
}

#[test]
fn usage_errors_exit_2() {
    let out = bin().args(["--adapter", "gitops"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
