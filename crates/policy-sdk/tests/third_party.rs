//! A pack written as a third party would write it, against this crate alone: its own settings
//! type, a settings schema, one manifest extension namespace, and no risk model.

#![allow(clippy::unwrap_used, reason = "tests")]

use tollgate_policy_sdk::decision::{ControlStatus, Decision, EvalError, Outcome};
use tollgate_policy_sdk::manifest::{Format, Manifest, Timestamp};
use tollgate_policy_sdk::{
    Catalogue, Check, ControlEntry, DecisionBuilder, EvaluationContext, ExtensionEntry, Issue,
    Policy, PolicySettings, ReferenceEntry, settings_from_json,
};
use tollgate_policy_sdk::{decision::Severity, serde};

/// Acme's settings: which service tiers need a CAB reference.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(crate = "tollgate_policy_sdk::serde", deny_unknown_fields, default)]
struct AcmeSettings {
    cab_required_for: Vec<String>,
}

impl Default for AcmeSettings {
    fn default() -> Self {
        Self {
            cab_required_for: vec!["gold".into()],
        }
    }
}

impl PolicySettings for AcmeSettings {
    fn from_settings_json(text: &str) -> Result<Self, EvalError> {
        settings_from_json(text)
    }
}

static CATALOGUE: Catalogue = Catalogue {
    id: "acme",
    framework: "Acme Change Governance",
    version: "1.0.0",
    description: "Acme's change advisory board",
    controls: &[ControlEntry {
        id: "CC-01",
        title: "All changes must have approval",
        description: "Gold-tier services change only with a CAB reference.",
        references: &[ReferenceEntry::new("COSO", "CC8.1")],
        rules: &["cab-reference-missing"],
        relies_on: &[],
    }],
    settings_schema: Some(
        r#"{"type":"object","properties":{"cab_required_for":{"type":"array","items":{"type":"string"}}},"additionalProperties":false}"#,
    ),
    extensions: &[ExtensionEntry {
        namespace: "acme",
        description: "Acme's service facts",
        schema: r#"{"type":"object","properties":{"service_tier":{"type":"string"},"cab_reference":{"type":"string"}},"required":["service_tier"]}"#,
    }],
};

struct Acme;

impl Policy for Acme {
    type Settings = AcmeSettings;

    fn catalogue(&self) -> &'static Catalogue {
        &CATALOGUE
    }

    fn evaluate(
        &self,
        manifest: &Manifest,
        settings: &AcmeSettings,
        _context: &EvaluationContext,
    ) -> Decision {
        let facts = manifest.extensions.get("acme");
        let tier = facts
            .and_then(|f| f.get("service_tier"))
            .and_then(|t| t.as_str())
            .unwrap_or("none");
        let has_cab = facts.is_some_and(|f| f.contains_key("cab_reference"));
        let mut issues = Vec::new();
        if settings.cab_required_for.iter().any(|t| t == tier) && !has_cab {
            issues.push(Issue::new(
                "cab-reference-missing",
                Severity::High,
                format!("a {tier}-tier service changes without a CAB reference"),
                "Record the CAB reference in `extensions.acme.cab_reference`",
                "extensions.acme.cab_reference",
            ));
        }
        let mut check = Check::default();
        check.evidence(format!("service tier {tier}"));
        for issue in issues {
            check.issue(issue);
        }
        let mut builder = DecisionBuilder::without_risk_model(&CATALOGUE);
        builder.control("CC-01", check);
        builder.finish()
    }
}

fn manifest(extensions: &str) -> Manifest {
    let text = format!(
        "version: 1\nchange: {{id: C, title: t, ticket_status: approved, author: a, deployer: b, environment: production}}\n{extensions}"
    );
    Manifest::from_text(&text, Format::Yaml).unwrap()
}

fn decide(manifest: &Manifest, settings: &str) -> Result<Decision, EvalError> {
    let now = Timestamp::parse("2026-05-21T00:00:00Z").unwrap();
    Acme.decide(manifest, settings, &EvaluationContext { now })
}

#[test]
fn a_pack_with_its_own_settings_and_no_risk_model_decides() {
    let gold = manifest("extensions: {acme: {service_tier: gold}}");
    let denied = decide(&gold, "").unwrap();
    assert_eq!(denied.outcome, Outcome::Denied);
    assert_eq!(denied.risk, None);
    assert_eq!(denied.routing, None);
    assert_eq!(denied.findings[0].references[0].section, "CC8.1");
    assert!(denied.summary.contains("cab-reference-missing"));

    let approved = decide(&gold, r#"{"cab_required_for": []}"#).unwrap();
    assert_eq!(approved.outcome, Outcome::Approved);
    assert_eq!(approved.controls[0].status, ControlStatus::Compliant);
    assert!(
        approved.summary.contains("no risk model"),
        "{}",
        approved.summary
    );
}

#[test]
fn its_own_settings_errors_name_the_field() {
    let error = decide(&manifest(""), r#"{"cab_required_for": [3]}"#).unwrap_err();
    let EvalError::InvalidSettings(message) = error else {
        panic!("expected invalid settings");
    };
    assert!(message.contains("cab_required_for[0]"), "{message}");
    assert!(decide(&manifest(""), r#"{"shared_accounts": []}"#).is_err());
}

#[test]
fn its_metadata_declares_the_schemas() {
    let metadata = Acme.metadata();
    assert!(metadata.settings_schema.is_some());
    assert_eq!(metadata.extensions[0].namespace, "acme");
}
