//! OPA's REST Data API, `/metrics` and `/health` in-process (`tower::ServiceExt::oneshot`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tollgate_gateway::{DynRecorder, Gateway, WaitingLimits};
use tollgate_pipeline::{
    Candidate, Gate, NativePolicy, Pipeline, PipelineOptions, Receipt, RecordError, Recorder,
    Report,
};

use crate::common::{Counting, send};

struct Unwritable;

impl Recorder for Unwritable {
    fn record(&self, _report: &Report) -> Result<Receipt, RecordError> {
        Err(RecordError::new(
            "the audit log `/full/audit.log` is on a full disk",
        ))
    }
}

fn gateway(recorder: DynRecorder) -> Arc<Gateway> {
    let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
    let pipeline = Pipeline::new(vec![sox], PipelineOptions::default()).unwrap();
    Arc::new(Gateway::new(
        Gate::new(pipeline, recorder),
        2,
        Duration::from_secs(30),
    ))
}

fn counting() -> (Arc<Gateway>, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    (gateway(Box::new(Counting(Arc::clone(&count)))), count)
}

/// An example manifest as OPA input (JSON).
fn input(name: &str) -> Value {
    let path = format!(
        "{}/../../examples/manifests/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn call(gateway: &Arc<Gateway>, request: Request<Body>) -> (StatusCode, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (status, bytes) = runtime.block_on(send(Arc::clone(gateway), request));
    (status, String::from_utf8(bytes).unwrap())
}

fn json_call(gateway: &Arc<Gateway>, request: Request<Body>) -> (StatusCode, Value) {
    let (status, text) = call(gateway, request);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn post(path: &str, body: &Value) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[test]
fn the_rules_of_a_policy_are_views_of_one_recorded_decision() {
    let (gateway, count) = counting();
    let denied = json!({ "input": input("self-approval-denied.yaml") });

    let (status, allow) = json_call(&gateway, post("/v1/data/tollgate/sox/allow", &denied));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(allow, json!({ "result": false, "decision_id": "record-1" }));

    let (_, deny) = json_call(&gateway, post("/v1/data/tollgate/sox/deny", &denied));
    let messages = deny["result"].as_array().unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m.as_str().unwrap().contains("alice")),
        "{deny}"
    );
    assert_eq!(deny["decision_id"], "record-2");

    let (_, decision) = json_call(&gateway, post("/v1/data/tollgate/sox/decision", &denied));
    assert_eq!(decision["result"]["id"], "sox");
    assert_eq!(decision["result"]["outcome"], "denied");
    assert_eq!(decision["result"]["decision"]["outcome"], "denied");

    let (_, gate) = json_call(&gateway, post("/v1/data/tollgate/decision", &denied));
    assert_eq!(gate["result"]["outcome"], "denied");
    assert_eq!(gate["result"]["exit_code"], 4);

    // Paths index into the documents, arrays by number; %2F separates segments too.
    let (_, first) = json_call(&gateway, post("/v1/data/tollgate%2Fsox%2Fdeny/0", &denied));
    assert_eq!(first["result"], messages[0]);
    let (_, package) = json_call(&gateway, post("/v1/data/tollgate/sox", &denied));
    assert_eq!(package["result"]["allow"], false);
    assert_eq!(count.load(Ordering::SeqCst), 6);

    let approved = json!({ "input": input("low-risk-config-auto-approved.yaml") });
    let (_, allow) = json_call(&gateway, post("/v1/data/tollgate/sox/allow", &approved));
    assert_eq!(allow["result"], true);
    let (_, deny) = json_call(&gateway, post("/v1/data/tollgate/sox/deny", &approved));
    assert_eq!(deny["result"], json!([]));
}

#[test]
fn undefined_documents_answer_an_empty_object_without_deciding() {
    let (gateway, count) = counting();
    let denied = json!({ "input": input("self-approval-denied.yaml") });
    for path in [
        "/v1/data/tollgate/hipaa/allow",
        "/v1/data/tollgate/sox/permit",
        "/v1/data/other/allow",
    ] {
        let (status, body) = json_call(&gateway, post(path, &denied));
        assert_eq!((status, body), (StatusCode::OK, json!({})), "{path}");
    }
    // Without input every rule is undefined and every package an empty object.
    let (_, leaf) = json_call(&gateway, get("/v1/data/tollgate/sox/allow"));
    assert_eq!(leaf, json!({}));
    let (_, tree) = json_call(&gateway, get("/v1/data/tollgate"));
    assert_eq!(tree, json!({ "result": { "sox": {} } }));
    let (_, warned) = json_call(&gateway, post("/v1/data/tollgate/sox/allow", &json!({})));
    assert_eq!(warned["warning"]["code"], "api_usage_warning");
    assert!(warned.get("result").is_none());
    assert_eq!(count.load(Ordering::SeqCst), 0);

    let (status, body) = json_call(&gateway, post("/v0/data/tollgate/hipaa/allow", &json!({})));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "undefined_document");
}

#[test]
fn get_with_input_pretty_and_metrics_are_honoured() {
    let (gateway, _) = counting();
    let encoded: String = input("low-risk-config-auto-approved.yaml")
        .to_string()
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let (status, text) = call(
        &gateway,
        get(&format!("/v1/data/tollgate/sox/allow?input={encoded}")),
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text.trim(), r#"{"decision_id":"record-1","result":true}"#);
    let (_, text) = call(
        &gateway,
        get(&format!(
            "/v1/data/tollgate/sox/allow?input={encoded}&pretty&metrics"
        )),
    );
    assert!(text.contains("\n  \"result\": true"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    for timer in [
        "timer_rego_input_parse_ns",
        "timer_rego_query_eval_ns",
        "timer_server_handler_ns",
        "timer_tollgate_audit_append_ns",
    ] {
        assert!(body["metrics"][timer].is_u64(), "{timer}: {body}");
    }
}

#[test]
fn errors_take_opas_shape_and_status_codes() {
    let (gateway, count) = counting();
    let mut bad = input("self-approval-denied.yaml");
    let change = bad["change"].as_object_mut().unwrap();
    let status = change.remove("ticket_status").unwrap();
    change.insert("ticket_stauts".into(), status);
    let (code, body) = json_call(
        &gateway,
        post("/v1/data/tollgate/decision", &json!({ "input": bad })),
    );
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "invalid_parameter");
    assert!(body["message"].as_str().unwrap().contains("ticket_stauts"));
    assert_eq!(body["errors"][0]["field"], "input.change.ticket_stauts");

    let (code, body) = json_call(
        &gateway,
        Request::post("/v1/data/tollgate/decision")
            .body(Body::from("{not json"))
            .unwrap(),
    );
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "invalid_parameter");

    let (code, body) = json_call(&gateway, get("/v1/data/tollgate/decision?input=%7Bnot"));
    assert_eq!(
        (code, &body["code"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_parameter"))
    );

    let (code, body) = json_call(
        &gateway,
        Request::delete("/v1/data/tollgate")
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["code"], "invalid_operation");
    let (code, _) = call(
        &gateway,
        Request::head("/v1/data/tollgate")
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[test]
fn an_unwritable_log_is_503_audit_log_up_0_and_unhealthy_plugins() {
    let gateway = gateway(Box::new(Unwritable));
    let (_, metrics) = call(&gateway, get("/metrics"));
    assert!(metrics.contains("\ntollgate_audit_log_up 1\n"), "{metrics}");
    let denied = json!({ "input": input("self-approval-denied.yaml") });
    let (status, body) = json_call(&gateway, post("/v1/data/tollgate/sox/allow", &denied));
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "internal_error");
    assert!(body.get("result").is_none());
    let (_, metrics) = call(&gateway, get("/metrics"));
    assert!(metrics.contains("\ntollgate_audit_log_up 0\n"), "{metrics}");
    let (status, _) = json_call(&gateway, get("/health"));
    assert_eq!(status, StatusCode::OK);
    let (status, body) = json_call(&gateway, get("/health?plugins"));
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body["error"].as_str().unwrap().contains("decision_logs"));
    let (status, _) = json_call(
        &gateway,
        get("/health?plugins&exclude-plugin=decision_logs"),
    );
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn policies_are_listed_as_opa_modules() {
    let (gateway, _) = counting();
    let (status, body) = json_call(&gateway, get("/v1/policies"));
    assert_eq!(status, StatusCode::OK);
    let modules = body["result"].as_array().unwrap();
    let ids: Vec<&str> = modules.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["tollgate", "tollgate/sox"]);
    let sox = &modules[1];
    let path: Vec<&str> = sox["ast"]["package"]["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["value"].as_str().unwrap())
        .collect();
    assert_eq!(path, ["data", "tollgate", "sox"]);
    let rules: Vec<&str> = sox["ast"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["head"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["decision", "allow", "deny"]);
    assert_eq!(sox["tollgate"]["framework"], "SOX");
    let (status, one) = json_call(&gateway, get("/v1/policies/tollgate/sox"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&one["result"], sox);
    let (status, missing) = json_call(&gateway, get("/v1/policies/nothing"));
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["code"], "resource_not_found");
}

#[test]
fn metrics_export_every_series_with_decisions_by_policy_and_outcome() {
    let (gateway, _) = counting();
    let denied = json!({ "input": input("self-approval-denied.yaml") });
    json_call(&gateway, post("/v1/data/tollgate/sox/allow", &denied));
    json_call(&gateway, get("/v1/nothing"));
    let (status, text) = call(&gateway, get("/metrics"));
    assert_eq!(status, StatusCode::OK);
    for name in tollgate_gateway::metrics::EXPORTED {
        assert!(
            text.contains(&format!("# TYPE {name} ")),
            "{name} missing:\n{text}"
        );
    }
    assert!(
        text.contains(r#"tollgate_decisions_total{policy="sox",outcome="denied"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{code="200",handler="v1/data",method="POST"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{code="404",handler="catchall",method="GET"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("tollgate_policy_evaluation_seconds_count 1"),
        "{text}"
    );
    assert!(
        text.contains("tollgate_audit_append_seconds_count 1"),
        "{text}"
    );
}

/// Takes its time to record, so requests pile up.
struct Slow;

impl Recorder for Slow {
    fn record(&self, _report: &Report) -> Result<Receipt, RecordError> {
        std::thread::sleep(Duration::from_millis(300));
        Ok(Receipt::Recorded {
            id: "slow".into(),
            log: "memory".into(),
            warnings: Vec::new(),
        })
    }
}

#[test]
fn over_capacity_requests_are_503_overloaded_at_once_never_a_decision() {
    // One slot: one request evaluates, four wait, the rest are refused.
    let answers = twelve_at_once_on_one_slot(WaitingLimits {
        requests: 4,
        bytes: 256 << 20,
    });
    let decided = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused = overloaded(&answers);
    assert_eq!(decided + refused, 12, "{answers:?}");
    assert!((1..=5).contains(&decided), "{answers:?}");
    assert!(refused >= 7, "{answers:?}");
}

#[test]
fn waiting_requests_are_bounded_by_the_bytes_they_hold_too() {
    // Room for a hundred requests but one byte: the first to wait waits (a request always fits an
    // empty queue), every other one is refused.
    let answers = twelve_at_once_on_one_slot(WaitingLimits {
        requests: 100,
        bytes: 1,
    });
    let decided = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused = overloaded(&answers);
    assert_eq!(decided + refused, 12, "{answers:?}");
    assert!((1..=2).contains(&decided), "{answers:?}");
}

fn overloaded(answers: &[(StatusCode, Value)]) -> usize {
    answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::SERVICE_UNAVAILABLE && b["kind"] == "overloaded")
        .count()
}

/// Twelve denied SOX manifests sent at once to a gateway with one slot, whose recorder takes
/// 300 ms; every answer is a decision or an `overloaded` refusal, and a deny stays a deny.
fn twelve_at_once_on_one_slot(limits: WaitingLimits) -> Vec<(StatusCode, Value)> {
    let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
    let pipeline = Pipeline::new(vec![sox], PipelineOptions::default()).unwrap();
    let gateway = Arc::new(
        Gateway::new(
            Gate::new(pipeline, Box::new(Slow)),
            1,
            Duration::from_secs(30),
        )
        .with_waiting_limits(limits),
    );
    let denied = json!({ "input": input("self-approval-denied.yaml") });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let answers = runtime.block_on(async {
        let calls = (0..12).map(|_| {
            let request = post("/v1/data/tollgate/sox/allow", &denied);
            let gateway = Arc::clone(&gateway);
            tokio::spawn(async move {
                let (status, bytes) = send(gateway, request).await;
                (status, serde_json::from_slice::<Value>(&bytes).unwrap())
            })
        });
        let mut answers = Vec::new();
        for call in calls.collect::<Vec<_>>() {
            answers.push(call.await.unwrap());
        }
        answers
    });
    for (status, body) in &answers {
        if *status == StatusCode::OK {
            assert_eq!(body["result"], false, "a deny stays a deny");
        }
    }
    answers
}
