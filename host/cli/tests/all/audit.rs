//! The decision log through the CLI: `tollgate eval` records before it reports and fails closed
//! (exit 6) when it cannot; `tollgate audit` keys, checkpoints, verification, listing, marks; and
//! `tollgate report`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::Path;
use std::process::Output;

use crate::common::{data, shared_cache_dir};
use assert_cmd::Command;
use serde_json::Value;

const NOW: &str = "2026-05-21T00:00:00Z";
const AUDIT_FAILURE: i32 = 6;

/// `tollgate` run in `dir` (a project directory of its own), with no log variable inherited.
fn tollgate(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .current_dir(dir)
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env_remove("TOLLGATE_AUDIT_LOG")
        .env("TOLLGATE_ACTOR", "ci-bot")
        .env("NO_COLOR", "1");
    command
}

fn eval(dir: &Path, manifest: &str) -> Command {
    let mut command = tollgate(dir);
    command.arg("eval").arg(data(manifest)).args(["--now", NOW]);
    command
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".tollgate")).unwrap();
    dir
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn records(dir: &Path) -> Vec<Value> {
    let output = tollgate(dir)
        .args(["audit", "list", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    json_of(&output).as_array().unwrap().clone()
}

#[test]
fn eval_appends_one_record_with_the_pci_10_2_2_fields() {
    let dir = project();
    let output = eval(dir.path(), "business-logic.yaml")
        .args(["--mask", "change.approvals[*].by"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let all = records(dir.path());
    assert_eq!(all.len(), 1);
    let record = &all[0]["record"];
    assert_eq!(record["type"], "decision");
    assert_eq!(record["origin"]["actor"], "ci-bot");
    assert_eq!(record["origin"]["actor_source"], "TOLLGATE_ACTOR");
    assert!(
        record["origin"]["host"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
    assert_eq!(record["evaluated_at"], NOW);
    assert_eq!(record["outcome"], "approved");
    assert_eq!(record["exit_code"], 0);
    assert!(record["id"].as_str().unwrap().len() == 36);
    let text = std::fs::read(data("business-logic.yaml")).unwrap();
    assert_eq!(
        record["manifest"]["digest"],
        tollgate_decision_log::sha256_digest(&text)
    );
    assert_eq!(
        record["manifest"]["masked"]["change"]["approvals"][0]["by"],
        "[masked]"
    );
    let policies: Vec<&str> = record["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(policies, ["sox", "hipaa", "pci", "fda"]);
    assert!(
        record["policies"][0]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(
        record["engine_version"]
            .as_str()
            .unwrap()
            .starts_with("tollgate ")
    );
}

#[test]
fn a_missing_log_directory_fails_closed_with_exit_6_and_no_result() {
    let dir = project();
    let output = eval(dir.path(), "business-logic.yaml")
        .args(["--format", "json", "--audit-log"])
        .arg(dir.path().join("missing/audit.log"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(AUDIT_FAILURE), "{output:?}");
    assert!(
        output.stdout.is_empty(),
        "a result was reported without its record"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("not recorded"), "{stderr}");
}

#[test]
fn a_full_disk_fails_closed_with_exit_6() {
    let dir = project();
    let output = eval(dir.path(), "self-approval.yaml")
        .env("TOLLGATE_AUDIT_LOG", "/dev/full")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(AUDIT_FAILURE), "{output:?}");
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("No space left"));
}

#[test]
fn an_unopenable_log_fails_closed_with_exit_6() {
    // Root may write anywhere, so a directory stands in for a file without write permission.
    let dir = project();
    let output = eval(dir.path(), "business-logic.yaml")
        .arg("--audit-log")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(AUDIT_FAILURE), "{output:?}");
    assert!(output.stdout.is_empty());
}

#[test]
fn invalid_mask_paths_and_configuration_are_invalid_input() {
    let dir = project();
    eval(dir.path(), "business-logic.yaml")
        .args(["--mask", "change..id"])
        .assert()
        .code(2);
    std::fs::write(
        dir.path().join(".tollgate/config.yaml"),
        "audit:\n  lgo: x.log\n",
    )
    .unwrap();
    let output = eval(dir.path(), "business-logic.yaml").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("lgo"));
}

#[test]
fn the_configured_log_and_masks_are_used() {
    let dir = project();
    std::fs::write(
        dir.path().join(".tollgate/config.yaml"),
        "audit:\n  log: decisions.log\n  mask: [change.author]\n",
    )
    .unwrap();
    eval(dir.path(), "business-logic.yaml").assert().code(0);
    let log = std::fs::read_to_string(dir.path().join("decisions.log")).unwrap();
    assert_eq!(log.lines().count(), 1);
    assert!(log.contains("\"author\":\"[masked]\""));
}

#[test]
fn keys_checkpoints_and_verification_detect_tampering() {
    let dir = project();
    let path = dir.path();
    for manifest in [
        "business-logic.yaml",
        "self-approval.yaml",
        "no-approval.yaml",
    ] {
        eval(path, manifest).output().unwrap();
    }
    tollgate(path).args(["audit", "keygen"]).assert().code(0);
    assert!(path.join(".tollgate/audit.key").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path.join(".tollgate/audit.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // keygen refuses to overwrite a key.
    tollgate(path).args(["audit", "keygen"]).assert().code(2);
    tollgate(path)
        .args([
            "audit",
            "checkpoint",
            "--origin",
            "example.com/audit",
            "--output",
            "ck",
        ])
        .assert()
        .code(0);
    let note = std::fs::read_to_string(path.join("ck")).unwrap();
    assert!(note.starts_with("example.com/audit\n3\n"), "{note}");

    // The log grows: still consistent with the checkpoint.
    eval(path, "business-logic.yaml").assert().code(0);
    let verify = tollgate(path)
        .args(["audit", "verify", "--checkpoint", "ck", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(0), "{verify:?}");
    let result = json_of(&verify);
    assert_eq!(result["intact"], true);
    assert_eq!(result["records"], 4);
    assert_eq!(result["checkpoint"]["consistent"], true);

    // A modified record is named.
    let log_path = path.join(".tollgate/audit.log");
    let original = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let modified = original.replacen("\"outcome\":\"denied\"", "\"outcome\":\"approved\"", 1);
    assert_ne!(modified, original);
    std::fs::write(&log_path, &modified).unwrap();
    let verify = tollgate(path).args(["audit", "verify"]).output().unwrap();
    assert_eq!(verify.status.code(), Some(AUDIT_FAILURE));
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(text.contains("line 2 (seq 1) was modified"), "{text}");

    // Truncation is caught by the tail state of the last acknowledged append, and below a
    // checkpoint by the checkpoint too.
    std::fs::write(&log_path, lines[..2].join("\n") + "\n").unwrap();
    tollgate(path)
        .args(["audit", "verify"])
        .assert()
        .code(AUDIT_FAILURE);
    let verify = tollgate(path)
        .args(["audit", "verify", "--checkpoint", "ck"])
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(AUDIT_FAILURE));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("truncated"));

    // A forged checkpoint does not verify.
    std::fs::write(&log_path, &original).unwrap();
    std::fs::write(path.join("forged"), note.replacen("\n3\n", "\n2\n", 1)).unwrap();
    let verify = tollgate(path)
        .args(["audit", "verify", "--checkpoint", "forged"])
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(AUDIT_FAILURE));
    assert!(String::from_utf8_lossy(&verify.stderr).contains("does not verify"));
}

#[test]
fn list_filters_show_proves_inclusion_and_mark_appends() {
    let dir = project();
    let path = dir.path();
    eval(path, "business-logic.yaml").assert().code(0);
    eval(path, "self-approval.yaml").assert().code(4);
    let denied = tollgate(path)
        .args(["audit", "list", "--outcome", "denied", "--format", "json"])
        .output()
        .unwrap();
    let denied = json_of(&denied);
    assert_eq!(denied.as_array().unwrap().len(), 1);
    let denied_id = denied[0]["record"]["id"].as_str().unwrap().to_owned();
    let sox = tollgate(path)
        .args(["audit", "list", "--framework", "sox", "--outcome", "denied"])
        .output()
        .unwrap();
    // A header row, then the record.
    assert_eq!(String::from_utf8_lossy(&sox.stdout).lines().count(), 2);
    let none = tollgate(path)
        .args([
            "audit",
            "list",
            "--from",
            "2000-01-01",
            "--to",
            "2000-01-02",
        ])
        .output()
        .unwrap();
    assert!(none.stdout.is_empty());

    let show = tollgate(path)
        .args(["audit", "show", "#0", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(show.status.code(), Some(0));
    let show = json_of(&show);
    assert_eq!(show["inclusion_verified"], true);
    assert_eq!(show["tree_size"], 2);
    let approved_change = show["record"]["change"]["id"].as_str().unwrap().to_owned();

    let mark = tollgate(path)
        .args(["audit", "mark", &approved_change, "--status", "rolled-back"])
        .output()
        .unwrap();
    assert_eq!(mark.status.code(), Some(0), "{mark:?}");
    let marks = tollgate(path)
        .args(["audit", "list", "--kind", "mark", "--format", "json"])
        .output()
        .unwrap();
    let marks = json_of(&marks);
    assert_eq!(marks[0]["record"]["status"], "rolled_back");
    assert_eq!(marks[0]["record"]["decision_id"], show["record"]["id"]);
    // A decision id can be marked directly; an unknown target cannot.
    tollgate(path)
        .args(["audit", "mark", &denied_id, "--status", "failed"])
        .assert()
        .code(0);
    tollgate(path)
        .args(["audit", "mark", "CHG-404", "--status", "failed"])
        .assert()
        .code(2);
    // Deploying a change without any decision, or whose latest decision is not approved, is
    // recorded as a direct production change; an approved change's deployment is not.
    let denied_change = json_of(
        &tollgate(path)
            .args(["audit", "show", &denied_id, "--format", "json"])
            .output()
            .unwrap(),
    )["record"]["change"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The approved decision, named by its id, was deployed: not a direct change. Its change's
    // latest decision (the denied one, same change) is not approved: a direct change.
    let approved_id = show["record"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        approved_change, denied_change,
        "both examples are one change"
    );
    // A change the log has no decision of is recorded as a direct change, and is unknown (2).
    for (change, code) in [
        ("CHG-404", 2),
        (denied_change.as_str(), 0),
        (&approved_id, 0),
    ] {
        let mark = tollgate(path)
            .args(["audit", "mark", change, "--status", "deployed"])
            .output()
            .unwrap();
        assert_eq!(mark.status.code(), Some(code), "{mark:?}");
    }
    let marks = json_of(
        &tollgate(path)
            .args(["audit", "list", "--kind", "mark", "--format", "json"])
            .output()
            .unwrap(),
    );
    let direct: Vec<(&str, bool)> = marks
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["record"]["status"] == "deployed")
        .map(|m| {
            (
                m["record"]["change_id"].as_str().unwrap(),
                m["record"]["direct_production_change"] == true,
            )
        })
        .collect();
    assert_eq!(
        direct,
        [
            ("CHG-404", true),
            (denied_change.as_str(), true),
            (approved_change.as_str(), false)
        ]
    );
}

#[test]
fn report_writes_json_oscal_and_html_from_the_log() {
    let dir = project();
    let path = dir.path();
    eval(path, "business-logic.yaml").assert().code(0);
    eval(path, "self-approval.yaml").assert().code(4);
    let today = &tollgate_decision_log::now().to_string()[..10];
    let json = tollgate(path)
        .args(["report", "--from", today, "--to", today, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(0), "{json:?}");
    let report = json_of(&json);
    assert_eq!(report["summary"]["decisions"], 2);
    assert_eq!(report["log"]["intact"], true);
    let oscal = tollgate(path)
        .args([
            "report", "--from", today, "--to", today, "--format", "oscal",
        ])
        .output()
        .unwrap();
    assert!(json_of(&oscal)["assessment-results"]["results"].is_array());
    tollgate(path)
        .args([
            "report", "--from", today, "--to", today, "--output", "r.html",
        ])
        .assert()
        .code(0);
    let html = std::fs::read_to_string(path.join("r.html")).unwrap();
    assert!(html.contains("Log verification: passed"));
    // A damaged log still gets its report, which says so, and the command exits 6.
    let log = path.join(".tollgate/audit.log");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("ci-bot", "ci-bob", 1)).unwrap();
    let damaged = tollgate(path)
        .args(["report", "--from", today, "--to", today, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(damaged.status.code(), Some(AUDIT_FAILURE));
    assert_eq!(json_of(&damaged)["log"]["intact"], false);
    tollgate(path)
        .args(["report", "--from", "2026-05-02", "--to", "2026-05-01"])
        .assert()
        .code(2);
}

#[test]
fn concurrent_evals_all_land_in_the_log() {
    let dir = project();
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
                .current_dir(dir.path())
                .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
                .env_remove("TOLLGATE_AUDIT_LOG")
                .arg("eval")
                .arg(data("business-logic.yaml"))
                .args(["--now", NOW])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert_eq!(child.wait().unwrap().code(), Some(0));
    }
    assert_eq!(records(dir.path()).len(), 4);
    tollgate(dir.path())
        .args(["audit", "verify"])
        .assert()
        .code(0);
}

/// `audit mark CHANGE` and `report` agree on which decision is the change's deployment: a change
/// evaluated twice and marked rolled back by its change id is a failed deployment.
#[test]
fn a_change_marked_rolled_back_by_its_id_counts_in_the_change_failure_rate() {
    let dir = project();
    let path = dir.path();
    eval(path, "business-logic.yaml").assert().code(0);
    eval(path, "business-logic.yaml").assert().code(0);
    let change = records(path)[0]["record"]["change"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tollgate(path)
        .args(["audit", "mark", &change, "--status", "rolled-back"])
        .assert()
        .code(0);
    let today = &tollgate_decision_log::now().to_string()[..10];
    let output = tollgate(path)
        .args(["report", "--from", today, "--to", today, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report = json_of(&output);
    assert_eq!(report["metrics"]["deployments"], 1, "{}", report["metrics"]);
    assert_eq!(
        report["metrics"]["failed_deployments"], 1,
        "{}",
        report["metrics"]
    );
    assert_eq!(report["metrics"]["change_failure_rate"], 1.0);
    assert_eq!(report["deployments"][0]["status"], "rolled_back");
}

/// An output whose directory does not exist is invalid input found before anything is decided:
/// no record claims a result that was never reported.
#[test]
fn an_output_in_a_missing_directory_fails_before_any_record() {
    let dir = project();
    let path = dir.path();
    let output = eval(path, "business-logic.yaml")
        .args([
            "--output",
            "json=out.json",
            "--output",
            "junit=nodir/out.xml",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nodir/out.xml"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(!path.join(".tollgate/audit.log").exists());
    assert!(!path.join("out.json").exists());
    // A directory given as the file is refused the same way.
    std::fs::create_dir(path.join("adir")).unwrap();
    eval(path, "business-logic.yaml")
        .args(["--output", "sarif=adir"])
        .assert()
        .code(2);
    assert!(!path.join(".tollgate/audit.log").exists());
}

/// `report --framework` names a framework of the log or a built-in one; anything else is invalid
/// input naming the known ones, and the summary names what it counts.
#[test]
fn an_unknown_report_framework_is_invalid_input_naming_the_known_ones() {
    let dir = project();
    let path = dir.path();
    eval(path, "business-logic.yaml").assert().code(0);
    eval(path, "self-approval.yaml").assert().code(4);
    let today = &tollgate_decision_log::now().to_string()[..10];
    let output = tollgate(path)
        .args([
            "report",
            "--from",
            today,
            "--to",
            today,
            "--framework",
            "soxx",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for name in ["`soxx`", "sox", "hipaa", "pci", "SOX", "PCI DSS"] {
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
    let output = tollgate(path)
        .args([
            "report",
            "--from",
            today,
            "--to",
            today,
            "--framework",
            "SOX",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let summary = &json_of(&output)["summary"];
    assert_eq!(summary["decisions"], 2, "{summary}");
    // Both manifests are change CHG-2041: two decisions, one change.
    assert_eq!(summary["changes"], 1, "{summary}");
    assert_eq!(summary["approved_decisions"], 1, "{summary}");
    assert_eq!(summary["denied_decisions"], 1, "{summary}");
    assert!(summary.get("approved").is_none(), "{summary}");
}

/// `report --output` to a FIFO writes into it (a reader gets the report) and leaves it a FIFO;
/// `-` is standard output.
#[test]
fn report_output_to_a_fifo_or_dash_is_written_in_place() {
    let dir = project();
    let path = dir.path();
    eval(path, "business-logic.yaml").assert().code(0);
    let today = &tollgate_decision_log::now().to_string()[..10];
    let fifo = path.join("report.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    tollgate(path)
        .args([
            "report", "--from", today, "--to", today, "--format", "json", "--output",
        ])
        .arg(&fifo)
        .assert()
        .code(0);
    let text = reader.join().unwrap();
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["summary"]["decisions"], 1);
    use std::os::unix::fs::FileTypeExt as _;
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    let output = tollgate(path)
        .args([
            "report", "--from", today, "--to", today, "--format", "json", "--output", "-",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(json_of(&output)["summary"]["decisions"], 1);
    assert!(!path.join("-").exists());
}

/// An invalid manifest or invalid settings decide nothing (exit 2 as before), but the attempt is on
/// record: digest and masked copy of the refused input, the error, who and from where; `audit
/// verify` counts it and the evidence report lists it.
#[test]
fn rejected_attempts_are_recorded_verified_and_reported() {
    let dir = project();
    let path = dir.path();
    let output = eval(path, "unknown-field.yaml").output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty());
    eval(path, "business-logic.yaml")
        .arg("--settings")
        .arg(data("settings-invalid.yaml"))
        .assert()
        .code(2);
    // A dry run records nothing, rejected or not.
    eval(path, "unknown-field.yaml")
        .arg("--dry-run")
        .assert()
        .code(2);

    let all = records(path);
    assert_eq!(all.len(), 2, "{all:#?}");
    let manifest = &all[0]["record"];
    assert_eq!(manifest["type"], "rejected");
    assert_eq!(manifest["input"], "manifest");
    assert_eq!(manifest["exit_code"], 2);
    assert_eq!(manifest["origin"]["actor"], "ci-bot");
    let text = std::fs::read_to_string(data("unknown-field.yaml")).unwrap();
    assert_eq!(
        manifest["refused"]["digest"],
        tollgate_decision_log::sha256_digest(text.as_bytes())
    );
    assert!(manifest["refused"]["masked"].is_object());
    assert!(
        manifest["error"]
            .as_str()
            .is_some_and(|e| e.contains("unknown field")),
        "{manifest}"
    );
    let settings = &all[1]["record"];
    assert_eq!(settings["input"], "settings");
    assert!(
        settings["manifest"]["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );

    tollgate(path).args(["audit", "verify"]).assert().code(0);
    let listed = tollgate(path)
        .args(["audit", "list", "--kind", "rejected", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json_of(&listed).as_array().map(Vec::len), Some(2));
    let today = &tollgate_decision_log::now().to_string()[..10];
    let json = tollgate(path)
        .args(["report", "--from", today, "--to", today, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(0), "{json:?}");
    let report = json_of(&json);
    assert_eq!(report["summary"]["rejected_attempts"], 2);
    assert_eq!(report["summary"]["decisions"], 0);
    let kinds: Vec<&str> = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["rejected", "rejected"]);
}
