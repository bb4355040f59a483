//! Deciding a request, shared by Tollgate's routes and OPA's: the one admission of a manifest
//! (every refusal on record), the evaluation slot and the overload bound, the request deadline,
//! the decision metrics, and reading a bounded body.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use tollgate_decision::Verdict;
use tollgate_manifest::{Format, MAX_DOCUMENT_BYTES, Timestamp, approval_time_seconds};
use tollgate_pipeline::{
    DecideError, Decided, InputError, InputSource, Rejection, Submission, exit,
};

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

/// A manifest as a route received it, before admission.
pub(crate) struct Received<'a> {
    /// The manifest path recorded: `<request>`, `<input>`.
    pub(crate) path: &'static str,
    /// What messages call it: `manifest`, `input`.
    pub(crate) subject: &'static str,
    /// The manifest's bytes exactly as received (their digest is recorded).
    pub(crate) bytes: &'a [u8],
    /// The format, or `None` to tell JSON from YAML by the text.
    pub(crate) format: Option<Format>,
    /// The evaluation time.
    pub(crate) now: Timestamp,
}

/// The one admission of every route (`/v1/evaluate`, OPA's Data API, `POST /`): the exact bytes
/// received must be UTF-8 text of a manifest, which the manifest parser reads strictly (unknown
/// fields, duplicate keys, nesting past its depth limit, numbers out of range refused). Every
/// refusal is put on record as a rejected attempt before its 400 is answered.
pub(crate) async fn admit(
    gateway: &Arc<Gateway>,
    received: Received<'_>,
) -> Result<Submission, ApiError> {
    let Ok(text) = std::str::from_utf8(received.bytes) else {
        let error = InputError::new(
            InputSource::Manifest,
            format!("the {} is not UTF-8 text", received.subject),
        );
        return Err(refuse(gateway, error, received.path, None, received.now).await);
    };
    let format = received
        .format
        .unwrap_or_else(|| Format::detect(None, text));
    match Submission::parse(
        received.path,
        received.subject,
        text.to_owned(),
        format,
        received.now,
    ) {
        Ok(submission) => Ok(submission),
        Err(error) => Err(refuse(
            gateway,
            error,
            received.path,
            Some(text.to_owned()),
            received.now,
        )
        .await),
    }
}

/// Refuses an input before any decision: puts the rejected attempt on record (the input's text
/// when it is text), then gives the 400 to answer.
pub(crate) async fn refuse(
    gateway: &Arc<Gateway>,
    error: InputError,
    path: &str,
    text: Option<String>,
    now: Timestamp,
) -> ApiError {
    let rejection = Rejection::of_input(&error, path, text, now, exit::INVALID_INPUT);
    reject(gateway, rejection).await;
    ApiError::from(DecideError::from(error))
}

/// Puts a request refused before any decision on record through the gate's recorder (on the
/// blocking pool: the record is made durable). The answer stays the refusal; a record that cannot
/// be written is reported on standard error, as the server's log.
pub(crate) async fn reject(gateway: &Arc<Gateway>, rejection: Rejection) {
    let rejection = rejection.with_actor(crate::requester::current());
    let gw = Arc::clone(gateway);
    match tokio::task::spawn_blocking(move || gw.current().gate.reject(&rejection)).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            gateway.set_audit_up(false);
            eprintln!("warning: a rejected request could not be recorded: {error}");
        }
        Err(join) => eprintln!("warning: a rejected request could not be recorded: {join}"),
    }
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
