//! Helpers shared by the integration tests.

use tollgate_decision_log::Record;

/// A small record whose note carries `tag` and `padding` bytes.
pub fn mark(tag: &str, padding: usize) -> Record {
    tollgate_test_support::records::mark(tag, Some("x".repeat(padding)))
}
