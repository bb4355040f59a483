//! The outermost layer: counts and times every answer (`http_requests_total`,
//! `http_request_duration_seconds`, by OPA's handler name, method and status), refusals included.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::gateway::Gateway;
use crate::handler_names::handler_of;
use crate::metrics::HttpLabels;

/// Counts and times the answer to `request`.
pub(crate) async fn observe(
    State(gateway): State<Arc<Gateway>>,
    request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let handler = handler_of(request.uri().path());
    let method = method_label(request.method());
    let response = next.run(request).await;
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

/// The `method` label: the method's name when HTTP defines it, else `OTHER` (a client cannot
/// grow the series with methods of its own).
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PATCH" => "PATCH",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "OTHER",
    }
}
