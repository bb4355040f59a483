//! `POST /v1/evaluate`, Tollgate's own decision route: the manifest in the body is admitted,
//! decided (and recorded) and answered with the JSON report, its verdict in `Tollgate-Outcome`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use tollgate_decision::Verdict;
use tollgate_manifest::{Format, Timestamp};
use tollgate_pipeline::Decided;
use tollgate_report_formats::ReportFormat;

use crate::admission::{Received, admit, read_body};
use crate::deadline::within_deadline;
use crate::deciding::decide;
use crate::error::ApiError;
use crate::gateway::Gateway;

/// The manifest path recorded for a manifest received over HTTP.
const REQUEST_MANIFEST_PATH: &str = "<request>";

/// The header that carries the outcome of `POST /v1/evaluate`.
const OUTCOME_HEADER: &str = "tollgate-outcome";

/// Query of `POST /v1/evaluate`.
#[derive(Debug, Deserialize)]
pub(crate) struct EvaluateQuery {
    /// Evaluation time, RFC 3339 [default: now].
    now: Option<String>,
    /// The service being deployed, matched against a waiver's `scope.service`.
    service: Option<String>,
}

/// `POST /v1/evaluate`, answered within the gateway's deadline.
pub(crate) async fn evaluate(
    State(gateway): State<Arc<Gateway>>,
    query: Result<Query<EvaluateQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let deadline = Arc::clone(&gateway);
    let work = evaluated(gateway, query, headers, body);
    match within_deadline(&deadline, work).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// Admission, decision (recorded), answer.
async fn evaluated(
    gateway: Arc<Gateway>,
    query: Result<Query<EvaluateQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let now = query
        .now
        .as_deref()
        .map(Timestamp::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(format!("invalid `now`: {e}")))?
        .unwrap_or_else(Timestamp::now);
    let bytes = read_body(body).await?;
    let received = Received {
        path: REQUEST_MANIFEST_PATH,
        subject: "manifest",
        bytes: &bytes,
        format: is_json(&headers).then_some(Format::Json),
        now,
    };
    let mut submission = admit(&gateway, received).await?;
    submission.service = query.service;
    let decided = decide(&gateway, submission).await?;
    answer(&decided)
}

/// The answer to a decided request: 200 with the JSON report for any decision (a deny is a
/// value), 500 `policy_failure` with the report when a policy failed.
fn answer(decided: &Decided) -> Result<Response, ApiError> {
    let report = decided.report();
    let json = tollgate_report_formats::render(ReportFormat::Json, &report.view())
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let verdict = report.verdict();
    let outcome = HeaderValue::from_static(verdict.as_str());
    let mut response = match verdict {
        Verdict::Decided(_) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            json,
        )
            .into_response(),
        Verdict::PolicyFailure => ApiError::policy_failure(
            &report.failures,
            serde_json::from_str::<Value>(&json).unwrap_or(Value::Null),
        )
        .into_response(),
    };
    response
        .headers_mut()
        .insert(header::HeaderName::from_static(OUTCOME_HEADER), outcome);
    Ok(response)
}

/// Whether the request says its body is JSON.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}
