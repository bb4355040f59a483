//! The request deadline: a decision not answered within the gateway's timeout is answered 503.

use axum::http::StatusCode;

use crate::error::ApiError;
use crate::gateway::Gateway;

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
