//! The gateway's errors and their one mapping to HTTP: status, a stable `kind`, a message and
//! details, as `{"error": {"kind", "message", ...}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tollgate_pipeline::{DecideError, InputSource, PolicyError};

/// An error answer of the gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable kind: `invalid_manifest`, `invalid_settings`, `invalid_request`, `policy_failure`,
    /// `audit_unavailable`, `overloaded`, `timeout`, `too_large`, `not_found`, `internal`, ...
    pub kind: &'static str,
    /// What happened.
    pub message: String,
    /// Further fields of the error object (field path, line, failures).
    pub details: Value,
    /// Other top-level fields of the body (the report of a run whose policies failed).
    pub extra: Value,
}

impl ApiError {
    /// An error without details.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            details: Value::Null,
            extra: Value::Null,
        }
    }

    /// A 400 `invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = json!({ "kind": self.kind, "message": self.message });
        if let (Some(error), Value::Object(details)) = (error.as_object_mut(), &self.details) {
            error.extend(details.clone());
        }
        let mut body = json!({ "error": error });
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), &self.extra) {
            body.extend(extra.clone());
        }
        body
    }
}

impl From<DecideError> for ApiError {
    fn from(error: DecideError) -> Self {
        let message = error.to_string();
        match error {
            DecideError::Invalid(errors) => {
                let first = errors.first();
                let kind = match first.map(|e| e.source) {
                    Some(InputSource::Manifest) => "invalid_manifest",
                    Some(InputSource::Settings) => "invalid_settings",
                    Some(InputSource::Waivers) => "invalid_waivers",
                    Some(InputSource::Options) | None => "invalid_request",
                };
                Self {
                    details: json!({
                        "path": first.and_then(|e| e.path.clone()),
                        "line": first.and_then(|e| e.line),
                        "column": first.and_then(|e| e.column),
                    }),
                    ..Self::new(StatusCode::BAD_REQUEST, kind, message)
                }
            }
            DecideError::Policies { failures, .. } => Self {
                details: failure_details(&failures),
                ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, "policy_failure", message)
            },
            DecideError::Unrecorded(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                message,
            ),
            DecideError::Internal(_) => {
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body())
    }
}

/// `{"failures": [{"policy", "kind", "message"}]}`: the details of a `policy_failure`.
pub(crate) fn failure_details(failures: &[PolicyError]) -> Value {
    json!({
        "failures": failures
            .iter()
            .map(|f| json!({ "policy": f.policy, "kind": f.kind, "message": f.message }))
            .collect::<Vec<_>>(),
    })
}

/// A JSON response, pretty-printed with a final newline.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
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
