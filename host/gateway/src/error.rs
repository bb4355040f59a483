//! The gateway's errors and their one mapping to HTTP: status, a stable `kind`, a message and
//! details, as `{"error": {"kind", "message", ...}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tollgate_manifest::MAX_DOCUMENT_BYTES;
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

    /// A 413 `too_large`: a body over the document limit.
    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than the {MAX_DOCUMENT_BYTES}-byte limit"),
        )
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

/// 422 when every failing policy refused the manifest's facts (`invalid_manifest`, such as traced
/// requirements exceeding the affected ones): the request's fault, which no retry mends; else 500.
fn failure_status(failures: &[PolicyError]) -> StatusCode {
    let refused = |f: &PolicyError| {
        f.failure
            .as_ref()
            .map(tollgate_pipeline::PolicyFailure::kind)
            == Some("invalid_manifest")
    };
    if !failures.is_empty() && failures.iter().all(refused) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

impl ApiError {
    /// A 500 (422 when every policy refused the manifest's facts) `policy_failure`: the failures, with the report of the run (a failing policy never
    /// approves).
    pub fn policy_failure(failures: &[PolicyError], report: Value) -> Self {
        let message = format!(
            "{} {} failed; a failing policy never approves",
            failures.len(),
            if failures.len() == 1 {
                "policy"
            } else {
                "policies"
            }
        );
        Self {
            details: failure_details(failures),
            extra: json!({ "report": report }),
            ..Self::new(failure_status(failures), "policy_failure", message)
        }
    }

    /// OPA's error code for this error (`v1/server/types/types.go`).
    pub fn opa_code(&self) -> &'static str {
        match (self.status, self.kind) {
            (_, "policy_failure") => "evaluation_error",
            (_, "undefined_document") => "undefined_document",
            (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _) => "unauthorized",
            (StatusCode::NOT_FOUND, _) => "resource_not_found",
            (StatusCode::METHOD_NOT_ALLOWED, _) => "invalid_operation",
            (status, _) if status.is_client_error() => "invalid_parameter",
            _ => "internal_error",
        }
    }

    /// The body in OPA's shape: `{"code", "message", "errors": [...]}`, with Tollgate's `kind` and
    /// details kept beside them.
    pub fn opa_body(&self) -> Value {
        let code = self.opa_code();
        let mut errors = Vec::new();
        if let Some(failures) = self.details.get("failures").and_then(Value::as_array) {
            for failure in failures {
                errors.push(json!({
                    "code": code,
                    "message": format!(
                        "policy `{}` failed ({}): {}",
                        failure["policy"].as_str().unwrap_or(""),
                        failure["kind"].as_str().unwrap_or(""),
                        failure["message"].as_str().unwrap_or("")
                    ),
                }));
            }
        } else if let Some(path) = self.details.get("path").and_then(Value::as_str) {
            errors.push(
                json!({ "code": code, "message": self.message, "field": format!("input.{path}") }),
            );
        }
        let mut body = json!({ "code": code, "message": self.message, "kind": self.kind });
        if let Some(object) = body.as_object_mut() {
            if !errors.is_empty() {
                object.insert("errors".to_owned(), Value::Array(errors));
            }
            if let Value::Object(extra) = &self.extra {
                object.extend(extra.clone());
            }
        }
        body
    }

    /// The response in OPA's shape, pretty-printed or compact.
    pub fn into_opa_response(self, pretty: bool) -> Response {
        json_text_response(self.status, &self.opa_body(), pretty)
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
                ..Self::new(failure_status(&failures), "policy_failure", message)
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
    json_text_response(status, body, true)
}

/// A response of JSON text already written.
pub(crate) fn json_bytes_response(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A JSON response, pretty-printed with a final newline or compact.
pub(crate) fn json_text_response(status: StatusCode, body: &Value, pretty: bool) -> Response {
    let mut text = if pretty {
        serde_json::to_string_pretty(body).unwrap_or_default()
    } else {
        serde_json::to_string(body).unwrap_or_default()
    };
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
