//! Attempts rejected before any decision are records like any other: masked, chained, verified.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use tollgate_decision_log::{
    Attempt, AuditLog, Masking, Origin, Record, RejectedInput, RejectedRecord, sha256_digest,
};
use tollgate_manifest::Timestamp;

fn origin() -> Origin {
    Origin {
        actor: "mallory".into(),
        actor_source: "TOLLGATE_ACTOR".into(),
        ci: "local".into(),
        pipeline_id: Some("run-7".into()),
        host: "ci-host".into(),
        pid: 42,
    }
}

const INVALID: &str =
    "version: 1\nchange:\n  id: CHG-9\n  ticket_stauts: approved\n  secret_note: hunter2-token\n";

fn attempt<'a>(text: Option<&'a str>, error: &'a str) -> Attempt<'a> {
    Attempt {
        input: RejectedInput::Manifest,
        refused_path: "change.yaml",
        refused_text: text,
        manifest: None,
        error,
        field: Some("change.ticket_stauts"),
        line: Some(4),
        evaluated_at: Timestamp::parse("2026-05-21T00:00:00Z").unwrap(),
        engine_version: "tollgate test".into(),
        exit_code: 2,
    }
}

#[test]
fn a_rejected_manifest_is_recorded_masked_with_its_digest() {
    let masking = Masking::new(["change.secret_note"]).unwrap();
    let record = RejectedRecord::build(
        attempt(
            Some(INVALID),
            "unknown field `ticket_stauts`; note hunter2-token",
        ),
        origin(),
        &masking,
        "r-1".into(),
        Timestamp::parse("2026-05-21T00:00:01Z").unwrap(),
    )
    .unwrap();
    assert_eq!(
        record.refused.digest,
        Some(sha256_digest(INVALID.as_bytes()))
    );
    assert_eq!(record.change_id.as_deref(), Some("CHG-9"));
    let masked = record.refused.masked.as_ref().unwrap();
    assert_eq!(
        masked["change"]["secret_note"],
        tollgate_decision_log::MASKED
    );
    assert_eq!(record.refused.masked_paths, ["change.secret_note"]);
    assert!(!record.error.contains("hunter2"), "{}", record.error);
    assert_eq!(record.origin.actor, "mallory");
    assert_eq!(record.exit_code, 2);
}

#[test]
fn text_that_is_not_a_document_is_never_stored() {
    let record = RejectedRecord::build(
        attempt(Some("::: {not yaml"), "invalid YAML"),
        origin(),
        &Masking::default(),
        "r-2".into(),
        Timestamp::parse("2026-05-21T00:00:01Z").unwrap(),
    )
    .unwrap();
    assert!(record.refused.masked.is_none());
    assert!(record.refused.digest.is_some());
    assert_eq!(record.refused.bytes, Some(13));
}

#[test]
fn rejected_records_are_chained_verified_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir.path().join("audit.log"));
    log.append(&crate::common::mark("first", 4)).unwrap();
    let record = RejectedRecord::build(
        attempt(Some(INVALID), "unknown field"),
        origin(),
        &Masking::default(),
        "r-3".into(),
        Timestamp::parse("2026-05-21T00:00:01Z").unwrap(),
    )
    .unwrap();
    log.append(&Record::Rejected(Box::new(record.clone())))
        .unwrap();
    let verification = log.verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    assert_eq!(verification.size(), 2);
    let Record::Rejected(read) = &verification.records[1].record else {
        panic!("expected a rejected record");
    };
    assert_eq!(**read, record);
    assert_eq!(verification.records[1].record.kind(), "rejected");
    assert_eq!(verification.records[1].record.to_json()["type"], "rejected");
}
