//! Deciding an admitted submission: the overload bound, the evaluation slot, the decision on the
//! current policy set (the gate records it durably before it returns), and its metrics.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::http::StatusCode;
use tollgate_pipeline::{DecideError, Decided, Submission};

use crate::error::ApiError;
use crate::gateway::Gateway;

/// Decides a submission on the current policy set, in an evaluation slot on the blocking pool,
/// and counts it. The decision exists only once its record is durable.
pub(crate) async fn decide(
    gateway: &Arc<Gateway>,
    submission: Submission,
) -> Result<Decided, ApiError> {
    let waiting = Waiting::enter(gateway, submission.manifest_text.len()).ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "too many requests are waiting for an evaluation slot; retry later",
        )
    })?;
    let slot = Arc::clone(&gateway.slots)
        .acquire_owned()
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the server is shutting down",
            )
        })?;
    drop(waiting);
    // The requester is read on the request's task, before the work leaves it.
    let submission = Submission {
        actor: crate::requester::current(),
        ..submission
    };
    // The set is taken once: a reload never changes the set of a request in flight.
    let set = gateway.current();
    // Evaluations are CPU-bound: they run on the blocking pool, one slot each.
    let result = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        set.gate.decide(submission)
    })
    .await
    .map_err(|join| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the evaluation did not complete: {join}"),
        )
    })?;
    match result {
        Ok(decided) => {
            gateway.set_audit_up(true);
            gateway.metrics().count_decision(&decided);
            Ok(decided)
        }
        Err(error) => {
            if matches!(error, DecideError::Unrecorded(_)) {
                gateway.set_audit_up(false);
            }
            Err(error.into())
        }
    }
}

/// A request counted as waiting for a slot, with its manifest's bytes, while it lives.
struct Waiting<'a> {
    gateway: &'a Gateway,
    bytes: usize,
}

impl<'a> Waiting<'a> {
    /// Counts the request in, or `None` when that would pass either of the gateway's
    /// [`WaitingLimits`](crate::WaitingLimits) (a request counts once in any case, so one larger
    /// than the byte bound still waits alone).
    fn enter(gateway: &'a Gateway, bytes: usize) -> Option<Self> {
        let limits = gateway.waiting_limits;
        let before = gateway.waiting.fetch_add(1, Ordering::AcqRel);
        let bytes_before = gateway.waiting_bytes.fetch_add(bytes, Ordering::AcqRel);
        let entered = Self { gateway, bytes };
        let fits = before < limits.requests
            && (bytes_before == 0 || bytes_before.saturating_add(bytes) <= limits.bytes);
        fits.then_some(entered)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.gateway.waiting.fetch_sub(1, Ordering::AcqRel);
        self.gateway
            .waiting_bytes
            .fetch_sub(self.bytes, Ordering::AcqRel);
    }
}
