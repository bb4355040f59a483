//! Control statuses beyond compliant and non-compliant, on README's first example
//! (`examples/manifests/business-logic-needs-tech-lead.yaml`): a control whose approvals are still
//! missing is pending, and a control whose evidence is absent is not assessed.

use libtest_mimic::Trial;
use tollgate_decision::{ControlStatus, Decision, Outcome};
use tollgate_manifest::{Format, Manifest, Timestamp};
use tollgate_policy_sox::{CHANGE_CONTROL, CHANGE_TRACKING, DEPLOYMENT_WINDOW, SoxPolicy};
use tollgate_rules::{EvaluationContext, Policy};

use crate::trial;

fn decide(manifest: &Manifest, settings: &str) -> Decision {
    let now = Timestamp::parse("2026-06-01T00:00:00Z").unwrap();
    SoxPolicy
        .decide(manifest, settings, &EvaluationContext { now })
        .unwrap()
}

fn readme_example() -> Manifest {
    let text = include_str!("../../../examples/manifests/business-logic-needs-tech-lead.yaml");
    Manifest::from_text(text, Format::Yaml).unwrap()
}

fn status(decision: &Decision, control: &str) -> ControlStatus {
    decision
        .controls
        .iter()
        .find(|c| c.control_id == control)
        .unwrap()
        .status
}

fn change_control_awaiting_the_technical_lead_is_pending() {
    let decision = decide(&readme_example(), "");
    assert_eq!(decision.outcome, Outcome::NeedsApproval);
    assert_eq!(
        decision.missing_roles().collect::<Vec<_>>(),
        ["TECHNICAL_LEAD"]
    );
    assert_eq!(status(&decision, CHANGE_CONTROL), ControlStatus::Pending);
    let evidence = &decision
        .controls
        .iter()
        .find(|c| c.control_id == CHANGE_CONTROL)
        .unwrap()
        .evidence;
    assert!(
        evidence.contains(&"awaiting approval from TECHNICAL_LEAD".to_owned()),
        "{evidence:?}"
    );
}

fn change_tracking_without_a_plan_and_an_unconfigured_window_are_not_assessed() {
    let decision = decide(&readme_example(), "");
    assert!(readme_example().evidence.infrastructure.is_none());
    assert_eq!(
        status(&decision, CHANGE_TRACKING),
        ControlStatus::NotAssessed
    );
    assert_eq!(
        status(&decision, DEPLOYMENT_WINDOW),
        ControlStatus::NotAssessed
    );
    // Not assessed is not a deny: the outcome is decided by the approvals alone.
    assert!(decision.findings.is_empty());
}

fn given_approvals_and_a_plan_the_same_controls_are_compliant() {
    let mut manifest = readme_example();
    let text = "version: 1\nchange: { id: x, title: t, ticket_status: approved, author: a, deployer: d, environment: production }\nevidence:\n  infrastructure: { resources: [] }\n";
    manifest.evidence.infrastructure = Manifest::from_text(text, Format::Yaml)
        .unwrap()
        .evidence
        .infrastructure;
    manifest.change.approvals.push(tollgate_manifest::Approval {
        by: "bob".into(),
        role: "TECHNICAL_LEAD".into(),
        at: Timestamp::parse("2026-05-30T00:00:00Z").unwrap(),
        meaning: None,
    });
    let settings = r#"{"deployment_windows": {"production": {"windows": [{"days": ["mon","tue","wed","thu","fri","sat","sun"], "start": "00:00", "end": "23:59"}]}}}"#;
    let decision = decide(&manifest, settings);
    assert_eq!(decision.outcome, Outcome::Approved, "{}", decision.summary);
    assert_eq!(status(&decision, CHANGE_CONTROL), ControlStatus::Compliant);
    assert_eq!(status(&decision, CHANGE_TRACKING), ControlStatus::Compliant);
    assert_eq!(
        status(&decision, DEPLOYMENT_WINDOW),
        ControlStatus::Compliant
    );
}

/// The tests of this module, as trials named `statuses::<test>`.
pub fn trials() -> Vec<Trial> {
    vec![
        trial(
            "statuses::change_control_awaiting_the_technical_lead_is_pending",
            change_control_awaiting_the_technical_lead_is_pending,
        ),
        trial(
            "statuses::change_tracking_without_a_plan_and_an_unconfigured_window_are_not_assessed",
            change_tracking_without_a_plan_and_an_unconfigured_window_are_not_assessed,
        ),
        trial(
            "statuses::given_approvals_and_a_plan_the_same_controls_are_compliant",
            given_approvals_and_a_plan_the_same_controls_are_compliant,
        ),
    ]
}
