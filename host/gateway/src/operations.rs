//! The operator's routes: `GET /health`, `GET /metrics`, `POST /v1/admin/reload`,
//! `POST /v1/marks` (deployment marks), `GET /v1/schema`, and the answer to an unknown route.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tollgate_manifest::Manifest;

use crate::admission::read_body;
use crate::error::{ApiError, json_response};
use crate::gateway::Gateway;
use crate::marks::MarkRequest;

/// The fallback: 404 `not_found`.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// Query of `GET /health`: OPA's `bundles`, `plugins` and `exclude-plugin`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct HealthQuery {
    bundles: Option<String>,
    plugins: Option<String>,
    #[serde(rename = "exclude-plugin")]
    exclude_plugin: Option<String>,
}

/// The name of the decision log as a plugin of `GET /health?plugins`.
const DECISION_LOG_PLUGIN: &str = "decision_logs";

/// `GET /health`: 200 while serving. `?bundles` is always satisfied (the policy set is loaded
/// before the server listens, and a reload that fails keeps the old one); `?plugins` fails with
/// 500 `{"error": ...}` while the decision log cannot be written (unless
/// `exclude-plugin=decision_logs`).
pub(crate) async fn health(
    State(gateway): State<Arc<Gateway>>,
    query: Result<Query<HealthQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let _ = &query.bundles;
    let excluded = query.exclude_plugin.as_deref() == Some(DECISION_LOG_PLUGIN);
    if query.plugins.is_some() && !excluded && !gateway.audit_up() {
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({ "error": "1 plugin in an unhealthy state: decision_logs (the decision log cannot be written)" }),
        );
    }
    json_response(
        StatusCode::OK,
        &json!({ "status": "ok", "policies": gateway.current().ids }),
    )
}

/// `GET /metrics`: OpenMetrics when the scraper asks for it (Prometheus does), else the
/// Prometheus text format; every series the dashboard and the alerts read exported, at zero
/// before its first event.
pub(crate) async fn metrics(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let metrics = gateway.metrics();
    metrics.declare(&gateway.current().declared);
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(crate::metrics::accepts_openmetrics);
    let (rendered, content_type) = if openmetrics {
        (metrics.render(), crate::metrics::OPENMETRICS_CONTENT_TYPE)
    } else {
        (metrics.render_text(), crate::metrics::TEXT_CONTENT_TYPE)
    };
    match rendered {
        Ok(text) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            text,
        )
            .into_response(),
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the metrics could not be rendered",
        )
        .into_response(),
    }
}

/// `POST /v1/marks`: records a deployment mark; a production deployment of a change without an
/// approved latest decision is counted in `production_changes_without_ticket_total` (from the
/// log, so once).
pub(crate) async fn marks(
    State(gateway): State<Arc<Gateway>>,
    body: Body,
) -> Result<Response, ApiError> {
    if gateway.marker.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "marks are not served: the gateway has no decision log",
        ));
    }
    let bytes = read_body(body).await?;
    let request: MarkRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid mark: {e}")))?;
    let gw = Arc::clone(&gateway);
    let answer = tokio::task::spawn_blocking(move || match gw.marker.as_ref() {
        Some(marker) => marker.mark(&request),
        None => Err("marks are not served".into()),
    })
    .await
    .map_err(|join| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the mark did not complete: {join}"),
        )
    })?
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    // Counted from the log, as the marks of every other writer are: once.
    let gw = Arc::clone(&gateway);
    let _ = tokio::task::spawn_blocking(move || gw.count_marks()).await;
    Ok(json_response(
        StatusCode::CREATED,
        &serde_json::to_value(&answer).unwrap_or(Value::Null),
    ))
}

/// `POST /v1/admin/reload`: loads the policy set, settings, waivers and tokens afresh; a set that
/// fails is refused (422 `reload_failed`) and the old one keeps serving.
pub(crate) async fn reload(State(gateway): State<Arc<Gateway>>) -> Result<Response, ApiError> {
    let gw = Arc::clone(&gateway);
    let result = tokio::task::spawn_blocking(move || gw.reload())
        .await
        .map_err(|join| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("the reload did not complete: {join}"),
            )
        })?;
    match result {
        Ok(ids) => Ok(json_response(
            StatusCode::OK,
            &json!({ "reloaded": true, "policies": ids }),
        )),
        Err(error) => {
            let message = tollgate_pipeline::ErrorChain(&error);
            eprintln!(
                "tollgate serve: reload refused, the old policy set keeps serving: {message}"
            );
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reload_failed",
                format!("the new policy set was refused; the old one keeps serving: {message}"),
            ))
        }
    }
}

/// `GET /v1/schema`: the manifest's JSON Schema.
pub(crate) async fn schema() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Manifest::json_schema(),
    )
        .into_response()
}
