//! The `tollgate` command: exit codes, output formats, and error messages on malformed input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::Path;

use crate::common::{data, fixtures, shared_cache_dir};
use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

const NOW: &str = "2026-05-21T00:00:00Z";

fn tollgate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        // Decision records of these tests go to the build's scratch space, not the work tree.
        .env(
            "TOLLGATE_AUDIT_LOG",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-audit.log"),
        )
        .env("NO_COLOR", "1");
    command
}

fn eval(manifest: &str) -> Command {
    let mut command = tollgate();
    command.arg("eval").arg(data(manifest)).args(["--now", NOW]);
    command
}

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output).expect("stdout is JSON")
}

// ---- outcomes ----

#[test]
fn an_approved_change_exits_0() {
    eval("business-logic.yaml")
        .assert()
        .code(0)
        .stdout(contains("== SOX — policy sox"))
        .stdout(contains("== HIPAA — policy hipaa"))
        .stdout(contains("== PCI DSS — policy pci"))
        .stdout(contains("== Combined ==\nOutcome: APPROVED"))
        .stdout(contains("Exit code: 0"));
}

#[test]
fn a_change_missing_an_approval_exits_3() {
    eval("no-approval.yaml")
        .assert()
        .code(3)
        .stdout(contains("Outcome: NEEDS APPROVAL"))
        .stdout(contains("Missing roles: TECHNICAL_LEAD"));
}

#[test]
fn a_self_approved_change_exits_4_and_explains_the_finding() {
    eval("self-approval.yaml")
        .assert()
        .code(4)
        .stdout(contains("== Combined ==\nOutcome: DENIED"))
        .stdout(contains("[HIGH] sod-self-approval (SOX-CC-05"))
        .stdout(contains("field: change.approvals[0].by"))
        .stdout(contains("references: "))
        .stdout(contains("alice as TECHNICAL_LEAD"));
}

#[test]
fn settings_change_the_decision() {
    // The key was rotated 30 days ago: compliant by default (90), not with a 20-day limit.
    eval("business-logic.yaml")
        .arg("--settings")
        .arg(data("settings-strict-rotation.yaml"))
        .assert()
        .code(4)
        .stdout(contains("non-compliant   SOX-IT-03"));
}

#[test]
fn an_oversized_manifest_is_rejected_without_reading_it_all() {
    let text = format!(
        "version: 1\n#{}\n",
        "x".repeat(tollgate_manifest::MAX_DOCUMENT_BYTES)
    );
    tollgate()
        .args(["eval", "-", "--now", NOW])
        .write_stdin(text)
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("larger than the 1048576-byte limit"));
}

#[test]
fn a_manifest_can_come_from_standard_input() {
    let text = std::fs::read_to_string(data("business-logic.yaml")).expect("manifest");
    tollgate()
        .args(["eval", "-", "--now", NOW, "--format", "json"])
        .write_stdin(text)
        .assert()
        .code(0)
        .stdout(contains(r#""path": "-""#));
}

// ---- JSON ----

/// `--output FORMAT=-` writes that format to standard output (the `--format` report then goes to
/// standard error, so standard output carries one document); a FIFO is written in place.
#[test]
fn an_output_to_dash_is_standard_output_and_a_fifo_is_written_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let output = eval("business-logic.yaml")
        .current_dir(dir.path())
        .args(["--output", "json=-"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(json_of(&output.stdout)["outcome"], "approved");
    assert!(String::from_utf8_lossy(&output.stderr).contains("Outcome: APPROVED"));
    assert!(!dir.path().join("-").exists());
    // Two formats cannot share standard output.
    eval("business-logic.yaml")
        .current_dir(dir.path())
        .args(["--output", "json=-", "--output", "sarif=-"])
        .assert()
        .code(2)
        .stderr(contains("standard output"));

    let fifo = dir.path().join("report.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    eval("business-logic.yaml")
        .arg("--output")
        .arg(format!("json={}", fifo.display()))
        .assert()
        .code(0);
    let text = reader.join().unwrap();
    assert_eq!(json_of(text.as_bytes())["outcome"], "approved");
    use std::os::unix::fs::FileTypeExt as _;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn json_output_has_the_documented_shape() {
    let output = eval("business-logic.yaml")
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let report = json_of(&output.stdout);
    assert_eq!(report["tollgate_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(report["evaluated_at"], NOW);
    assert!(
        report["manifest"]["path"]
            .as_str()
            .unwrap()
            .ends_with("business-logic.yaml")
    );
    assert!(
        report["manifest"]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(report["outcome"], "approved");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["risk_class"], "medium");
    assert_eq!(
        report["required_roles"],
        serde_json::json!(["TECHNICAL_LEAD"])
    );
    assert_eq!(report["missing_roles"], serde_json::json!([]));
    assert_eq!(report["failures"], serde_json::json!([]));
    let policies = report["policies"].as_array().expect("policies");
    let ids: Vec<&str> = policies.iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["sox", "hipaa", "pci", "fda"]);
    for policy in policies {
        assert!(policy["framework"].is_string());
        assert!(policy["version"].is_string());
        assert!(policy["digest"].as_str().unwrap().starts_with("sha256:"));
        let decision = &policy["decision"];
        assert_eq!(decision["policy_id"], policy["id"]);
        assert!(decision["outcome"].is_string());
        assert!(decision["risk"]["factors"].is_array());
        assert!(decision["routing"]["required"].is_array());
        assert!(decision["controls"].is_array());
    }
}

#[test]
fn json_output_of_a_denial() {
    let output = eval("self-approval.yaml")
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(4));
    let report = json_of(&output.stdout);
    assert_eq!(report["outcome"], "denied");
    assert_eq!(report["exit_code"], 4);
    assert_eq!(
        report["missing_roles"],
        serde_json::json!(["TECHNICAL_LEAD"])
    );
}

// ---- policy failures: fail-closed ----

fn assert_policy_fails(fixture: &str, expected: &str) {
    eval("business-logic.yaml")
        .args(["--policy", fixture])
        .assert()
        .code(5)
        .stderr(contains(expected))
        .stdout(contains("POLICY FAILURE"))
        .stdout(contains(expected))
        .stdout(contains("Exit code: 5"));
}

#[test]
fn a_timeout_is_a_policy_failure() {
    assert_policy_fails(
        fixtures::SPIN,
        "policy `spin` failed: timed out after 100 ms",
    );
}

#[test]
fn a_memory_bomb_is_a_policy_failure() {
    assert_policy_fails(
        fixtures::MEMORY_BOMB,
        "policy `memory-bomb` failed: exceeded its memory limit",
    );
}

#[test]
fn a_trap_is_a_policy_failure() {
    assert_policy_fails(fixtures::TRAP, "policy `trap` failed: trapped: ");
}

#[test]
fn a_stack_overflow_is_a_policy_failure() {
    assert_policy_fails(
        fixtures::STACK_OVERFLOW,
        "policy `stack-overflow` failed: exceeded its stack limit",
    );
}

#[test]
fn a_malformed_result_is_a_policy_failure() {
    assert_policy_fails(
        fixtures::IMPOSTOR,
        "policy `impostor` failed: returned a malformed result",
    );
}

#[test]
fn one_failing_policy_fails_the_run_even_if_the_others_approve() {
    let output = eval("business-logic.yaml")
        .args(["--policy", "sox", "--policy", fixtures::TRAP])
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(5));
    let report = json_of(&output.stdout);
    assert_eq!(report["outcome"], "policy_failure");
    assert_eq!(report["exit_code"], 5);
    assert_eq!(report["policies"][0]["id"], "sox");
    assert_eq!(report["policies"][0]["decision"]["outcome"], "approved");
    assert_eq!(report["failures"][0]["policy"], "trap");
    assert_eq!(report["failures"][0]["kind"], "trap");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("policy `trap` failed: trapped"), "{stderr}");
}

#[test]
fn a_component_with_imports_is_a_policy_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("importer.wasm");
    let bytes =
        wat::parse_str(r#"(component (import "host-log" (func (param "message" string))))"#)
            .expect("valid WAT");
    std::fs::write(&path, bytes).expect("write component");
    eval("business-logic.yaml")
        .arg("--policy")
        .arg(&path)
        .assert()
        .code(5)
        .stderr(contains("imports `host-log`"))
        .stderr(contains("policies must import nothing"));
}

#[test]
fn a_file_that_is_not_a_component_is_a_policy_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("junk.wasm");
    std::fs::write(&path, b"definitely not wasm").expect("write");
    eval("business-logic.yaml")
        .arg("--policy")
        .arg(&path)
        .assert()
        .code(5)
        .stderr(contains("is not a WebAssembly component"));
}

// ---- invalid input: exit 2, before any policy runs ----

fn assert_invalid_manifest(file: &str, expected: &[&str]) {
    let mut assert = eval(file)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(contains("error: invalid manifest"));
    for text in expected {
        assert = assert.stderr(contains(*text));
    }
}

#[test]
fn an_unknown_field_names_its_path_and_line() {
    assert_invalid_manifest(
        "unknown-field.yaml",
        &[
            "at `change.titel` (line 4, column 3)",
            "unknown field `titel`",
        ],
    );
}

#[test]
fn a_wrong_type_names_its_path_and_line() {
    assert_invalid_manifest(
        "wrong-type.yaml",
        &[
            "at `change.lines_changed` (line 21",
            "expected a whole number (0 or more)",
        ],
    );
}

#[test]
fn a_missing_required_field_is_named() {
    assert_invalid_manifest(
        "missing-field.yaml",
        &["at `change` (line 3", "missing field `ticket_status`"],
    );
}

#[test]
fn a_bad_timestamp_names_its_path_and_line() {
    assert_invalid_manifest(
        "bad-timestamp.yaml",
        &[
            "at `change.approvals[0].at` (line 15",
            "`yesterday` is not an RFC 3339 timestamp",
        ],
    );
}

#[test]
fn a_malformed_json_manifest_on_standard_input_names_path_and_line() {
    tollgate()
        .args(["eval", "-"])
        .write_stdin("{\n  \"version\": 1,\n  \"change\": {\"id\": 3}\n}\n")
        .assert()
        .code(2)
        .stderr(contains("invalid manifest on standard input"))
        .stderr(contains("invalid JSON at `change.id` (line 3"));
}

#[test]
fn a_missing_manifest_file_is_invalid_input() {
    tollgate()
        .args(["eval", "does/not/exist.yaml"])
        .assert()
        .code(2)
        .stderr(contains("failed to read manifest `does/not/exist.yaml`"));
}

#[test]
fn settings_for_an_unknown_policy_are_invalid_input() {
    eval("business-logic.yaml")
        .arg("--settings")
        .arg(data("settings-unknown-policy.yaml"))
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(contains(
            "settings name policy `socks`, which is not loaded",
        ));
}

#[test]
fn settings_a_policy_rejects_are_invalid_input() {
    eval("business-logic.yaml")
        .arg("--settings")
        .arg(data("settings-invalid.yaml"))
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(contains(
            "invalid settings for policy `pci`: `key_rotation_max_dayz`",
        ));
}

#[test]
fn settings_of_the_wrong_type_are_invalid_input() {
    eval("business-logic.yaml")
        .arg("--settings")
        .arg(data("settings-wrong-type.json"))
        .assert()
        .code(2)
        .stderr(contains(
            "invalid settings for policy `sox`: `key_rotation_max_days`",
        ));
}

#[test]
fn a_malformed_settings_file_names_its_line() {
    eval("business-logic.yaml")
        .arg("--settings")
        .arg(data("settings-malformed.yaml"))
        .assert()
        .code(2)
        .stderr(contains("invalid settings file"))
        .stderr(contains("(line 2"));
}

#[test]
fn an_unknown_policy_is_invalid_input() {
    eval("business-logic.yaml")
        .args(["--policy", "gdpr"])
        .assert()
        .code(2)
        .stderr(contains("unknown policy `gdpr`"));
}

#[test]
fn a_policy_given_twice_is_invalid_input() {
    eval("business-logic.yaml")
        .args(["--policy", "sox", "--policy", "sox"])
        .assert()
        .code(2)
        .stderr(contains("policy `sox` is given twice"));
}

#[test]
fn a_bad_evaluation_time_is_invalid_input() {
    tollgate()
        .arg("eval")
        .arg(data("business-logic.yaml"))
        .args(["--now", "tomorrow"])
        .assert()
        .code(2)
        .stderr(contains("invalid `--now`"));
}

#[test]
fn usage_errors_are_invalid_input() {
    tollgate().assert().code(2);
    tollgate().args(["eval"]).assert().code(2);
    tollgate()
        .args(["eval", "x.yaml", "--format", "xml"])
        .assert()
        .code(2);
    tollgate().args(["frobnicate"]).assert().code(2);
}

#[test]
fn help_and_version_succeed() {
    tollgate()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(contains("Exit codes"));
    tollgate()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(contains(env!("CARGO_PKG_VERSION")));
}

// ---- other commands ----

#[test]
fn policies_lists_the_builtin_packs() {
    tollgate()
        .arg("policies")
        .assert()
        .code(0)
        .stdout(contains("sox      SOX"))
        .stdout(contains("hipaa    HIPAA"))
        .stdout(contains("pci      PCI DSS"))
        .stdout(contains("fda      FDA 21 CFR Part 11"))
        .stdout(contains("sha256:"));
    let output = tollgate()
        .args(["policies", "--format", "json"])
        .output()
        .expect("runs");
    let packs = json_of(&output.stdout);
    assert_eq!(packs.as_array().map(Vec::len), Some(4));
    assert!(packs[0]["controls"].as_u64().unwrap() > 0);
}

#[test]
fn inspect_prints_metadata_controls_and_interface() {
    let output = tollgate()
        .args(["inspect", "pci", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let inspection = json_of(&output.stdout);
    assert_eq!(inspection["id"], "pci");
    assert!(
        inspection["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(inspection["size"].as_u64().unwrap() > 0);
    let controls = inspection["controls"].as_array().expect("controls");
    assert!(controls.iter().any(|c| c["id"] == "PCI-6.5.1"));
    assert!(controls.iter().all(|c| c["references"].is_array()));
    let role_separation = controls.iter().find(|c| c["id"] == "PCI-6.5.4").unwrap();
    let rules = role_separation["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r == "sod-self-approval"), "{rules:?}");
    assert!(
        role_separation["relies_on"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "change.approvals")
    );
    tollgate()
        .args(["inspect", "sox"])
        .assert()
        .code(0)
        .stdout(contains(
            "rules: deployer-not-authorised, sod-author-deploys",
        ))
        .stdout(contains(
            "relies on: change.author, change.deployer, change.deployer_groups",
        ));
    let exports: Vec<&str> = inspection["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(exports, ["metadata", "validate-settings", "evaluate"]);

    tollgate()
        .arg("inspect")
        .arg(fixtures::TRAP)
        .assert()
        .code(0)
        .stdout(contains("Policy:      trap (HOSTILE)"))
        .stdout(contains("Exports (3):"))
        .stdout(contains("(types only"));
}

#[test]
fn inspect_of_an_unknown_policy_is_invalid_input() {
    tollgate()
        .args(["inspect", Path::new("nope.wasm").to_str().unwrap()])
        .assert()
        .code(2);
}

#[test]
fn schema_prints_the_manifest_json_schema() {
    let output = tollgate().arg("schema").output().expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let schema = json_of(&output.stdout);
    assert_eq!(schema["title"], "Tollgate change manifest");
}

#[test]
fn no_cache_still_evaluates() {
    tollgate()
        .arg("eval")
        .arg(data("business-logic.yaml"))
        .args(["--now", NOW, "--no-cache", "--policy", "sox"])
        .env_remove("TOLLGATE_CACHE_DIR")
        .env("HOME", "/nonexistent")
        .env_remove("XDG_CACHE_HOME")
        .assert()
        .code(0);
}

// ---- the examples ----

#[test]
fn every_example_manifest_exits_with_its_expected_outcome() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/manifests");
    let text = std::fs::read_to_string(dir.join("expected.yaml"))
        .expect("examples/manifests/expected.yaml");
    let expected: std::collections::BTreeMap<String, String> =
        tollgate_manifest::decode(&text, tollgate_manifest::Format::Yaml).expect("expected.yaml");
    assert!(!expected.is_empty());
    for (file, outcome) in expected {
        let code = match outcome.as_str() {
            "approved" => 0,
            "needs_approval" => 3,
            "denied" => 4,
            other => panic!("{file}: unknown outcome `{other}`"),
        };
        let output = tollgate()
            .arg("eval")
            .arg(dir.join(&file))
            .args(["--now", "2026-06-01T00:00:00Z", "--format", "json"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{file}: {stderr}");
        assert_eq!(json_of(&output.stdout)["outcome"], outcome, "{file}");
    }
}
