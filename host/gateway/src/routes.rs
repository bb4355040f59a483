//! The routes: `POST /v1/evaluate`, OPA's REST Data API ([`crate::opa`]), `GET /v1/schema`,
//! `GET /health`, `GET /metrics`, `POST /v1/marks`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tollgate_decision::Verdict;
use tollgate_manifest::{Format, MAX_DOCUMENT_BYTES, Manifest, Timestamp};
use tollgate_pipeline::Decided;
use tollgate_report_formats::ReportFormat;
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::{self, Check};
use crate::deciding::{Received, admit, decide, read_body, too_large, within_deadline};
use crate::error::{ApiError, json_response};
use crate::metrics::{HttpLabels, RefusalLabels};
use crate::{Gateway, MarkRequest, opa};
use crate::{access, requester};

/// The manifest path recorded for a manifest received over HTTP.
const REQUEST_MANIFEST_PATH: &str = "<request>";

/// The header that carries the outcome of `POST /v1/evaluate`.
const OUTCOME_HEADER: &str = "tollgate-outcome";

/// The gateway's routes, with the body limit, JSON error bodies (OPA's shape on OPA's routes)
/// and the HTTP metrics.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/v1/evaluate", post(evaluate))
        .route(
            "/v1/data",
            get(opa::data_get_root).post(opa::data_post_root),
        )
        .route(
            "/v1/data/",
            get(opa::data_get_root).post(opa::data_post_root),
        )
        .route("/v1/data/{*path}", get(opa::data_get).post(opa::data_post))
        .route("/v0/data/{*path}", post(opa::v0_data_post))
        .route("/", post(opa::default_decision))
        .route("/v1/policies", get(opa::policies))
        .route("/v1/policies/", get(opa::policies))
        .route("/v1/policies/{*id}", get(opa::policy))
        .route("/v1/marks", post(marks))
        .route("/v1/admin/reload", post(reload))
        .route("/v1/schema", get(schema))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        // Bodies over the document limit are refused from their `Content-Length`, or as soon as
        // the limit is crossed, without being read whole.
        .layer(RequestBodyLimitLayer::new(MAX_DOCUMENT_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&gateway),
            observe,
        ))
        .with_state(gateway)
}

/// OPA's handler name of a path (the `handler` label of the HTTP metrics).
pub(crate) fn handler_of(path: &str) -> &'static str {
    let handlers: [(&str, &'static str); 9] = [
        ("/v1/data", "v1/data"),
        ("/v0/data", "v0/data"),
        ("/v1/policies", "v1/policies"),
        ("/v1/evaluate", "v1/evaluate"),
        ("/v1/marks", "v1/marks"),
        ("/v1/admin", "v1/admin"),
        ("/v1/schema", "v1/schema"),
        ("/health", "health"),
        ("/metrics", "metrics"),
    ];
    if path == "/" {
        return "index";
    }
    handlers
        .iter()
        .find(|(prefix, _)| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .map_or("catchall", |(_, handler)| handler)
}

/// Whether errors of `handler` take OPA's shape.
fn is_opa(handler: &str) -> bool {
    matches!(handler, "v1/data" | "v0/data" | "v1/policies" | "index")
}

/// Counts and times every answer, and gives every error response that is not JSON yet (unknown
/// route, wrong method, body too large) a JSON body.
async fn observe(
    State(gateway): State<Arc<Gateway>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let start = std::time::Instant::now();
    let handler = handler_of(request.uri().path());
    let method = request.method().as_str().to_owned();
    let asked = Asked {
        authorization: request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        method: method.clone(),
        path: request.uri().path().to_owned(),
        peer: request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0),
        certificate: request
            .extensions()
            .get::<requester::ClientCertificate>()
            .cloned(),
    };
    let actor = match authorise(&gateway, handler, asked) {
        Authorised::Asked(actor) => actor,
        Authorised::Refused(refused) => {
            gateway.metrics().observe_http(
                HttpLabels {
                    code: refused.status().as_u16(),
                    handler,
                    method,
                },
                start.elapsed(),
            );
            return refused;
        }
    };
    // OPA answers 405 to any method but GET and POST; axum would serve HEAD as GET.
    let response = if is_opa(handler) && request.method() == axum::http::Method::HEAD {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed",
        )
        .into_opa_response(false)
    } else {
        json_errors(
            requester::serving(actor, next.run(request)).await,
            is_opa(handler),
        )
    };
    gateway.metrics().observe_http(
        HttpLabels {
            code: response.status().as_u16(),
            handler,
            method,
        },
        start.elapsed(),
    );
    response
}

/// What authorisation needs of a request.
struct Asked {
    authorization: Option<String>,
    method: String,
    path: String,
    peer: Option<std::net::SocketAddr>,
    certificate: Option<requester::ClientCertificate>,
}

/// What authorisation made of a request.
enum Authorised {
    /// Served, on behalf of this requester.
    Asked(tollgate_pipeline::Actor),
    /// Refused with this answer.
    Refused(Response),
}

/// The reason of a refusal past the source's budget.
const OVER_BUDGET: &str = "too many refused requests from this source";

/// Checks the bearer token of a request for its route's role and names the requester (the
/// token's subject, else the client certificate's). A refusal is answered at once: 401 or 403,
/// or 429 with `Retry-After` once its source has spent its budget of refusals ([`access`]); it
/// is counted exactly, and aggregated for the access log (subject, path, source address; never
/// the token).
fn authorise(gateway: &Gateway, handler: &'static str, asked: Asked) -> Authorised {
    let certificate = asked.certificate.as_ref();
    let (Some(tokens), Some(role)) = (gateway.tokens(), auth::role_of(handler)) else {
        return Authorised::Asked(requester::of(None, certificate));
    };
    let (status, subject, reason) = match tokens.check(asked.authorization.as_deref(), role) {
        Check::Allowed(subject) => {
            return Authorised::Asked(requester::of(Some(subject), certificate));
        }
        Check::Unauthenticated(reason) => (StatusCode::UNAUTHORIZED, None, reason.to_owned()),
        Check::Forbidden { subject, role } => (
            StatusCode::FORBIDDEN,
            Some(subject),
            format!("the role `{}` is missing", role.as_str()),
        ),
    };
    let (source, budget) = gateway
        .refusals
        .charge(access::Source::of(asked.peer), std::time::Instant::now());
    let (status, reason) = match budget {
        Ok(()) => (status, reason),
        Err(_) => (StatusCode::TOO_MANY_REQUESTS, OVER_BUDGET.to_owned()),
    };
    gateway
        .metrics()
        .unauthorized
        .get_or_create(&RefusalLabels {
            code: status.as_u16(),
        })
        .inc();
    if gateway.access_log.is_some() {
        gateway.refusals.note(
            &access::Refused {
                source,
                status: status.as_u16(),
                reason: &reason,
                subject: subject.as_deref(),
                method: &asked.method,
                path: &asked.path,
            },
            Timestamp::now(),
        );
    }
    let retry_after = budget
        .err()
        .map(|wait| (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1));
    let (kind, message) = match (status, retry_after) {
        (StatusCode::UNAUTHORIZED, _) => (
            "unauthorized",
            format!("{reason}: send `Authorization: Bearer <token>`"),
        ),
        (_, Some(seconds)) => (
            "too_many_requests",
            format!("{reason}: retry after {seconds} s"),
        ),
        _ => ("unauthorized", reason),
    };
    let error = ApiError::new(status, kind, message);
    let mut response = if is_opa(handler) {
        error.into_opa_response(false)
    } else {
        error.into_response()
    };
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Authorised::Refused(response)
}

fn json_errors(response: Response, opa_shape: bool) -> Response {
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
    let mut json = if opa_shape {
        error.into_opa_response(false)
    } else {
        error.into_response()
    };
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

/// Query of `GET /health`: OPA's `bundles`, `plugins` and `exclude-plugin`.
#[derive(Debug, Default, Deserialize)]
struct HealthQuery {
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
async fn health(
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
async fn metrics(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
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
async fn marks(State(gateway): State<Arc<Gateway>>, body: Body) -> Result<Response, ApiError> {
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
        None => Err("marks are not served".to_owned()),
    })
    .await
    .map_err(|join| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the mark did not complete: {join}"),
        )
    })?
    .map_err(ApiError::bad_request)?;
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
async fn reload(State(gateway): State<Arc<Gateway>>) -> Result<Response, ApiError> {
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
        Err(message) => {
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
    let deadline = Arc::clone(&gateway);
    match within_deadline(&deadline, evaluate_inner(gateway, query, headers, body)).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn evaluate_inner(
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
