//! Lookups on the PostgreSQL log answer from the indexes of schema version 2, checked as records.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::sync::Arc;

use tollgate_decision_log::{
    AuditLog, ChangeRef, DecisionRecord, Lookup, ManifestRef, MarkRecord, MarkStatus, Origin,
    Record, RecordedOutcome,
};
use tollgate_decision_log_postgres::PostgresLog;
use tollgate_manifest::Timestamp;
use tollgate_test_support::postgres::{Database, Server};

fn origin() -> Origin {
    Origin {
        actor: "tester".into(),
        actor_source: "TOLLGATE_ACTOR".into(),
        ci: "local".into(),
        pipeline_id: None,
        host: "test-host".into(),
        pid: 1,
    }
}

fn decision(id: &str, change: &str, outcome: RecordedOutcome) -> Record {
    let at = Timestamp::parse("2026-05-20T09:00:00Z").unwrap();
    Record::Decision(Box::new(DecisionRecord {
        id: id.to_owned(),
        recorded_at: at,
        evaluated_at: at,
        origin: origin(),
        change: ChangeRef {
            id: change.to_owned(),
            environment: "production".into(),
            commit: None,
            started_at: None,
        },
        manifest: ManifestRef {
            path: "change.yaml".into(),
            digest: format!("sha256:{}", "0".repeat(64)),
            masked: serde_json::json!({}),
            masked_paths: Vec::new(),
        },
        policies: Vec::new(),
        engine_version: "test".into(),
        settings_digest: None,
        policy_set_digest: None,
        outcome,
        risk_class: None,
        required_roles: Vec::new(),
        missing_roles: Vec::new(),
        decisions: Vec::new(),
        failures: Vec::new(),
        waivers: Vec::new(),
        exit_code: 0,
    }))
}

fn direct_mark(change: &str) -> Record {
    Record::Mark(MarkRecord {
        id: format!("mark-{change}"),
        recorded_at: Timestamp::parse("2026-05-20T09:00:00Z").unwrap(),
        origin: origin(),
        decision_id: String::new(),
        change_id: change.to_owned(),
        status: MarkStatus::Deployed,
        at: None,
        note: None,
        direct_production_change: true,
    })
}

#[test]
fn records_are_found_by_id_seq_and_change_and_direct_changes_counted() {
    let server = Server::shared_or_private();
    let database = Database::create(&server);
    let store = PostgresLog::open(&database.url()).unwrap();
    assert_eq!(store.migrate().unwrap(), [1, 2]);
    let log = AuditLog::from_store(Arc::new(store));
    let records: Vec<Record> = (0..40)
        .map(|i| {
            let outcome = if i % 4 == 3 {
                RecordedOutcome::Approved
            } else {
                RecordedOutcome::Denied
            };
            decision(&format!("d{i}"), &format!("CHG-{}", i % 5), outcome)
        })
        .collect();
    log.append_all(&records).unwrap();
    log.append_all(&[direct_mark("X"), direct_mark("Y")])
        .unwrap();

    let found = log.lookup(Lookup::Id("d17")).unwrap().unwrap();
    assert_eq!((found.seq, found.record.id()), (17, "d17"));
    assert_eq!(
        log.lookup(Lookup::Seq(40)).unwrap().unwrap().record.id(),
        "mark-X"
    );
    // CHG-3: decisions 3, 8, 13, ... 38; approved ones are i % 4 == 3: 3, 23.
    let first = log.lookup(Lookup::FirstApproved("CHG-3")).unwrap().unwrap();
    assert_eq!(first.record.id(), "d3");
    let latest = log
        .lookup(Lookup::LatestDecision("CHG-3"))
        .unwrap()
        .unwrap();
    assert_eq!(latest.record.id(), "d38");
    assert!(
        log.lookup(Lookup::FirstApproved("CHG-9"))
            .unwrap()
            .is_none()
    );
    assert!(log.lookup(Lookup::Id("nothing")).unwrap().is_none());
    assert_eq!(log.direct_changes().unwrap(), 2);
    // The leaf matches the one verification computes.
    let verification = log.verify(None).unwrap();
    assert_eq!(verification.records[17].leaf, found.leaf);
}
