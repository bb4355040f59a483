//! The harnesses of Tollgate's fuzz targets: one function per parser facing untrusted input, each
//! taking arbitrary bytes and checking what must hold whatever the bytes (no panic; what parses
//! round-trips; waivers never make an outcome stricter nor count an approver that is not
//! independent; nothing but an extension of the checkpointed log verifies; a policy's decision
//! keeps the policy contract; the gateway answers every body with a JSON document and never with a
//! server error other than a policy failure).
//!
//! The same functions run under `cargo fuzz` (`fuzz/`, nightly, libFuzzer: `just fuzz TARGET
//! SECONDS`) and in the stable property campaign of `cargo test` (`src/campaign.rs`: the seed
//! corpora, every kept crash of `fuzz/regressions/`, and a few hundred random mutations of the
//! seeds). A harness reports a broken invariant by panicking, as fuzzers expect.

#[cfg(test)]
mod campaign;
mod seeds;

use std::sync::OnceLock;

use tollgate_decision::{Decision, Outcome};
use tollgate_manifest::IdentityAliases;
use tollgate_manifest::{Format, Manifest, Timestamp};
use tollgate_pipeline::{
    Candidate, Evaluator, Gate, NativePolicy, NoRecord, Pipeline, PipelineOptions, Submission,
};
use tollgate_waivers::{WaiverContext, WaiverSet};

pub use seeds::{regressions, seeds};

/// Every fuzz target, by name (also the names of `fuzz/fuzz_targets/*.rs`).
pub const TARGETS: &[&str] = &[
    "manifest",
    "waivers",
    "settings",
    "ticket",
    "junit",
    "sarif",
    "audit_log",
    "gateway",
    "policy",
];

/// Runs the harness of `target` on `data`; `false` for an unknown target.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "manifest" => manifest(data),
        "waivers" => waivers(data),
        "settings" => settings(data),
        "ticket" => ticket(data),
        "junit" => junit(data),
        "sarif" => sarif(data),
        "audit_log" => audit_log(data),
        "gateway" => gateway(data),
        "policy" => policy(data),
        _ => return false,
    }
    true
}

/// The evaluation time of every harness.
fn now() -> Timestamp {
    Timestamp {
        seconds: 1_779_321_600, // 2026-05-21T00:00:00Z
        nanoseconds: 0,
    }
}

fn natives() -> Vec<Candidate> {
    vec![
        Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy))),
        Candidate::Loaded(Box::new(NativePolicy::new(
            tollgate_policy_hipaa::HipaaPolicy,
        ))),
        Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_pci::PciPolicy))),
        Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_fda::FdaPolicy))),
    ]
}

fn evaluators() -> &'static [NativePolicy] {
    static POLICIES: OnceLock<Vec<NativePolicy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        vec![
            NativePolicy::new(tollgate_policy_sox::SoxPolicy),
            NativePolicy::new(tollgate_policy_hipaa::HipaaPolicy),
            NativePolicy::new(tollgate_policy_pci::PciPolicy),
            NativePolicy::new(tollgate_policy_fda::FdaPolicy),
        ]
    })
}

/// A valid manifest every harness that needs one decides.
fn example_manifest() -> &'static Manifest {
    static MANIFEST: OnceLock<Manifest> = OnceLock::new();
    MANIFEST.get_or_init(|| {
        let parsed = Manifest::from_text(seeds::EXAMPLE_MANIFEST, Format::Yaml);
        assert!(parsed.is_ok(), "the example manifest parses: {parsed:?}");
        parsed.unwrap_or_else(|_| unreachable!())
    })
}

/// Manifest text, YAML and JSON: errors are values with a message; what parses round-trips
/// through JSON unchanged (what the decision record and the policies receive).
pub fn manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Yaml, Format::Json] {
        match Manifest::from_text(text, format) {
            Err(error) => {
                assert!(!error.to_string().is_empty());
            }
            Ok(manifest) => {
                let json = serde_json::to_string(&manifest);
                assert!(json.is_ok(), "a parsed manifest serialises: {json:?}");
                let back = json
                    .as_deref()
                    .map_err(ToString::to_string)
                    .and_then(|j| Manifest::from_text(j, Format::Json).map_err(|e| e.to_string()));
                assert_eq!(
                    back.as_ref(),
                    Ok(&manifest),
                    "a parsed manifest round-trips through JSON"
                );
            }
        }
    }
}

/// The policies' decisions on the example manifest, which the waiver harness waives.
fn decisions() -> &'static [Decision] {
    static DECISIONS: OnceLock<Vec<Decision>> = OnceLock::new();
    DECISIONS.get_or_init(|| {
        let mut manifest = example_manifest().clone();
        // A denied change with findings of several kinds, separation of duties among them.
        manifest.change.approvals.retain(|a| a.by != "bob");
        evaluators()
            .iter()
            .filter_map(|p| p.evaluate(&manifest, "", now()).ok())
            .collect()
    })
}

/// Waivers files: a file is an error or a set; applying a set never makes an outcome stricter,
/// never waives a non-waivable finding, and never counts a waiver approved by the author or the
/// deployer.
pub fn waivers(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for path in ["waivers.yaml", "waivers.json"] {
        let Ok(set) = WaiverSet::parse(text, path) else {
            continue;
        };
        let aliases = IdentityAliases::new();
        let context = WaiverContext {
            now: now(),
            author: "alice",
            deployer: "carol",
            identities: &aliases,
            environment: "production",
            service: Some("payments"),
        };
        let decisions = decisions();
        let applied = tollgate_waivers::apply(&set, &context, decisions);
        assert_eq!(applied.outcomes.len(), decisions.len());
        for (change, decision) in applied.outcomes.iter().zip(decisions) {
            assert_eq!(change.before, decision.outcome);
            assert!(change.after <= change.before, "a waiver made {change:?}");
            if change.after == Outcome::Approved && change.before != Outcome::Approved {
                assert!(decision.missing_roles().next().is_none());
            }
        }
        let rules = tollgate_waivers::WaiverRules::default();
        for waived in &applied.waived {
            let approver = waived.waiver.approved_by.trim().to_ascii_lowercase();
            assert!(
                approver != "alice" && approver != "carol",
                "a waiver approved by the author or deployer applied: {waived:?}"
            );
            let finding = decisions
                .iter()
                .find(|d| d.policy_id == waived.policy_id)
                .and_then(|d| d.findings.get(waived.finding_index));
            assert!(
                finding.is_some_and(|f| rules.forbidding(f).is_none()),
                "a non-waivable finding was waived: {waived:?}"
            );
        }
    }
}

/// Settings documents: parsed, validated by every policy and by the waiver rules before any
/// evaluation; settings that pass let the gate decide the example manifest.
pub fn settings(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Yaml, Format::Json] {
        let Ok(document) = tollgate_pipeline::parse_settings(text, "settings", format) else {
            continue;
        };
        for section in document.values() {
            let json = section.to_string();
            let _ = tollgate_waivers::WaiverRules::from_settings(&json);
            let _ = tollgate_rules::Settings::from_json(&json);
        }
        let options = PipelineOptions {
            settings: Some(document),
            ..PipelineOptions::default()
        };
        if let Ok(pipeline) = Pipeline::new(natives(), options) {
            let gate = Gate::new(pipeline, NoRecord::new("fuzz"));
            let submission = Submission {
                manifest_path: "change.yaml".into(),
                manifest_text: seeds::EXAMPLE_MANIFEST.into(),
                manifest: example_manifest().clone(),
                now: now(),
                service: None,
                actor: None,
            };
            // Settings every policy accepted may still be refused at evaluation (an error, never
            // an approval): only a panic is a finding.
            let _ = gate.decide(submission);
        }
    }
}

/// Change-ticket files (JSON or YAML).
pub fn ticket(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for origin in ["ticket.json", "ticket.yaml"] {
        if let Err(error) = tollgate_gather::Ticket::parse(text, origin) {
            assert!(error.to_string().contains(origin), "{error}");
        }
    }
}

fn suite_kinds() -> &'static tollgate_gather::SuiteKinds {
    static KINDS: OnceLock<tollgate_gather::SuiteKinds> = OnceLock::new();
    KINDS.get_or_init(|| {
        let kinds = tollgate_gather::SuiteKinds::new(&tollgate_gather::JunitConfig::default());
        assert!(kinds.is_ok(), "the default suite kinds build");
        kinds.unwrap_or_else(|_| unreachable!())
    })
}

/// JUnit XML reports.
pub fn junit(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = tollgate_gather::parse_report(text, "report.xml", None, suite_kinds());
    let _ = tollgate_gather::parse_report(text, "report.xml", Some("unit"), suite_kinds());
}

/// SARIF logs.
pub fn sarif(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(summary) = tollgate_gather::parse_log(text, "scan.sarif") {
        let _ = summary.to_manifest();
    }
}

/// Decision-log bytes: verification never panics, and against a checkpoint of the seed log only
/// an extension of it verifies (the checkpointed records, unchanged, first).
pub fn audit_log(data: &[u8]) {
    let lines = tollgate_decision_log::log::split_lines(data);
    let _ = tollgate_decision_log::verify(&lines, None);
    let (checkpoint, records) = seeds::seed_log_checkpoint();
    let verification = tollgate_decision_log::verify(&lines, Some(checkpoint));
    if verification.is_intact() {
        let head: Vec<_> = verification
            .records
            .iter()
            .take(records.len())
            .map(|r| &r.record)
            .collect();
        assert!(
            head.len() == records.len() && head.iter().zip(records).all(|(a, b)| *a == b),
            "a log that is not an extension of the checkpointed one verified"
        );
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build();
        assert!(runtime.is_ok(), "a runtime starts");
        runtime.unwrap_or_else(|_| unreachable!())
    })
}

fn gateway_state() -> &'static std::sync::Arc<tollgate_gateway::Gateway> {
    static GATEWAY: OnceLock<std::sync::Arc<tollgate_gateway::Gateway>> = OnceLock::new();
    GATEWAY.get_or_init(|| {
        let pipeline = Pipeline::new(natives(), PipelineOptions::default());
        assert!(pipeline.is_ok(), "the built-in policies load");
        let pipeline = pipeline.unwrap_or_else(|_| unreachable!());
        std::sync::Arc::new(tollgate_gateway::Gateway::new(
            Gate::new(pipeline, Box::new(NoRecord::new("fuzz"))),
            2,
            std::time::Duration::from_secs(30),
        ))
    })
}

/// Gateway request bodies (`POST /v1/evaluate`, YAML or JSON): every answer is a JSON document;
/// 200 carries a decision, and no body makes the gateway fail otherwise than as a bad request.
pub fn gateway(data: &[u8]) {
    use tower::ServiceExt as _;
    let json = data.first().is_some_and(|b| b % 2 == 0);
    let request = axum::http::Request::post("/v1/evaluate?now=2026-05-21T00:00:00Z")
        .header(
            "content-type",
            if json {
                "application/json"
            } else {
                "application/yaml"
            },
        )
        .body(axum::body::Body::from(data.to_vec()));
    let Ok(request) = request else {
        return;
    };
    let router = tollgate_gateway::router(std::sync::Arc::clone(gateway_state()));
    let (status, body) = runtime().block_on(async {
        let Ok(response) = router.oneshot(request).await;
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        (status, bytes.map(|b| b.to_vec()).unwrap_or_default())
    });
    let value: Result<serde_json::Value, _> = serde_json::from_slice(&body);
    assert!(value.is_ok(), "status {status}: the answer is not JSON");
    let value = value.unwrap_or_default();
    match status {
        200 => assert!(value.get("outcome").is_some(), "200 without an outcome"),
        400 | 413 | 415 | 422 => assert!(value.get("error").is_some()),
        other => unexpected_status(other, &value),
    }
}

/// The policy boundary: arbitrary JSON as the manifest and the settings of each policy. A policy
/// either refuses (an error, never an approval) or returns a decision that keeps the contract.
pub fn policy(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let settings = value
        .get("settings")
        .filter(|s| !s.is_null())
        .map(ToString::to_string)
        .unwrap_or_default();
    let manifest = value
        .get("manifest")
        .cloned()
        .and_then(|m| serde_json::from_value::<Manifest>(m).ok())
        .or_else(|| serde_json::from_value::<Manifest>(value.clone()).ok());
    for policy in evaluators() {
        if policy.validate_settings(&settings).is_err() {
            continue;
        }
        let manifest = manifest.as_ref().unwrap_or_else(|| example_manifest());
        if let Ok(decision) = policy.evaluate(manifest, &settings, now()) {
            let checked = tollgate_pipeline::contract::check_decision(policy.metadata(), &decision);
            assert!(
                checked.is_ok(),
                "policy `{}` broke its contract: {checked:?}",
                policy.metadata().id
            );
        }
    }
}

#[expect(
    clippy::panic,
    reason = "a harness reports a broken invariant by panicking"
)]
fn unexpected_status(status: u16, value: &serde_json::Value) {
    panic!("status {status} for a request body: {value}");
}
