//! The hand-written decision encoder (`Decision::to_json`, what the OPA modules answer with) writes
//! exactly the bytes of `serde_json::to_string`, on every decision of every golden case and on
//! decisions made up of hostile strings and edge numbers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::Path;

use tollgate_decision::{
    AutomatedCheck, ControlResult, ControlStatus, Decision, DiscountedApproval, EvalError, Finding,
    Obligation, Outcome, RegulatoryReference, RequiredApproval, RiskAssessment, RiskClass,
    RiskFactor, Routing, Severity,
};
use tollgate_rules::EvaluationContext;

use tollgate_cases::{Case, case_files_in};

fn assert_same(decision: &Decision) {
    assert_eq!(decision.to_json(), serde_json::to_string(decision).unwrap());
}

#[test]
fn every_golden_decision_encodes_as_serde_json_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let mut decisions = 0;
    for name in tollgate_builtin_packs::NAMES {
        let policy = tollgate_builtin_packs::policy(name).unwrap();
        for file in case_files_in(&root.join(name).join("tests/cases")).unwrap() {
            let case = Case::load(&file).unwrap();
            let manifest = case.manifest().unwrap();
            let result = policy.decide(
                &manifest,
                &case.settings_json(),
                &EvaluationContext { now: case.now },
            );
            match result {
                Ok(decision) => {
                    assert_same(&decision);
                    decisions += 1;
                }
                Err(error) => assert_eq!(error.to_json(), serde_json::to_string(&error).unwrap()),
            }
        }
    }
    assert!(decisions > 40, "only {decisions} decisions");
}

const HOSTILE: [&str; 8] = [
    "",
    "quote \" backslash \\ slash /",
    "\n\r\t\u{8}\u{c}\u{0}\u{1}\u{1f}\u{7f}",
    "é ü ß 中文 العربية",
    "emoji 😀👩‍👩‍👧 \u{fe0f}",
    "separators \u{2028} \u{2029} \u{85} \u{feff}",
    "\\u0000 \\\" }{][,:",
    "</script><!-- &amp; '",
];

fn hostile_decision(text: &str, number: f64, days: Option<u32>) -> Decision {
    let reference = RegulatoryReference::new(text, text);
    Decision {
        policy_id: text.into(),
        framework: text.into(),
        applicable: text.is_empty(),
        outcome: Outcome::NeedsApproval,
        risk: Some(RiskAssessment {
            score: number,
            class: RiskClass::High,
            score_class: RiskClass::Medium,
            category_class: days.map(|_| RiskClass::Low),
            factors: vec![
                RiskFactor {
                    id: text.into(),
                    description: text.into(),
                    points: number,
                },
                RiskFactor {
                    id: String::new(),
                    description: String::new(),
                    points: -number,
                },
            ],
        }),
        routing: Some(Routing {
            route: text.into(),
            rationale: text.into(),
            required: vec![
                RequiredApproval {
                    role: text.into(),
                    satisfied_by: Some(text.into()),
                },
                RequiredApproval {
                    role: text.into(),
                    satisfied_by: None,
                },
            ],
            discounted: vec![DiscountedApproval {
                by: text.into(),
                role: text.into(),
                reason: text.into(),
            }],
            automated_checks: vec![
                AutomatedCheck {
                    id: text.into(),
                    passed: true,
                },
                AutomatedCheck {
                    id: text.into(),
                    passed: false,
                },
            ],
        }),
        findings: vec![Finding {
            rule_id: text.into(),
            control_id: text.into(),
            references: vec![reference.clone(), reference],
            severity: Severity::Critical,
            message: text.into(),
            remediation: text.into(),
            field_path: text.into(),
        }],
        controls: ControlStatus::ALL
            .iter()
            .map(|&status| ControlResult {
                control_id: text.into(),
                status,
                evidence: vec![text.into(), String::new()],
            })
            .collect(),
        obligations: vec![Obligation {
            id: text.into(),
            control_id: text.into(),
            description: text.into(),
            due_within_days: days,
        }],
        summary: text.into(),
    }
}

#[test]
fn hostile_strings_and_edge_numbers_encode_as_serde_json_does() {
    let numbers = [
        0.0,
        -0.0,
        1.0,
        0.05,
        0.1 + 0.2,
        12.345,
        1e15,
        1e16,
        1e-5,
        1.5e-7,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        f64::NAN,
        f64::INFINITY,
    ];
    let days = [None, Some(0), Some(30), Some(u32::MAX)];
    for (index, text) in HOSTILE.iter().enumerate() {
        for (n, number) in numbers.iter().enumerate() {
            assert_same(&hostile_decision(
                text,
                *number,
                days[(index + n) % days.len()],
            ));
        }
    }
    let mut bare = hostile_decision("x", 1.0, None);
    bare.risk = None;
    bare.routing = None;
    bare.findings.clear();
    bare.controls.clear();
    bare.obligations.clear();
    for outcome in [Outcome::Approved, Outcome::NeedsApproval, Outcome::Denied] {
        bare.outcome = outcome;
        assert_same(&bare);
    }
    for text in HOSTILE {
        for error in [
            EvalError::InvalidSettings(text.into()),
            EvalError::InvalidManifest(text.into()),
            EvalError::Internal(text.into()),
        ] {
            assert_eq!(error.to_json(), serde_json::to_string(&error).unwrap());
        }
    }
}
