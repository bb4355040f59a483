//! One admission for every route: `/v1/evaluate`, OPA's Data API (`POST /v1/data/...`,
//! `GET ?input=`, `POST /v0/data/...`, `POST /`) digest the exact bytes received, refuse
//! duplicate keys, and put every refusal on record as a rejected attempt.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tollgate_gateway::Gateway;
use tollgate_pipeline::{
    Candidate, Gate, NativePolicy, Pipeline, PipelineOptions, Receipt, RecordError, Recorder,
    Rejection, Report,
};
use tower::ServiceExt as _;

/// What the recorder was given: the manifest text of each decision, and each rejected attempt.
#[derive(Default, Clone)]
struct Kept {
    decided: Arc<Mutex<Vec<String>>>,
    rejected: Arc<Mutex<Vec<Rejection>>>,
}

impl Recorder for Kept {
    fn record(&self, report: &Report) -> Result<Receipt, RecordError> {
        self.decided
            .lock()
            .unwrap()
            .push(report.manifest_text.clone());
        Ok(Receipt::Recorded {
            id: "d-1".into(),
            log: "memory".into(),
            warnings: vec![],
        })
    }

    fn record_rejected(&self, rejection: &Rejection) -> Result<Receipt, RecordError> {
        self.rejected.lock().unwrap().push(rejection.clone());
        Ok(Receipt::Recorded {
            id: "r-1".into(),
            log: "memory".into(),
            warnings: vec![],
        })
    }
}

fn gateway() -> (Arc<Gateway>, Kept) {
    let kept = Kept::default();
    let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
    let pipeline = Pipeline::new(vec![sox], PipelineOptions::default()).unwrap();
    let gateway = Arc::new(Gateway::new(
        Gate::new(pipeline, Box::new(kept.clone())),
        2,
        Duration::from_secs(30),
    ));
    (gateway, kept)
}

/// The example manifest as JSON text.
fn manifest() -> String {
    let path = format!(
        "{}/../../examples/manifests/self-approval-denied.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let value: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::to_string_pretty(&value).unwrap()
}

fn status_of(gateway: &Arc<Gateway>, request: Request<Body>) -> StatusCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tollgate_gateway::router(Arc::clone(gateway))
            .oneshot(request)
            .await
            .unwrap()
            .status()
    })
}

fn post(path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(body.into())
        .unwrap()
}

/// The manifest with `change.environment` given twice, staging then production (as text: a
/// parser that keeps the last would decide a production change).
fn duplicate_environment() -> String {
    let text = manifest();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("\"environment\""))
        .unwrap();
    text.replacen(
        line,
        &format!(
            "{},\n{line}",
            line.replace("production", "staging").trim_end_matches(',')
        ),
        1,
    )
}

/// Inputs every route refuses: invalid JSON, nesting 100k deep, a number out of range, an
/// unknown field, `null`, a repeated key.
fn bad_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let unknown = manifest().replacen('{', "{\"unexpected\": 1,", 1);
    vec![
        ("invalid JSON", b"{\"change\": ".to_vec()),
        ("deep nesting", deep.into_bytes()),
        ("1e400", b"{\"change\": 1e400}".to_vec()),
        ("unknown field", unknown.into_bytes()),
        ("null", b"null".to_vec()),
        ("duplicate key", duplicate_environment().into_bytes()),
        ("invalid UTF-8", b"{\"change\": \"\xff\xfe\"}".to_vec()),
    ]
}

#[test]
fn the_duplicate_key_case_is_a_valid_manifest_but_for_the_repeat() {
    let (gateway, kept) = gateway();
    let text = duplicate_environment();
    assert!(text.contains("\"staging\""), "{text}");
    let single = text.replacen("\"environment\": \"staging\",\n", "", 1);
    assert_ne!(single, text);
    assert_eq!(
        status_of(&gateway, post("/v1/evaluate", single)),
        StatusCode::OK
    );
    assert!(kept.rejected.lock().unwrap().is_empty());
}

#[test]
fn every_route_refuses_the_same_inputs_and_records_every_refusal() {
    for (case, input) in bad_inputs() {
        let (gateway, kept) = gateway();
        let mut envelope = b"{\"input\": ".to_vec();
        envelope.extend_from_slice(&input);
        envelope.push(b'}');
        let requests = [
            ("/v1/evaluate", post("/v1/evaluate", input.clone())),
            (
                "/v1/data",
                post("/v1/data/tollgate/decision", envelope.clone()),
            ),
            (
                "/v0/data",
                post("/v0/data/tollgate/decision", input.clone()),
            ),
            ("/", post("/", input.clone())),
        ];
        let count = requests.len();
        for (route, request) in requests {
            assert_eq!(
                status_of(&gateway, request),
                StatusCode::BAD_REQUEST,
                "{case} on {route}"
            );
        }
        let rejected = kept.rejected.lock().unwrap();
        assert_eq!(rejected.len(), count, "{case}: every refusal is recorded");
        assert!(kept.decided.lock().unwrap().is_empty(), "{case}");
        for rejection in rejected.iter() {
            assert_eq!(rejection.exit_code, 2, "{case}");
            if case != "invalid UTF-8" {
                assert!(rejection.input_text.is_some(), "{case}");
            }
        }
    }
}

#[test]
fn the_query_input_is_admitted_and_refused_alike() {
    let (gateway, kept) = gateway();
    let query = "/v1/data/tollgate/decision?input=%7B%22change%22%3A%201e400%7D";
    assert_eq!(
        status_of(&gateway, Request::get(query).body(Body::empty()).unwrap()),
        StatusCode::BAD_REQUEST
    );
    let rejected = kept.rejected.lock().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        rejected[0].input_text.as_deref(),
        Some("{\"change\": 1e400}")
    );
}

#[test]
fn a_malformed_envelope_is_refused_and_recorded() {
    let input = manifest();
    let bodies: Vec<Vec<u8>> = vec![
        format!("{{\"input\": {input}, \"input\": {input}}}").into_bytes(),
        format!("{{\"input\": {input}}} trailing").into_bytes(),
        format!("[{input}]").into_bytes(),
        b"{\"input\": {}, \xff}".to_vec(),
        b"{not json".to_vec(),
    ];
    for body in bodies {
        let (gateway, kept) = gateway();
        assert_eq!(
            status_of(&gateway, post("/v1/data/tollgate/decision", body.clone())),
            StatusCode::BAD_REQUEST,
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(kept.rejected.lock().unwrap().len(), 1);
        assert!(kept.decided.lock().unwrap().is_empty());
    }
}

#[test]
fn the_recorded_manifest_is_the_exact_input_bytes_received() {
    let (gateway, kept) = gateway();
    // Spacing and key order a re-serialised copy would not keep.
    let input = manifest().replace(": ", " :  ");
    let body = format!("{{ \"other\": [1, 2],\n \"input\" :\t{input} }}");
    assert_eq!(
        status_of(&gateway, post("/v1/data/tollgate/decision", body)),
        StatusCode::OK
    );
    assert_eq!(
        status_of(&gateway, post("/", input.clone())),
        StatusCode::OK
    );
    let decided = kept.decided.lock().unwrap();
    assert_eq!(decided.as_slice(), [input.clone(), input]);
}
