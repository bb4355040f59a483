//! The CLI's rough edges: no secret or foreign file in the decision log or on standard error, the
//! outcome after waivers stated as the outcome, unmatched waivers explained, `eval DIR` like
//! Conftest, `validate --merge`, `audit list` headers, report paths and sentences, `test DIR`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::shared_cache_dir;
use serde_json::Value;

const AWS_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const NOW: &str = "2026-06-01T00:00:00Z";

fn tollgate(log: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env("TOLLGATE_AUDIT_LOG", log)
        .env("NO_COLOR", "1");
    command
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example(name: &str) -> PathBuf {
    repository().join("examples/manifests").join(name)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn log_records(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let line: Value = serde_json::from_str(line).unwrap();
            line.get("record").cloned().unwrap_or(line)
        })
        .collect()
}

fn rejected(log: &Path) -> Vec<Value> {
    let output = tollgate(log)
        .args(["audit", "list", "--kind", "rejected", "--format", "json"])
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    list.as_array()
        .map(|items| items.iter().map(|i| i["record"].clone()).collect())
        .unwrap_or_default()
}

#[test]
fn eval_of_a_dotenv_file_keeps_the_key_out_of_stderr_and_the_log() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let creds = scratch.path().join("creds.env");
    let content = format!("AWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n");
    std::fs::write(&creds, &content).unwrap();
    let output = tollgate(&log)
        .args(["eval", "--now", NOW])
        .arg(&creds)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("invalid"), "{stderr}");
    let raw_log = std::fs::read_to_string(&log).unwrap();
    for secret in [AWS_ID, AWS_SECRET, "AWS_SECRET_ACCESS_KEY"] {
        assert!(!stderr.contains(secret), "stderr quotes {secret}: {stderr}");
        assert!(
            !raw_log.contains(secret),
            "the log holds {secret}: {raw_log}"
        );
    }
    let records = rejected(&log);
    assert_eq!(records.len(), 1, "{raw_log}");
    let refused = &records[0]["refused"];
    assert!(refused.get("masked").is_none(), "{refused}");
    assert_eq!(refused["bytes"], content.len());
    assert_eq!(refused["media_type"], "application/octet-stream");
    assert!(refused["digest"].as_str().unwrap().starts_with("sha256:"));
}

#[test]
fn eval_of_a_passwd_like_file_records_digest_size_media_type_and_error_only() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let passwd = scratch.path().join("passwd");
    let content = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nalice:x:1000:1000:Alice Example,,,:/home/alice:/bin/zsh\n";
    std::fs::write(&passwd, content).unwrap();
    let output = tollgate(&log)
        .args(["eval", "--now", NOW])
        .arg(&passwd)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = text(&output.stderr);
    let raw_log = std::fs::read_to_string(&log).unwrap();
    for line in content.lines() {
        assert!(!stderr.contains(line), "{stderr}");
        assert!(!raw_log.contains(line), "{raw_log}");
    }
    for word in ["/bin/bash", "nologin", "Alice Example"] {
        assert!(!raw_log.contains(word), "{raw_log}");
    }
    let records = rejected(&log);
    assert_eq!(records.len(), 1);
    let refused = records[0]["refused"].as_object().unwrap();
    let mut keys: Vec<&str> = refused.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["bytes", "digest", "media_type", "path"]);
    assert!(records[0].get("change_id").is_none());
    assert!(records[0]["error"].as_str().unwrap().contains("invalid"));
}

#[test]
fn a_manifest_quoting_a_token_has_it_masked_in_stderr_and_the_record() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let manifest = scratch.path().join("change.yaml");
    let token = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
    std::fs::write(
        &manifest,
        format!(
            "version: 1\nchange:\n  id: CHG-1\n  environment: [\"{token}\"]\n  api_token: {token}\n"
        ),
    )
    .unwrap();
    let output = tollgate(&log)
        .args(["eval", "--now", NOW])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    let raw_log = std::fs::read_to_string(&log).unwrap();
    assert!(!stderr.contains(token), "{stderr}");
    assert!(!raw_log.contains(token), "{raw_log}");
    let records = rejected(&log);
    let masked = &records[0]["refused"]["masked"];
    assert_eq!(masked["change"]["api_token"], "[masked]", "{masked}");
    assert_eq!(masked["change"]["id"], "CHG-1");
}

#[test]
fn the_outcome_stated_is_the_outcome_after_waivers_with_its_exit_code() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let waivers = repository().join("examples/ci/compliance/waivers.yaml");
    let run = |service: Option<&str>| {
        let mut command = tollgate(&log);
        command
            .args(["eval", "--now", NOW, "--waivers"])
            .arg(&waivers)
            .arg(example("cardholder-live-pan-staging-denied.yaml"));
        if let Some(service) = service {
            command.args(["--service", service]);
        }
        command.output().unwrap()
    };
    let waived = run(Some("payments"));
    let stdout = text(&waived.stdout);
    let code = waived.status.code().unwrap();
    assert_ne!(code, 4, "{stdout}");
    let combined = stdout.split("== Combined ==").nth(1).unwrap();
    let outcome_line = combined
        .lines()
        .find(|l| l.starts_with("Outcome:"))
        .unwrap();
    let stated = if code == 0 {
        "Outcome: APPROVED"
    } else {
        "Outcome: NEEDS APPROVAL"
    };
    assert!(outcome_line.starts_with(stated), "{stdout}");
    assert!(
        outcome_line.contains("DENIED before waivers"),
        "{outcome_line}"
    );
    assert!(combined.contains(&format!("Exit code: {code}")), "{stdout}");
    assert!(!stdout.contains("Outcome after waivers"), "{stdout}");
    // The waivers section comes before the combined outcome, which ends the report.
    assert!(stdout.find("== Waivers").unwrap() < stdout.find("== Combined ==").unwrap());

    // Without `--service`, the waiver's service scope does not match, and the report says so.
    let unmatched = run(None);
    assert_eq!(unmatched.status.code(), Some(4));
    let stdout = text(&unmatched.stdout);
    assert!(
        stdout.contains(
            "matched no finding: WVR-7: its scope did not match: service `payments` (no service was given: `--service`)"
        ),
        "{stdout}"
    );
    let json = tollgate(&log)
        .args(["eval", "--now", NOW, "--format", "json", "--waivers"])
        .arg(&waivers)
        .arg(example("cardholder-live-pan-staging-denied.yaml"))
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["waivers"]["unmatched"][0]["waiver"], "WVR-7");
    assert!(
        json["waivers"]["unmatched"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("service `payments`")
    );
}

#[test]
fn eval_of_the_examples_directory_skips_what_is_not_a_manifest() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let output = tollgate(&log)
        .args(["eval", "--quiet", "--now", NOW])
        .arg(repository().join("examples/manifests"))
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("expected.yaml`: not a change manifest"),
        "{stderr}"
    );
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 9, "{stdout}");
    assert!(!stdout.contains("expected.yaml"));
    assert!(rejected(&log).is_empty());
    assert_eq!(log_records(&log).len(), 9);

    // A directory holding no manifest at all is invalid input, and nothing is recorded.
    let empty = scratch.path().join("not-manifests");
    std::fs::create_dir(&empty).unwrap();
    std::fs::copy(example("expected.yaml"), empty.join("expected.yaml")).unwrap();
    let other_log = scratch.path().join("other.log");
    let output = tollgate(&other_log)
        .args(["eval", "--now", NOW])
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(!other_log.exists());
}

#[test]
fn validate_merge_checks_a_partial_manifest() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let partial = repository().join("examples/ci/compliance/change-evidence.yaml");
    let output = tollgate(&log)
        .args(["validate", "--merge"])
        .arg(&partial)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(text(&output.stdout).contains("valid partial manifest"));

    for (content, expected) in [
        (
            "evidence:\n  rollback_plan: { documented: maybe }\n",
            "`evidence.rollback_plan.documented`",
        ),
        ("change:\n  reasn: typo\n", "reasn"),
        (
            "provenance: {}\nchange: { reason: x }\n",
            "`provenance` is recorded by `tollgate manifest`",
        ),
        ("- just a list\n", "must be a mapping"),
    ] {
        let bad = scratch.path().join("partial.yaml");
        std::fs::write(&bad, content).unwrap();
        let output = tollgate(&log)
            .args(["validate", "--merge"])
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{content}");
        let stdout = text(&output.stdout);
        assert!(stdout.contains("invalid partial manifest"), "{stdout}");
        assert!(stdout.contains(expected), "{content}: {stdout}");
    }
}

#[test]
fn audit_list_has_a_header_row() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    tollgate(&log)
        .args(["eval", "--now", NOW])
        .arg(example("self-approval-denied.yaml"))
        .output()
        .unwrap();
    let output = tollgate(&log).args(["audit", "list"]).output().unwrap();
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        ["SEQ", "RECORDED", "KIND", "ID", "CHANGE", "RESULT", "ACTOR"]
    );
    assert_eq!(
        lines[0].find("KIND"),
        lines[1].find("decision"),
        "columns line up: {stdout}"
    );
}

#[test]
fn report_locations_are_relative_and_messages_are_sentences() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let root = repository().canonicalize().unwrap();
    let manifest = root.join("examples/manifests/self-approval-denied.yaml");
    let run = |format: &str| -> Output {
        tollgate(&log)
            .current_dir(&root)
            .args(["eval", "--now", NOW, "--format", format])
            .arg(&manifest)
            .output()
            .unwrap()
    };
    let sarif: Value = serde_json::from_slice(&run("sarif").stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(
            artifact["uri"], "examples/manifests/self-approval-denied.yaml",
            "{artifact}"
        );
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
        let message = result["message"]["text"].as_str().unwrap();
        if let Some((before, _)) = message.split_once(" Remediation: ") {
            assert!(before.ends_with(['.', '!', '?', ':']), "{message}");
        }
    }
    assert!(sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"].is_object());

    let gitlab: Value = serde_json::from_slice(&run("gitlab").stdout).unwrap();
    for issue in gitlab.as_array().unwrap() {
        assert_eq!(
            issue["location"]["path"],
            "examples/manifests/self-approval-denied.yaml"
        );
        let description = issue["description"].as_str().unwrap();
        assert!(!description.contains(&root.display().to_string()));
        if let Some((before, _)) = description.split_once(" Remediation: ") {
            assert!(before.ends_with(['.', '!', '?', ':']), "{description}");
        }
    }

    let github = text(&run("github").stdout);
    let error = github.lines().find(|l| l.starts_with("::error")).unwrap();
    assert!(
        error.contains("file=examples/manifests/self-approval-denied.yaml"),
        "{error}"
    );
    let message = error.rsplit_once("::").unwrap().1;
    for part in message.split("%0A") {
        assert!(part.ends_with(['.', '!', '?', ':']), "{part} in {message}");
    }
}

#[test]
fn tollgate_test_descends_into_subdirectories() {
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("audit.log");
    let output = tollgate(&log)
        .arg("test")
        .arg(repository().join("policies"))
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    for policy in ["sox", "hipaa", "pci", "fda"] {
        assert!(
            stdout.contains(&format!("policies/{policy}/tests/cases/")),
            "{policy}: {stdout}"
        );
        assert!(stdout.contains(&format!("`{policy}` sha256:")), "{stdout}");
    }
    let cases = walk_yaml(&repository().join("policies"));
    assert!(
        stdout.contains(&format!("{cases} tests, {cases} passed, 0 failed")),
        "{cases}: {stdout}"
    );
}

fn walk_yaml(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            if path.is_dir() {
                walk_yaml(&path)
            } else {
                usize::from(path.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            }
        })
        .sum()
}
