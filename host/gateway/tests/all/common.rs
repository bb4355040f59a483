//! What the gateway's tests share.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tollgate_pipeline::{Receipt, RecordError, Recorder, Report};

/// Keeps no record but counts and numbers the records it was asked for (`record-1`, ...): an
/// answer still waits for it.
#[derive(Default)]
pub struct Counting(pub Arc<AtomicUsize>);

impl Recorder for Counting {
    fn record(&self, _report: &Report) -> Result<Receipt, RecordError> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Receipt::Recorded {
            id: format!("record-{n}"),
            log: "memory".into(),
            warnings: Vec::new(),
        })
    }
}
