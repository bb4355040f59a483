//! Decisions, control catalogues and evaluation errors: the output side of the Tollgate policy
//! contract (`wit/tollgate.wit`, interface `decision`), as plain Rust values that serialize to the
//! documented JSON shape.
//!
//! A deny is a value ([`Outcome::Denied`]); an [`EvalError`] means the policy could not evaluate and
//! must never be read as an approval.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

mod decision_json;

pub use decision_json::{write_json_f64, write_json_string};

/// Final outcome of one evaluation, ordered from most to least permissive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The change may proceed.
    Approved,
    /// The change may proceed once the missing approvals are given.
    NeedsApproval,
    /// The change must not proceed.
    Denied,
}

impl Outcome {
    /// The stable lowercase name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::NeedsApproval => "needs_approval",
            Self::Denied => "denied",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Risk class, ordered from lowest to highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum RiskClass {
    /// Low risk.
    Low,
    /// Medium risk.
    Medium,
    /// High risk.
    High,
}

impl RiskClass {
    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

impl fmt::Display for RiskClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Severity of a finding, ordered from lowest to highest. [`Severity::High`] and above deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High: denies the change.
    High,
    /// Critical: denies the change.
    Critical,
}

impl Severity {
    /// Whether a finding of this severity denies the change.
    pub fn denies(self) -> bool {
        self >= Self::High
    }

    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Status of one control for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(rename_all = "snake_case")]
pub enum ControlStatus {
    /// The evidence satisfies the control.
    Compliant,
    /// The evidence does not satisfy the control.
    NonCompliant,
    /// The control does not apply.
    NotApplicable,
    /// The control could not be exercised: the evidence it rests on is absent (for example no
    /// infrastructure plan was gathered). Neither compliant nor non-compliant.
    NotAssessed,
    /// The control is satisfied except for required approvals not yet given (the outcome is
    /// needs approval).
    Pending,
}

impl ControlStatus {
    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliant => "compliant",
            Self::NonCompliant => "non_compliant",
            Self::NotApplicable => "not_applicable",
            Self::NotAssessed => "not_assessed",
            Self::Pending => "pending",
        }
    }

    /// Every status, in report order.
    pub const ALL: [Self; 5] = [
        Self::Compliant,
        Self::NonCompliant,
        Self::Pending,
        Self::NotAssessed,
        Self::NotApplicable,
    ];

    /// The name in words, for reports: `compliant`, `non-compliant`, `pending`, `not assessed`,
    /// `not applicable`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Compliant => "compliant",
            Self::NonCompliant => "non-compliant",
            Self::NotApplicable => "not applicable",
            Self::NotAssessed => "not assessed",
            Self::Pending => "pending",
        }
    }

    /// Whether the control was tested and found compliant or non-compliant: the results that
    /// count towards control effectiveness.
    pub fn assessed(self) -> bool {
        matches!(self, Self::Compliant | Self::NonCompliant)
    }
}

impl fmt::Display for ControlStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference into a regulation or control framework.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct RegulatoryReference {
    /// The framework or text, for example `PCI DSS v4.0`.
    pub source: String,
    /// The section, for example `6.5.1`.
    pub section: String,
}

impl RegulatoryReference {
    /// Builds a reference.
    pub fn new(source: impl Into<String>, section: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            section: section.into(),
        }
    }
}

impl fmt::Display for RegulatoryReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.source, self.section)
    }
}

/// A control in a policy's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Control {
    /// Control id, for example `SOX-CC-05`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// What the control requires.
    pub description: String,
    /// Regulatory references it evidences.
    pub references: Vec<RegulatoryReference>,
    /// Rule ids its findings can carry, for example `sod-self-approval`.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Manifest facts whose source must be trusted for the control to rely on them, for example
    /// `evidence.backup_verified`.
    #[serde(default)]
    pub relies_on: Vec<String>,
}

/// The JSON Schema of one manifest extension namespace a policy reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct ExtensionSchema {
    /// Namespace: the manifest's `extensions.<namespace>` object.
    pub namespace: String,
    /// What the namespace holds, in one line.
    pub description: String,
    /// JSON Schema (draft 2020-12) of the namespace's object, as JSON text.
    pub schema: String,
}

/// A policy's identity and control catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct PolicyMetadata {
    /// Stable policy id, for example `sox`.
    pub id: String,
    /// Framework name, for example `SOX`.
    pub framework: String,
    /// Policy version (semver).
    pub version: String,
    /// One-line description.
    pub description: String,
    /// Every control the policy evaluates.
    pub controls: Vec<Control>,
    /// JSON Schema of the policy's own settings object, as JSON text, if it declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_schema: Option<String>,
    /// The manifest extension namespaces the policy reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<ExtensionSchema>,
}

impl PolicyMetadata {
    /// Looks up a control of the catalogue by id.
    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }
}

/// One contribution to the risk score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct RiskFactor {
    /// Factor id, for example `production`.
    pub id: String,
    /// Why it applies.
    pub description: String,
    /// Points added.
    pub points: f64,
}

/// Risk assessment of a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct RiskAssessment {
    /// Total score.
    pub score: f64,
    /// The higher of the score class and the category class.
    pub class: RiskClass,
    /// Class implied by the score alone.
    pub score_class: RiskClass,
    /// Class implied by the change categories alone.
    pub category_class: Option<RiskClass>,
    /// Contributions to the score.
    pub factors: Vec<RiskFactor>,
}

/// One approver role the change requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct RequiredApproval {
    /// Role.
    pub role: String,
    /// Approver satisfying it, if any.
    pub satisfied_by: Option<String>,
}

/// A recorded approval that does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct DiscountedApproval {
    /// Who gave it.
    pub by: String,
    /// Role they acted in.
    pub role: String,
    /// Why it does not count.
    pub reason: String,
}

/// One automated check of the automated-approval path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct AutomatedCheck {
    /// Check id.
    pub id: String,
    /// Whether it passed.
    pub passed: bool,
}

/// How a change is routed for approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Routing {
    /// `automated`, `single-approver`, `multiple-approvers`, `emergency` or `none`.
    pub route: String,
    /// Why this route.
    pub rationale: String,
    /// Required roles and which are satisfied.
    pub required: Vec<RequiredApproval>,
    /// Approvals that do not count.
    pub discounted: Vec<DiscountedApproval>,
    /// Automated checks and their results.
    pub automated_checks: Vec<AutomatedCheck>,
}

impl Routing {
    /// Roles still missing an approval.
    pub fn missing_roles(&self) -> impl Iterator<Item = &str> {
        self.required
            .iter()
            .filter(|r| r.satisfied_by.is_none())
            .map(|r| r.role.as_str())
    }
}

/// One problem found in a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Finding {
    /// Rule id.
    pub rule_id: String,
    /// Control id.
    pub control_id: String,
    /// Regulatory references of the control.
    pub references: Vec<RegulatoryReference>,
    /// Severity.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub remediation: String,
    /// Manifest field path the finding is about.
    pub field_path: String,
}

/// Evaluation of one control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct ControlResult {
    /// Control id.
    pub control_id: String,
    /// Status.
    pub status: ControlStatus,
    /// Evidence statements.
    pub evidence: Vec<String>,
}

/// Something that must be done after the change proceeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Obligation {
    /// Obligation id.
    pub id: String,
    /// Control imposing it.
    pub control_id: String,
    /// What must be done.
    pub description: String,
    /// Deadline in days, if any.
    pub due_within_days: Option<u32>,
}

/// A policy's decision on one change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct Decision {
    /// Deciding policy id.
    pub policy_id: String,
    /// Framework.
    pub framework: String,
    /// Whether the framework applies to the change.
    pub applicable: bool,
    /// Outcome.
    pub outcome: Outcome,
    /// Risk assessment; `None` for a policy without a risk model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskAssessment>,
    /// Approval routing; `None` for a policy that routes no approvals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<Routing>,
    /// Problems found.
    pub findings: Vec<Finding>,
    /// Every control evaluated.
    pub controls: Vec<ControlResult>,
    /// Obligations if the change proceeds.
    pub obligations: Vec<Obligation>,
    /// One-paragraph explanation.
    pub summary: String,
}

impl Decision {
    /// The risk class, if the policy assessed risk.
    pub fn risk_class(&self) -> Option<RiskClass> {
        self.risk.as_ref().map(|risk| risk.class)
    }

    /// The route, if the policy routes approvals.
    pub fn route(&self) -> Option<&str> {
        self.routing.as_ref().map(|routing| routing.route.as_str())
    }

    /// The approver roles the change requires (none without routing).
    pub fn required_approvals(&self) -> &[RequiredApproval] {
        self.routing
            .as_ref()
            .map_or(&[], |routing| routing.required.as_slice())
    }

    /// Roles still missing an approval (none without routing).
    pub fn missing_roles(&self) -> impl Iterator<Item = &str> {
        self.routing.iter().flat_map(Routing::missing_roles)
    }
}

/// Why a policy could not evaluate. Never an approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum EvalError {
    /// The settings are invalid.
    #[error("invalid settings: {0}")]
    InvalidSettings(String),
    /// The manifest cannot be evaluated.
    #[error("invalid manifest: {0}")]
    InvalidManifest(String),
    /// An internal error in the policy.
    #[error("internal policy error: {0}")]
    Internal(String),
}

impl EvalError {
    /// The stable snake_case kind, as serialized in the `kind` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidSettings(_) => "invalid_settings",
            Self::InvalidManifest(_) => "invalid_manifest",
            Self::Internal(_) => "internal",
        }
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        match self {
            Self::InvalidSettings(m) | Self::InvalidManifest(m) | Self::Internal(m) => m,
        }
    }
}

/// Several policies' decisions on one change, combined: the strictest outcome wins and the required
/// roles are the union.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(tsify::Tsify))]
pub struct CombinedDecision {
    /// Strictest outcome of all decisions.
    pub outcome: Outcome,
    /// Highest risk class of the decisions that assessed risk; `None` when none did.
    pub risk_class: Option<RiskClass>,
    /// Union of the required approver roles, in first-seen order.
    pub required_roles: Vec<String>,
    /// Union of the roles still missing an approval.
    pub missing_roles: Vec<String>,
    /// Each policy's decision.
    pub decisions: Vec<Decision>,
}

impl CombinedDecision {
    /// Combines decisions. With no decisions the outcome is [`Outcome::Denied`]: nothing was
    /// evaluated, so nothing can be approved.
    pub fn combine(decisions: Vec<Decision>) -> Self {
        let outcome = decisions
            .iter()
            .map(|d| d.outcome)
            .max()
            .unwrap_or(Outcome::Denied);
        let risk_class = decisions.iter().filter_map(Decision::risk_class).max();
        let mut required_roles = Vec::new();
        let mut missing_roles = Vec::new();
        let mut seen = BTreeSet::new();
        let mut seen_missing = BTreeSet::new();
        for decision in &decisions {
            for requirement in decision.required_approvals() {
                if seen.insert(requirement.role.clone()) {
                    required_roles.push(requirement.role.clone());
                }
            }
            for role in decision.missing_roles() {
                if seen_missing.insert(role.to_owned()) {
                    missing_roles.push(role.to_owned());
                }
            }
        }
        Self {
            outcome,
            risk_class,
            required_roles,
            missing_roles,
            decisions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(id: &str, outcome: Outcome, roles: &[(&str, Option<&str>)]) -> Decision {
        Decision {
            policy_id: id.into(),
            framework: id.to_uppercase(),
            applicable: true,
            outcome,
            risk: Some(RiskAssessment {
                score: 0.0,
                class: RiskClass::Low,
                score_class: RiskClass::Low,
                category_class: None,
                factors: vec![],
            }),
            routing: Some(Routing {
                route: "single-approver".into(),
                rationale: String::new(),
                required: roles
                    .iter()
                    .map(|(role, by)| RequiredApproval {
                        role: (*role).into(),
                        satisfied_by: by.map(Into::into),
                    })
                    .collect(),
                discounted: vec![],
                automated_checks: vec![],
            }),
            findings: vec![],
            controls: vec![],
            obligations: vec![],
            summary: String::new(),
        }
    }

    #[test]
    fn strictest_outcome_wins_and_roles_are_unioned() {
        let combined = CombinedDecision::combine(vec![
            decision("a", Outcome::Approved, &[("TECHNICAL_LEAD", Some("bob"))]),
            decision(
                "b",
                Outcome::NeedsApproval,
                &[("TECHNICAL_LEAD", Some("bob")), ("SECURITY_OFFICER", None)],
            ),
        ]);
        assert_eq!(combined.outcome, Outcome::NeedsApproval);
        assert_eq!(
            combined.required_roles,
            ["TECHNICAL_LEAD", "SECURITY_OFFICER"]
        );
        assert_eq!(combined.missing_roles, ["SECURITY_OFFICER"]);
    }

    #[test]
    fn denial_beats_everything() {
        let combined = CombinedDecision::combine(vec![
            decision("a", Outcome::Denied, &[]),
            decision("b", Outcome::Approved, &[]),
        ]);
        assert_eq!(combined.outcome, Outcome::Denied);
    }

    #[test]
    fn nothing_evaluated_is_not_an_approval() {
        let combined = CombinedDecision::combine(vec![]);
        assert_eq!(combined.outcome, Outcome::Denied);
        assert_eq!(combined.risk_class, None);
    }

    #[test]
    fn decisions_without_a_risk_model_add_no_class_or_roles() {
        let mut plain = decision("plain", Outcome::Approved, &[]);
        plain.risk = None;
        plain.routing = None;
        assert_eq!(
            CombinedDecision::combine(vec![plain.clone()]).risk_class,
            None
        );
        let combined = CombinedDecision::combine(vec![
            plain,
            decision("a", Outcome::NeedsApproval, &[("TECHNICAL_LEAD", None)]),
        ]);
        assert_eq!(combined.risk_class, Some(RiskClass::Low));
        assert_eq!(combined.missing_roles, ["TECHNICAL_LEAD"]);
    }

    #[test]
    fn eval_error_serializes_with_kind() {
        let json = serde_json::to_string(&EvalError::InvalidSettings("x".into())).unwrap();
        assert_eq!(json, r#"{"kind":"invalid_settings","message":"x"}"#);
    }
}

/// The verdict of a run over every policy, as the exit code and every report format show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every policy decided; the strictest outcome after waivers.
    Decided(Outcome),
    /// At least one policy failed: never an approval.
    PolicyFailure,
}

impl Verdict {
    /// The stable name: `approved`, `needs_approval`, `denied` or `policy_failure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Decided(outcome) => outcome.as_str(),
            Self::PolicyFailure => "policy_failure",
        }
    }

    /// Whether the change may proceed.
    pub fn passes(self) -> bool {
        self == Self::Decided(Outcome::Approved)
    }
}
