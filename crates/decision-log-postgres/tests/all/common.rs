//! What the PostgreSQL log's tests share.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use tollgate_decision_log::{MarkRecord, MarkStatus, Origin, Record};
use tollgate_manifest::Timestamp;

/// A deployment mark of change `CHG-1` whose id is `tag`.
pub fn mark(tag: &str) -> Record {
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
        note: None,
        direct_production_change: false,
    })
}
