//! Scoping, production-only controls, shared-account approvals and key rotation through the
//! shared decision builder.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use tollgate_decision::{ControlStatus, Severity};
use tollgate_manifest::{DataClass, Encryption, Format, Manifest, Timestamp};
use tollgate_rules::checks::{self, KeyRotation};
use tollgate_rules::{
    AppliesTo, Assessment, Catalogue, Check, ControlEntry, DecisionBuilder, EvaluationContext,
    ReferenceEntry, Scope, Settings, SharedAccountApprovals,
};

const CATALOGUE: Catalogue = Catalogue {
    id: "test",
    framework: "TEST",
    version: "0.0.0",
    description: "test",
    controls: &[
        ControlEntry {
            id: "T-1",
            title: "Always",
            description: "d",
            references: &[ReferenceEntry::new("Test", "1")],
            rules: &[],
            relies_on: &[],
        },
        ControlEntry {
            id: "T-2",
            title: "Production only",
            description: "d",
            references: &[ReferenceEntry::new("Test", "2")],
            rules: &[],
            relies_on: &[],
        },
    ],
    settings_schema: None,
    extensions: &[],
};

const SCOPE: Scope = Scope {
    applies_to: AppliesTo::DataClass {
        class: DataClass::Phi,
        in_scope: "In scope.",
        out_of_scope: "no PHI",
    },
    production_only: &["T-2"],
};

fn manifest(environment: &str, extra: &str) -> Manifest {
    let text = format!(
        r#"{{"version": 1, "change": {{"id": "CHG-1", "title": "t", "ticket_status": "approved",
            "author": "alice", "deployer": "carol", "environment": "{environment}",
            "data_classes": ["phi"]{extra}}}}}"#
    );
    Manifest::from_text(&text, Format::Json).unwrap()
}

fn assessment(m: &Manifest) -> Assessment {
    let now = Timestamp::parse("2026-05-21T12:00:00Z").unwrap();
    Assessment::new(m, &Settings::default(), &EvaluationContext { now })
}

fn failing() -> Check {
    let mut check = Check::default();
    check.issue(tollgate_rules::Issue::new(
        "x",
        Severity::High,
        "m",
        "r",
        "f",
    ));
    check
}

fn statuses(m: &Manifest) -> Vec<ControlStatus> {
    let settings = Settings::default();
    let a = assessment(m);
    let mut builder = DecisionBuilder::for_scope(&CATALOGUE, &SCOPE, &a, m, &settings).unwrap();
    builder.control("T-1", failing());
    builder.control("T-2", failing());
    builder.finish().controls.iter().map(|c| c.status).collect()
}

#[test]
fn production_only_controls_do_not_apply_elsewhere() {
    assert_eq!(
        statuses(&manifest("staging", "")),
        [ControlStatus::NonCompliant, ControlStatus::NotApplicable]
    );
    assert_eq!(
        statuses(&manifest("production", "")),
        [ControlStatus::NonCompliant, ControlStatus::NonCompliant]
    );
}

#[test]
fn out_of_scope_changes_get_a_not_applicable_decision() {
    let mut m = manifest("production", "");
    m.change.data_classes = vec![DataClass::Pii];
    let a = assessment(&m);
    let decision =
        DecisionBuilder::for_scope(&CATALOGUE, &SCOPE, &a, &m, &Settings::default()).unwrap_err();
    assert!(!decision.applicable);
    assert!(decision.controls.iter().all(|c| c.evidence == ["no PHI"]));
}

#[test]
fn shared_account_approvals_can_be_reported_separately() {
    let m = manifest(
        "production",
        r#", "approvals": [
            {"by": "jenkins", "role": "TECHNICAL_LEAD", "at": "2026-05-20T09:00:00Z"},
            {"by": "alice", "role": "TECHNICAL_LEAD", "at": "2026-05-20T09:00:00Z"}]"#,
    );
    let a = assessment(&m);
    let rules = |check: &Check| {
        check
            .issues
            .iter()
            .map(|i| i.rule_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rules(&a.approval_separation(&m, SharedAccountApprovals::WithSeparation)),
        ["approval-by-shared-account", "sod-self-approval"]
    );
    assert_eq!(
        rules(&a.approval_separation(&m, SharedAccountApprovals::Separately)),
        ["sod-self-approval"]
    );
    assert_eq!(
        rules(&a.shared_account_approvals()),
        ["approval-by-shared-account"]
    );
    let clean = manifest("production", "");
    let check = assessment(&clean).shared_account_approvals();
    assert!(check.issues.is_empty());
    assert_eq!(
        check.evidence,
        ["no approval was given by a shared account"]
    );
}

#[test]
fn key_rotation_is_checked_only_when_required() {
    let mut m = manifest("production", "");
    m.evidence.encryption = Some(Encryption {
        at_rest: true,
        in_transit: true,
        key_rotated_days_ago: None,
    });
    let settings = Settings::default();
    let required = checks::encryption_at_rest(&m, &settings, KeyRotation::Required);
    assert_eq!(
        required.issues[0].rule_id,
        "encryption-key-rotation-unknown"
    );
    let not_checked = checks::encryption_at_rest(&m, &settings, KeyRotation::NotChecked);
    assert!(not_checked.issues.is_empty());
}
