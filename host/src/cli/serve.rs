//! `tollgate serve`: the HTTP gateway. Policies are loaded and their settings validated once, at
//! start; every `POST /v1/evaluate` is decided by the same pipeline as `tollgate eval` (fresh
//! sandboxed instance per policy, combination, waivers, decision record before the answer).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clap::Args;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tollgate::exit;
use tollgate_manifest::{Format, MAX_DOCUMENT_BYTES, Manifest, Timestamp};
use tower_http::limit::RequestBodyLimitLayer;

use super::audit::EvalAuditArgs;
use super::eval::{self, Pipeline, Setup};
use super::reporting::{self, ReportArgs};
use super::{CacheArgs, Failure};

/// The manifest path recorded for a manifest received over HTTP.
const REQUEST_MANIFEST_PATH: &str = "<request>";

/// The header that carries the outcome of `POST /v1/evaluate`.
const OUTCOME_HEADER: &str = "tollgate-outcome";

/// Arguments of `tollgate serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the bound address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8181")]
    listen: SocketAddr,
    /// A policy to run: a built-in name (`sox`, `hipaa`, `pci`) or the path of a policy component
    /// (`.wasm`). Repeatable; without it the three built-in policies run.
    #[arg(long = "policy", value_name = "NAME|PATH")]
    policies: Vec<String>,
    /// Settings file (YAML or JSON): a mapping from policy id to that policy's settings object.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Waivers file (YAML or JSON), read once at start.
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
    /// Decision log every evaluation is appended to before it is answered [default:
    /// $TOLLGATE_AUDIT_LOG, `audit.log` in `.tollgate/config.yaml`, else `.tollgate/audit.log` in
    /// the project directory]. If a record cannot be written the request fails with 503.
    #[arg(long, value_name = "FILE", env = tollgate_audit::config::LOG_ENV)]
    audit_log: Option<PathBuf>,
    /// A manifest field path to mask in the stored copy (repeatable).
    #[arg(long = "mask", value_name = "PATH")]
    mask: Vec<String>,
    #[command(flatten)]
    cache: CacheArgs,
    /// Evaluations running at once [default: the engine's instance pool size, 64]; further
    /// requests wait for a free slot.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_concurrent: Option<u32>,
    /// Seconds a request may take, waiting for a slot included, before it is answered with 503.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
}

/// What every request shares.
struct Gateway {
    pipeline: Pipeline,
    /// Free evaluation slots: at most the engine's instance pool size, so it cannot be exhausted.
    slots: Arc<Semaphore>,
    timeout: Duration,
    /// `GET /v1/policies`, rendered once.
    policies: Value,
    ids: Vec<String>,
}

pub(crate) fn run(args: &ServeArgs) -> Result<u8, Failure> {
    let reports = ReportArgs::waivers_only(args.waivers.clone());
    let audit = EvalAuditArgs::for_server(args.audit_log.clone(), args.mask.clone());
    let setup = Setup::read(args.settings.as_deref(), &reports, &audit)?;
    let sources = eval::policy_sources(&args.policies)?;
    let engine = args.cache.engine()?;
    let pipeline = Pipeline::load(&engine, sources, setup, reports)?;
    if !pipeline.failures().is_empty() {
        let failed: Vec<String> = pipeline
            .failures()
            .iter()
            .map(|f| format!("policy `{}` failed: {}", f.policy, f.message))
            .collect();
        return Err(Failure::Policy(anyhow!(
            "not serving: {}",
            failed.join("; ")
        )));
    }
    let pool = engine.limits().max_instances.max(1);
    let slots = args.max_concurrent.unwrap_or(pool).min(pool);
    let policies = Value::Array(
        pipeline
            .policies()
            .map(|p| {
                let m = p.metadata();
                json!({
                    "id": m.id,
                    "framework": m.framework,
                    "version": m.version,
                    "description": m.description,
                    "digest": p.digest(),
                    "controls": m.controls,
                })
            })
            .collect(),
    );
    let ids = pipeline
        .policies()
        .map(|p| p.metadata().id.clone())
        .collect();
    let gateway = Arc::new(Gateway {
        pipeline,
        slots: Arc::new(Semaphore::new(usize::try_from(slots).unwrap_or(64))),
        timeout: Duration::from_secs(args.timeout),
        policies,
        ids,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Failure::Internal)?;
    runtime.block_on(serve(gateway, args.listen))?;
    Ok(exit::APPROVED)
}

async fn serve(gateway: Arc<Gateway>, listen: SocketAddr) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))
        .map_err(Failure::Invalid)?;
    let address = listener
        .local_addr()
        .context("cannot read the bound address")
        .map_err(Failure::Internal)?;
    {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on http://{address}")
            .and_then(|()| stdout.flush())
            .context("cannot write to standard output")
            .map_err(Failure::Internal)?;
    }
    axum::serve(listener, router(gateway))
        .with_graceful_shutdown(shutdown())
        .await
        .context("the server failed")
        .map_err(Failure::Internal)?;
    eprintln!("tollgate serve: shut down");
    Ok(())
}

fn router(gateway: Arc<Gateway>) -> Router {
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

/// Resolves on SIGINT or SIGTERM.
async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// A JSON response.
fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut text = serde_json::to_string_pretty(body).unwrap_or_default();
    text.push('\n');
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response()
}

/// `{"error": {"kind", "message", ...extra}}`.
fn error_response(status: StatusCode, kind: &str, message: &str, extra: Value) -> Response {
    let mut error = json!({ "kind": kind, "message": message });
    if let (Some(error), Value::Object(extra)) = (error.as_object_mut(), extra) {
        error.extend(extra);
    }
    json_response(status, &json!({ "error": error }))
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
    let kind = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        _ if status.is_client_error() => "bad_request",
        _ => "internal",
    };
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the request body is larger than the {MAX_DOCUMENT_BYTES}-byte limit")
        }
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let (parts, _) = response.into_parts();
    let mut json = error_response(status, kind, &message, Value::Null);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            json.headers_mut().insert(name.clone(), value.clone());
        }
    }
    json
}

async fn not_found() -> Response {
    error_response(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route",
        Value::Null,
    )
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
}

async fn evaluate(
    State(gateway): State<Arc<Gateway>>,
    query: Result<Query<EvaluateQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = gateway.timeout;
    match tokio::time::timeout(limit, decide(gateway, query, headers, body)).await {
        Ok(response) => response,
        Err(_) => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            &format!("the request took longer than {} s", limit.as_secs()),
            Value::Null,
        ),
    }
}

fn bad_request(kind: &str, message: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, kind, message, Value::Null)
}

async fn decide(
    gateway: Arc<Gateway>,
    query: Result<Query<EvaluateQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return bad_request("invalid_request", &rejection.body_text()),
    };
    let now = match query.now.as_deref().map(Timestamp::parse).transpose() {
        Ok(now) => now.unwrap_or_else(eval::current_time),
        Err(e) => return bad_request("invalid_request", &format!("invalid `now`: {e}")),
    };
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let Ok(text) = String::from_utf8(bytes.to_vec()) else {
        return bad_request("invalid_manifest", "the manifest is not UTF-8 text");
    };
    let format = if is_json(&headers) {
        Format::Json
    } else {
        Format::detect(None, &text)
    };
    let manifest = match Manifest::from_text(&text, format) {
        Ok(manifest) => manifest,
        Err(e) => {
            let location = e.location();
            return error_response(
                StatusCode::BAD_REQUEST,
                "invalid_manifest",
                &format!("invalid manifest: {e}"),
                json!({
                    "path": e.path(),
                    "line": location.map(|l| l.line),
                    "column": location.map(|l| l.column),
                }),
            );
        }
    };
    let Ok(slot) = Arc::clone(&gateway.slots).acquire_owned().await else {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
            Value::Null,
        );
    };
    // Evaluations are CPU-bound: they run on the blocking pool, one slot each.
    let decided = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        gateway
            .pipeline
            .decide(REQUEST_MANIFEST_PATH.to_owned(), text, manifest, now)
            .and_then(|report| {
                let outcome = if report.failures.is_empty() {
                    report.outcome_after_waivers().as_str()
                } else {
                    "policy_failure"
                };
                let failures: Vec<Value> = report
                    .failures
                    .iter()
                    .map(|f| json!({ "policy": f.policy, "kind": f.kind, "message": f.message }))
                    .collect();
                Ok((outcome, failures, reporting::json(&report)?))
            })
    })
    .await;
    match decided {
        Ok(Ok((outcome, failures, report))) if failures.is_empty() => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (
                    header::HeaderName::from_static(OUTCOME_HEADER),
                    HeaderValue::from_static(outcome),
                ),
            ],
            report,
        )
            .into_response(),
        Ok(Ok((outcome, failures, report))) => {
            let report: Value = serde_json::from_str(&report).unwrap_or(Value::Null);
            let message = format!(
                "{} {} failed; a failing policy never approves",
                failures.len(),
                if failures.len() == 1 {
                    "policy"
                } else {
                    "policies"
                }
            );
            let mut response = json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({
                    "error": { "kind": "policy_failure", "message": message, "failures": failures },
                    "report": report,
                }),
            );
            response.headers_mut().insert(
                header::HeaderName::from_static(OUTCOME_HEADER),
                HeaderValue::from_static(outcome),
            );
            response
        }
        Ok(Err(failure)) => {
            let message = format!("{:#}", failure.error());
            eprintln!("error: {message}");
            let (status, kind) = match failure {
                Failure::Audit(_) => (StatusCode::SERVICE_UNAVAILABLE, "audit_failure"),
                Failure::Invalid(_) => (StatusCode::INTERNAL_SERVER_ERROR, "invalid_settings"),
                Failure::Policy(_) => (StatusCode::INTERNAL_SERVER_ERROR, "policy_failure"),
                Failure::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            };
            error_response(status, kind, &message, Value::Null)
        }
        Err(join) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &format!("the evaluation did not complete: {join}"),
            Value::Null,
        ),
    }
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
async fn read_body(body: Body) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, MAX_DOCUMENT_BYTES)
        .await
        .map_err(|error| {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|e| e.is::<http_body_util::LengthLimitError>())
                || error.into_inner().is::<http_body_util::LengthLimitError>();
            if too_large {
                error_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    &format!("the request body is larger than the {MAX_DOCUMENT_BYTES}-byte limit"),
                    Value::Null,
                )
            } else {
                bad_request("invalid_request", "the request body could not be read")
            }
        })
}
