//! Fixtures shared by the unit tests: a waivers file and decision builders.

use tollgate_decision::{
    Decision, Finding, Outcome, RegulatoryReference, RequiredApproval, RiskAssessment, RiskClass,
    Routing, Severity,
};
use tollgate_manifest::{IdentityAliases, Timestamp};

static NO_ALIASES: IdentityAliases = IdentityAliases::new();

use crate::WaiverContext;

pub(crate) const FILE: &str = "version: 1
waivers:
  - id: WVR-1
    rule: sensitive-data-pan
    scope: { framework: pci, environment: staging }
    justification: sandbox card numbers
    ticket: CHG-2101
    approved_by: dave
    expires: 2026-06-30
  - id: WVR-2
    control: SOX-IT-03
    justification: key rotation scheduled
    ticket: CHG-2102
    approved_by: dave
    expires: 2026-13-01
  - id: WVR-3
    control: SOX-IT-03
    justification: key rotation scheduled
    ticket: CHG-2103
    approved_by: alice
    expires: 2026-06-30
  - id: WVR-4
    rule: rollback-plan-missing
    justification: old
    ticket: CHG-1
    approved_by: dave
    expires: 2026-01-31
  - id: WVR-5
    justification: names nothing
    ticket: CHG-1
    approved_by: dave
    expires: 2026-06-30
";

pub(crate) fn finding(rule: &str, control: &str, severity: Severity) -> Finding {
    Finding {
        rule_id: rule.into(),
        control_id: control.into(),
        references: vec![RegulatoryReference::new("PCI DSS v4.0", "6.5.5")],
        severity,
        message: "m".into(),
        remediation: "r".into(),
        field_path: "f".into(),
    }
}

pub(crate) fn decision(policy: &str, findings: Vec<Finding>, missing_role: bool) -> Decision {
    let outcome = if findings.iter().any(|f| f.severity.denies()) {
        Outcome::Denied
    } else if missing_role {
        Outcome::NeedsApproval
    } else {
        Outcome::Approved
    };
    Decision {
        policy_id: policy.into(),
        framework: policy.to_uppercase(),
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
            required: vec![RequiredApproval {
                role: "TECHNICAL_LEAD".into(),
                satisfied_by: (!missing_role).then(|| "bob".into()),
            }],
            discounted: vec![],
            automated_checks: vec![],
        }),
        findings,
        controls: vec![],
        obligations: vec![],
        summary: String::new(),
    }
}

pub(crate) fn now(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

pub(crate) fn context(now_text: &str) -> WaiverContext<'static> {
    WaiverContext {
        now: now(now_text),
        author: "alice",
        deployer: "carol",
        identities: &NO_ALIASES,
        environment: "staging",
        service: None,
    }
}
