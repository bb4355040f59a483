//! Decision-log records for tests.

#![allow(
    clippy::unwrap_used,
    reason = "test support: a fixed timestamp that does not parse must stop the test loudly"
)]

use tollgate_decision_log::{MarkRecord, MarkStatus, Origin, Record};
use tollgate_manifest::Timestamp;

/// A deployment mark of change `CHG-1` whose id is `tag`, recorded by `tester` on `test-host`,
/// with `note`.
pub fn mark(tag: &str, note: Option<String>) -> Record {
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
        note,
        direct_production_change: false,
    })
}
