//! Rule checks shared by the frameworks. Each returns a [`Check`]: evidence statements plus the
//! issues found; a policy binds the check to one of its controls.

use tollgate_decision::{RiskClass, Severity};
use tollgate_manifest::{IdentityMatch, Manifest, SensitiveDataKind, TicketStatus, Timestamp};

use crate::{Check, Issue, Settings, WindowStatus};

/// The change ticket must be approved; a rejected ticket always blocks. An emergency change may
/// proceed on a submitted ticket (COBIT BAI06.02).
pub fn ticket_approved(manifest: &Manifest) -> Check {
    let change = &manifest.change;
    let mut check = Check::default();
    match change.ticket_status {
        TicketStatus::Approved => {
            check.evidence(format!("change ticket {} is approved", change.id))
        }
        TicketStatus::Rejected => check.issue(Issue::new(
            "ticket-rejected",
            Severity::Critical,
            format!("change ticket {} was rejected", change.id),
            "a rejected change must not be deployed; raise a new change request",
            "change.ticket_status",
        )),
        TicketStatus::Submitted if change.emergency => check.evidence(format!(
            "emergency change {}: ticket submitted, approval follows retrospectively",
            change.id
        )),
        status => check.issue(Issue::new(
            "ticket-not-approved",
            Severity::High,
            format!(
                "change ticket {} is {}, not approved",
                change.id,
                match status {
                    TicketStatus::Draft => "a draft",
                    _ => "submitted",
                }
            ),
            "get the change ticket approved before deploying",
            "change.ticket_status",
        )),
    }
    check
}

/// Required test suites for the risk class are present with passed > 0 and failed = 0, and no
/// other suite failed.
pub fn testing_evidence(manifest: &Manifest, settings: &Settings, class: RiskClass) -> Check {
    let tests = &manifest.evidence.tests;
    let required = match class {
        RiskClass::Low => &settings.required_tests.low,
        RiskClass::Medium => &settings.required_tests.medium,
        RiskClass::High => &settings.required_tests.high,
    };
    let mut check = Check::default();
    for suite in required {
        match tests.iter().position(|t| t.suite == *suite) {
            None => check.issue(Issue::new(
                "required-tests-missing",
                Severity::High,
                format!("required `{suite}` test results for a {class}-risk change are missing"),
                format!("run the `{suite}` suite and attach its results"),
                "evidence.tests",
            )),
            Some(index) if tests[index].passed == 0 => check.issue(Issue::new(
                "required-tests-empty",
                Severity::High,
                format!("required `{suite}` suite ran no passing tests"),
                format!("make the `{suite}` suite exercise the change"),
                format!("evidence.tests[{index}].passed"),
            )),
            Some(index) => check.evidence(format!(
                "required `{suite}` suite: {} passed, {} failed",
                tests[index].passed, tests[index].failed
            )),
        }
    }
    for (index, suite) in tests.iter().enumerate() {
        if suite.failed > 0 {
            check.issue(Issue::new(
                "tests-failed",
                Severity::High,
                format!(
                    "`{}` suite has {} failing test(s)",
                    suite.suite, suite.failed
                ),
                "fix the failing tests; a change with failing tests cannot be deployed",
                format!("evidence.tests[{index}].failed"),
            ));
        }
    }
    check
}

/// A production deployment needs a deployer in the authorised group who is not a shared account.
pub fn deployer_authorised(manifest: &Manifest, settings: &Settings) -> Check {
    let change = &manifest.change;
    let mut check = Check::default();
    if !settings.is_production(&change.environment) {
        check.evidence(format!(
            "`{}` is not a production environment",
            change.environment
        ));
        return check;
    }
    if change
        .deployer_groups
        .contains(&settings.authorised_deployer_group)
    {
        check.evidence(format!(
            "deployer `{}` is in `{}`",
            change.deployer, settings.authorised_deployer_group
        ));
    } else {
        check.issue(Issue::new(
            "deployer-not-authorised",
            Severity::High,
            format!(
                "deployer `{}` is not in the authorised group `{}`",
                change.deployer, settings.authorised_deployer_group
            ),
            format!(
                "have a member of `{}` deploy, or grant access through the access-request process",
                settings.authorised_deployer_group
            ),
            "change.deployer_groups",
        ));
    }
    check
}

/// In production the author must not deploy their own change.
pub fn author_not_deployer(manifest: &Manifest, settings: &Settings) -> Check {
    let change = &manifest.change;
    let mut check = Check::default();
    if !settings.is_production(&change.environment) {
        return check;
    }
    let matched = settings.compare_identities(&change.author, &change.deployer);
    if matched == IdentityMatch::Unknown {
        check.issue(crate::routing::identity_unmatched(
            &change.deployer,
            "author",
            &change.author,
            "author-is-not-deployer cannot be shown",
            "change.deployer",
        ));
    } else if matched == IdentityMatch::Same {
        check.issue(Issue::new(
            "sod-author-deploys",
            Severity::High,
            format!(
                "`{}` is both the author and the deployer of a production change",
                change.author
            ),
            "have a different member of the authorised group deploy the change",
            "change.deployer",
        ));
    } else {
        check.evidence(format!(
            "author `{}` and deployer `{}` are different people",
            change.author, change.deployer
        ));
    }
    check
}

/// The deployer must be an individual identity, not a shared account.
pub fn individual_identities(manifest: &Manifest, settings: &Settings) -> Check {
    let change = &manifest.change;
    let mut check = Check::default();
    if settings
        .shared_accounts
        .iter()
        .any(|a| settings.compare_identities(a, &change.deployer) == IdentityMatch::Same)
    {
        check.issue(Issue::new(
            "deployer-shared-account",
            Severity::High,
            format!(
                "deployer `{}` is a shared account, not an individual",
                change.deployer
            ),
            "deploy under an individual, authenticated identity",
            "change.deployer",
        ));
    } else {
        check.evidence(format!(
            "deployer `{}` is an individual identity",
            change.deployer
        ));
    }
    check
}

/// Audit logging must be enabled on the affected systems.
pub fn audit_logging(manifest: &Manifest) -> Check {
    let mut check = Check::default();
    if manifest.evidence.audit_logging {
        check.evidence("audit logging is enabled".to_owned());
    } else {
        check.issue(Issue::new(
            "audit-logging-disabled",
            Severity::High,
            "audit logging is not enabled for the affected systems",
            "enable audit logging and attach the evidence before deploying",
            "evidence.audit_logging",
        ));
    }
    check
}

/// Whether [`encryption_at_rest`] also checks the age of the data-encryption key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRotation {
    /// The key must have been rotated within `key_rotation_max_days` (SOX-IT-03, COBIT 2019
    /// DSS05.03); an unknown key age fails.
    Required,
    /// Only encryption itself is checked, not the key's age (HIPAA 45 CFR 164.312(a)(2)(iv)).
    NotChecked,
}

/// Data at rest must be encrypted; with [`KeyRotation::Required`], the key must also be no older
/// than the configured maximum age.
pub fn encryption_at_rest(
    manifest: &Manifest,
    settings: &Settings,
    key_rotation: KeyRotation,
) -> Check {
    let mut check = Check::default();
    let Some(encryption) = &manifest.evidence.encryption else {
        check.issue(Issue::new(
            "encryption-evidence-missing",
            Severity::High,
            "no encryption evidence was provided",
            "attach the encryption posture of the affected data stores",
            "evidence.encryption",
        ));
        return check;
    };
    if encryption.at_rest {
        check.evidence("data at rest is encrypted".to_owned());
    } else {
        check.issue(Issue::new(
            "encryption-at-rest-disabled",
            Severity::High,
            "data at rest is not encrypted",
            "enable storage encryption for every affected data store",
            "evidence.encryption.at_rest",
        ));
    }
    if key_rotation == KeyRotation::Required {
        let max = settings.key_rotation_max_days;
        match encryption.key_rotated_days_ago {
            Some(days) if days <= max => {
                check.evidence(format!(
                    "encryption key rotated {days} day(s) ago (limit {max})"
                ));
            }
            Some(days) => check.issue(Issue::new(
                "encryption-key-stale",
                Severity::High,
                format!("encryption key was rotated {days} days ago, more than {max}"),
                "rotate the data-encryption key",
                "evidence.encryption.key_rotated_days_ago",
            )),
            None => check.issue(Issue::new(
                "encryption-key-rotation-unknown",
                Severity::High,
                "the age of the encryption key is not evidenced",
                "report `key_rotated_days_ago` from the key-management system",
                "evidence.encryption.key_rotated_days_ago",
            )),
        }
    }
    check
}

/// Data in transit must be encrypted.
pub fn encryption_in_transit(manifest: &Manifest) -> Check {
    let mut check = Check::default();
    match &manifest.evidence.encryption {
        Some(e) if e.in_transit => check.evidence("data in transit is encrypted".to_owned()),
        Some(_) => check.issue(Issue::new(
            "encryption-in-transit-disabled",
            Severity::High,
            "data in transit is not encrypted",
            "enforce TLS on every connection carrying the data",
            "evidence.encryption.in_transit",
        )),
        None => check.issue(Issue::new(
            "encryption-evidence-missing",
            Severity::High,
            "no encryption evidence was provided",
            "attach the encryption posture of the affected systems",
            "evidence.encryption",
        )),
    }
    check
}

/// A restorable backup must be verified before the change.
pub fn backup_verified(manifest: &Manifest) -> Check {
    let mut check = Check::default();
    if manifest.evidence.backup_verified {
        check.evidence("a restorable backup was verified".to_owned());
    } else {
        check.issue(Issue::new(
            "backup-not-verified",
            Severity::High,
            "no verified backup exists for the affected data",
            "take a backup and verify that it restores before deploying",
            "evidence.backup_verified",
        ));
    }
    check
}

/// The back-out plan must be documented.
pub fn rollback_plan(manifest: &Manifest) -> Check {
    let plan = &manifest.evidence.rollback_plan;
    let mut check = Check::default();
    if plan.documented {
        check.evidence(format!(
            "rollback plan documented{}{}",
            plan.strategy
                .map(|s| format!(" ({})", s.as_str()))
                .unwrap_or_default(),
            if plan.tested {
                ", tested"
            } else {
                ", not tested"
            }
        ));
    } else {
        check.issue(Issue::new(
            "rollback-plan-missing",
            Severity::High,
            "no rollback plan is documented",
            "document how the change is backed out (for example blue-green switch-back)",
            "evidence.rollback_plan.documented",
        ));
    }
    check
}

/// No sensitive data of the given kinds in the change's non-production evidence.
pub fn no_sensitive_data(
    manifest: &Manifest,
    kinds: impl Fn(SensitiveDataKind) -> bool,
    rule_id: &str,
    what: &str,
) -> Check {
    let mut check = Check::default();
    let mut found = false;
    for (index, finding) in manifest.evidence.sensitive_data_findings.iter().enumerate() {
        if kinds(finding.kind) {
            found = true;
            check.issue(Issue::new(
                rule_id,
                Severity::Critical,
                format!("{} found at {}", finding.kind.as_str(), finding.location),
                format!("remove the {what} and use synthetic test data"),
                format!("evidence.sensitive_data_findings[{index}]"),
            ));
        }
    }
    if !found {
        check.evidence(format!("no {what} found in non-production evidence"));
    }
    check
}

/// The deployment (at `now`) falls inside the environment's maintenance windows and outside its
/// change freezes (`deployment_windows` settings). An emergency change may deploy outside them:
/// routing then also requires `emergency.outside_window_role`. Empty when no window or freeze is
/// configured for the environment.
pub fn deployment_window(manifest: &Manifest, settings: &Settings, now: Timestamp) -> Check {
    let change = &manifest.change;
    let mut check = Check::default();
    match settings.deployment_windows.status(&change.environment, now) {
        WindowStatus::Unrestricted => {}
        WindowStatus::Open(why) => check.evidence(why),
        WindowStatus::Closed { message, .. } if change.emergency => check.evidence(format!(
            "{message}; as an emergency change it also needs the approval of {}",
            settings.emergency.outside_window_role
        )),
        WindowStatus::Closed { rule, message } => check.issue(Issue::new(
            rule,
            Severity::High,
            message,
            format!(
                "deploy inside a maintenance window and outside change freezes, or raise it as an \
                 emergency change approved by {} and {}",
                settings.emergency.approver_role, settings.emergency.outside_window_role
            ),
            "change.environment",
        )),
    }
    check
}
