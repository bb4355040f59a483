//! `deploy/prometheus/tollgate-rules.yaml`: three alerts, and every metric their expressions name
//! is exported by `GET /metrics`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tollgate_gateway::Gateway;
use tollgate_pipeline::{Candidate, Gate, NativePolicy, NoRecord, Pipeline, PipelineOptions};

use crate::promql::{metric_names, scrape};

fn exposition() -> String {
    let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
    let pipeline = Pipeline::new(vec![sox], PipelineOptions::default()).unwrap();
    let gateway = Arc::new(Gateway::new(
        Gate::new(pipeline, Box::new(NoRecord::new("test"))),
        1,
        Duration::from_secs(30),
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { scrape(gateway).await })
}

#[test]
fn every_metric_an_alert_names_is_exported() {
    let path = format!(
        "{}/../../deploy/prometheus/tollgate-rules.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let rules: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(rules["kind"], "PrometheusRule");
    let alerts: Vec<&Value> = rules["spec"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    let names: Vec<&str> = alerts
        .iter()
        .map(|a| a["alert"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "TollgateDecisionLogUnavailable",
            "TollgateUnauthorizedAccessAttempts",
            "TollgateDirectProductionChange"
        ]
    );
    let exposition = exposition();
    let mut checked = 0;
    for alert in alerts {
        let expr = alert["expr"].as_str().unwrap();
        let metrics = metric_names(expr);
        assert!(!metrics.is_empty(), "{expr}");
        for metric in metrics {
            assert!(
                tollgate_gateway::metrics::EXPORTED.contains(&metric.as_str()),
                "{metric} (in `{expr}`) is not a metric of the gateway"
            );
            // Exported from the start, before any request: an alert never waits for a series.
            assert!(
                exposition
                    .lines()
                    .any(|l| l.split(['{', ' ']).next() == Some(metric.as_str())),
                "{metric} is not in a fresh gateway's /metrics:\n{exposition}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 3);
}

#[test]
fn the_kubernetes_manifests_probe_health_and_mount_the_tokens_secret() {
    use serde::Deserialize as _;
    let path = format!(
        "{}/../../deploy/kubernetes/tollgate.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let documents: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap())
        .collect();
    let kinds: Vec<&str> = documents
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "Secret",
        "Deployment",
        "Service",
        "ServiceMonitor",
        "PodDisruptionBudget",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing: {kinds:?}");
    }
    let deployment = documents
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .unwrap();
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    for probe in ["readinessProbe", "livenessProbe"] {
        assert!(
            container[probe]["httpGet"]["path"]
                .as_str()
                .unwrap()
                .starts_with("/health"),
            "{probe}"
        );
    }
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(args.windows(2).any(|w| w == ["--authentication", "token"]));
    assert!(
        args.contains(&"--tls-cert") && args.contains(&"--tls-key"),
        "{args:?}"
    );
    let volumes = &deployment["spec"]["template"]["spec"]["volumes"];
    assert!(
        volumes
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["secret"]["secretName"] == "tollgate-tls"),
        "{volumes}"
    );
    for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
        assert_eq!(container[probe]["httpGet"]["scheme"], "HTTPS", "{probe}");
    }
    let log = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "TOLLGATE_AUDIT_LOG")
        .expect("the decision log comes from the environment");
    assert_eq!(
        log["valueFrom"]["secretKeyRef"]["name"], "tollgate-database",
        "the database URL comes from a Secret"
    );
    let database = documents
        .iter()
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == "tollgate-database")
        .unwrap();
    assert!(
        database["stringData"]["url"]
            .as_str()
            .unwrap()
            .starts_with("postgres://")
    );
    assert_eq!(
        deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"],
        true
    );
}

#[test]
fn the_compose_file_runs_three_gateways_on_one_database_behind_a_balancer() {
    let dir = format!("{}/../../deploy", env!("CARGO_MANIFEST_DIR"));
    let compose: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(format!("{dir}/compose.yaml")).unwrap())
            .unwrap();
    let services = compose["services"].as_object().unwrap();
    let gateways: Vec<&Value> = services
        .iter()
        .filter(|(name, _)| name.starts_with("gateway-"))
        .map(|(_, service)| service)
        .collect();
    assert_eq!(gateways.len(), 3);
    for gateway in gateways {
        assert!(
            gateway["environment"]["TOLLGATE_AUDIT_LOG"]
                .as_str()
                .unwrap()
                .starts_with("postgres://"),
            "{gateway}"
        );
    }
    assert!(services.contains_key("postgres") && services.contains_key("balancer"));
    let haproxy = std::fs::read_to_string(format!("{dir}/haproxy.cfg")).unwrap();
    for name in ["gateway-1", "gateway-2", "gateway-3"] {
        assert!(
            haproxy.contains(&format!("server {name} {name}:8181")),
            "{name}"
        );
    }
}
