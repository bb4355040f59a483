//! One CLI vocabulary and the commands users expect from OPA, Conftest and kwctl: several
//! manifests per `eval`, `--dry-run`, `--quiet`, the record named in the output, policy names in
//! any case and comma lists, plain dates, shared settings defaults, `validate`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::{Path, PathBuf};

#[allow(unused_imports, reason = "the fixture paths")]
use crate::common::fixtures as _;
use crate::common::{data, shared_cache_dir};
use assert_cmd::Command;
use predicates::str::contains;

fn tollgate(log: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env("TOLLGATE_AUDIT_LOG", log)
        .env("NO_COLOR", "1");
    command
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/manifests")
        .join(name)
}

fn records(log: &Path) -> usize {
    std::fs::read_to_string(log).map_or(0, |t| t.lines().count())
}

#[test]
fn several_manifests_are_decided_and_recorded_one_by_one_with_the_strictest_exit() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let dir = scratch.path().join("changes");
    std::fs::create_dir(&dir).unwrap();
    for name in [
        "low-risk-config-auto-approved.yaml",
        "self-approval-denied.yaml",
    ] {
        std::fs::copy(example(name), dir.join(name)).unwrap();
    }
    let output = tollgate(&log)
        .args([
            "eval",
            "--quiet",
            "--now",
            "2026-06-01",
            "--policy",
            "SOX,pci",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(4),
        "denied is stricter than approved"
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(lines[0].contains("low-risk-config-auto-approved.yaml: approved (exit 0), record "));
    assert!(lines[1].contains("self-approval-denied.yaml: denied (exit 4), record "));
    assert_eq!(records(&log), 2);

    // JSON: an array of reports, one per manifest.
    let output = tollgate(&log)
        .args(["eval", "--format", "json", "--now", "2026-06-01"])
        .arg(dir.join("low-risk-config-auto-approved.yaml"))
        .arg(dir.join("self-approval-denied.yaml"))
        .output()
        .unwrap();
    let reports: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(reports.as_array().map(Vec::len), Some(2));
    assert_eq!(records(&log), 4);
}

#[test]
fn an_invalid_manifest_among_several_stops_before_anything_is_decided() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    tollgate(&log)
        .args(["eval", "--now", "2026-06-01"])
        .arg(example("self-approval-denied.yaml"))
        .arg(data("unknown-field.yaml"))
        .assert()
        .code(2)
        .stderr(contains("change.titel"));
    // No decision is recorded, only the rejected attempt.
    assert_eq!(records(&log), 1);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains(r#""type":"rejected""#), "{text}");
    assert!(!text.contains(r#""type":"decision""#), "{text}");
}

#[test]
fn a_dry_run_records_nothing_says_so_and_exits_as_usual() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    tollgate(&log)
        .args(["eval", "--dry-run", "--now", "2026-06-01"])
        .arg(example("self-approval-denied.yaml"))
        .assert()
        .code(4)
        .stdout(contains("Decision record: NONE (dry run"))
        .stderr(contains("must not gate a deployment"));
    assert_eq!(records(&log), 0);
}

#[test]
fn the_text_report_names_the_log_and_the_record() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let output = tollgate(&log)
        .args(["eval", "--now", "2026-06-01"])
        .arg(example("self-approval-denied.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let id = std::fs::read_to_string(&log).unwrap();
    let line = stdout
        .lines()
        .find(|l| l.starts_with("Decision record: "))
        .unwrap();
    assert!(line.contains(&log.display().to_string()), "{line}");
    let record_id = line
        .trim_start_matches("Decision record: ")
        .split(' ')
        .next()
        .unwrap();
    assert!(id.contains(record_id), "the named record is in the log");
}

#[test]
fn settings_defaults_apply_to_every_policy() {
    let scratch = tempfile::tempdir().unwrap();
    let settings = scratch.path().join("settings.yaml");
    std::fs::write(&settings, "defaults:\n  key_rotation_max_days: 0\n").unwrap();
    tollgate(&scratch.path().join("audit.log"))
        .args(["eval", "--dry-run", "--now", "2026-06-01", "--settings"])
        .arg(&settings)
        .arg(example("self-approval-denied.yaml"))
        .assert()
        .code(2)
        .stderr(contains("invalid settings for policy `sox`"))
        .stderr(contains("invalid settings for policy `pci`"));
}

#[test]
fn values_are_accepted_in_kebab_or_snake_case_and_any_case() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    tollgate(&log)
        .args([
            "eval",
            "--now",
            "2026-06-01T00:00:00Z",
            "--policy",
            "Sox",
            "--format",
            "JSON",
        ])
        .arg(example("self-approval-denied.yaml"))
        .assert()
        .code(4);
    for outcome in ["needs_approval", "needs-approval", "DENIED"] {
        tollgate(&log)
            .args(["audit", "list", "--outcome", outcome])
            .assert()
            .success();
    }
}

#[test]
fn report_covers_the_last_30_days_without_from_and_to() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    tollgate(&log)
        .args(["eval", "--now", "2026-06-01"])
        .arg(example("self-approval-denied.yaml"))
        .assert()
        .code(4);
    let output = tollgate(&log)
        .args(["report", "--format", "json", "--now", "2026-06-10"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = report.to_string();
    assert!(
        text.contains("2026-05-12 to 2026-06-10"),
        "the period is the 30 whole days up to and including the day of --now: {text:.400}"
    );
}

#[test]
fn validate_detects_each_kind_and_names_field_and_line() {
    let scratch = tempfile::tempdir().unwrap();
    let compliance = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ci/compliance");
    tollgate(&scratch.path().join("audit.log"))
        .arg("validate")
        .arg(example("self-approval-denied.yaml"))
        .arg(compliance.join("waivers.yaml"))
        .arg(compliance.join("tollgate.toml"))
        .arg(compliance.join("change-ticket.json"))
        .arg(data("settings-strict-rotation.yaml"))
        .assert()
        .success()
        .stdout(contains("valid manifest"))
        .stdout(contains("valid waivers"))
        .stdout(contains("valid path rules"))
        .stdout(contains("valid ticket"))
        .stdout(contains("valid settings"));
    tollgate(&scratch.path().join("audit.log"))
        .arg("validate")
        .arg(data("unknown-field.yaml"))
        .arg(data("settings-invalid.yaml"))
        .assert()
        .code(2)
        .stdout(contains(
            "invalid manifest: invalid YAML at `change.titel` (line 4",
        ))
        .stdout(contains("invalid settings for policy `pci`"));
    assert_eq!(records(&scratch.path().join("audit.log")), 0);
}

#[test]
fn tollgate_test_runs_golden_cases_against_any_policy() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/sox/tests/cases");
    tollgate(&log)
        .arg("test")
        .arg(&cases)
        .assert()
        .success()
        .stdout(contains(" passed, 0 failed (policy `sox`"));
    // The PCI DSS cases do not hold for HIPAA: failures are listed with what differs.
    let pci = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/pci/tests/cases");
    tollgate(&log)
        .args(["test", "--policy", "hipaa"])
        .arg(&pci)
        .assert()
        .code(4)
        .stdout(contains("FAIL - "))
        .stdout(contains("failed (policy `hipaa`"));
    // A component that traps fails every case that expects a decision (it may still reject
    // invalid settings, which is all two cases ask).
    let output = tollgate(&log)
        .args([
            "test",
            "--format",
            "json",
            "--policy",
            crate::common::fixtures::TRAP,
        ])
        .arg(&cases)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    let results: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for result in results.as_array().unwrap() {
        let expects_error = result["file"]
            .as_str()
            .unwrap()
            .contains("invalid-settings");
        let trapped = result["passed"] == false
            && result["problems"][0].as_str().unwrap().contains("trapped");
        assert!(expects_error || trapped, "{result}");
    }
    assert_eq!(records(&log), 0, "tests record nothing");
}

#[test]
fn tollgate_bench_times_any_policy_on_any_manifest() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let manifest = example("schema-and-security-three-approvers.yaml");
    let output = tollgate(&log)
        .args([
            "bench",
            "--iterations",
            "5",
            "--format",
            "json",
            "--now",
            "2026-06-01",
        ])
        .args(["--policy", "SOX,pci", "--isolation", "reused"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let timings: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let timings = timings.as_array().unwrap();
    assert_eq!(timings.len(), 2);
    assert_eq!(timings[0]["policy"], "sox");
    assert_eq!(timings[1]["policy"], "pci");
    for timing in timings {
        assert_eq!(timing["iterations"], 5);
        assert!(timing["outcome"].is_string(), "{timing}");
        assert!(timing["p50_us"].as_f64().unwrap() > 0.0, "{timing}");
    }
    tollgate(&log)
        .args(["bench", "--iterations", "3"])
        .arg(&manifest)
        .assert()
        .success()
        .stdout(contains("all 4 policies: "))
        .stdout(contains("fresh instance per evaluation"));
    // A policy that fails to evaluate is a policy failure, never a timing.
    tollgate(&log)
        .args([
            "bench",
            "--iterations",
            "3",
            "--policy",
            crate::common::fixtures::TRAP,
        ])
        .arg(&manifest)
        .assert()
        .code(5)
        .stderr(contains("trapped"));
    tollgate(&log)
        .args(["bench", "--iterations", "0"])
        .arg(&manifest)
        .assert()
        .code(2);
    assert_eq!(records(&log), 0, "a benchmark records nothing");
}
