//! Risk scoring and approval routing, natively.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use rstest::rstest;
use tollgate_decision::RiskClass;
use tollgate_manifest::{
    Approval, Change, ChangeCategory, Evidence, Manifest, TicketStatus, Timestamp,
};
use tollgate_rules::{EvaluationContext, Settings, assess_risk, route};

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn manifest() -> Manifest {
    Manifest {
        version: 1,
        change: Change {
            id: "CHG-1".into(),
            title: "t".into(),
            reason: None,
            security_impact: None,
            ticket_status: TicketStatus::Approved,
            submitted_at: None,
            emergency: false,
            commit: None,
            pipeline_id: None,
            author: "alice".into(),
            deployer: "carol".into(),
            deployer_groups: vec![],
            approvals: vec![],
            environment: "staging".into(),
            data_classes: vec![],
            categories: vec![],
            includes_schema_changes: false,
            touches_security_components: false,
            lines_changed: 10,
            historical_failure_rate: 0.0,
        },
        evidence: Evidence::default(),
        provenance: Default::default(),
        extensions: Default::default(),
    }
}

fn approval(by: &str, role: &str) -> Approval {
    Approval {
        by: by.into(),
        role: role.into(),
        at: at("2026-05-20T09:00:00Z"),
        meaning: None,
    }
}

#[rstest]
#[case::nothing("staging", false, false, 10, 0.0, 0.0, RiskClass::Low)]
#[case::production_alone("production", false, false, 10, 0.0, 3.0, RiskClass::Medium)]
#[case::just_below_high("production", true, false, 10, 0.0, 7.0, RiskClass::High)]
#[case::everything("production", true, true, 1001, 0.5, 15.0, RiskClass::High)]
#[case::exactly_1000_lines_is_not_large("staging", false, false, 1000, 0.0, 0.0, RiskClass::Low)]
#[case::failure_rate("staging", false, false, 10, 0.05, 0.1, RiskClass::Low)]
fn scores_follow_the_default_weights(
    #[case] environment: &str,
    #[case] schema: bool,
    #[case] security: bool,
    #[case] lines: u32,
    #[case] rate: f64,
    #[case] score: f64,
    #[case] class: RiskClass,
) {
    let mut m = manifest();
    m.change.environment = environment.into();
    m.change.includes_schema_changes = schema;
    m.change.touches_security_components = security;
    m.change.lines_changed = lines;
    m.change.historical_failure_rate = rate;
    let risk = assess_risk(&m, &Settings::default());
    assert_eq!(risk.score, score);
    assert_eq!(risk.class, class);
}

#[test]
fn categories_raise_the_class_but_never_lower_it() {
    let mut m = manifest();
    m.change.categories = vec![ChangeCategory::ConfigOnly, ChangeCategory::Infrastructure];
    let risk = assess_risk(&m, &Settings::default());
    assert_eq!(risk.score_class, RiskClass::Low);
    assert_eq!(risk.category_class, Some(RiskClass::High));
    assert_eq!(risk.class, RiskClass::High);

    m.change.categories = vec![ChangeCategory::ConfigOnly];
    m.change.environment = "production".into();
    assert_eq!(
        assess_risk(&m, &Settings::default()).class,
        RiskClass::Medium
    );
}

#[test]
fn one_person_counts_once_and_matching_finds_the_best_assignment() {
    let mut m = manifest();
    m.change.categories = vec![ChangeCategory::SecurityChanges];
    // bob holds two roles; greedy assignment in approval order would give bob TECHNICAL_LEAD and
    // leave SECURITY_OFFICER empty. dan can only be TECHNICAL_LEAD.
    m.change.approvals = vec![
        approval("bob", "TECHNICAL_LEAD"),
        approval("bob", "SECURITY_OFFICER"),
        approval("dan", "TECHNICAL_LEAD"),
        approval("erin", "COMPLIANCE_OFFICER"),
    ];
    let settings = Settings::default();
    let risk = assess_risk(&m, &settings);
    let now = EvaluationContext {
        now: at("2026-05-21T00:00:00Z"),
    };
    let result = route(&m, &settings, &risk, now.now);
    let satisfied: Vec<(&str, Option<&str>)> = result
        .routing
        .required
        .iter()
        .map(|r| (r.role.as_str(), r.satisfied_by.as_deref()))
        .collect();
    assert_eq!(
        satisfied,
        [
            ("TECHNICAL_LEAD", Some("dan")),
            ("SECURITY_OFFICER", Some("bob")),
            ("COMPLIANCE_OFFICER", Some("erin")),
        ]
    );
    assert_eq!(
        result.routing.discounted.len(),
        1,
        "{:?}",
        result.routing.discounted
    );
    assert!(result.issues.is_empty());
}

#[test]
fn identities_compare_case_insensitively_for_separation_of_duties() {
    let mut m = manifest();
    m.change.categories = vec![ChangeCategory::BusinessLogic];
    m.change.approvals = vec![approval("Alice", "TECHNICAL_LEAD")];
    let settings = Settings::default();
    let risk = assess_risk(&m, &settings);
    let result = route(&m, &settings, &risk, at("2026-05-21T00:00:00Z"));
    assert_eq!(result.routing.required[0].satisfied_by, None);
    assert_eq!(result.issues[0].rule_id, "sod-self-approval");
}
