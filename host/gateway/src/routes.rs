//! The route table. A request passes, outermost first: the HTTP metrics ([`crate::http_metrics`]),
//! authorisation ([`crate::authorisation`]), JSON error bodies ([`crate::json_errors`]) and the
//! body limit, then its route: `POST /v1/evaluate` ([`crate::evaluate`]), OPA's REST Data API
//! ([`crate::data_api`]) and Policy API ([`crate::policy_api`]), and the operator's routes
//! ([`crate::operations`]).

use std::sync::Arc;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use tollgate_manifest::MAX_DOCUMENT_BYTES;
use tower_http::limit::RequestBodyLimitLayer;

use crate::authorisation::authorise;
use crate::evaluate::evaluate;
use crate::gateway::Gateway;
use crate::http_metrics::observe;
use crate::json_errors::json_errors;
use crate::operations::{health, marks, metrics, not_found, reload, schema};
use crate::{data_api, policy_api};

/// The gateway's routes, with the body limit, JSON error bodies (OPA's shape on OPA's routes),
/// authorisation and the HTTP metrics.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/v1/evaluate", post(evaluate))
        .route(
            "/v1/data",
            get(data_api::data_get_root).post(data_api::data_post_root),
        )
        .route(
            "/v1/data/",
            get(data_api::data_get_root).post(data_api::data_post_root),
        )
        .route(
            "/v1/data/{*path}",
            get(data_api::data_get).post(data_api::data_post),
        )
        .route("/v0/data/{*path}", post(data_api::v0_data_post))
        .route("/", post(data_api::default_decision))
        .route("/v1/policies", get(policy_api::policies))
        .route("/v1/policies/", get(policy_api::policies))
        .route("/v1/policies/{*id}", get(policy_api::policy))
        .route("/v1/marks", post(marks))
        .route("/v1/admin/reload", post(reload))
        .route("/v1/schema", get(schema))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        // Bodies over the document limit are refused from their `Content-Length`, or as soon as
        // the limit is crossed, without being read whole.
        .layer(RequestBodyLimitLayer::new(MAX_DOCUMENT_BYTES))
        .layer(from_fn(json_errors))
        .layer(from_fn_with_state(Arc::clone(&gateway), authorise))
        .layer(from_fn_with_state(Arc::clone(&gateway), observe))
        .with_state(gateway)
}
