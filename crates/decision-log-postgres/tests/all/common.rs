//! What the PostgreSQL log's tests share.

use tollgate_decision_log::Record;

/// A deployment mark of change `CHG-1` whose id is `tag`.
pub fn mark(tag: &str) -> Record {
    tollgate_test_support::records::mark(tag, None)
}
