//! The policy contract the pipeline enforces on every policy, native or component: a policy's
//! metadata must be well formed, and a decision must be the policy's own, refer only to controls
//! of its catalogue, and never be an approval (or a softer outcome) that its own findings or
//! routing deny. A decision that breaks it is a [`PolicyFailure::Malformed`], never trusted.

use std::collections::BTreeSet;

use tollgate_decision::{Decision, Outcome, PolicyMetadata};

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
    if !decision.risk.score.is_finite()
        || decision.risk.factors.iter().any(|f| !f.points.is_finite())
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
    if decision.outcome != Outcome::Denied
        && let Some(finding) = decision.findings.iter().find(|f| f.severity.denies())
    {
        return malformed(format!(
            "outcome is `{}` despite the {} finding `{}`",
            decision.outcome, finding.severity, finding.rule_id
        ));
    }
    if decision.outcome == Outcome::Approved
        && let Some(role) = decision.routing.missing_roles().next()
    {
        return malformed(format!(
            "outcome is `approved` but role `{role}` has not approved"
        ));
    }
    Ok(())
}
