//! One failing policy through every edge — the CLI, the HTTP gateway and the browser preview's
//! evaluation — gives the same outcome: a policy failure, never a decision, mapped once by each
//! edge (exit 5, HTTP 500 `policy_failure`, `failed`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crate::common::{data, engine, fixtures, shared_cache_dir};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use tollgate_engine::PolicySource;
use tollgate_gateway::Gateway;
use tollgate_pipeline::{Candidate, Evaluator, Gate, NoRecord, Pipeline, PipelineOptions, exit};
use tower::ServiceExt as _;

const NOW: &str = "2026-05-21T00:00:00Z";

fn trap() -> Box<dyn Evaluator> {
    Box::new(
        engine()
            .load(PolicySource::File(fixtures::TRAP.into()))
            .unwrap(),
    )
}

fn manifest_text() -> String {
    std::fs::read_to_string(data("business-logic.yaml")).unwrap()
}

#[test]
fn the_cli_exits_5() {
    let scratch = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["eval", "--now", NOW, "--policy", fixtures::TRAP])
        .arg(data("business-logic.yaml"))
        .arg("--audit-log")
        .arg(scratch.path().join("audit.log"))
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(i32::from(exit::POLICY_FAILURE)));
}

#[test]
fn the_gateway_answers_500_policy_failure() {
    let pipeline =
        Pipeline::new(vec![Candidate::Loaded(trap())], PipelineOptions::default()).unwrap();
    let gate = Gate::new(pipeline, Box::new(NoRecord::new("test")) as _);
    let gateway = Arc::new(Gateway::new(gate, 4, Duration::from_secs(30)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, body) = runtime.block_on(async {
        let request = Request::post(format!("/v1/evaluate?now={NOW}"))
            .body(Body::from(manifest_text()))
            .unwrap();
        let response = tollgate_gateway::router(gateway)
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap(),
        )
    });
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"]["kind"], "policy_failure", "{body}");
    assert_eq!(body["error"]["failures"][0]["policy"], "trap", "{body}");
}

#[test]
fn the_browser_evaluation_fails() {
    let options = tollgate_browser::EvaluateOptions {
        now: Some(NOW.into()),
        ..Default::default()
    };
    let now = tollgate_manifest::Timestamp::parse(NOW).unwrap();
    let result = tollgate_browser::evaluate_with(vec![trap()], &manifest_text(), &options, now);
    let tollgate_browser::Evaluation::Failed { policy, error } = result else {
        panic!("not a failure: {result:?}");
    };
    assert_eq!(policy, "trap");
    assert_eq!(error.kind, "trap");
}
