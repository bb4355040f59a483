//! The PCI DSS controls: the shared checks of `tollgate_rules` and the PCI-specific ones (6.5.1
//! change record, 6.5.6, 6.3.3, 6.2.4), each bound to its control.

use tollgate_policy_sdk::decision::Severity;
use tollgate_policy_sdk::manifest::{Manifest, SensitiveDataKind};
use tollgate_policy_sdk::{
    Assessment, Check, DecisionBuilder, Issue, Settings, SharedAccountApprovals, checks,
};

use tollgate_policy_sdk::infrastructure::{self, StoreRequirement};

use crate::catalogue::{
    AUDIT_LOG_PROTECTION, AUDIT_LOGS, CHANGE_PROCEDURES, ENVIRONMENT_SEPARATION, NO_LIVE_PANS,
    ROLE_SEPARATION, SECURITY_TESTING, STORED_DATA_UNREADABLE, STORES_NOT_PUBLIC,
    TEST_DATA_REMOVED, VULNERABILITIES,
};

/// Records every PCI DSS control, and the retrospective-approval obligation of an emergency change
/// on change procedures (6.5.1).
pub fn apply(
    decision: &mut DecisionBuilder,
    manifest: &Manifest,
    settings: &Settings,
    assessment: &Assessment,
) {
    let change_procedures = change_record(manifest)
        .and(checks::ticket_approved(manifest))
        .and(checks::testing_evidence(
            manifest,
            settings,
            assessment.risk.class,
        ))
        .and(checks::rollback_plan(manifest))
        .and(checks::deployment_window(
            manifest,
            settings,
            assessment.now,
        ));
    decision.control(CHANGE_PROCEDURES, change_procedures);
    decision.control(
        ENVIRONMENT_SEPARATION,
        checks::deployer_authorised(manifest, settings)
            .and(checks::individual_identities(manifest, settings)),
    );
    decision.control(
        ROLE_SEPARATION,
        assessment
            .approval_separation(manifest, SharedAccountApprovals::WithSeparation)
            .and(checks::author_not_deployer(manifest, settings)),
    );
    decision.control(
        NO_LIVE_PANS,
        checks::no_sensitive_data(
            manifest,
            |kind| kind == SensitiveDataKind::Pan,
            "live-pan-in-pre-production",
            "live primary account numbers",
        ),
    );
    decision.control(TEST_DATA_REMOVED, test_data_removed(manifest));
    decision.control(VULNERABILITIES, vulnerabilities_addressed(manifest));
    decision.control(SECURITY_TESTING, security_testing(manifest));
    decision.control(AUDIT_LOGS, checks::audit_logging(manifest));
    let plan = || infrastructure::plan_gathered(manifest);
    decision.control(
        AUDIT_LOG_PROTECTION,
        infrastructure::audit_trails(manifest).and(plan()),
    );
    decision.control(
        STORED_DATA_UNREADABLE,
        infrastructure::data_stores(manifest, StoreRequirement::Encrypted, "cardholder data")
            .and(plan()),
    );
    decision.control(
        STORES_NOT_PUBLIC,
        infrastructure::data_stores(manifest, StoreRequirement::NotPublic, "cardholder data")
            .and(plan()),
    );
    decision.emergency_obligation(CHANGE_PROCEDURES, manifest, settings, assessment);
}

/// PCI DSS 6.5.1: the change record states why the change is made and its security impact.
fn change_record(manifest: &Manifest) -> Check {
    let change = &manifest.change;
    let mut check = Check::default();
    match change.reason.as_deref().map(str::trim) {
        Some(reason) if !reason.is_empty() => {
            check.evidence(format!("reason documented: {reason}"));
        }
        documented => check.issue(Issue::new(
            "change-reason-missing",
            Severity::High,
            if documented.is_some() {
                format!("the reason for change {} is blank", change.id)
            } else {
                format!("change {} documents no reason for the change", change.id)
            },
            "state why the change is made in `change.reason`",
            "change.reason",
        )),
    }
    match change.security_impact.as_deref().map(str::trim) {
        Some(impact) if !impact.is_empty() => {
            check.evidence(format!("security impact documented: {impact}"));
        }
        documented => check.issue(Issue::new(
            "security-impact-missing",
            Severity::High,
            if documented.is_some() {
                format!("the security impact of change {} is blank", change.id)
            } else {
                format!("change {} documents no security impact", change.id)
            },
            "assess the change's impact on security and record it in `change.security_impact` \
             (for example `none identified` after review)",
            "change.security_impact",
        )),
    }
    check
}

/// PCI DSS 6.5.6: test data and test accounts were removed before the production deployment.
fn test_data_removed(manifest: &Manifest) -> Check {
    let mut check = Check::default();
    if manifest.evidence.test_data_removed {
        check.evidence("test data and test accounts were removed before production".to_owned());
    } else {
        check.issue(Issue::new(
            "test-data-not-removed",
            Severity::High,
            format!(
                "removal of test data and test accounts before deploying to `{}` is not evidenced",
                manifest.change.environment
            ),
            "remove test data and test accounts from the production system, then record \
             `evidence.test_data_removed: true`",
            "evidence.test_data_removed",
        ));
    }
    check
}

/// PCI DSS 6.3.3: a completed vulnerability scan shows no open critical or high findings. Without a
/// completed scan the control cannot be shown to be met.
fn vulnerabilities_addressed(manifest: &Manifest) -> Check {
    let mut check = Check::default();
    let Some(scan) = &manifest.evidence.security_scan else {
        check.issue(Issue::new(
            "vulnerability-scan-missing",
            Severity::High,
            "no vulnerability scan results were provided, so open critical or high vulnerabilities \
             cannot be ruled out",
            "run the vulnerability scan on the change and attach its summary",
            "evidence.security_scan",
        ));
        return check;
    };
    if !scan.completed {
        check.issue(Issue::new(
            "vulnerability-scan-missing",
            Severity::High,
            "the vulnerability scan did not complete, so open critical or high vulnerabilities \
             cannot be ruled out",
            "re-run the vulnerability scan to completion and attach its results",
            "evidence.security_scan.completed",
        ));
    }
    if scan.critical > 0 {
        check.issue(Issue::new(
            "critical-vulnerabilities-open",
            Severity::Critical,
            format!(
                "the vulnerability scan reports {} open critical finding(s)",
                scan.critical
            ),
            "patch or remediate every critical vulnerability and re-scan before deploying",
            "evidence.security_scan.critical",
        ));
    }
    if scan.high > 0 {
        check.issue(Issue::new(
            "high-vulnerabilities-open",
            Severity::High,
            format!(
                "the vulnerability scan reports {} open high finding(s)",
                scan.high
            ),
            "patch or remediate every high vulnerability and re-scan before deploying",
            "evidence.security_scan.high",
        ));
    }
    if check.issues.is_empty() {
        check.evidence(format!(
            "vulnerability scan completed with no open critical or high findings ({} medium, {} low)",
            scan.medium, scan.low
        ));
    }
    check
}

/// PCI DSS 6.2.4: the bespoke software was security tested before deployment (a completed scan).
fn security_testing(manifest: &Manifest) -> Check {
    let mut check = Check::default();
    match &manifest.evidence.security_scan {
        Some(scan) if scan.completed => {
            check.evidence("security scan of the bespoke software completed".to_owned());
        }
        Some(_) => check.issue(Issue::new(
            "security-testing-missing",
            Severity::High,
            "the security scan of the bespoke software did not complete",
            "run the application security scan to completion before deploying and attach its results",
            "evidence.security_scan.completed",
        )),
        None => check.issue(Issue::new(
            "security-testing-missing",
            Severity::High,
            "no security testing of the bespoke software is evidenced",
            "run the application security scan (for example SAST and DAST) on the change before \
             deploying and attach its results",
            "evidence.security_scan",
        )),
    }
    check
}

#[cfg(test)]
mod tests {
    use tollgate_policy_sdk::manifest::Format;

    use super::*;

    fn manifest(extra_change: &str, evidence: &str) -> Manifest {
        let text = format!(
            "version: 1\nchange:\n  id: CHG-1\n  title: t\n  ticket_status: approved\n  author: alice\n  \
             deployer: carol\n  environment: production\n  data_classes: [cardholder_data]\n{extra_change}\
             evidence:\n{evidence}"
        );
        Manifest::from_text(&text, Format::Yaml).unwrap()
    }

    fn rules(check: &Check) -> Vec<(&str, Severity, &str)> {
        check
            .issues
            .iter()
            .map(|i| (i.rule_id.as_str(), i.severity, i.field_path.as_str()))
            .collect()
    }

    #[test]
    fn blank_reason_and_impact_are_findings() {
        let m = manifest(
            "  reason: \"  \"\n  security_impact: \"\"\n",
            "  audit_logging: true\n",
        );
        assert_eq!(
            rules(&change_record(&m)),
            [
                ("change-reason-missing", Severity::High, "change.reason"),
                (
                    "security-impact-missing",
                    Severity::High,
                    "change.security_impact"
                ),
            ]
        );
    }

    #[test]
    fn documented_reason_and_impact_are_evidence() {
        let m = manifest(
            "  reason: retries\n  security_impact: none identified\n",
            "  audit_logging: true\n",
        );
        let check = change_record(&m);
        assert!(check.issues.is_empty());
        assert_eq!(check.evidence.len(), 2);
    }

    #[test]
    fn incomplete_scan_with_open_findings_reports_each() {
        let m = manifest(
            "",
            "  security_scan: { completed: false, critical: 1, high: 2 }\n",
        );
        assert_eq!(
            rules(&vulnerabilities_addressed(&m)),
            [
                (
                    "vulnerability-scan-missing",
                    Severity::High,
                    "evidence.security_scan.completed"
                ),
                (
                    "critical-vulnerabilities-open",
                    Severity::Critical,
                    "evidence.security_scan.critical"
                ),
                (
                    "high-vulnerabilities-open",
                    Severity::High,
                    "evidence.security_scan.high"
                ),
            ]
        );
        assert_eq!(
            rules(&security_testing(&m)),
            [(
                "security-testing-missing",
                Severity::High,
                "evidence.security_scan.completed"
            )]
        );
    }

    #[test]
    fn absent_scan_fails_both_vulnerability_controls() {
        let m = manifest("", "  audit_logging: true\n");
        assert_eq!(
            rules(&vulnerabilities_addressed(&m)),
            [(
                "vulnerability-scan-missing",
                Severity::High,
                "evidence.security_scan"
            )]
        );
        assert_eq!(
            rules(&security_testing(&m)),
            [(
                "security-testing-missing",
                Severity::High,
                "evidence.security_scan"
            )]
        );
    }
}
