//! The schemas a policy declares (contract 0.3.0): manifest extension namespaces checked before
//! any policy runs, with the field path and line; a policy's own settings checked against its
//! settings schema; the shared `defaults` passed only as far as the schema declares them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::sync::{Arc, Mutex};

use tollgate_decision::{
    Control, ControlResult, ControlStatus, Decision, ExtensionSchema, Outcome, PolicyMetadata,
    RegulatoryReference, Verdict,
};
use tollgate_manifest::{Format, Manifest, Timestamp};
use tollgate_pipeline::{
    Candidate, DecideError, Evaluator, Gate, InputError, InputSource, NoRecord, Pipeline,
    PipelineOptions, PolicyFailure, Submission, parse_settings,
};

fn now() -> Timestamp {
    Timestamp::parse("2026-05-21T00:00:00Z").unwrap()
}

const TIER_SCHEMA: &str = r#"{
  "type": "object",
  "properties": {
    "service_tier": {"enum": ["gold", "silver", "bronze"]},
    "cab_reference": {"type": "string", "pattern": "^CAB-[0-9]+$"}
  },
  "required": ["service_tier"],
  "additionalProperties": false
}"#;

const SETTINGS_SCHEMA: &str = r#"{
  "type": "object",
  "properties": {
    "production_environments": {"type": "array", "items": {"type": "string"}},
    "gold_tier_approvers": {"type": "integer", "minimum": 1}
  },
  "additionalProperties": false
}"#;

/// What the pack was given, call by call.
#[derive(Default)]
struct Seen {
    settings: Vec<String>,
    extensions: Vec<String>,
}

/// A third-party pack without a risk model that declares an extension namespace and a settings
/// schema, and approves.
struct Acme {
    metadata: PolicyMetadata,
    seen: Arc<Mutex<Seen>>,
}

impl Acme {
    fn new(settings_schema: Option<&str>) -> (Self, Arc<Mutex<Seen>>) {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let pack = Self {
            metadata: PolicyMetadata {
                id: "acme".into(),
                framework: "Acme Change Governance".into(),
                version: "1.0.0".into(),
                description: "test".into(),
                controls: vec![Control {
                    id: "CC-01".into(),
                    title: "All changes must have approval".into(),
                    description: "d".into(),
                    references: vec![RegulatoryReference::new("COSO", "CC8.1")],
                    rules: vec!["no-approval".into()],
                    relies_on: Vec::new(),
                }],
                settings_schema: settings_schema.map(str::to_owned),
                extensions: vec![ExtensionSchema {
                    namespace: "acme".into(),
                    description: "Acme's service facts".into(),
                    schema: TIER_SCHEMA.into(),
                }],
            },
            seen: Arc::clone(&seen),
        };
        (pack, seen)
    }
}

impl Evaluator for Acme {
    fn metadata(&self) -> &PolicyMetadata {
        &self.metadata
    }
    fn digest(&self) -> &str {
        "sha256:acme"
    }
    fn validate_settings(&self, settings: &str) -> Result<(), PolicyFailure> {
        self.seen.lock().unwrap().settings.push(settings.to_owned());
        Ok(())
    }
    fn evaluate(
        &self,
        manifest: &Manifest,
        _: &str,
        _: Timestamp,
    ) -> Result<Decision, PolicyFailure> {
        self.seen
            .lock()
            .unwrap()
            .extensions
            .push(serde_json::to_string(&manifest.extensions).unwrap());
        Ok(Decision {
            policy_id: "acme".into(),
            framework: "Acme Change Governance".into(),
            applicable: true,
            outcome: Outcome::Approved,
            risk: None,
            routing: None,
            findings: Vec::new(),
            controls: vec![ControlResult {
                control_id: "CC-01".into(),
                status: ControlStatus::Compliant,
                evidence: vec!["approved".into()],
            }],
            obligations: Vec::new(),
            summary: "Approved.".into(),
        })
    }
}

fn manifest_with(extensions: &str) -> String {
    format!(
        "version: 1
change:
  id: CHG-1
  title: t
  ticket_status: approved
  author: alice
  deployer: bob
  environment: production
{extensions}"
    )
}

fn decide(pack: Acme, manifest: &str) -> Result<tollgate_pipeline::Decided, DecideError> {
    let pipeline = Pipeline::new(
        vec![Candidate::Loaded(Box::new(pack))],
        PipelineOptions::default(),
    )?;
    let submission = Submission::parse(
        "m.yaml",
        "manifest `m.yaml`",
        manifest.to_owned(),
        Format::Yaml,
        now(),
    )
    .unwrap();
    Gate::new(pipeline, NoRecord::new("test")).decide(submission)
}

fn invalid(result: Result<tollgate_pipeline::Decided, DecideError>) -> Vec<InputError> {
    match result {
        Err(DecideError::Invalid(errors)) => errors,
        Err(other) => panic!("expected invalid input, got {other}"),
        Ok(_) => panic!("expected invalid input, got a decision"),
    }
}

#[test]
fn a_declared_namespace_reaches_the_policy_and_a_pack_without_risk_model_decides() {
    let (pack, seen) = Acme::new(None);
    let decided = decide(
        pack,
        &manifest_with("extensions:\n  acme:\n    service_tier: gold\n    cab_reference: CAB-12\n"),
    )
    .unwrap();
    let report = decided.report();
    assert_eq!(report.verdict(), Verdict::Decided(Outcome::Approved));
    assert_eq!(report.combined.risk_class, None);
    assert_eq!(
        seen.lock().unwrap().extensions,
        [r#"{"acme":{"cab_reference":"CAB-12","service_tier":"gold"}}"#]
    );
}

#[test]
fn an_undeclared_namespace_is_refused_with_its_line() {
    let (pack, seen) = Acme::new(None);
    let errors = invalid(decide(
        pack,
        &manifest_with("extensions:\n  acme:\n    service_tier: gold\n  globex:\n    x: 1\n"),
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].source, InputSource::Manifest);
    assert_eq!(errors[0].path.as_deref(), Some("extensions.globex"));
    assert_eq!(errors[0].line, Some(12));
    assert!(
        errors[0]
            .message
            .contains("no loaded policy reads the extension namespace `globex`")
    );
    assert!(errors[0].message.contains("declare: acme"));
    assert!(seen.lock().unwrap().extensions.is_empty(), "no policy ran");
}

#[test]
fn facts_that_break_the_schema_name_the_field_and_line() {
    let (pack, seen) = Acme::new(None);
    let errors = invalid(decide(
        pack,
        &manifest_with("extensions:\n  acme:\n    service_tier: platinum\n    cab_reference: 12\n"),
    ));
    let paths: Vec<_> = errors.iter().map(|e| e.path.clone().unwrap()).collect();
    assert!(
        paths.contains(&"extensions.acme.service_tier".to_owned()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"extensions.acme.cab_reference".to_owned()),
        "{paths:?}"
    );
    let tier = errors
        .iter()
        .find(|e| e.path.as_deref() == Some("extensions.acme.service_tier"))
        .unwrap();
    assert_eq!(tier.line, Some(11));
    assert!(tier.message.contains("platinum"), "{}", tier.message);
    assert!(tier.message.contains("policy `acme`"), "{}", tier.message);
    // A missing required fact names the namespace itself.
    let (pack, _) = Acme::new(None);
    let errors = invalid(decide(
        pack,
        &manifest_with("extensions:\n  acme:\n    cab_reference: CAB-1\n"),
    ));
    assert_eq!(errors[0].path.as_deref(), Some("extensions.acme"));
    assert!(errors[0].message.contains("service_tier"));
    assert!(seen.lock().unwrap().extensions.is_empty(), "no policy ran");
}

#[test]
fn a_namespace_must_be_an_object() {
    let error = Submission::parse(
        "m.yaml",
        "manifest `m.yaml`",
        manifest_with("extensions:\n  acme: gold\n"),
        Format::Yaml,
        now(),
    )
    .unwrap_err();
    assert_eq!(error.path.as_deref(), Some("extensions.acme"));
}

#[test]
fn settings_follow_the_declared_schema_and_defaults_only_where_declared() {
    let options = |text: &str| PipelineOptions {
        settings: Some(parse_settings(text, "settings", Format::Yaml).unwrap()),
        ..PipelineOptions::default()
    };
    // The shared defaults reach the pack only for keys its schema declares.
    let (pack, seen) = Acme::new(Some(SETTINGS_SCHEMA));
    Pipeline::new(
        vec![Candidate::Loaded(Box::new(pack))],
        options("defaults:\n  production_environments: [prod]\n  key_rotation_max_days: 30\nacme:\n  gold_tier_approvers: 2\n"),
    )
    .unwrap();
    assert_eq!(
        seen.lock().unwrap().settings,
        [r#"{"gold_tier_approvers":2,"production_environments":["prod"]}"#]
    );
    // A pack without a schema receives the whole defaults section, as before 0.3.0.
    let (pack, seen) = Acme::new(None);
    Pipeline::new(
        vec![Candidate::Loaded(Box::new(pack))],
        options("defaults:\n  key_rotation_max_days: 30\n"),
    )
    .unwrap();
    assert_eq!(
        seen.lock().unwrap().settings,
        [r#"{"key_rotation_max_days":30}"#]
    );
    // Settings against the schema are refused with the field before the pack sees them.
    let (pack, _) = Acme::new(Some(SETTINGS_SCHEMA));
    let Err(DecideError::Invalid(errors)) = Pipeline::new(
        vec![Candidate::Loaded(Box::new(pack))],
        options("acme:\n  gold_tier_approvers: 0\n"),
    ) else {
        panic!("settings against the schema must be invalid input");
    };
    assert_eq!(errors[0].source, InputSource::Settings);
    assert_eq!(errors[0].policy.as_deref(), Some("acme"));
    assert!(
        errors[0].message.contains("`gold_tier_approvers`"),
        "{}",
        errors[0].message
    );
}

#[test]
fn a_pack_declaring_an_unusable_schema_fails_every_decision() {
    let (mut pack, _) = Acme::new(Some(r#"{"type": 12}"#));
    pack.metadata.extensions.clear();
    let pipeline = Pipeline::new(
        vec![Candidate::Loaded(Box::new(pack))],
        PipelineOptions::default(),
    )
    .unwrap();
    assert_eq!(pipeline.failures().len(), 1);
    assert!(
        pipeline.failures()[0].message.contains("settings schema"),
        "{}",
        pipeline.failures()[0].message
    );
    let (mut pack, _) = Acme::new(None);
    pack.metadata.extensions[0].namespace = "Acme.Corp".into();
    let pipeline = Pipeline::new(
        vec![Candidate::Loaded(Box::new(pack))],
        PipelineOptions::default(),
    )
    .unwrap();
    assert!(pipeline.failures()[0].message.contains("`Acme.Corp`"));
}
