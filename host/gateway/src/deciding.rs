//! Deciding a request, shared by Tollgate's routes and OPA's: the evaluation slot and the
//! overload bound, the request deadline, the decision metrics, and reading a bounded body.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use tollgate_manifest::{MAX_DOCUMENT_BYTES, approval_time_seconds};
use tollgate_pipeline::{Decided, Submission, Verdict};

use crate::Gateway;
use crate::error::ApiError;
use crate::metrics::{
    ApprovalLabels, ChangeLabels, DecisionLabels, FindingLabels, environment_label,
};

/// Runs `work`, or answers 503 `timeout` once the gateway's deadline has passed.
pub(crate) async fn within_deadline<T>(
    gateway: &Gateway,
    work: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let limit = gateway.timeout;
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("the request took longer than {} s", limit.as_secs()),
        ))
    })
}

/// Decides a submission on the current policy set, in an evaluation slot on the blocking pool,
/// and counts it. The decision exists only once its record is durable.
pub(crate) async fn decide(
    gateway: &Arc<Gateway>,
    submission: Submission,
) -> Result<Decided, ApiError> {
    let waiting = Waiting::enter(gateway).ok_or_else(|| {
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
            count(gateway, &decided);
            Ok(decided)
        }
        Err(error) => {
            if matches!(error, tollgate_pipeline::DecideError::Unrecorded(_)) {
                gateway.set_audit_up(false);
            }
            Err(error.into())
        }
    }
}

/// A request counted as waiting for a slot while it lives.
struct Waiting<'a>(&'a Gateway);

impl<'a> Waiting<'a> {
    fn enter(gateway: &'a Gateway) -> Option<Self> {
        use std::sync::atomic::Ordering;
        let before = gateway.waiting.fetch_add(1, Ordering::AcqRel);
        let entered = Self(gateway);
        (before < gateway.max_waiting).then_some(entered)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0
            .waiting
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

fn count(gateway: &Gateway, decided: &Decided) {
    let metrics = gateway.metrics();
    let timings = decided.timings();
    metrics.evaluation.observe(timings.evaluation.as_secs_f64());
    metrics.audit_append.observe(timings.record.as_secs_f64());
    let report = decided.report();
    let view = report.view();
    for (index, evaluated) in report.evaluated.iter().enumerate() {
        metrics
            .decisions
            .get_or_create(&DecisionLabels {
                policy: evaluated.metadata.id.clone(),
                outcome: view.policy_outcome(index).as_str(),
            })
            .inc();
    }
    let manifest = &report.manifest;
    let outcome = match report.verdict() {
        Verdict::Decided(outcome) => outcome.as_str(),
        Verdict::PolicyFailure => "policy_failure",
    };
    metrics
        .changes
        .get_or_create(&ChangeLabels {
            environment: environment_label(&manifest.change.environment),
            outcome,
        })
        .inc();
    for decision in &report.combined.decisions {
        for (index, finding) in decision.findings.iter().enumerate() {
            let waived = report
                .waivers
                .waiver_for(&decision.policy_id, index)
                .is_some();
            metrics
                .findings
                .get_or_create(&FindingLabels {
                    policy: decision.policy_id.clone(),
                    control: finding.control_id.clone(),
                    severity: finding.severity.as_str(),
                    waived: if waived { "true" } else { "false" },
                })
                .inc();
        }
    }
    // As the evidence report measures it: to the last approval that satisfied a required role of
    // any policy, once per change.
    let required = report
        .combined
        .decisions
        .iter()
        .flat_map(|d| d.routing.required.iter())
        .map(|r| (r.role.as_str(), r.satisfied_by.as_deref()));
    if let Some(submitted) = manifest.change.submitted_at
        && let Some(seconds) =
            approval_time_seconds(submitted, &manifest.change.approvals, required)
    {
        metrics
            .approval_time
            .get_or_create(&ApprovalLabels { outcome })
            .observe(seconds);
    }
    for failure in &report.failures {
        metrics
            .decisions
            .get_or_create(&DecisionLabels {
                policy: failure.policy.clone(),
                outcome: "policy_failure",
            })
            .inc();
    }
}

pub(crate) fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the request body is larger than the {MAX_DOCUMENT_BYTES}-byte limit"),
    )
}

/// Reads the body, at most [`MAX_DOCUMENT_BYTES`] (the limit layer stops larger ones).
pub(crate) async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_DOCUMENT_BYTES)
        .await
        .map_err(|error| {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
            let mut is_too_large = false;
            while let Some(e) = cause {
                is_too_large |= e.is::<http_body_util::LengthLimitError>();
                cause = e.source();
            }
            if is_too_large {
                too_large()
            } else {
                ApiError::bad_request("the request body could not be read")
            }
        })
}
