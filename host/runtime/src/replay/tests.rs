//! Unit tests of the replay: selection, comparison, counts, rendering, and a replay through the
//! built-in packs of records written by the real recorder that leaves the log's bytes unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::path::{Path, PathBuf};

use tollgate_decision_log::{Project, RecordedOutcome, Verification};
use tollgate_engine::{Limits, PolicyEngine};
use tollgate_manifest::{Format, Timestamp};
use tollgate_pipeline::{Gate, PipelineOptions};

use super::*;

const NOW: &str = "2026-06-01T00:00:00Z";

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/manifests")
        .join(name)
}

fn engine() -> PolicyEngine {
    PolicyEngine::new(Limits::default(), None).unwrap()
}

fn pipeline(engine: &PolicyEngine, settings: Option<&str>) -> Pipeline {
    let settings = settings
        .map(|text| tollgate_pipeline::parse_settings(text, "settings", Format::Yaml).unwrap());
    crate::load_pipeline(
        engine,
        crate::policy_sources(&[]).unwrap(),
        PipelineOptions {
            settings,
            ..PipelineOptions::default()
        },
        &crate::Trust::default(),
    )
    .unwrap()
}

/// Risk thresholds so low that every scored change is high risk.
const TIGHT: &str = "sox:\n  risk:\n    medium_threshold: 0.5\n    high_threshold: 1\n";

/// A log of the example manifests decided with default settings by the real recorder.
fn recorded_log(dir: &Path, engine: &PolicyEngine, manifests: &[&str]) -> Project {
    let log = dir.join("audit.log");
    let project = Project::discover(dir, Some(&log)).unwrap();
    let recorder = tollgate_recorder::LogRecorder::new(project.clone(), &[], None).unwrap();
    let gate = Gate::new(pipeline(engine, None), recorder);
    let now = Timestamp::parse(NOW).unwrap();
    for name in manifests {
        let path = example(name).display().to_string();
        let decided = gate.decide(crate::submission(&path, now).unwrap()).unwrap();
        assert!(decided.record_id().is_some());
    }
    project
}

fn verified(project: &Project) -> Verification {
    read_replayable(project).unwrap()
}

const MIXED: [&str; 5] = [
    "low-risk-config-auto-approved.yaml",
    "business-logic-needs-tech-lead.yaml",
    "emergency-change-retrospective.yaml",
    "self-approval-denied.yaml",
    "business-logic-needs-tech-lead.json",
];

#[test]
fn tighter_settings_make_outcomes_stricter_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine();
    let project = recorded_log(dir.path(), &engine, &MIXED);
    let before = std::fs::read(&project.log).unwrap();
    let verification = verified(&project);
    let selected = select(&verification, &Selection::default(), "log").unwrap();
    assert_eq!(
        selected.len(),
        4,
        "the latest decision of each of the four changes"
    );
    assert_eq!(
        selected.last().unwrap().record.manifest.path,
        example("business-logic-needs-tech-lead.json")
            .display()
            .to_string(),
        "the later of the two decisions of one change"
    );

    let same = Replayer::new(pipeline(&engine, None))
        .unwrap()
        .replay(&selected);
    assert!(
        same.iter()
            .all(|e| e.class == Classification::Unchanged && !e.findings_changed()),
        "the recorded settings decide as recorded: {same:#?}"
    );

    let replayer = Replayer::new(pipeline(&engine, Some(TIGHT))).unwrap();
    let tight = replayer.replay(&selected);
    let outcomes: Vec<(RecordedOutcome, Option<RecordedOutcome>, Classification)> =
        tight.iter().map(|e| (e.recorded, e.new, e.class)).collect();
    use RecordedOutcome::*;
    assert_eq!(
        outcomes,
        [
            (Approved, Some(Approved), Classification::Unchanged),
            (Approved, Some(Denied), Classification::Stricter),
            (Denied, Some(Denied), Classification::Unchanged),
            (NeedsApproval, Some(Denied), Classification::Stricter),
        ]
    );
    assert!(tight[1].findings_added.iter().all(|f| f.policy == "sox"));
    assert!(!tight[1].findings_added.is_empty());
    let summary = Summary::of(&tight);
    assert_eq!(
        (summary.stricter, summary.looser, summary.unchanged),
        (2, 0, 2)
    );
    assert_eq!(summary.transitions.get("approved -> denied"), Some(&1));
    assert_eq!(
        std::fs::read(&project.log).unwrap(),
        before,
        "the log is unchanged"
    );
    assert_eq!(verified(&project).size(), verification.size());
}

#[test]
fn selection_by_period_change_and_decision() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine();
    let project = recorded_log(dir.path(), &engine, &MIXED);
    let verification = verified(&project);
    let all = select(
        &verification,
        &Selection {
            all_decisions: true,
            ..Selection::default()
        },
        "log",
    )
    .unwrap();
    assert_eq!(all.len(), 5);
    let change = all[1].record.change.id.clone();
    let of_change = select(
        &verification,
        &Selection {
            changes: vec![change.clone()],
            all_decisions: true,
            ..Selection::default()
        },
        "log",
    )
    .unwrap();
    assert_eq!(of_change.len(), 2);
    let by_id = select(
        &verification,
        &Selection {
            decisions: vec![all[0].record.id.clone()],
            ..Selection::default()
        },
        "log",
    )
    .unwrap();
    assert_eq!(by_id.len(), 1);
    assert!(matches!(
        select(
            &verification,
            &Selection {
                decisions: vec!["nope".into()],
                ..Selection::default()
            },
            "log"
        ),
        Err(ReplayError::UnknownDecision { .. })
    ));
    let later = Timestamp {
        seconds: all[4].record.recorded_at.seconds + 1,
        nanoseconds: 0,
    };
    let none = select(
        &verification,
        &Selection {
            from: Some(later),
            ..Selection::default()
        },
        "log",
    )
    .unwrap();
    assert!(none.is_empty(), "nothing recorded after the last record");
    let before = select(
        &verification,
        &Selection {
            to: Some(later),
            ..Selection::default()
        },
        "log",
    )
    .unwrap();
    assert_eq!(before.len(), 4);
}

#[test]
fn a_tampered_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine();
    let project = recorded_log(dir.path(), &engine, &MIXED[..2]);
    let text = std::fs::read_to_string(&project.log).unwrap();
    std::fs::write(&project.log, text.replacen("\"approved\"", "\"denied\"", 1)).unwrap();
    assert!(matches!(
        read_replayable(&project),
        Err(ReplayError::Unverified { .. })
    ));
}

#[test]
fn a_stored_manifest_that_no_longer_parses_is_not_replayed_and_fails_every_gate() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine();
    let project = recorded_log(dir.path(), &engine, &MIXED[..1]);
    let verification = verified(&project);
    let selected = select(&verification, &Selection::default(), "log").unwrap();
    let mut record = selected[0].record.clone();
    record.manifest.masked["change"]["ticket_status"] =
        serde_json::json!(tollgate_decision_log::MASKED);
    record.manifest.masked_paths = vec!["change.ticket_status".into()];
    let replayer = Replayer::new(pipeline(&engine, None)).unwrap();
    let entries = replayer.replay(&[Selected {
        seq: 0,
        record: &record,
    }]);
    assert_eq!(entries[0].class, Classification::NotReplayed);
    assert!(
        entries[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("ticket_status")
    );
    let report = ReplayReport::new(
        LogRead::of(&project, &verification),
        &replayer,
        Selection::default(),
        &crate::OptionFiles::default(),
        entries,
    );
    assert_eq!(report.summary.with_masked_fields, 1);
    assert!(report.fails(FailOn::Looser) && report.fails(FailOn::Any));
    assert!(text(&report).contains("masked fields"));
}

#[test]
fn classification_orders_outcomes_and_counts_findings_as_multisets() {
    use RecordedOutcome::*;
    assert_eq!(
        Classification::of(Approved, Some(Error)),
        Classification::Stricter
    );
    assert_eq!(
        Classification::of(Error, Some(Denied)),
        Classification::Looser
    );
    assert_eq!(
        Classification::of(NeedsApproval, Some(NeedsApproval)),
        Classification::Unchanged
    );
    assert_eq!(
        Classification::of(Denied, None),
        Classification::NotReplayed
    );

    let finding = |rule: &str, message: &str| Finding {
        rule_id: rule.into(),
        control_id: "C-1".into(),
        references: Vec::new(),
        severity: tollgate_decision::Severity::High,
        message: message.into(),
        remediation: String::new(),
        field_path: String::new(),
    };
    let decision = |findings: Vec<Finding>| Decision {
        policy_id: "p".into(),
        framework: "P".into(),
        applicable: true,
        outcome: tollgate_decision::Outcome::Denied,
        risk: None,
        routing: None,
        findings,
        controls: Vec::new(),
        obligations: Vec::new(),
        summary: String::new(),
    };
    let before = [decision(vec![finding("a", "1"), finding("b", "1")])];
    let after = [decision(vec![finding("a", "1"), finding("a", "2")])];
    let added = difference(&findings(&after), &findings(&before));
    let removed = difference(&findings(&before), &findings(&after));
    assert_eq!(added.len(), 1);
    assert_eq!(
        (added[0].rule.as_str(), added[0].message.as_str()),
        ("a", "2")
    );
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].rule, "b");
}

#[test]
fn every_format_renders_and_html_escapes_what_it_quotes() {
    let entry = Replayed {
        seq: 7,
        decision_id: "d-1".into(),
        change_id: "CHG-<script>alert(1)</script>".into(),
        environment: "production".into(),
        manifest_path: "change.yaml".into(),
        recorded_at: Timestamp::parse(NOW).unwrap(),
        evaluated_at: Timestamp::parse(NOW).unwrap(),
        recorded: RecordedOutcome::Approved,
        new: Some(RecordedOutcome::Denied),
        class: Classification::Stricter,
        findings_added: vec![FindingChange {
            policy: "sox".into(),
            control: "SOX-CC-05".into(),
            rule: "tests-failed".into(),
            severity: "high".into(),
            message: "suite `e2e` | failed <b>".into(),
        }],
        findings_removed: Vec::new(),
        recorded_failures: Vec::new(),
        failures: Vec::new(),
        reason: None,
        masked_paths: Vec::new(),
    };
    let report = ReplayReport {
        log: LogRead {
            location: "audit.log".into(),
            records: 1,
            root: "ab".into(),
        },
        policies: Vec::new(),
        settings_file: Some("tight.yaml".into()),
        waivers_file: None,
        selection: Selection::default(),
        summary: Summary::of(std::slice::from_ref(&entry)),
        decisions: vec![entry],
    };
    let page = html(&report);
    assert!(!page.contains("<script>"), "{page}");
    assert!(page.contains("CHG-&lt;script&gt;"));
    assert!(page.contains("Content-Security-Policy"));
    let md = markdown(&report);
    assert!(
        md.contains("\\| failed") || !md.contains("| failed <b>"),
        "{md}"
    );
    assert!(md.contains("approved | denied | stricter"), "{md}");
    let plain = text(&report);
    assert!(plain.contains("approved -> denied, stricter"), "{plain}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(json["summary"]["stricter"], 1);
    assert_eq!(json["decisions"][0]["new"], "denied");
    assert!(report.fails(FailOn::Any) && !report.fails(FailOn::Looser));
}
