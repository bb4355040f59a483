//! Helpers shared by the integration tests.

#![allow(dead_code, clippy::unwrap_used, reason = "shared test helpers")]

use tollgate_decision_log::{MarkRecord, MarkStatus, Origin, Record};
use tollgate_manifest::Timestamp;

/// A small record whose note carries `tag` and `padding` bytes.
pub fn mark(tag: &str, padding: usize) -> Record {
    Record::Mark(MarkRecord {
        id: tag.to_owned(),
        recorded_at: Timestamp::parse("2026-05-20T09:00:00Z").unwrap(),
        origin: Origin {
            actor: "tester".into(),
            actor_source: "TOLLGATE_ACTOR".into(),
            ci: "local".into(),
            pipeline_id: None,
            host: "test-host".into(),
            pid: 1,
        },
        decision_id: format!("decision-{tag}"),
        change_id: "CHG-1".into(),
        status: MarkStatus::Deployed,
        at: None,
        note: Some("x".repeat(padding)),
        direct_production_change: false,
    })
}
