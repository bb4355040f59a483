//! Seed corpora from the golden cases, the examples and the report fixtures; the crashes kept as
//! regression inputs (`fuzz/regressions/TARGET/`); the checkpointed seed decision log.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Value, json};
use tollgate_decision_log::{Checkpoint, Record};
use tollgate_manifest::Format;

/// The manifest every harness that needs a valid one uses.
pub(crate) const EXAMPLE_MANIFEST: &str =
    include_str!("../../../examples/manifests/business-logic-needs-tech-lead.yaml");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(root().join(path)).unwrap_or_default()
}

fn files(dir: &str, extensions: &[&str]) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e))
        })
        .collect();
    found.sort();
    found
}

/// Every golden case file of every policy, as JSON values (`manifest`, `settings`, ...).
fn golden_cases() -> Vec<Value> {
    [
        "policies/sox",
        "policies/hipaa",
        "policies/pci",
        "policies/fda",
    ]
    .iter()
    .flat_map(|p| files(&format!("{p}/tests/cases"), &["yaml", "yml"]))
    .filter_map(|path| std::fs::read_to_string(path).ok())
    .filter_map(|text| tollgate_manifest::decode::<Value>(&text, Format::Yaml).ok())
    .collect()
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The seed corpus of a target.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let examples = || {
        files("examples/manifests", &["yaml", "json"])
            .into_iter()
            .filter(|p| !p.ends_with("expected.yaml"))
            .filter_map(|p| std::fs::read(p).ok())
            .collect::<Vec<_>>()
    };
    let mut seeds: Vec<Vec<u8>> = match target {
        "manifest" | "gateway" => {
            let mut seeds = examples();
            seeds.extend(
                golden_cases()
                    .iter()
                    .filter_map(|case| case.get("manifest"))
                    .map(json_bytes),
            );
            seeds
        }
        "waivers" => vec![
            read("examples/ci/compliance/waivers.yaml"),
            WAIVERS.as_bytes().to_vec(),
            json_bytes(&json!({"version": 1, "waivers": [{"id": "W", "control": "SOX-CC-05",
                "justification": "j", "ticket": "T", "approved_by": "dave",
                "approved_on": "2026-05-01", "expires": "2026-06-30"}]})),
        ],
        "settings" => {
            let mut seeds = vec![
                read("examples/ci/compliance/settings.yaml"),
                b"defaults:\n  waivers: { non_waivable: [sod-*] }\n  identities: { bob: bob@bank.example }\n".to_vec(),
            ];
            seeds.extend(
                golden_cases()
                    .iter()
                    .filter_map(|case| case.get("settings"))
                    .map(|s| json_bytes(&json!({ "sox": s, "hipaa": s, "pci": s, "fda": s }))),
            );
            seeds
        }
        "ticket" => vec![
            read("examples/ci/compliance/change-ticket.json"),
            b"id: CHG-1\nstatus: approved\napprovals:\n  - { by: bob, role: TECHNICAL_LEAD, at: 2026-05-20T09:00:00Z }\n".to_vec(),
        ],
        "junit" => vec![read("crates/report-formats/tests/golden/report.junit.xml"), JUNIT.as_bytes().to_vec()],
        "sarif" => vec![read("crates/report-formats/tests/golden/report.sarif")],
        "audit_log" => vec![seed_log().to_vec()],
        "policy" => golden_cases()
            .iter()
            .map(|case| {
                json_bytes(&json!({
                    "manifest": case.get("manifest"),
                    "settings": case.get("settings"),
                }))
            })
            .collect(),
        _ => Vec::new(),
    };
    seeds.retain(|s| !s.is_empty());
    seeds
}

/// The crashes the fuzzers found, kept as regression inputs: `fuzz/regressions/TARGET/*`.
pub fn regressions(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut found: Vec<(String, Vec<u8>)> =
        std::fs::read_dir(root().join("fuzz/regressions").join(target))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                std::fs::read(e.path()).ok().map(|bytes| (name, bytes))
            })
            .filter(|(name, _)| !name.starts_with('.'))
            .collect();
    found.sort();
    found
}

const WAIVERS: &str = "version: 1
waivers:
  - id: WVR-1
    rule: sod-self-approval
    justification: self-approval is never waivable
    ticket: CHG-1
    approved_by: dave
    expires: 2026-12-31
  - id: WVR-2
    control: SOX-CC-05
    scope: { framework: sox, environment: production }
    justification: by the deployer
    ticket: CHG-2
    approved_by: carol
    expires: 2026-12-31
  - id: WVR-3
    rule: required-tests-missing
    justification: sandbox
    ticket: CHG-3
    approved_by: dave
    expires: 2026-12-31
";

const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="unit" tests="2" failures="1" errors="0" skipped="0">
    <testcase name="a" classname="x"/>
    <testcase name="b" classname="x"><failure message="boom">trace</failure></testcase>
  </testsuite>
  <testsuite name="integration" tests="1"><testcase name="c"><skipped/></testcase></testsuite>
</testsuites>
"#;

/// A small decision log: three marks appended through the real log, as bytes.
fn seed_log() -> &'static [u8] {
    static LOG: OnceLock<Vec<u8>> = OnceLock::new();
    LOG.get_or_init(|| {
        let Ok(dir) = tempfile::tempdir() else {
            return Vec::new();
        };
        let log = tollgate_decision_log::AuditLog::new(dir.path().join("audit.log"));
        for (n, status) in ["deployed", "failed", "rolled_back"]
            .into_iter()
            .enumerate()
        {
            let record: Result<Record, _> = serde_json::from_value(json!({
                "type": "mark",
                "id": format!("mark-{n}"),
                "recorded_at": "2026-05-21T00:00:00Z",
                "origin": {"actor": "ci-bot", "actor_source": "TOLLGATE_ACTOR", "ci": "local",
                           "host": "fuzz", "pid": 1},
                "decision_id": "d-1",
                "change_id": "CHG-1",
                "status": status,
            }));
            if let Ok(record) = record {
                let _ = log.append(&record);
            }
        }
        std::fs::read(dir.path().join("audit.log")).unwrap_or_default()
    })
}

/// A checkpoint of the seed log and its records.
pub(crate) fn seed_log_checkpoint() -> &'static (Checkpoint, Vec<Record>) {
    static CHECKPOINT: OnceLock<(Checkpoint, Vec<Record>)> = OnceLock::new();
    CHECKPOINT.get_or_init(|| {
        let lines = tollgate_decision_log::log::split_lines(seed_log());
        let verification = tollgate_decision_log::verify(&lines, None);
        let records: Vec<Record> = verification
            .records
            .iter()
            .map(|r| r.record.clone())
            .collect();
        let checkpoint = Checkpoint {
            origin: "fuzz".into(),
            size: verification.size(),
            root: verification.root,
        };
        (checkpoint, records)
    })
}
