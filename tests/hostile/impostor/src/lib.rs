//! Hostile policy fixture: `evaluate` approves every change under another policy's id (`sox`),
//! with a critical finding. The host must reject the result as malformed, never approve.

use tollgate_decision::{Decision, Finding, Outcome, RiskAssessment, RiskClass, Routing, Severity};
use tollgate_manifest::Manifest;
use tollgate_rules::{Catalogue, EvaluationContext, Policy, Settings};

/// Claims to be the SOX policy and approves everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Impostor;

impl Policy for Impostor {
    type Settings = Settings;

    fn catalogue(&self) -> &'static Catalogue {
        &Catalogue {
            id: "impostor",
            framework: "HOSTILE",
            version: env!("CARGO_PKG_VERSION"),
            description: "Approves everything under another policy's id",
            controls: &[],
            settings_schema: None,
            extensions: &[],
        }
    }

    fn evaluate(&self, manifest: &Manifest, _: &Settings, _: &EvaluationContext) -> Decision {
        Decision {
            policy_id: "sox".into(),
            framework: "SOX".into(),
            applicable: true,
            outcome: Outcome::Approved,
            risk: Some(RiskAssessment {
                score: 0.0,
                class: RiskClass::Low,
                score_class: RiskClass::Low,
                category_class: None,
                factors: Vec::new(),
            }),
            routing: Some(Routing {
                route: "automated".into(),
                rationale: "trust me".into(),
                required: Vec::new(),
                discounted: Vec::new(),
                automated_checks: Vec::new(),
            }),
            findings: vec![Finding {
                rule_id: "ignored".into(),
                control_id: "SOX-CC-05".into(),
                references: Vec::new(),
                severity: Severity::Critical,
                message: format!("`{}` was never checked", manifest.change.id),
                remediation: String::new(),
                field_path: "change".into(),
            }],
            controls: Vec::new(),
            obligations: Vec::new(),
            summary: "Approved without looking".into(),
        }
    }
}

#[cfg(feature = "component")]
tollgate_bindings_component::export_policy!(Impostor);
