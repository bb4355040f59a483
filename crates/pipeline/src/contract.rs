//! The policy contract the pipeline enforces on every policy, native or component, built-in or a
//! third party's: a policy's metadata must be well formed, and a decision must
//! - be the policy's own (id and framework);
//! - answer every control of its catalogue exactly once, and refer to no other control;
//! - cite, in each finding, a rule its control lists and the control's regulatory references;
//! - tell one story: a policy that does not apply approves, finds nothing and marks every control
//!   not applicable; an outcome is `denied` exactly when a finding denies, `needs_approval` only
//!   while a required role is missing, and never softer than its findings or routing allow;
//! - take one of the documented routes, with a risk class that is the higher of the score's and the
//!   categories' classes and a score that is the sum of its factors.
//!
//! A decision that breaks it is a [`PolicyFailure::Malformed`], never trusted.

use std::collections::BTreeSet;

use tollgate_decision::{ControlStatus, Decision, Outcome, PolicyMetadata};

use crate::PolicyFailure;

fn malformed(reason: String) -> Result<(), PolicyFailure> {
    Err(PolicyFailure::Malformed { reason })
}

/// Checks a policy's metadata: a non-blank id without whitespace, a framework name, and control
/// ids that appear once.
pub fn check_metadata(metadata: &PolicyMetadata) -> Result<(), PolicyFailure> {
    if metadata.id.trim().is_empty() || metadata.id.chars().any(char::is_whitespace) {
        return malformed(format!(
            "policy id `{}` is empty or contains whitespace",
            metadata.id
        ));
    }
    if metadata.framework.trim().is_empty() {
        return malformed("framework name is empty".into());
    }
    let mut seen = BTreeSet::new();
    for control in &metadata.controls {
        if !seen.insert(control.id.as_str()) {
            return malformed(format!(
                "control `{}` appears twice in the catalogue",
                control.id
            ));
        }
    }
    Ok(())
}

/// Checks that a decision keeps the contract (see the module documentation).
pub fn check_decision(metadata: &PolicyMetadata, decision: &Decision) -> Result<(), PolicyFailure> {
    if decision.policy_id != metadata.id {
        return malformed(format!(
            "decision names policy `{}`, but the policy's id is `{}`",
            decision.policy_id, metadata.id
        ));
    }
    if decision.framework != metadata.framework {
        return malformed(format!(
            "decision names framework `{}`, but the policy's framework is `{}`",
            decision.framework, metadata.framework
        ));
    }
    if let Some(risk) = &decision.risk
        && (!risk.score.is_finite() || risk.factors.iter().any(|f| !f.points.is_finite()))
    {
        return malformed("risk score is not a finite number".into());
    }
    let unknown = decision
        .findings
        .iter()
        .map(|f| f.control_id.as_str())
        .chain(decision.controls.iter().map(|c| c.control_id.as_str()))
        .chain(decision.obligations.iter().map(|o| o.control_id.as_str()))
        .find(|id| metadata.control(id).is_none());
    if let Some(id) = unknown {
        return malformed(format!(
            "decision refers to control `{id}`, which is not in the policy's catalogue"
        ));
    }
    check_controls_answered(metadata, decision)?;
    check_findings_match_catalogue(metadata, decision)?;
    check_applicability(decision)?;
    check_risk_and_route(decision)?;
    if decision.outcome != Outcome::Denied
        && let Some(finding) = decision.findings.iter().find(|f| f.severity.denies())
    {
        return malformed(format!(
            "outcome is `{}` despite the {} finding `{}`",
            decision.outcome, finding.severity, finding.rule_id
        ));
    }
    if decision.outcome == Outcome::Approved
        && let Some(role) = decision.missing_roles().next()
    {
        return malformed(format!(
            "outcome is `approved` but role `{role}` has not approved"
        ));
    }
    Ok(())
}

/// The routes a decision may take: the four of the approval matrix, and `none` for a policy that
/// does not apply.
pub const ROUTES: [&str; 5] = [
    "automated",
    "single-approver",
    "multiple-approvers",
    "emergency",
    NOT_APPLICABLE_ROUTE,
];

/// The route of a decision whose policy does not apply.
pub const NOT_APPLICABLE_ROUTE: &str = "none";

/// Every control of the catalogue is answered exactly once.
fn check_controls_answered(
    metadata: &PolicyMetadata,
    decision: &Decision,
) -> Result<(), PolicyFailure> {
    let mut answered = BTreeSet::new();
    for result in &decision.controls {
        if !answered.insert(result.control_id.as_str()) {
            return malformed(format!("control `{}` is answered twice", result.control_id));
        }
    }
    if let Some(missing) = metadata
        .controls
        .iter()
        .find(|c| !answered.contains(c.id.as_str()))
    {
        return malformed(format!(
            "control `{}` of the catalogue is not answered (every control needs a status)",
            missing.id
        ));
    }
    Ok(())
}

/// A finding names a rule its control lists, and carries the control's references unchanged.
fn check_findings_match_catalogue(
    metadata: &PolicyMetadata,
    decision: &Decision,
) -> Result<(), PolicyFailure> {
    for finding in &decision.findings {
        let Some(control) = metadata.control(&finding.control_id) else {
            continue; // reported as an unknown control before
        };
        if !control.rules.contains(&finding.rule_id) {
            return malformed(format!(
                "finding `{}` is not a rule of control `{}` (its rules: {})",
                finding.rule_id,
                control.id,
                control.rules.join(", ")
            ));
        }
        if finding.references != control.references {
            return malformed(format!(
                "finding `{}` cites references other than those of control `{}` in the catalogue",
                finding.rule_id, control.id
            ));
        }
    }
    Ok(())
}

/// Applicability, statuses and outcome tell one story: a policy that does not apply approves with
/// every control not applicable and nothing found; one that applies denies only for a denying
/// finding, and asks for approval only for a role that has not approved.
fn check_applicability(decision: &Decision) -> Result<(), PolicyFailure> {
    if !decision.applicable {
        if let Some(finding) = decision.findings.first() {
            return malformed(format!(
                "the policy does not apply, yet it reports finding `{}`",
                finding.rule_id
            ));
        }
        if decision.outcome != Outcome::Approved {
            return malformed(format!(
                "the policy does not apply, yet its outcome is `{}`",
                decision.outcome
            ));
        }
        if let Some(result) = decision
            .controls
            .iter()
            .find(|c| c.status != ControlStatus::NotApplicable)
        {
            return malformed(format!(
                "the policy does not apply, yet control `{}` is `{}`",
                result.control_id, result.status
            ));
        }
        if let Some(role) = decision.required_approvals().first() {
            return malformed(format!(
                "the policy does not apply, yet it requires an approval from `{}`",
                role.role
            ));
        }
        return Ok(());
    }
    if decision.outcome == Outcome::Denied && !decision.findings.iter().any(|f| f.severity.denies())
    {
        return malformed("outcome is `denied` without a denying finding".into());
    }
    if decision.outcome == Outcome::NeedsApproval && decision.missing_roles().next().is_none() {
        return malformed("outcome is `needs_approval` but no required role is missing".into());
    }
    Ok(())
}

/// The route, if the policy routes approvals, is one of [`ROUTES`] (`none` only when the policy
/// does not apply); the risk class, if the policy assesses risk, is the higher of the score's and
/// the categories' classes, and the score is the sum of its factors.
fn check_risk_and_route(decision: &Decision) -> Result<(), PolicyFailure> {
    if let Some(route) = decision.route()
        && (!ROUTES.contains(&route) || (route == NOT_APPLICABLE_ROUTE && decision.applicable))
    {
        return malformed(format!(
            "route `{route}` is not one of {}",
            ROUTES[..4].join(", ")
        ));
    }
    let Some(risk) = &decision.risk else {
        return Ok(());
    };
    let expected = risk
        .category_class
        .map_or(risk.score_class, |c| c.max(risk.score_class));
    if risk.class != expected {
        return malformed(format!(
            "risk class `{}` is not the higher of the score's class `{}` and the categories' class{}",
            risk.class,
            risk.score_class,
            risk.category_class
                .map(|c| format!(" `{c}`"))
                .unwrap_or_default()
        ));
    }
    let sum: f64 = risk.factors.iter().map(|f| f.points).sum();
    if (sum - risk.score).abs() > 0.001 {
        return malformed(format!(
            "risk score {} is not the sum of its factors ({sum})",
            risk.score
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_decision::Control;
    use tollgate_decision::{
        ControlResult, Finding, RegulatoryReference, RequiredApproval, RiskAssessment, RiskClass,
        RiskFactor, Routing, Severity,
    };

    fn metadata() -> PolicyMetadata {
        PolicyMetadata {
            id: "acme".into(),
            framework: "ACME".into(),
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
            settings_schema: None,
            extensions: Vec::new(),
        }
    }

    /// A decision that keeps the contract: denied for a missing approval.
    fn denied() -> Decision {
        Decision {
            policy_id: "acme".into(),
            framework: "ACME".into(),
            applicable: true,
            outcome: Outcome::Denied,
            risk: Some(RiskAssessment {
                score: 3.5,
                class: RiskClass::Medium,
                score_class: RiskClass::Low,
                category_class: Some(RiskClass::Medium),
                factors: vec![
                    RiskFactor {
                        id: "a".into(),
                        description: "a".into(),
                        points: 1.25,
                    },
                    RiskFactor {
                        id: "b".into(),
                        description: "b".into(),
                        points: 2.25,
                    },
                ],
            }),
            routing: Some(Routing {
                route: "single-approver".into(),
                rationale: "r".into(),
                required: vec![RequiredApproval {
                    role: "LEAD".into(),
                    satisfied_by: None,
                }],
                discounted: Vec::new(),
                automated_checks: Vec::new(),
            }),
            findings: vec![Finding {
                rule_id: "no-approval".into(),
                control_id: "CC-01".into(),
                references: vec![RegulatoryReference::new("COSO", "CC8.1")],
                severity: Severity::High,
                message: "m".into(),
                remediation: "r".into(),
                field_path: "change.approvals".into(),
            }],
            controls: vec![ControlResult {
                control_id: "CC-01".into(),
                status: ControlStatus::NonCompliant,
                evidence: Vec::new(),
            }],
            obligations: Vec::new(),
            summary: "s".into(),
        }
    }

    fn refused(decision: &Decision) -> String {
        match check_decision(&metadata(), decision) {
            Err(PolicyFailure::Malformed { reason }) => reason,
            other => panic!("expected a malformed decision, got {other:?}"),
        }
    }

    #[test]
    fn a_decision_that_keeps_the_contract_passes() {
        assert!(check_decision(&metadata(), &denied()).is_ok());
    }

    #[test]
    fn every_control_is_answered_once() {
        let mut decision = denied();
        decision.controls.clear();
        assert!(refused(&decision).contains("`CC-01` of the catalogue is not answered"));
        let mut decision = denied();
        decision.controls.push(decision.controls[0].clone());
        assert!(refused(&decision).contains("answered twice"));
    }

    #[test]
    fn findings_carry_the_catalogue_rule_and_references() {
        let mut decision = denied();
        decision.findings[0].rule_id = "made-up".into();
        assert!(refused(&decision).contains("`made-up` is not a rule of control `CC-01`"));
        let mut decision = denied();
        decision.findings[0].references = vec![RegulatoryReference::new("COSO", "CC9.9")];
        assert!(refused(&decision).contains("cites references other than"));
    }

    #[test]
    fn a_policy_that_does_not_apply_finds_nothing_and_approves() {
        let mut decision = denied();
        decision.applicable = false;
        assert!(refused(&decision).contains("does not apply, yet it reports finding"));
        decision.findings.clear();
        assert!(refused(&decision).contains("does not apply, yet its outcome is `denied`"));
        decision.outcome = Outcome::Approved;
        assert!(refused(&decision).contains("control `CC-01` is `non_compliant`"));
        decision.controls[0].status = ControlStatus::NotApplicable;
        assert!(refused(&decision).contains("requires an approval from `LEAD`"));
        let routing = decision.routing.as_mut().unwrap();
        routing.required.clear();
        routing.route = NOT_APPLICABLE_ROUTE.into();
        assert!(check_decision(&metadata(), &decision).is_ok());
    }

    #[test]
    fn outcomes_follow_findings_and_missing_roles() {
        let mut decision = denied();
        decision.findings[0].severity = Severity::Medium;
        assert!(refused(&decision).contains("`denied` without a denying finding"));
        decision.outcome = Outcome::NeedsApproval;
        assert!(check_decision(&metadata(), &decision).is_ok());
        decision.routing.as_mut().unwrap().required[0].satisfied_by = Some("carol".into());
        assert!(refused(&decision).contains("no required role is missing"));
    }

    #[test]
    fn a_policy_without_a_risk_model_approves_or_denies() {
        let mut decision = denied();
        decision.risk = None;
        decision.routing = None;
        assert!(check_decision(&metadata(), &decision).is_ok());
        decision.findings[0].severity = Severity::Medium;
        decision.outcome = Outcome::NeedsApproval;
        assert!(refused(&decision).contains("no required role is missing"));
        decision.outcome = Outcome::Approved;
        decision.controls[0].status = ControlStatus::Compliant;
        assert!(check_decision(&metadata(), &decision).is_ok());
    }

    #[test]
    fn routes_and_risk_classes_are_consistent() {
        let mut decision = denied();
        decision.routing.as_mut().unwrap().route = "fast-track".into();
        assert!(refused(&decision).contains("route `fast-track` is not one of"));
        decision.routing.as_mut().unwrap().route = NOT_APPLICABLE_ROUTE.into();
        assert!(refused(&decision).contains("route `none`"));
        let mut decision = denied();
        decision.risk.as_mut().unwrap().class = RiskClass::Low;
        assert!(refused(&decision).contains("risk class `low` is not the higher"));
        let mut decision = denied();
        decision.risk.as_mut().unwrap().score = 9.0;
        assert!(refused(&decision).contains("not the sum of its factors"));
    }
}
