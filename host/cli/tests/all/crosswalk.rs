//! The organisation's control ids in every report: `--crosswalk` (or `.tollgate/crosswalk.yaml`)
//! on `eval` and `report`; a crosswalk naming a control no loaded policy has is refused (exit 2).

#![allow(clippy::unwrap_used, reason = "tests")]

use std::path::{Path, PathBuf};

use crate::common::shared_cache_dir;
use assert_cmd::Command;
use predicates::str::contains;

const CROSSWALK: &str = "\
version: 1
catalogue: ACME risk and control matrix
controls:
  - id: CC-01
    title: All changes must have approval
    maps_to:
      - control: SOX-CC-05
        rules: [sod-self-approval, ticket-not-approved]
  - id: CC-02
    title: Deployment Authorization
    maps_to:
      - control: SOX-AC-02
";

fn tollgate(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .current_dir(dir)
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env("TOLLGATE_AUDIT_LOG", dir.join("audit.log"))
        .env("NO_COLOR", "1");
    command
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/manifests")
        .join(name)
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".tollgate")).unwrap();
    std::fs::write(dir.path().join(".tollgate/crosswalk.yaml"), CROSSWALK).unwrap();
    dir
}

#[test]
fn every_run_report_shows_the_organisation_ids() {
    let dir = project();
    let outputs = ["json", "junit", "sarif", "markdown", "github", "gitlab"];
    let mut command = tollgate(dir.path());
    command
        .args(["eval", "--policy", "sox"])
        .arg(example("self-approval-denied.yaml"));
    for format in outputs {
        command.args([
            "-o",
            &format!("{format}={}", dir.path().join(format).display()),
        ]);
    }
    command
        .assert()
        .code(4)
        .stdout(contains("(SOX-CC-05 Change control) [CC-01]"))
        .stdout(contains("SOX-AC-02        Deployment access [CC-02]"));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&read("json")).unwrap();
    assert_eq!(
        json["crosswalk"]["catalogue"],
        "ACME risk and control matrix"
    );
    assert_eq!(
        json["crosswalk"]["findings"][0]["organisation_controls"][0]["id"],
        "CC-01"
    );
    let sarif: serde_json::Value = serde_json::from_str(&read("sarif")).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["properties"]["organisationControls"][0]["id"],
        "CC-01"
    );
    assert!(read("junit").contains("SOX-CC-05 Change control [CC-01]"));
    assert!(read("markdown").contains("[CC-01]"));
    assert!(read("github").contains("SOX-CC-05 [CC-01] sod-self-approval"));
    assert!(read("gitlab").contains("SOX-CC-05 [CC-01] sod-self-approval"));
}

#[test]
fn an_unknown_tollgate_control_is_refused_with_its_name_and_place() {
    let dir = project();
    std::fs::write(
        dir.path().join("mine.yaml"),
        CROSSWALK.replace("SOX-AC-02", "SOX-AC-99"),
    )
    .unwrap();
    tollgate(dir.path())
        .args(["eval", "--policy", "sox", "--crosswalk", "mine.yaml"])
        .arg(example("self-approval-denied.yaml"))
        .assert()
        .code(2)
        .stderr(contains("`SOX-AC-99` (mapped from `CC-02`)"))
        .stderr(contains("controls[1].maps_to[0].control"));
    assert!(
        !dir.path().join("audit.log").exists(),
        "a refused crosswalk decides nothing"
    );
}

#[test]
fn the_evidence_report_groups_by_organisation_control() {
    let dir = project();
    tollgate(dir.path())
        .args(["eval", "--policy", "sox", "--now", "2026-06-01"])
        .arg(example("self-approval-denied.yaml"))
        .assert()
        .code(4);
    tollgate(dir.path())
        .args(["report", "--format", "json", "--now", "2026-06-02"])
        .assert()
        .success()
        .stdout(contains(
            "\"organisation_catalogue\": \"ACME risk and control matrix\"",
        ))
        .stdout(contains(
            "\"maps_to\": [\n        \"SOX-CC-05 (sod-self-approval, ticket-not-approved)\"",
        ));
}
