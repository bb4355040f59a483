//! The layer under authorisation: every error is answered in JSON — OPA's shape on OPA's routes,
//! Tollgate's elsewhere — including those axum and the body limit answer as text (unknown route,
//! wrong method, body too large); OPA's routes answer 405 to `HEAD`.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::handler_names::{handler_of, is_opa};

/// Serves `request`, and gives its error answer a JSON body if it has none.
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    let opa_shape = is_opa(handler_of(request.uri().path()));
    // OPA answers 405 to any method but GET and POST; axum would serve HEAD as GET.
    if opa_shape && request.method() == Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed",
        )
        .into_opa_response(false);
    }
    rewrite(next.run(request).await, opa_shape)
}

/// `response`, or the same error with a JSON body (its other headers kept) when it is an error
/// without one.
fn rewrite(response: Response, opa_shape: bool) -> Response {
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
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(),
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
