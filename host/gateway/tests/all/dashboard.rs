//! `deploy/grafana/tollgate.json`: the executive dashboard names only metrics that the gateway's
//! `GET /metrics` exports, with series present once a few changes have been decided.

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
use tollgate_gateway::Gateway;
use tollgate_pipeline::{Candidate, Gate, NativePolicy, NoRecord, Pipeline, PipelineOptions};
use tower::ServiceExt as _;

use crate::promql::{metric_names, scrape};

fn repository_file(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn dashboard() -> Value {
    serde_json::from_str(&repository_file("deploy/grafana/tollgate.json")).unwrap()
}

/// A manifest whose SOX decision is approved, submitted a day and a bit before its last approval.
fn approved_with_submission() -> String {
    repository_file("examples/manifests/schema-and-security-three-approvers.yaml")
        .replacen(
            "  emergency: false\n",
            "  emergency: false\n  submitted_at: 2026-05-27T09:00:00Z\n",
            1,
        )
        .replacen(
            "    # COMPLIANCE_OFFICER pending\n",
            "    - { by: erin, role: COMPLIANCE_OFFICER, at: 2026-05-28T15:00:00Z }\n",
            1,
        )
}

/// `/metrics` of a gateway after it decided an approved change with a submission time, a denied
/// one and one that needs an approval.
fn exposition_after_decisions() -> String {
    let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
    let pipeline = Pipeline::new(vec![sox], PipelineOptions::default()).unwrap();
    let gateway = Arc::new(Gateway::new(
        Gate::new(pipeline, Box::new(NoRecord::new("test"))),
        1,
        Duration::from_secs(30),
    ));
    let manifests = [
        approved_with_submission(),
        repository_file("examples/manifests/self-approval-denied.yaml"),
        repository_file("examples/manifests/schema-and-security-three-approvers.yaml"),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut outcomes = Vec::new();
        for manifest in manifests {
            let response = tollgate_gateway::router(Arc::clone(&gateway))
                .oneshot(
                    Request::post("/v1/evaluate?now=2026-06-01T00:00:00Z")
                        .body(Body::from(manifest))
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            outcomes.push(
                response.headers()["tollgate-outcome"]
                    .to_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        assert_eq!(outcomes, ["approved", "denied", "needs_approval"]);
        scrape(gateway).await
    })
}

/// Every PromQL expression of the dashboard: panel targets (rows' nested panels included) and
/// query variables, with where each is.
fn expressions(dashboard: &Value) -> Vec<(String, String)> {
    fn panels<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
        for panel in list.as_array().into_iter().flatten() {
            out.push(panel);
            panels(&panel["panels"], out);
        }
    }
    let mut all = Vec::new();
    panels(&dashboard["panels"], &mut all);
    let mut found = Vec::new();
    for panel in all {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("a target of panel `{}` has no `expr`", panel["title"]));
            found.push((format!("panel `{}`", panel["title"]), expr.to_owned()));
        }
    }
    for variable in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if variable["type"] == "query" {
            let query = variable["definition"].as_str().unwrap();
            let inner = query
                .strip_prefix("label_values(")
                .and_then(|q| q.split(',').next())
                .unwrap_or(query);
            found.push((format!("variable `{}`", variable["name"]), inner.to_owned()));
        }
    }
    found
}

/// The series names with at least one sample in an exposition.
fn sampled(exposition: &str) -> Vec<&str> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect()
}

/// The metric names the dashboard uses that the gateway does not export, or exports without a
/// sample in `exposition`, each with where it is used.
fn unknown_metrics(dashboard: &Value, exposition: &str) -> Vec<String> {
    let exported = tollgate_gateway::metrics::EXPORTED;
    let samples = sampled(exposition);
    let mut problems = Vec::new();
    for (place, expr) in expressions(dashboard) {
        let names = metric_names(&expr);
        if names.is_empty() {
            problems.push(format!("{place}: no metric in `{expr}`"));
        }
        // Every `tollgate_` identifier must be one of the names read, so none is skipped.
        for (start, _) in expr.match_indices("tollgate_") {
            let word: String = expr[start..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !names.contains(&word) {
                problems.push(format!("{place}: `{word}` was not read as a metric"));
            }
        }
        for name in names {
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| {
                    name.strip_suffix(suffix)
                        .filter(|base| exported.contains(base))
                })
                .unwrap_or(&name);
            if !exported.contains(&base) {
                problems.push(format!("{place}: `{name}` is not a metric of the gateway"));
            } else if !samples.contains(&name.as_str()) {
                problems.push(format!("{place}: `{name}` has no sample in /metrics"));
            }
        }
    }
    problems
}

#[test]
fn every_metric_of_the_dashboard_is_exported_after_a_few_decisions() {
    let dashboard = dashboard();
    let exposition = exposition_after_decisions();
    let problems = unknown_metrics(&dashboard, &exposition);
    assert!(problems.is_empty(), "{problems:#?}\n{exposition}");
    // The approved change's approval time: submitted 2026-05-27T09:00, last required approval
    // 2026-05-28T15:00 = 108000 s, in the two-day bucket and not in the one-day one.
    let bucket = |le: &str| {
        exposition
            .lines()
            .find(|l| {
                l.starts_with("tollgate_approval_time_seconds_bucket{")
                    && l.contains("outcome=\"approved\"")
                    && l.contains(&format!("le=\"{le}\""))
            })
            .unwrap_or_else(|| panic!("no bucket {le}:\n{exposition}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(bucket("86400.0"), "0");
    assert_eq!(bucket("172800.0"), "1");
    assert!(
        exposition.contains("tollgate_approval_time_seconds_sum{outcome=\"approved\"} 108000"),
        "{exposition}"
    );
    assert!(
        exposition
            .contains("tollgate_changes_total{environment=\"production\",outcome=\"approved\"} 1"),
        "{exposition}"
    );
}

#[test]
fn a_panel_naming_a_metric_the_gateway_lacks_is_caught() {
    let mut dashboard = dashboard();
    dashboard["panels"][1]["targets"][0]["expr"] =
        Value::from("sum(rate(tollgate_deployments_total[5m])) + on (x) tollgate_audit_log_up");
    let exposition = exposition_after_decisions();
    let problems = unknown_metrics(&dashboard, &exposition);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains("tollgate_deployments_total"),
        "{problems:#?}"
    );
}

#[test]
fn the_dashboard_is_a_grafana_10_dashboard_over_a_prometheus_input() {
    let dashboard = dashboard();
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 36);
    assert_eq!(dashboard["__inputs"][0]["name"], "DS_PROMETHEUS");
    assert_eq!(dashboard["__inputs"][0]["pluginId"], "prometheus");
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    assert!(
        variables
            .iter()
            .any(|v| v["name"] == "DS_PROMETHEUS" && v["type"] == "datasource"),
        "a data-source variable lets a provisioned copy work without the import dialog"
    );
    let titles: Vec<&str> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] != "row")
        .map(|p| {
            assert_eq!(p["datasource"]["uid"], "${DS_PROMETHEUS}", "{}", p["title"]);
            p["title"].as_str().unwrap()
        })
        .collect();
    for wanted in [
        "Decisions by outcome",
        "Deployment frequency",
        "Direct production changes",
        "Control effectiveness",
        "Decision log writable",
        "Approval time (median and p90)",
    ] {
        assert!(
            titles.iter().any(|t| t.starts_with(wanted)),
            "{wanted} missing: {titles:?}"
        );
    }
    let provisioning: Value =
        serde_yaml_ng::from_str(&repository_file("deploy/grafana/provisioning.yaml")).unwrap();
    assert_eq!(provisioning["providers"][0]["type"], "file");
}
