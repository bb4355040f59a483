//! `tollgate replay` through the built binary: the changes it reports are exactly those a direct
//! re-evaluation (`tollgate eval --dry-run` of the same manifests at the same time with the same
//! settings) gives, in both directions; a tampered log is refused with exit 6; nothing is ever
//! written (file bytes, mtimes and the directory; PostgreSQL's row count); every format renders.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tollgate_test_support::postgres::{Database, Server};

use crate::common::shared_cache_dir;

const NOW: &str = "2026-06-01T00:00:00Z";

/// Risk thresholds so low that every scored change is high risk (needs the high-risk suites).
const TIGHT: &str = "sox:\n  risk:\n    medium_threshold: 0.5\n    high_threshold: 1\n";

fn tollgate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env_remove("TOLLGATE_AUDIT_LOG")
        .env_remove("TOLLGATE_WRITER_KEY")
        .env("NO_COLOR", "1");
    command
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/manifests")
}

fn run(command: &mut Command) -> Output {
    command.output().expect("run tollgate")
}

/// Decides every example manifest (approved, needs approval and denied; two decisions of one
/// change) into `log`, with `settings` when given.
fn record(dir: &Path, log: &str, settings: Option<&Path>) {
    let mut eval = tollgate();
    eval.current_dir(dir)
        .args(["eval", "--now", NOW, "--quiet", "--audit-log", log]);
    if let Some(settings) = settings {
        eval.arg("--settings").arg(settings);
    }
    let output = run(eval.arg(examples()));
    assert!(
        matches!(output.status.code(), Some(3 | 4)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn settings_file(dir: &Path) -> PathBuf {
    let path = dir.join("tight.yaml");
    std::fs::write(&path, TIGHT).unwrap();
    path
}

/// `tollgate replay --format json`, its exit code and document.
fn replay(dir: &Path, log: &str, args: &[&str]) -> (Option<i32>, Value) {
    let output = run(tollgate()
        .current_dir(dir)
        .args(["replay", "--log", log, "--format", "json"])
        .args(args));
    let document = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), document)
}

/// (policy, control, rule) of every finding of some decisions, sorted.
fn finding_keys(decisions: &[Value]) -> Vec<(String, String, String)> {
    let mut keys: Vec<_> = decisions
        .iter()
        .flat_map(|d| {
            let policy = d["policy_id"].as_str().unwrap().to_owned();
            d["findings"].as_array().unwrap().iter().map(move |f| {
                (
                    policy.clone(),
                    f["control_id"].as_str().unwrap().to_owned(),
                    f["rule_id"].as_str().unwrap().to_owned(),
                )
            })
        })
        .collect();
    keys.sort();
    keys
}

/// The multiset difference `a - b`, sorted.
fn minus(
    a: &[(String, String, String)],
    b: &[(String, String, String)],
) -> Vec<(String, String, String)> {
    let mut rest = b.to_vec();
    let mut out = Vec::new();
    for key in a {
        if let Some(i) = rest.iter().position(|k| k == key) {
            rest.remove(i);
        } else {
            out.push(key.clone());
        }
    }
    out
}

fn rank(outcome: &str) -> u8 {
    match outcome {
        "approved" => 0,
        "needs_approval" => 1,
        "denied" => 2,
        "error" => 3,
        other => panic!("unknown outcome {other}"),
    }
}

/// The recorded decision records of a file log, by decision id.
fn recorded(log: &Path) -> BTreeMap<String, Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["record"].clone())
        .filter(|r| r["type"] == "decision")
        .map(|r| (r["id"].as_str().unwrap().to_owned(), r))
        .collect()
}

/// Replays every decision of a log recorded with `recorded_with` under `replayed_with`, and checks
/// each against `tollgate eval --dry-run` of the same manifest at the same time with the same
/// settings. Returns the replay's summary.
fn replay_matches_direct_evaluation(
    recorded_with: Option<&Path>,
    replayed_with: Option<&Path>,
) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    record(dir.path(), log.to_str().unwrap(), recorded_with);
    let records = recorded(&log);
    let outcomes: Vec<&str> = records
        .values()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    for outcome in ["approved", "needs_approval", "denied"] {
        assert!(outcomes.contains(&outcome), "a mixed log: {outcomes:?}");
    }

    let mut args = vec!["--all-decisions".to_owned()];
    if let Some(settings) = replayed_with {
        args.extend(["--settings".to_owned(), settings.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_, replayed) = replay(dir.path(), log.to_str().unwrap(), &args);
    let entries = replayed["decisions"].as_array().unwrap();
    assert_eq!(entries.len(), records.len(), "every decision replayed");

    for entry in entries {
        let id = entry["decision_id"].as_str().unwrap();
        let before = &records[id];
        let mut eval = tollgate();
        eval.current_dir(dir.path()).args([
            "eval",
            "--dry-run",
            "--format",
            "json",
            "--now",
            before["evaluated_at"].as_str().unwrap(),
        ]);
        if let Some(settings) = replayed_with {
            eval.arg("--settings").arg(settings);
        }
        let direct = run(eval.arg(entry["manifest_path"].as_str().unwrap()));
        let direct: Value = serde_json::from_slice(&direct.stdout).unwrap();
        let new_outcome = if direct["failures"].as_array().unwrap().is_empty() {
            direct["outcome"].as_str().unwrap()
        } else {
            "error"
        };
        let old_outcome = before["outcome"].as_str().unwrap();
        assert_eq!(entry["recorded"], old_outcome, "{id}");
        assert_eq!(entry["new"], new_outcome, "{id}: {entry:#}");
        let class = match rank(new_outcome).cmp(&rank(old_outcome)) {
            std::cmp::Ordering::Greater => "stricter",
            std::cmp::Ordering::Less => "looser",
            std::cmp::Ordering::Equal => "unchanged",
        };
        assert_eq!(entry["class"], class, "{id}");

        let direct_decisions: Vec<Value> = direct["policies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["decision"].clone())
            .collect();
        let after = finding_keys(&direct_decisions);
        let was = finding_keys(before["decisions"].as_array().unwrap());
        let keys = |list: &Value| {
            let mut keys: Vec<(String, String, String)> = list
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["policy"].as_str().unwrap().to_owned(),
                        f["control"].as_str().unwrap().to_owned(),
                        f["rule"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(&entry["findings_added"]), minus(&after, &was), "{id}");
        assert_eq!(
            keys(&entry["findings_removed"]),
            minus(&was, &after),
            "{id}"
        );
    }
    replayed["summary"].clone()
}

#[test]
fn tighter_settings_report_exactly_what_a_direct_re_evaluation_gives() {
    let dir = tempfile::tempdir().unwrap();
    let tight = settings_file(dir.path());
    let summary = replay_matches_direct_evaluation(None, Some(&tight));
    assert!(summary["stricter"].as_u64().unwrap() >= 2, "{summary:#}");
    assert_eq!(summary["looser"], 0);
    assert!(summary["unchanged"].as_u64().unwrap() >= 1);
    assert_eq!(summary["not_replayed"], 0);
}

#[test]
fn looser_settings_report_exactly_what_a_direct_re_evaluation_gives() {
    let dir = tempfile::tempdir().unwrap();
    let tight = settings_file(dir.path());
    let summary = replay_matches_direct_evaluation(Some(&tight), None);
    assert!(summary["looser"].as_u64().unwrap() >= 2, "{summary:#}");
    assert_eq!(summary["stricter"], 0);
}

#[test]
fn exit_codes_say_whether_an_outcome_changed_and_which_way() {
    let dir = tempfile::tempdir().unwrap();
    let tight = settings_file(dir.path());
    let log = dir.path().join("audit.log");
    let log = log.to_str().unwrap();
    record(dir.path(), log, None);
    let tight = tight.to_str().unwrap();
    let (code, same) = replay(dir.path(), log, &[]);
    assert_eq!(
        code,
        Some(0),
        "the recorded settings change nothing: {same:#}"
    );
    assert_eq!(same["summary"]["unchanged"], same["summary"]["decisions"]);
    assert_eq!(
        same["summary"]["decisions"], same["summary"]["changes"],
        "latest per change"
    );
    let (code, _) = replay(dir.path(), log, &["--settings", tight]);
    assert_eq!(code, Some(4), "stricter is a change");
    let (code, _) = replay(
        dir.path(),
        log,
        &["--settings", tight, "--fail-on", "looser"],
    );
    assert_eq!(
        code,
        Some(0),
        "only stricter: acceptable with --fail-on looser"
    );

    let other = tempfile::tempdir().unwrap();
    let strict_log = other.path().join("audit.log");
    let strict_log = strict_log.to_str().unwrap();
    record(other.path(), strict_log, Some(Path::new(tight)));
    let (code, _) = replay(other.path(), strict_log, &["--fail-on", "looser"]);
    assert_eq!(code, Some(4), "looser fails --fail-on looser");

    let output = run(tollgate().current_dir(dir.path()).args([
        "replay",
        "--log",
        log,
        "--decision",
        "no-such-decision",
    ]));
    assert_eq!(output.status.code(), Some(2));
    let output = run(tollgate().current_dir(dir.path()).args([
        "replay",
        "--log",
        log,
        "--policy",
        "no-such-pack",
    ]));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn selection_by_change_decision_and_period() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let log = log.to_str().unwrap();
    record(dir.path(), log, None);
    let (_, all) = replay(dir.path(), log, &["--all-decisions"]);
    let (_, latest) = replay(dir.path(), log, &[]);
    let all = all["decisions"].as_array().unwrap().clone();
    let latest = latest["decisions"].as_array().unwrap().clone();
    assert_eq!(all.len(), latest.len() + 1, "one change was decided twice");
    let twice = all
        .iter()
        .find(|e| {
            all.iter()
                .filter(|o| o["change_id"] == e["change_id"])
                .count()
                == 2
        })
        .unwrap();
    let change = twice["change_id"].as_str().unwrap();
    let (_, of_change) = replay(dir.path(), log, &["--change", change]);
    let of_change = of_change["decisions"].as_array().unwrap().clone();
    assert_eq!(of_change.len(), 1);
    assert_ne!(
        of_change[0]["decision_id"], twice["decision_id"],
        "its latest decision"
    );
    let id = twice["decision_id"].as_str().unwrap();
    let (_, by_id) = replay(dir.path(), log, &["--decision", id]);
    assert_eq!(by_id["decisions"][0]["decision_id"], id);
    let (code, none) = replay(dir.path(), log, &["--from", "2999-01-01"]);
    assert_eq!(code, Some(0));
    assert_eq!(
        none["summary"]["decisions"], 0,
        "nothing recorded in that period"
    );
    let (_, today) = replay(dir.path(), log, &["--to", "2999-01-01"]);
    assert_eq!(today["summary"]["decisions"], latest.len());
}

/// Every file under `dir` with its length, modification time and bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime, Vec<u8>)> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                files.insert(
                    entry.path(),
                    (
                        meta.len(),
                        meta.modified().unwrap(),
                        std::fs::read(entry.path()).unwrap(),
                    ),
                );
            }
        }
    }
    files
}

#[test]
fn a_replay_writes_nothing_and_every_format_renders() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join(".tollgate")).unwrap();
    let tight = settings_file(dir.path());
    record(&project, ".tollgate/audit.log", None);
    let before = snapshot(&project);
    assert!(before.keys().any(|p| p.ends_with("audit.log")));
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for format in ["text", "json", "markdown", "html"] {
        let file = out.join(format!("replay.{format}"));
        let output = run(tollgate().current_dir(&project).args([
            "replay",
            "--settings",
            tight.to_str().unwrap(),
            "--format",
            format,
            "--output",
            file.to_str().unwrap(),
        ]));
        assert_eq!(
            output.status.code(),
            Some(4),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = std::fs::read_to_string(&file).unwrap();
        match format {
            "text" => assert!(
                text.contains("stricter") && text.contains("Summary:"),
                "{text}"
            ),
            "json" => {
                let json: Value = serde_json::from_str(&text).unwrap();
                assert!(json["summary"]["stricter"].as_u64().unwrap() > 0);
            }
            "markdown" => assert!(text.contains("| change | record |"), "{text}"),
            _ => {
                assert!(text.starts_with("<!DOCTYPE html>"), "{text}");
                assert!(text.contains("Content-Security-Policy"));
                assert!(!text.contains("<script"), "no script");
                assert!(
                    !text.contains("http://") && !text.contains("https://"),
                    "no external resource"
                );
            }
        }
    }
    assert_eq!(
        snapshot(&project),
        before,
        "the project's log and its files are unchanged"
    );
}

#[test]
fn a_tampered_log_is_refused_with_exit_6() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    record(dir.path(), log.to_str().unwrap(), None);
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("\"denied\"", "\"approved\"", 1)).unwrap();
    let output =
        run(tollgate()
            .current_dir(dir.path())
            .args(["replay", "--log", log.to_str().unwrap()]));
    assert_eq!(output.status.code(), Some(6));
    assert!(
        output.stdout.is_empty(),
        "no replay of a log that does not verify"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("fails verification"), "{stderr}");
    let missing = run(tollgate()
        .current_dir(dir.path())
        .args(["replay", "--log", "missing.log"]));
    assert_eq!(missing.status.code(), Some(6));
}

#[test]
fn a_replay_of_a_postgres_log_gives_the_file_logs_answer_and_inserts_no_row() {
    let server = Server::shared_or_private();
    let database = Database::create(&server);
    let url = database.url();
    let dir = tempfile::tempdir().unwrap();
    let tight = settings_file(dir.path());
    let file = dir.path().join("audit.log");
    let file = file.to_str().unwrap();
    record(dir.path(), file, None);
    let export = run(tollgate().current_dir(dir.path()).args([
        "audit",
        "--audit-log",
        file,
        "export",
        "--to",
        &url,
    ]));
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let rows = database.sql("SELECT count(*) FROM tollgate_recorder");
    let tight = tight.to_str().unwrap();
    let (code, in_database) = replay(dir.path(), &url, &["--settings", tight]);
    assert_eq!(code, Some(4));
    let (_, in_file) = replay(dir.path(), file, &["--settings", tight]);
    assert_eq!(in_database["summary"], in_file["summary"]);
    assert_eq!(in_database["log"]["root"], in_file["log"]["root"]);
    assert_eq!(
        database.sql("SELECT count(*) FROM tollgate_recorder"),
        rows,
        "nothing inserted"
    );
}

/// The binary a measurement times: `$TOLLGATE_REPLAY_BIN`, else the release build when there is
/// one, else this test's build.
fn measured_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("TOLLGATE_REPLAY_BIN") {
        return PathBuf::from(bin);
    }
    let release = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/tollgate");
    if release.is_file() {
        release
    } else {
        PathBuf::from(env!("CARGO_BIN_EXE_tollgate"))
    }
}

#[test]
#[ignore = "a measurement, not a test: `cargo build --release -p tollgate`, then `cargo test -p \
            tollgate --test all replay::ten_thousand -- --ignored --nocapture` prints the time \
            ($TOLLGATE_REPLAY_KEEP=FILE keeps the log)"]
fn ten_thousand_logged_decisions_replay() {
    use tollgate_decision_log::{AuditLog, Record};
    const DECISIONS: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.log");
    record(dir.path(), seed.to_str().unwrap(), None);
    let seeds: Vec<Record> = AuditLog::new(&seed)
        .verify(None)
        .unwrap()
        .records
        .into_iter()
        .map(|r| r.record)
        .filter(|r| matches!(r, Record::Decision(_)))
        .collect();
    // The example decisions again and again, each as a change of its own, appended through the
    // library in batches (one fdatasync each).
    let log = dir.path().join("audit.log");
    let big = AuditLog::new(&log);
    let started = std::time::Instant::now();
    let mut batch = Vec::new();
    for n in 0..DECISIONS {
        let Record::Decision(mut decision) = seeds[n % seeds.len()].clone() else {
            unreachable!("decisions only")
        };
        decision.id = tollgate_decision_log::new_id();
        decision.change.id = format!("CHG-{n:05}");
        decision.manifest.masked["change"]["id"] = Value::from(decision.change.id.clone());
        batch.push(Record::Decision(decision));
        if batch.len() == 500 {
            big.append_all(&batch).unwrap();
            batch.clear();
        }
    }
    big.append_all(&batch).unwrap();
    let written = started.elapsed();
    if let Some(keep) = std::env::var_os("TOLLGATE_REPLAY_KEEP") {
        std::fs::copy(&log, keep).unwrap();
    }
    let bytes = std::fs::metadata(&log).unwrap().len();

    let binary = measured_binary();
    let out = dir.path().join("replay.json");
    let tight = settings_file(dir.path());
    let started = std::time::Instant::now();
    let output = Command::new(&binary)
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .current_dir(dir.path())
        .args([
            "replay",
            "--log",
            log.to_str().unwrap(),
            "--format",
            "json",
            "--output",
        ])
        .arg(&out)
        .arg("--settings")
        .arg(&tight)
        .output()
        .unwrap();
    let replayed = started.elapsed();
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(report["summary"]["decisions"], DECISIONS);
    assert_eq!(report["summary"]["not_replayed"], 0);
    println!(
        "replay: {DECISIONS} logged decisions ({:.1} MB, written in {:.1} s) replayed by `{}` in {:.2} s ({})",
        bytes as f64 / 1e6,
        written.as_secs_f64(),
        binary.display(),
        replayed.as_secs_f64(),
        report["summary"]
    );
}
