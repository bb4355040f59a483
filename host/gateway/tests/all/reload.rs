//! A reload while a decision is in flight: the request finishes on the set it started with, the
//! next one is decided by the new set.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tollgate_decision::{Decision, PolicyMetadata};
use tollgate_gateway::{Gateway, Reloaded};
use tollgate_manifest::{Manifest, Timestamp};
use tollgate_pipeline::{
    Candidate, Evaluator, Gate, NativePolicy, Pipeline, PipelineOptions, PolicyFailure,
};

use crate::common::{Counting, send};

/// SOX natively, under another digest, holding every evaluation until the test releases it.
struct Held {
    sox: NativePolicy,
    entered: mpsc::Sender<()>,
    release: Mutex<mpsc::Receiver<()>>,
}

const HELD_DIGEST: &str = "native:sox@held";

impl Evaluator for Held {
    fn metadata(&self) -> &PolicyMetadata {
        self.sox.metadata()
    }

    fn digest(&self) -> &str {
        HELD_DIGEST
    }

    fn validate_settings(&self, settings_json: &str) -> Result<(), PolicyFailure> {
        self.sox.validate_settings(settings_json)
    }

    fn evaluate(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        now: Timestamp,
    ) -> Result<Decision, PolicyFailure> {
        self.entered.send(()).unwrap();
        self.release
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(30))
            .unwrap();
        self.sox.evaluate(manifest, settings_json, now)
    }
}

fn sox() -> NativePolicy {
    NativePolicy::new(tollgate_policy_sox::SoxPolicy)
}

fn gate(
    policy: Box<dyn Evaluator>,
    records: &Arc<AtomicUsize>,
) -> Gate<tollgate_gateway::DynRecorder> {
    let pipeline =
        Pipeline::new(vec![Candidate::Loaded(policy)], PipelineOptions::default()).unwrap();
    Gate::new(pipeline, Box::new(Counting(Arc::clone(records))))
}

fn decision_request() -> Request<Body> {
    let path = format!(
        "{}/../../examples/manifests/business-logic-needs-tech-lead.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let manifest: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    Request::post("/v1/data/tollgate/decision")
        .header("content-type", "application/json")
        .body(Body::from(json!({ "input": manifest }).to_string()))
        .unwrap()
}

async fn decide(gateway: Arc<Gateway>) -> (StatusCode, Value) {
    let (status, bytes) = send(gateway, decision_request()).await;
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn digest_of(answer: &Value) -> &str {
    answer["result"]["policies"][0]["digest"].as_str().unwrap()
}

#[test]
fn a_request_in_flight_finishes_on_its_set_and_the_next_takes_the_reloaded_one() {
    let records = Arc::new(AtomicUsize::new(0));
    let (entered, in_evaluation) = mpsc::channel();
    let (release, released) = mpsc::channel();
    let held = Held {
        sox: sox(),
        entered,
        release: Mutex::new(released),
    };
    let reloaded_records = Arc::clone(&records);
    let gateway = Arc::new(
        Gateway::new(gate(Box::new(held), &records), 4, Duration::from_secs(60)).with_reloader(
            Box::new(move || {
                Ok(Reloaded {
                    gate: gate(Box::new(sox()), &reloaded_records),
                    tokens: None,
                })
            }),
        ),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let in_flight = runtime.spawn(decide(Arc::clone(&gateway)));
    in_evaluation
        .recv_timeout(Duration::from_secs(30))
        .expect("the first request reaches the held policy");

    assert_eq!(gateway.reload().unwrap(), vec!["sox".to_owned()]);
    let (status, after) = runtime.block_on(decide(Arc::clone(&gateway)));
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(digest_of(&after), "native:sox@0.1.0", "{after}");

    release.send(()).unwrap();
    let (status, before) = runtime.block_on(in_flight).unwrap();
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(digest_of(&before), HELD_DIGEST, "{before}");
    assert_eq!(before["result"]["outcome"], after["result"]["outcome"]);
    assert_eq!(records.load(Ordering::SeqCst), 2);
    let reloads = gateway.metrics().render().unwrap();
    assert!(
        reloads.contains("tollgate_reloads_total{result=\"success\"} 1"),
        "{reloads}"
    );
}

#[test]
fn a_refused_reload_keeps_the_old_set_serving() {
    let records = Arc::new(AtomicUsize::new(0));
    let gateway = Arc::new(
        Gateway::new(gate(Box::new(sox()), &records), 4, Duration::from_secs(60)).with_reloader(
            Box::new(|| Err("settings: `sox.required_tests` is invalid".into())),
        ),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let refused = gateway.reload().unwrap_err().to_string();
    assert!(refused.contains("required_tests"), "{refused}");
    let (status, answer) = runtime.block_on(decide(Arc::clone(&gateway)));
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(digest_of(&answer), "native:sox@0.1.0");
    assert!(
        gateway
            .metrics()
            .render()
            .unwrap()
            .contains("tollgate_reloads_total{result=\"failure\"} 1")
    );
}
