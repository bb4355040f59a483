//! The routes: `POST /v1/evaluate`, `GET /v1/policies`, `GET /v1/schema`, `GET /health`.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tollgate_manifest::{Format, MAX_DOCUMENT_BYTES, Manifest, Timestamp};
use tollgate_pipeline::{
    DecideError, Decided, InputError, InputSource, Rejection, Submission, Verdict, exit,
};
use tollgate_reports::ReportFormat;
use tower_http::limit::RequestBodyLimitLayer;

use crate::Gateway;
use crate::error::{ApiError, failure_details, json_response};

/// The manifest path recorded for a manifest received over HTTP.
const REQUEST_MANIFEST_PATH: &str = "<request>";

/// The header that carries the outcome of `POST /v1/evaluate`.
const OUTCOME_HEADER: &str = "tollgate-outcome";

/// The gateway's routes, with the body limit and JSON error bodies.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/v1/evaluate", post(evaluate))
        .route("/v1/policies", get(policies))
        .route("/v1/schema", get(schema))
        .route("/health", get(health))
        .fallback(not_found)
        .with_state(gateway)
        // Bodies over the document limit are refused from their `Content-Length`, or as soon as
        // the limit is crossed, without being read whole.
        .layer(RequestBodyLimitLayer::new(MAX_DOCUMENT_BYTES))
        .layer(axum::middleware::map_response(json_errors))
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the request body is larger than the {MAX_DOCUMENT_BYTES}-byte limit"),
    )
}

/// Gives every error response that is not JSON yet (unknown route, wrong method, body too large)
/// a JSON body.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        _ => {
            let kind = match status {
                StatusCode::NOT_FOUND => "not_found",
                StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
                _ if status.is_client_error() => "bad_request",
                _ => "internal",
            };
            let message = status.canonical_reason().unwrap_or("error").to_lowercase();
            ApiError::new(status, kind, message)
        }
    };
    let (parts, _) = response.into_parts();
    let mut json = error.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            json.headers_mut().insert(name.clone(), value.clone());
        }
    }
    json
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn health(State(gateway): State<Arc<Gateway>>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "status": "ok", "policies": gateway.ids }),
    )
}

async fn policies(State(gateway): State<Arc<Gateway>>) -> Response {
    json_response(StatusCode::OK, &gateway.policies)
}

async fn schema() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Manifest::json_schema(),
    )
        .into_response()
}

/// Query of `POST /v1/evaluate`.
#[derive(Debug, Deserialize)]
struct EvaluateQuery {
    /// Evaluation time, RFC 3339 [default: now].
    now: Option<String>,
    /// The service being deployed, matched against a waiver's `scope.service`.
    service: Option<String>,
}

async fn evaluate(
    State(gateway): State<Arc<Gateway>>,
    query: Result<Query<EvaluateQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = gateway.timeout;
    match tokio::time::timeout(limit, decide(gateway, query, headers, body)).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => error.into_response(),
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("the request took longer than {} s", limit.as_secs()),
        )
        .into_response(),
    }
}

async fn decide(
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
    let Ok(text) = String::from_utf8(bytes.to_vec()) else {
        let message = "the manifest is not UTF-8 text";
        let rejection = Rejection::of_input(
            &InputError::new(InputSource::Manifest, message),
            REQUEST_MANIFEST_PATH,
            None,
            now,
            exit::INVALID_INPUT,
        );
        reject(&gateway, rejection).await;
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_manifest",
            message,
        ));
    };
    let format = if is_json(&headers) {
        Format::Json
    } else {
        Format::detect(None, &text)
    };
    let mut submission =
        match Submission::parse(REQUEST_MANIFEST_PATH, "manifest", text.clone(), format, now) {
            Ok(submission) => submission,
            Err(error) => {
                let rejection = Rejection::of_input(
                    &error,
                    REQUEST_MANIFEST_PATH,
                    Some(text),
                    now,
                    exit::INVALID_INPUT,
                );
                reject(&gateway, rejection).await;
                return Err(ApiError::from(DecideError::from(error)));
            }
        };
    submission.service = query.service;
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
    // Evaluations are CPU-bound: they run on the blocking pool, one slot each.
    let decided = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        gateway.gate.decide(submission)
    })
    .await
    .map_err(|join| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the evaluation did not complete: {join}"),
        )
    })??;
    answer(&decided)
}

/// Puts a request refused before any decision on record through the gate's recorder (on the
/// blocking pool: the record is made durable). The answer stays the refusal; a record that cannot
/// be written is reported on standard error, as the server's log.
async fn reject(gateway: &Arc<Gateway>, rejection: Rejection) {
    let gateway = Arc::clone(gateway);
    match tokio::task::spawn_blocking(move || gateway.gate.reject(&rejection)).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => eprintln!("warning: a rejected request could not be recorded: {error}"),
        Err(join) => eprintln!("warning: a rejected request could not be recorded: {join}"),
    }
}

/// The answer to a decided request: 200 with the JSON report for any decision (a deny is a
/// value), 500 `policy_failure` with the report when a policy failed.
fn answer(decided: &Decided) -> Result<Response, ApiError> {
    let report = decided.report();
    let json = tollgate_reports::render(ReportFormat::Json, &report.view())
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
        Verdict::PolicyFailure => {
            let failures = &report.failures;
            let message = format!(
                "{} {} failed; a failing policy never approves",
                failures.len(),
                if failures.len() == 1 {
                    "policy"
                } else {
                    "policies"
                }
            );
            ApiError {
                details: failure_details(failures),
                extra: json!({ "report": serde_json::from_str::<Value>(&json).unwrap_or(Value::Null) }),
                ..ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "policy_failure", message)
            }
            .into_response()
        }
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

/// Reads the body, at most [`MAX_DOCUMENT_BYTES`] (the limit layer stops larger ones).
async fn read_body(body: Body) -> Result<Bytes, ApiError> {
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
