//! The router in-process (`tower::ServiceExt::oneshot`): every answer and its one error mapping.

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
use tollgate_gateway::{DynRecorder, Gateway};
use tollgate_pipeline::{
    Candidate, Gate, NativePolicy, NoRecord, Pipeline, PipelineOptions, Receipt, RecordError,
    Recorder, Report,
};
use tower::ServiceExt as _;

const NOW: &str = "2026-06-01T00:00:00Z";

struct Unwritable;

impl Recorder for Unwritable {
    fn record(&self, _report: &Report) -> Result<Receipt, RecordError> {
        Err(RecordError::new(
            "the audit log `/full/audit.log` is on a full disk",
        ))
    }
}

fn gateway(recorder: DynRecorder, options: PipelineOptions) -> Arc<Gateway> {
    let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
    let pipeline = Pipeline::new(vec![sox], options).unwrap();
    Arc::new(Gateway::new(
        Gate::new(pipeline, recorder),
        2,
        Duration::from_secs(30),
    ))
}

fn example(name: &str) -> String {
    let path = format!(
        "{}/../../examples/manifests/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

fn call(gateway: Arc<Gateway>, request: Request<Body>) -> (StatusCode, Option<String>, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = tollgate_gateway::router(gateway)
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let outcome = response
            .headers()
            .get("tollgate-outcome")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            outcome,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    })
}

fn evaluate(body: impl Into<Body>) -> Request<Body> {
    Request::post(format!("/v1/evaluate?now={NOW}"))
        .body(body.into())
        .unwrap()
}

fn preview() -> DynRecorder {
    Box::new(NoRecord::new("test"))
}

#[test]
fn a_deny_is_a_value_answered_200_with_the_report() {
    let (status, outcome, body) = call(
        gateway(preview(), PipelineOptions::default()),
        evaluate(example("self-approval-denied.yaml")),
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outcome.as_deref(), Some("denied"));
    assert_eq!(body["outcome"], "denied", "{body}");
}

#[test]
fn an_invalid_manifest_is_400_with_its_field_and_line() {
    let text = example("self-approval-denied.yaml").replacen("ticket_status", "ticket_stauts", 1);
    let (status, _, body) = call(
        gateway(preview(), PipelineOptions::default()),
        evaluate(text),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["kind"], "invalid_manifest");
    assert_eq!(body["error"]["path"], "change.ticket_stauts");
    assert!(
        body["error"]["line"].as_u64().is_some_and(|l| l > 1),
        "{body}"
    );
}

/// Remembers the rejected attempts it is given.
#[derive(Default, Clone)]
struct Rejections(Arc<std::sync::Mutex<Vec<tollgate_pipeline::Rejection>>>);

impl Recorder for Rejections {
    fn record(&self, _report: &Report) -> Result<Receipt, RecordError> {
        Err(RecordError::new("no decision expected"))
    }

    fn record_rejected(
        &self,
        rejection: &tollgate_pipeline::Rejection,
    ) -> Result<Receipt, RecordError> {
        self.0.lock().unwrap().push(rejection.clone());
        Ok(Receipt::Recorded {
            id: "r-1".into(),
            log: "memory".into(),
            warnings: vec![],
        })
    }
}

#[test]
fn an_invalid_manifest_is_recorded_as_a_rejected_attempt_with_the_same_answer() {
    let rejections = Rejections::default();
    let text = example("self-approval-denied.yaml").replacen("ticket_status", "ticket_stauts", 1);
    let (status, _, body) = call(
        gateway(Box::new(rejections.clone()), PipelineOptions::default()),
        evaluate(text.clone()),
    );
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["kind"], "invalid_manifest");
    let seen = rejections.0.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].input_text.as_deref(), Some(text.as_str()));
    assert_eq!(seen[0].field.as_deref(), Some("change.ticket_stauts"));
    assert_eq!(seen[0].exit_code, 2);
}

#[test]
fn an_unrecorded_decision_is_503_audit_unavailable() {
    let (status, outcome, body) = call(
        gateway(Box::new(Unwritable), PipelineOptions::default()),
        evaluate(example("self-approval-denied.yaml")),
    );
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(outcome, None, "no outcome leaves without its record");
    assert_eq!(body["error"]["kind"], "audit_unavailable");
    assert!(body.get("outcome").is_none());
}

#[test]
fn bad_queries_unknown_routes_and_large_bodies_are_json_errors() {
    let bad_now = Request::post("/v1/evaluate?now=tomorrow")
        .body(Body::from(example("self-approval-denied.yaml")))
        .unwrap();
    let (status, _, body) = call(gateway(preview(), PipelineOptions::default()), bad_now);
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );

    let missing = Request::get("/v1/nothing").body(Body::empty()).unwrap();
    let (status, _, body) = call(gateway(preview(), PipelineOptions::default()), missing);
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    let huge = evaluate(vec![b'#'; tollgate_manifest::MAX_DOCUMENT_BYTES + 1]);
    let (status, _, body) = call(gateway(preview(), PipelineOptions::default()), huge);
    assert_eq!(
        (status, body["error"]["kind"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large"))
    );
}

#[test]
fn a_service_scoped_waiver_applies_with_the_service_query() {
    let waivers = tollgate_waivers::WaiverSet::parse(
        "version: 1\nwaivers:\n  - id: WVR-1\n    rule: sod-self-approval\n    scope: { service: payments }\n    justification: test\n    ticket: CHG-1\n    approved_by: dave\n    expires: 2099-12-31\n",
        "waivers.yaml",
    )
    .unwrap();
    // Self-approval is non-waivable by default: these settings allow it, for the test.
    let settings: tollgate_pipeline::SettingsDocument = [(
        "sox".to_owned(),
        serde_json::json!({"waivers": {"non_waivable": []}}),
    )]
    .into();
    let options = || PipelineOptions {
        settings: Some(settings.clone()),
        waivers: Some(waivers.clone()),
        waivers_file: Some("waivers.yaml".into()),
        ..PipelineOptions::default()
    };
    let text = example("self-approval-denied.yaml");
    let (_, _, without) = call(gateway(preview(), options()), evaluate(text.clone()));
    let with_service = Request::post(format!("/v1/evaluate?now={NOW}&service=payments"))
        .body(Body::from(text))
        .unwrap();
    let (_, _, with) = call(gateway(preview(), options()), with_service);
    let waived = |body: &Value| {
        body["waivers"]["waived"]
            .as_array()
            .is_some_and(|w| !w.is_empty())
    };
    assert!(!waived(&without), "{without}");
    assert!(waived(&with), "{with}");
}

/// A policy refused by the trust (unsigned, altered, untrusted) is a policy failure of every
/// request: 500 `policy_failure` with the reason, never an approval.
#[test]
fn a_refused_policy_is_500_policy_failure_with_the_reason() {
    let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
    let refused = Candidate::Failed(tollgate_pipeline::PolicyError {
        policy: "acme.wasm".into(),
        kind: "untrusted",
        message: "refused before it ran: policy `acme.wasm` is unsigned (no signature file)".into(),
        failure: None,
    });
    let pipeline = Pipeline::new(vec![sox, refused], PipelineOptions::default()).unwrap();
    let gateway = Arc::new(Gateway::new(
        Gate::new(pipeline, preview()),
        2,
        Duration::from_secs(30),
    ));
    let (status, outcome, body) = call(gateway, evaluate(example("self-approval-denied.yaml")));
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(outcome.as_deref(), Some("policy_failure"));
    assert_eq!(body["error"]["kind"], "policy_failure");
    let failure = &body["error"]["failures"][0];
    assert_eq!(failure["kind"], "untrusted");
    assert!(
        failure["message"]
            .as_str()
            .is_some_and(|m| m.contains("unsigned")),
        "{body}"
    );
}
