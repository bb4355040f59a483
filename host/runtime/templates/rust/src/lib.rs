//! {{framework}}: a Tollgate policy pack (`tollgate:policy@0.3.0`) in Rust.
//!
//! One control, `CC-01 All changes must have approval`: a production change needs an approved
//! change ticket and at least one approval by someone other than its author and its deployer,
//! given before the evaluation time. Anywhere else the pack does not apply.
//!
//! The pack is plain Rust against the policy SDK: `cargo test` runs it natively, and
//! `export_policy!` (feature `component`) makes it a component when it is built for
//! `wasm32-unknown-unknown` (see `./build`).

use tollgate_policy_sdk::decision::{
    ControlResult, ControlStatus, Decision, EvalError, Finding, Outcome, Severity,
};
use tollgate_policy_sdk::manifest::{Manifest, TicketStatus};
use tollgate_policy_sdk::{
    Catalogue, ControlEntry, EvaluationContext, ExtensionEntry, Policy, ReferenceEntry, Settings,
};

/// The control's id.
pub const CC_01: &str = "CC-01";
/// Rule: the change ticket is not approved.
pub const TICKET_NOT_APPROVED: &str = "ticket-not-approved";
/// Rule: no approval by someone other than the author and the deployer.
pub const NO_INDEPENDENT_APPROVAL: &str = "no-independent-approval";

/// The JSON Schema (draft 2020-12) of the pack's settings. The host checks settings against it
/// before any evaluation and passes the pack only the shared `defaults` keys it declares
/// (`production_environments`). A Rust pack's settings are the SDK's `Settings`: declare the
/// fields of it that the pack reads.
const SETTINGS_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "production_environments": {
      "description": "Environments whose changes need approval (default [production]).",
      "type": "array",
      "items": { "type": "string", "minLength": 1 },
      "minItems": 1,
      "uniqueItems": true
    }
  },
  "additionalProperties": false
}"#;

/// Manifest extension namespaces the pack reads, each with the JSON Schema of its object; the
/// host validates `extensions.<namespace>` against it before any policy runs and the pack finds
/// the facts in `manifest.extensions`. This pack reads none; for example:
///
/// ```ignore
/// ExtensionEntry {
///     namespace: "acme",
///     description: "Acme change facts: the CAB reference",
///     schema: r#"{"type": "object", "properties": {"cab_reference": {"type": "string"}}, "additionalProperties": false}"#,
/// }
/// ```
const EXTENSIONS: &[ExtensionEntry] = &[];

/// The pack's identity and control catalogue: the one place its regulatory references are
/// written (the host adds them to every finding of the control).
pub static CATALOGUE: Catalogue = Catalogue {
    id: "{{id}}",
    framework: "{{framework}}",
    version: env!("CARGO_PKG_VERSION"),
    description: "{{framework}}: every production change has an approved ticket and an independent approval",
    controls: &[ControlEntry {
        id: CC_01,
        title: "All changes must have approval",
        description: "A production change has an approved change ticket and at least one \
                      approval by someone other than its author and its deployer, given before \
                      the deployment.",
        references: &[
            ReferenceEntry::new("AICPA TSC 2017", "CC8.1"),
            ReferenceEntry::new("ISO/IEC 27001:2022", "A.8.32"),
        ],
        rules: &[TICKET_NOT_APPROVED, NO_INDEPENDENT_APPROVAL],
        relies_on: &[],
    }],
    settings_schema: Some(SETTINGS_SCHEMA),
    extensions: EXTENSIONS,
};

/// The pack.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThePolicy;

impl Policy for ThePolicy {
    /// The SDK's shared settings type; the schema above declares the part of it the pack reads.
    type Settings = Settings;

    fn catalogue(&self) -> &'static Catalogue {
        &CATALOGUE
    }

    /// Settings are the SDK's `Settings` (unknown fields are errors); an error here is the
    /// `invalid-settings` case of `eval-error`, never a denial. Check what the schema cannot.
    fn validate_settings(&self, settings_json: &str) -> Result<Settings, EvalError> {
        let settings = Settings::from_json(settings_json)
            .map_err(|e| EvalError::InvalidSettings(e.to_string()))?;
        if settings
            .production_environments
            .iter()
            .any(|e| e.trim().is_empty())
        {
            return Err(EvalError::InvalidSettings(
                "`production_environments`: an environment name must not be blank".into(),
            ));
        }
        Ok(settings)
    }

    fn evaluate(
        &self,
        manifest: &Manifest,
        settings: &Settings,
        context: &EvaluationContext,
    ) -> Decision {
        let change = &manifest.change;
        if !settings.is_production(&change.environment) {
            return not_applicable(&format!(
                "`{}` is not a production environment",
                change.environment
            ));
        }

        let mut findings = Vec::new();
        let mut evidence = Vec::new();
        if change.ticket_status == TicketStatus::Approved {
            evidence.push(format!("change ticket {} is approved", change.id));
        } else {
            findings.push(finding(
                TICKET_NOT_APPROVED,
                format!("change ticket {} is not approved", change.id),
                "have the change ticket approved before deploying",
                "change.ticket_status",
            ));
        }
        let independent: Vec<&str> = change
            .approvals
            .iter()
            .filter(|a| a.by != change.author && a.by != change.deployer && a.at <= context.now)
            .map(|a| a.by.as_str())
            .collect();
        if independent.is_empty() {
            findings.push(finding(
                NO_INDEPENDENT_APPROVAL,
                format!(
                    "no approval by someone other than the author `{}` and the deployer `{}`, given before the evaluation",
                    change.author, change.deployer
                ),
                "have someone independent of the change approve it",
                "change.approvals",
            ));
        } else {
            evidence.push(format!("approved by {}", independent.join(", ")));
        }

        let outcome = if findings.iter().any(|f| f.severity.denies()) {
            Outcome::Denied
        } else {
            Outcome::Approved
        };
        let summary = match outcome {
            Outcome::Denied => format!(
                "Denied: {}.",
                findings
                    .iter()
                    .map(|f| format!("{} ({})", f.rule_id, f.control_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => "Approved: the change has an approved ticket and an independent approval.".into(),
        };
        let status = if findings.is_empty() {
            ControlStatus::Compliant
        } else {
            ControlStatus::NonCompliant
        };
        Decision {
            policy_id: CATALOGUE.id.into(),
            framework: CATALOGUE.framework.into(),
            applicable: true,
            outcome,
            // No risk model and no approval routing: both are optional in 0.3.0.
            risk: None,
            routing: None,
            findings,
            controls: vec![ControlResult {
                control_id: CC_01.into(),
                status,
                evidence,
            }],
            obligations: Vec::new(),
            summary,
        }
    }
}

/// A denying finding of CC-01. Its regulatory references come from the catalogue.
fn finding(rule_id: &str, message: String, remediation: &str, field_path: &str) -> Finding {
    Finding {
        rule_id: rule_id.into(),
        control_id: CC_01.into(),
        references: CATALOGUE
            .control(CC_01)
            .map(ControlEntry::regulatory_references)
            .unwrap_or_default(),
        severity: Severity::High,
        message,
        remediation: remediation.into(),
        field_path: field_path.into(),
    }
}

/// The decision when the pack does not apply: approved, no findings, every control not applicable.
fn not_applicable(reason: &str) -> Decision {
    Decision {
        policy_id: CATALOGUE.id.into(),
        framework: CATALOGUE.framework.into(),
        applicable: false,
        outcome: Outcome::Approved,
        risk: None,
        routing: None,
        findings: Vec::new(),
        controls: CATALOGUE
            .controls
            .iter()
            .map(|c| ControlResult {
                control_id: c.id.into(),
                status: ControlStatus::NotApplicable,
                evidence: vec![reason.into()],
            })
            .collect(),
        obligations: Vec::new(),
        summary: format!("Not applicable: {reason}."),
    }
}

tollgate_policy_sdk::export_policy!(crate::ThePolicy);
