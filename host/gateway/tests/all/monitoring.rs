//! `GET /metrics` as Prometheus reads it: `promtool check metrics` accepts what is served under
//! the content type it is served with; every series the dashboard and the alerts read is there at
//! zero before its first event; marks are counted from the log (once, whoever wrote them); the
//! log-health gauge follows a probe. `promtool test rules` runs the alert rules and the gate stop
//! rate of the dashboard on series scraped from the gateway.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tollgate_gateway::{DynRecorder, Gateway, MarkAnswer, MarkError, MarkRequest, Marker};
use tollgate_pipeline::{
    Candidate, Gate, NativePolicy, NoRecord, Pipeline, PipelineOptions, Receipt, RecordError,
    Recorder, Report,
};
use tower::ServiceExt as _;

/// Prometheus 2.42's `Accept` header.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// A decision log as the gateway sees it between requests: a count of direct production changes
/// that other writers may grow, and whether it takes records.
#[derive(Clone, Default)]
struct SharedLog {
    direct: Arc<AtomicU64>,
    full: Arc<AtomicBool>,
}

impl Marker for SharedLog {
    fn mark(&self, request: &MarkRequest) -> Result<MarkAnswer, MarkError> {
        self.direct.fetch_add(1, Ordering::SeqCst);
        Ok(MarkAnswer {
            id: format!("mark-of-{}", request.change),
            decision_id: None,
            direct_production_change: true,
        })
    }

    fn direct_production_changes(&self) -> Result<u64, MarkError> {
        Ok(self.direct.load(Ordering::SeqCst))
    }

    fn probe(&self) -> Result<(), MarkError> {
        if self.full.load(Ordering::SeqCst) {
            Err(MarkError::Log("no space left on device".into()))
        } else {
            Ok(())
        }
    }
}

/// Records while the shared log is not full.
struct Recording(SharedLog);

impl Recorder for Recording {
    fn record(&self, _report: &Report) -> Result<Receipt, RecordError> {
        if self.0.full.load(Ordering::SeqCst) {
            return Err(RecordError::new("no space left on device"));
        }
        Ok(Receipt::Recorded {
            id: "d".into(),
            log: "memory".into(),
            warnings: vec![],
        })
    }
}

fn gateway_with(recorder: DynRecorder, log: &SharedLog) -> Arc<Gateway> {
    let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
    let pipeline = Pipeline::new(vec![sox], PipelineOptions::default()).unwrap();
    Arc::new(
        Gateway::new(Gate::new(pipeline, recorder), 2, Duration::from_secs(30))
            .with_marker(Box::new(log.clone())),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Status, content type and body of a request.
fn call(gateway: &Arc<Gateway>, request: Request<Body>) -> (StatusCode, String, String) {
    runtime().block_on(async {
        let response = tollgate_gateway::router(Arc::clone(gateway))
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            content_type,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    })
}

fn scrape(gateway: &Arc<Gateway>) -> String {
    let (status, _, text) = call(
        gateway,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    );
    assert_eq!(status, StatusCode::OK);
    text
}

fn example(name: &str) -> String {
    let path = format!(
        "{}/../../examples/manifests/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

/// Decides an example manifest; returns its verdict.
fn decide(gateway: &Arc<Gateway>, name: &str) -> String {
    let request = Request::post("/v1/evaluate?now=2026-06-01T00:00:00Z")
        .body(Body::from(example(name)))
        .unwrap();
    let (status, _, body) = call(gateway, request);
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    report["outcome"].as_str().unwrap().to_owned()
}

fn mark(gateway: &Arc<Gateway>, change: &str) {
    let body = json!({ "change": change, "status": "deployed" }).to_string();
    let request = Request::post("/v1/marks")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, _, body) = call(gateway, request);
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Runs `promtool` with `args` and `input` on standard input; its status and output.
fn promtool(args: &[&str], input: &str) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's `prometheus` package; `tests/setup` installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// The value of the sample `line` (name and labels as exposed) in a text exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.trim().parse().unwrap())
}

#[test]
fn promtool_accepts_the_text_format_which_is_what_is_served_without_asking() {
    let log = SharedLog::default();
    let gateway = gateway_with(Box::new(Recording(log.clone())), &log);
    decide(&gateway, "self-approval-denied.yaml");
    let (status, content_type, text) = call(
        &gateway,
        Request::get("/metrics").body(Body::empty()).unwrap(),
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert!(!text.contains("# EOF"), "{text}");
    assert!(
        text.contains("# TYPE tollgate_decisions_total counter\n"),
        "{text}"
    );
    let (ok, output) = promtool(&["check", "metrics"], &text);
    assert!(ok, "promtool check metrics: {output}\n{text}");
}

#[test]
fn prometheus_is_served_openmetrics_under_its_content_type() {
    let log = SharedLog::default();
    let gateway = gateway_with(Box::new(Recording(log.clone())), &log);
    let (status, content_type, text) = call(
        &gateway,
        Request::get("/metrics")
            .header("accept", PROMETHEUS_ACCEPT)
            .body(Body::empty())
            .unwrap(),
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        content_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        text.contains("# TYPE tollgate_decisions counter\n"),
        "{text}"
    );
}

#[test]
fn every_series_the_dashboard_and_alerts_read_is_exported_at_zero_from_the_start() {
    let log = SharedLog::default();
    let gateway = gateway_with(Box::new(Recording(log.clone())), &log);
    let text = scrape(&gateway);
    for outcome in ["approved", "needs_approval", "denied", "policy_failure"] {
        for environment in ["production", "staging"] {
            let series = format!(
                "tollgate_changes_total{{environment=\"{environment}\",outcome=\"{outcome}\"}}"
            );
            assert_eq!(sample(&text, &series), Some(0.0), "{series}\n{text}");
        }
        let series = format!("tollgate_decisions_total{{policy=\"sox\",outcome=\"{outcome}\"}}");
        assert_eq!(sample(&text, &series), Some(0.0), "{series}\n{text}");
    }
    let (_, _, policies) = call(
        &gateway,
        Request::get("/v1/policies").body(Body::empty()).unwrap(),
    );
    let policies: Value = serde_json::from_str(&policies).unwrap();
    let controls: Vec<String> = policies["result"][1]["tollgate"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!controls.is_empty());
    for control in &controls {
        for severity in ["high", "critical"] {
            let series = format!(
                "tollgate_findings_total{{policy=\"sox\",control=\"{control}\",severity=\"{severity}\",waived=\"false\"}}"
            );
            assert_eq!(sample(&text, &series), Some(0.0), "{series}\n{text}");
        }
    }
    // A decision then counts from zero, and no series is counted twice.
    assert_eq!(decide(&gateway, "self-approval-denied.yaml"), "denied");
    let text = scrape(&gateway);
    assert_eq!(
        sample(
            &text,
            "tollgate_changes_total{environment=\"production\",outcome=\"denied\"}"
        ),
        Some(1.0)
    );
}

#[test]
fn marks_are_counted_from_the_log_once_wherever_they_were_made() {
    let log = SharedLog::default();
    let gateway = gateway_with(Box::new(NoRecord::new("test")), &log);
    let count = |gateway: &Arc<Gateway>| {
        sample(&scrape(gateway), "production_changes_without_ticket_total").unwrap()
    };
    assert_eq!(count(&gateway), 0.0);
    mark(&gateway, "CHG-1");
    assert_eq!(count(&gateway), 1.0, "a mark made here counts once");
    // Two marks written by another writer (`tollgate audit mark`, another gateway).
    log.direct.fetch_add(2, Ordering::SeqCst);
    gateway.refresh();
    assert_eq!(count(&gateway), 3.0);
    mark(&gateway, "CHG-2");
    assert_eq!(count(&gateway), 4.0);
    gateway.refresh();
    assert_eq!(count(&gateway), 4.0, "a count taken twice adds nothing");
}

#[test]
fn the_log_health_gauge_is_probed_not_only_set_by_writes() {
    let log = SharedLog::default();
    let gateway = gateway_with(Box::new(Recording(log.clone())), &log);
    let up = |gateway: &Arc<Gateway>| sample(&scrape(gateway), "tollgate_audit_log_up").unwrap();
    assert_eq!(up(&gateway), 1.0);
    log.full.store(true, Ordering::SeqCst);
    let request = Request::post("/v1/evaluate")
        .body(Body::from(example("self-approval-denied.yaml")))
        .unwrap();
    assert_eq!(call(&gateway, request).0, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(up(&gateway), 0.0);
    // Space is freed; no decision is written, the probe finds the log writable again.
    log.full.store(false, Ordering::SeqCst);
    assert_eq!(up(&gateway), 0.0);
    gateway.refresh();
    assert_eq!(up(&gateway), 1.0);
    // And a probe finds a full disk before any write does.
    log.full.store(true, Ordering::SeqCst);
    gateway.refresh();
    assert_eq!(up(&gateway), 0.0);
}

/// Samples of the named metrics in a text exposition, keyed by series (with `extra` labels).
fn series_of(text: &str, names: &[&str], extra: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let name = series.split('{').next()?;
            if !names.contains(&name) {
                return None;
            }
            let labelled = match series.strip_suffix('}') {
                Some(open) => format!("{open},{extra}}}"),
                None => format!("{series}{{{extra}}}"),
            };
            Some((labelled, value.parse().ok()?))
        })
        .collect()
}

/// promtool's `input_series` of scrapes taken one minute apart (a missing sample is `_`).
fn input_series(scrapes: &[BTreeMap<String, f64>]) -> Vec<Value> {
    let mut all: Vec<&String> = scrapes.iter().flat_map(BTreeMap::keys).collect();
    all.sort();
    all.dedup();
    all.into_iter()
        .map(|series| {
            let values: Vec<String> = scrapes
                .iter()
                .map(|s| s.get(series).map_or("_".to_owned(), |v| v.to_string()))
                .collect();
            json!({ "series": series, "values": values.join(" ") })
        })
        .collect()
}

fn deploy_file(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../deploy/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The alert rule named `name` of the PrometheusRule.
fn alert(rules: &Value, name: &str) -> Value {
    rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .find(|r| r["alert"] == name)
        .cloned()
        .unwrap()
}

#[test]
fn promtool_runs_the_alerts_and_the_stop_rate_on_scraped_series() {
    let log = SharedLog::default();
    let gateway = gateway_with(Box::new(Recording(log.clone())), &log);
    let names = [
        "tollgate_audit_log_up",
        "production_changes_without_ticket_total",
        "tollgate_changes_total",
    ];
    let labels = "namespace=\"tollgate\",pod=\"tollgate-0\"";
    let take = |gateway: &Arc<Gateway>| series_of(&scrape(gateway), &names, labels);
    // Minute 0: the gateway has started.
    let started = take(&gateway);
    // Minute 1: three changes decided, the log then fills up and is probed down.
    let verdicts = [
        decide(&gateway, "self-approval-denied.yaml"),
        decide(&gateway, "business-logic-needs-tech-lead.yaml"),
        decide(&gateway, "low-risk-config-auto-approved.yaml"),
    ];
    let stops = verdicts.iter().filter(|v| *v != "approved").count();
    assert!(stops > 0 && stops < verdicts.len(), "{verdicts:?}");
    log.full.store(true, Ordering::SeqCst);
    gateway.refresh();
    let down = take(&gateway);
    // Minute 5: space freed, found by the probe; a production change deployed without a ticket.
    log.full.store(false, Ordering::SeqCst);
    gateway.refresh();
    let freed = take(&gateway);
    mark(&gateway, "CHG-direct");
    let marked = take(&gateway);
    let mut scrapes = vec![started, down.clone(), down.clone(), down.clone(), down];
    scrapes.extend(std::iter::repeat_n(freed, 2));
    scrapes.extend(std::iter::repeat_n(marked, 8));

    let prometheus_rule: Value =
        serde_yaml_ng::from_str(&deploy_file("prometheus/tollgate-rules.yaml")).unwrap();
    let rules = &prometheus_rule["spec"];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), rules.to_string()).unwrap();

    let unavailable = alert(rules, "TollgateDecisionLogUnavailable");
    let direct = alert(rules, "TollgateDirectProductionChange");
    let annotations = |rule: &Value| {
        let mut annotations = rule["annotations"].clone();
        for value in annotations.as_object_mut().unwrap().values_mut() {
            *value = Value::String(
                value
                    .as_str()
                    .unwrap()
                    .replace("{{ $labels.pod }}", "tollgate-0"),
            );
        }
        annotations
    };
    let dashboard: Value = serde_json::from_str(&deploy_file("grafana/tollgate.json")).unwrap();
    let stop_rate = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["title"]
                .as_str()
                .is_some_and(|t| t.to_lowercase().contains("stop rate"))
        })
        .map(|p| p["targets"][0]["expr"].as_str().unwrap().to_owned())
        .expect("a gate stop rate panel");
    let tests = json!({
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": input_series(&scrapes),
            "alert_rule_test": [
                { "eval_time": "1m", "alertname": "TollgateDecisionLogUnavailable", "exp_alerts": [] },
                {
                    "eval_time": "3m",
                    "alertname": "TollgateDecisionLogUnavailable",
                    "exp_alerts": [{
                        "exp_labels": { "severity": "critical", "namespace": "tollgate", "pod": "tollgate-0" },
                        "exp_annotations": annotations(&unavailable),
                    }],
                },
                { "eval_time": "6m", "alertname": "TollgateDecisionLogUnavailable", "exp_alerts": [] },
                { "eval_time": "6m", "alertname": "TollgateDirectProductionChange", "exp_alerts": [] },
                {
                    "eval_time": "8m",
                    "alertname": "TollgateDirectProductionChange",
                    "exp_alerts": [{
                        "exp_labels": { "severity": "critical", "namespace": "tollgate" },
                        "exp_annotations": annotations(&direct),
                    }],
                },
            ],
            "promql_expr_test": [{
                "expr": format!("round({} * 1000)", stop_rate.replace("$__range", "10m")),
                "eval_time": "10m",
                "exp_samples": [{
                    "labels": "{}",
                    "value": (stops as f64 * 1000.0 / verdicts.len() as f64).round(),
                }],
            }],
        }],
    });
    std::fs::write(dir.path().join("tests.yaml"), tests.to_string()).unwrap();
    let output = Command::new("promtool")
        .args(["test", "rules", "tests.yaml"])
        .current_dir(dir.path())
        .output()
        .expect("promtool (Debian's `prometheus` package; `tests/setup` installs it)");
    assert!(
        output.status.success(),
        "promtool test rules:\n{}{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        serde_json::to_string_pretty(&tests).unwrap()
    );
}
