//! Tollgate PCI DSS policy: the change-management requirements of PCI DSS v4.0 (6.5.1 and 6.5.3 to
//! 6.5.6), with the vulnerability requirements a deployment must evidence (6.2.4, 6.3.3) and audit
//! logging (10.2.1).
//!
//! PCI DSS applies only to changes whose data classes include `cardholder_data`: those are the
//! changes to system components in, or connected to, the cardholder data environment. Any other
//! change gets a not-applicable decision from this policy.

use tollgate_decision::{Control, Decision, PolicyMetadata, Severity};
use tollgate_manifest::{DataClass, Manifest, SensitiveDataKind};
use tollgate_rules::{
    Assessment, Check, DecisionBuilder, EvaluationContext, Issue, Policy, Settings, checks,
    reference,
};

/// Source name of every regulatory reference of this policy.
const PCI_DSS: &str = "PCI DSS v4.0";

/// Bespoke software is protected against common attacks; evidenced by completed security testing.
pub const SECURITY_TESTING: &str = "PCI-6.2.4";
/// Known critical and high vulnerabilities are addressed before deployment.
pub const VULNERABILITIES: &str = "PCI-6.3.3";
/// Change procedures: reason, security impact, approval, testing and back-out are documented.
pub const CHANGE_PROCEDURES: &str = "PCI-6.5.1";
/// Pre-production environments are separated from production, enforced with access controls.
pub const ENVIRONMENT_SEPARATION: &str = "PCI-6.5.3";
/// Roles and functions are separated between production and pre-production.
pub const ROLE_SEPARATION: &str = "PCI-6.5.4";
/// Live PANs are not used in pre-production environments.
pub const NO_LIVE_PANS: &str = "PCI-6.5.5";
/// Test data and test accounts are removed before a system goes into production.
pub const TEST_DATA_REMOVED: &str = "PCI-6.5.6";
/// Audit logs are enabled and active.
pub const AUDIT_LOGS: &str = "PCI-10.2.1";

/// The PCI DSS v4.0 policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct PciPolicy;

impl Policy for PciPolicy {
    fn metadata(&self) -> PolicyMetadata {
        let control = |id: &str, section: &str, title: &str, description: &str| Control {
            id: id.into(),
            title: title.into(),
            description: description.into(),
            references: vec![reference(PCI_DSS, section)],
        };
        PolicyMetadata {
            id: "pci".into(),
            framework: "PCI DSS".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description:
                "PCI DSS v4.0 change management, vulnerability management and audit logging \
                          for changes affecting cardholder data"
                    .into(),
            controls: vec![
                control(
                    CHANGE_PROCEDURES,
                    "6.5.1",
                    "Change procedures",
                    "The change record documents the reason for the change and its security impact, the \
                     change is approved by authorised parties, it passed the tests its risk class requires, \
                     and a procedure to back it out and return to a secure state is documented.",
                ),
                control(
                    ENVIRONMENT_SEPARATION,
                    "6.5.3",
                    "Pre-production separated from production",
                    "Access control keeps pre-production and production apart: production deployments are \
                     made by members of the authorised deployer group, under an individual identity.",
                ),
                control(
                    ROLE_SEPARATION,
                    "6.5.4",
                    "Separation of roles and functions",
                    "Approvals come from people other than the change's author and deployer, and in \
                     production the author does not deploy their own change.",
                ),
                control(
                    NO_LIVE_PANS,
                    "6.5.5",
                    "No live PANs in pre-production",
                    "No live primary account numbers were found in the change's pre-production evidence \
                     (test fixtures, logs, staging data).",
                ),
                control(
                    TEST_DATA_REMOVED,
                    "6.5.6",
                    "Test data and test accounts removed",
                    "Before a production deployment, test data and test accounts are removed from the \
                     system. Applies to production environments only.",
                ),
                control(
                    VULNERABILITIES,
                    "6.3.3",
                    "Critical and high vulnerabilities addressed",
                    "A completed vulnerability scan shows no open critical or high findings.",
                ),
                control(
                    SECURITY_TESTING,
                    "6.2.4",
                    "Bespoke software security testing",
                    "The bespoke software was security tested before deployment: a security scan of the \
                     change completed.",
                ),
                control(
                    AUDIT_LOGS,
                    "10.2.1",
                    "Audit logs enabled",
                    "Audit logging is enabled on the systems the change affects.",
                ),
            ],
        }
    }

    fn evaluate(
        &self,
        manifest: &Manifest,
        settings: &Settings,
        context: &EvaluationContext,
    ) -> Decision {
        let assessment = Assessment::new(manifest, settings, context);
        let mut decision = match DecisionBuilder::for_data_class(
            self.metadata(),
            &assessment,
            manifest,
            DataClass::CardholderData,
            "PCI DSS v4.0 applies: the change affects cardholder data.",
            "no cardholder data among the change's data classes",
        ) {
            Ok(builder) => builder,
            Err(not_applicable) => return *not_applicable,
        };

        let change_procedures = change_record(manifest)
            .and(checks::ticket_approved(manifest))
            .and(checks::testing_evidence(
                manifest,
                settings,
                assessment.risk.class,
            ))
            .and(checks::rollback_plan(manifest));
        decision.control(CHANGE_PROCEDURES, change_procedures);
        decision.control(
            ENVIRONMENT_SEPARATION,
            checks::deployer_authorised(manifest, settings)
                .and(checks::individual_identities(manifest, settings)),
        );
        decision.control(
            ROLE_SEPARATION,
            assessment
                .approval_separation(manifest)
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
        decision.production_control(TEST_DATA_REMOVED, manifest, settings, || {
            test_data_removed(manifest)
        });
        decision.control(VULNERABILITIES, vulnerabilities_addressed(manifest));
        decision.control(SECURITY_TESTING, security_testing(manifest));
        decision.control(AUDIT_LOGS, checks::audit_logging(manifest));
        decision.emergency_obligation(CHANGE_PROCEDURES, manifest, settings, &assessment);
        decision.finish()
    }
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

#[cfg(feature = "component")]
tollgate_guest::export_policy!(crate::PciPolicy);

#[cfg(test)]
mod tests {
    use tollgate_decision::Severity;
    use tollgate_manifest::{Format, Manifest};

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

    #[test]
    fn catalogue_references_pci_dss_v4() {
        let metadata = PciPolicy.metadata();
        assert_eq!(metadata.id, "pci");
        assert_eq!(metadata.framework, "PCI DSS");
        for control in &metadata.controls {
            let section = control.id.trim_start_matches("PCI-");
            assert_eq!(control.references, [reference(PCI_DSS, section)]);
        }
    }
}
