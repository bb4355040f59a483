//! Every golden case of every built-in pack through the gateway's `POST /v1/evaluate`: admitted
//! (the pack's extension schemas included), decided, recorded and answered as JSON. The decision in
//! the answer meets the case's expectations as the native runner's does; a case that expects an
//! error gets no decision.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tollgate_conformance::{Case, POLICIES, case_files, check, native_policy};
use tollgate_decision::Decision;
use tollgate_gateway::Gateway;
use tollgate_pipeline::{
    Candidate, Gate, NativePolicy, Pipeline, PipelineOptions, SettingsDocument,
};

use crate::common::{Counting, send};

/// `POST /v1/evaluate?now=...` with the case's manifest as JSON.
fn evaluate(
    runtime: &tokio::runtime::Runtime,
    gateway: Arc<Gateway>,
    case: &Case,
) -> (StatusCode, Value) {
    let now = case.now.to_string().replace('+', "%2B");
    let request = Request::post(format!("/v1/evaluate?now={now}"))
        .header("content-type", "application/json")
        .body(Body::from(case.manifest.to_string()))
        .unwrap();
    let (status, bytes) = runtime.block_on(send(gateway, request));
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[test]
fn every_golden_case_of_every_pack_decides_through_the_gateway_as_natively() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut problems = Vec::new();
    let mut decided = 0;
    let mut refused = 0;
    for policy in POLICIES {
        for file in case_files(policy).unwrap() {
            let case = Case::load(&file).unwrap();
            let name = format!(
                "{policy}/{}",
                file.file_stem().unwrap_or_default().to_string_lossy()
            );
            let native = native_policy(policy).unwrap();
            let metadata = native.metadata();
            let settings = case.settings.clone().map(|settings| {
                [(policy.to_owned(), settings)]
                    .into_iter()
                    .collect::<SettingsDocument>()
            });
            let candidate = Candidate::Loaded(Box::new(NativePolicy::from_boxed(native)));
            let options = PipelineOptions {
                settings,
                ..PipelineOptions::default()
            };
            let expected_error = case.expect.error.as_deref();
            let pipeline = match (Pipeline::new(vec![candidate], options), expected_error) {
                // The gateway refuses to start with invalid settings, before any request.
                (Err(_), Some("invalid_settings")) => {
                    refused += 1;
                    continue;
                }
                (Err(error), _) => {
                    problems.push(format!("{name}: the settings were refused: {error}"));
                    continue;
                }
                (Ok(pipeline), _) => pipeline,
            };
            let gateway = Arc::new(Gateway::new(
                Gate::new(pipeline, Box::new(Counting::default())),
                2,
                Duration::from_secs(30),
            ));
            let (status, answer) = evaluate(&runtime, gateway, &case);
            match expected_error {
                Some(kind) if status.is_success() => problems.push(format!(
                    "{name}: expected the error `{kind}`, the gateway answered {status} with a decision"
                )),
                Some(kind) if !answer.to_string().contains(kind) => problems.push(format!(
                    "{name}: expected the error `{kind}`, the gateway answered {status}: {answer}"
                )),
                Some(_) => refused += 1,
                None if status != StatusCode::OK => {
                    problems.push(format!("{name}: the gateway answered {status}: {answer}"));
                }
                None => {
                    let decision: Decision =
                        serde_json::from_value(answer["policies"][0]["decision"].clone())
                            .unwrap_or_else(|e| panic!("{name}: no decision in {answer}: {e}"));
                    match check(&case, &metadata, &Ok(decision)) {
                        Ok(()) => decided += 1,
                        Err(mismatch) => problems.push(format!("{name}: {mismatch}")),
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The four packs have about 200 golden cases; a loader that found none must not pass.
    assert!(decided >= 150, "only {decided} cases decided");
    assert!(refused >= 5, "only {refused} cases refused");
}
