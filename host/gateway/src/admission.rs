//! Admission, the first step of every decision (`/v1/evaluate`, OPA's Data API, `POST /`): a
//! bounded body is read, and its exact bytes must be UTF-8 text of a manifest that the manifest
//! parser reads strictly. Every refusal is put on record as a rejected attempt before its 400 is
//! answered.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use tollgate_manifest::{Format, MAX_DOCUMENT_BYTES, Timestamp};
use tollgate_pipeline::{DecideError, InputError, InputSource, Rejection, Submission, exit};

use crate::error::ApiError;
use crate::gateway::Gateway;

/// Reads the body, at most [`MAX_DOCUMENT_BYTES`] (the limit layer stops larger ones).
pub(crate) async fn read_body(body: Body) -> Result<Bytes, ApiError> {
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
                ApiError::too_large()
            } else {
                ApiError::bad_request("the request body could not be read")
            }
        })
}

/// A manifest as a route received it, before admission.
pub(crate) struct Received<'a> {
    /// The manifest path recorded: `<request>`, `<input>`.
    pub(crate) path: &'static str,
    /// What messages call it: `manifest`, `input`.
    pub(crate) subject: &'static str,
    /// The manifest's bytes exactly as received (their digest is recorded).
    pub(crate) bytes: &'a [u8],
    /// The format, or `None` to tell JSON from YAML by the text.
    pub(crate) format: Option<Format>,
    /// The evaluation time.
    pub(crate) now: Timestamp,
}

/// Admits a manifest: the exact bytes received must be UTF-8 text of a manifest, which the
/// manifest parser reads strictly (unknown fields, duplicate keys, nesting past its depth limit,
/// numbers out of range refused). A refusal is on record before it is returned.
pub(crate) async fn admit(
    gateway: &Arc<Gateway>,
    received: Received<'_>,
) -> Result<Submission, ApiError> {
    let Ok(text) = std::str::from_utf8(received.bytes) else {
        let error = InputError::new(
            InputSource::Manifest,
            format!("the {} is not UTF-8 text", received.subject),
        );
        return Err(refuse(gateway, error, received.path, None, received.now).await);
    };
    let format = received
        .format
        .unwrap_or_else(|| Format::detect(None, text));
    match Submission::parse(
        received.path,
        received.subject,
        text.to_owned(),
        format,
        received.now,
    ) {
        Ok(submission) => Ok(submission),
        Err(error) => Err(refuse(
            gateway,
            error,
            received.path,
            Some(text.to_owned()),
            received.now,
        )
        .await),
    }
}

/// Refuses an input before any decision: puts the rejected attempt on record (the input's text
/// when it is text), then gives the 400 to answer.
pub(crate) async fn refuse(
    gateway: &Arc<Gateway>,
    error: InputError,
    path: &str,
    text: Option<String>,
    now: Timestamp,
) -> ApiError {
    let rejection = Rejection::of_input(&error, path, text, now, exit::INVALID_INPUT);
    reject(gateway, rejection).await;
    ApiError::from(DecideError::from(error))
}

/// Puts a request refused before any decision on record through the gate's recorder (on the
/// blocking pool: the record is made durable). The answer stays the refusal; a record that cannot
/// be written is reported on standard error, as the server's log.
async fn reject(gateway: &Arc<Gateway>, rejection: Rejection) {
    let rejection = rejection.with_actor(crate::requester::current());
    let gw = Arc::clone(gateway);
    match tokio::task::spawn_blocking(move || gw.current().gate.reject(&rejection)).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            gateway.set_audit_up(false);
            eprintln!("warning: a rejected request could not be recorded: {error}");
        }
        Err(join) => eprintln!("warning: a rejected request could not be recorded: {join}"),
    }
}
