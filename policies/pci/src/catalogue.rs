//! The PCI DSS control catalogue: control ids, titles, descriptions and regulatory references, the
//! single source of the policy's metadata and of the references its findings carry.

use tollgate_policy_sdk::{Catalogue, ControlEntry, ReferenceEntry};

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
/// Audit log files are protected from modification: no audit trail is deleted or weakened.
pub const AUDIT_LOG_PROTECTION: &str = "PCI-10.3.2";
/// Stored account data is rendered unreadable: every changed data store is encrypted at rest.
pub const STORED_DATA_UNREADABLE: &str = "PCI-3.5.1";
/// Stores of cardholder data are not directly accessible from untrusted networks.
pub const STORES_NOT_PUBLIC: &str = "PCI-1.4.4";

/// Source name of every regulatory reference of this policy.
pub const PCI_DSS: &str = "PCI DSS v4.0";

/// A requirement of PCI DSS v4.0.
const fn requirement(section: &'static str) -> ReferenceEntry {
    ReferenceEntry::new(PCI_DSS, section)
}

/// The PCI DSS catalogue, in evaluation and report order.
pub const CATALOGUE: Catalogue = Catalogue {
    id: "pci",
    framework: "PCI DSS",
    version: env!("CARGO_PKG_VERSION"),
    description: "PCI DSS v4.0 change management, vulnerability management and audit logging \
                  for changes affecting cardholder data",
    controls: &[
        ControlEntry {
            id: CHANGE_PROCEDURES,
            title: "Change procedures",
            description: "The change record documents the reason for the change and its security \
                          impact, the change is approved by authorised parties, it passed the tests \
                          its risk class requires, and a procedure to back it out and return to a \
                          secure state is documented.",
            references: &[requirement("6.5.1")],
            rules: &[
                "deployment-outside-window",
                "deployment-in-change-freeze",
                "change-reason-missing",
                "security-impact-missing",
                "ticket-rejected",
                "ticket-not-approved",
                "required-tests-missing",
                "required-tests-empty",
                "tests-failed",
                "rollback-plan-missing",
                "evidence-untrusted-source",
            ],
            relies_on: &[
                "change.reason",
                "change.security_impact",
                "change.ticket_status",
                "evidence.tests",
                "evidence.rollback_plan",
            ],
        },
        ControlEntry {
            id: ENVIRONMENT_SEPARATION,
            title: "Pre-production separated from production",
            description: "Access control keeps pre-production and production apart: production \
                          deployments are made by members of the authorised deployer group, under \
                          an individual identity.",
            references: &[requirement("6.5.3")],
            rules: &[
                "deployer-not-authorised",
                "deployer-shared-account",
                "evidence-untrusted-source",
            ],
            relies_on: &["change.deployer", "change.deployer_groups"],
        },
        ControlEntry {
            id: ROLE_SEPARATION,
            title: "Separation of roles and functions",
            description: "Approvals come from people other than the change's author and deployer, \
                          and in production the author does not deploy their own change.",
            references: &[requirement("6.5.4")],
            rules: &[
                "sod-self-approval",
                "sod-deployer-approval",
                "sod-identity-unmatched",
                "approval-after-evaluation",
                "approval-by-shared-account",
                "sod-author-deploys",
                "evidence-untrusted-source",
            ],
            relies_on: &["change.author", "change.deployer", "change.approvals"],
        },
        ControlEntry {
            id: NO_LIVE_PANS,
            title: "No live PANs in pre-production",
            description: "No live primary account numbers were found in the change's pre-production \
                          evidence (test fixtures, logs, staging data).",
            references: &[requirement("6.5.5")],
            rules: &["live-pan-in-pre-production"],
            relies_on: &["evidence.sensitive_data_findings"],
        },
        ControlEntry {
            id: TEST_DATA_REMOVED,
            title: "Test data and test accounts removed",
            description: "Before a production deployment, test data and test accounts are removed \
                          from the system. Applies to production environments only.",
            references: &[requirement("6.5.6")],
            rules: &["test-data-not-removed", "evidence-untrusted-source"],
            relies_on: &["evidence.test_data_removed"],
        },
        ControlEntry {
            id: VULNERABILITIES,
            title: "Critical and high vulnerabilities addressed",
            description: "A completed vulnerability scan shows no open critical or high findings.",
            references: &[requirement("6.3.3")],
            rules: &[
                "vulnerability-scan-missing",
                "critical-vulnerabilities-open",
                "high-vulnerabilities-open",
                "evidence-untrusted-source",
            ],
            relies_on: &["evidence.security_scan"],
        },
        ControlEntry {
            id: SECURITY_TESTING,
            title: "Bespoke software security testing",
            description: "The bespoke software was security tested before deployment: a security \
                          scan of the change completed.",
            references: &[requirement("6.2.4")],
            rules: &["security-testing-missing", "evidence-untrusted-source"],
            relies_on: &["evidence.tests"],
        },
        ControlEntry {
            id: AUDIT_LOGS,
            title: "Audit logs enabled",
            description: "Audit logging is enabled on the systems the change affects.",
            references: &[requirement("10.2.1")],
            rules: &["audit-logging-disabled", "evidence-untrusted-source"],
            relies_on: &["evidence.audit_logging"],
        },
        ControlEntry {
            id: AUDIT_LOG_PROTECTION,
            title: "Audit logs protected from modification",
            description: "The change's infrastructure plan deletes no audit trail, and every trail \
                          it creates or modifies keeps logging all regions with log file \
                          validation and KMS-encrypted log files.",
            references: &[requirement("10.3.2")],
            rules: &["audit-trail-deleted", "audit-trail-weakened"],
            relies_on: &["evidence.infrastructure"],
        },
        ControlEntry {
            id: STORED_DATA_UNREADABLE,
            title: "Stored account data rendered unreadable",
            description: "Every data store the change's infrastructure plan creates or modifies \
                          encrypts the data at rest.",
            references: &[requirement("3.5.1")],
            rules: &["data-store-unencrypted"],
            relies_on: &["evidence.infrastructure"],
        },
        ControlEntry {
            id: STORES_NOT_PUBLIC,
            title: "Cardholder data stores not reachable from untrusted networks",
            description: "No data store the change's infrastructure plan creates or modifies is \
                          reachable from the public internet (public ACL or public endpoint).",
            references: &[requirement("1.4.4")],
            rules: &["data-store-public"],
            relies_on: &["evidence.infrastructure"],
        },
    ],
    settings_schema: None,
    extensions: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_references_pci_dss_v4() {
        assert_eq!(CATALOGUE.id, "pci");
        assert_eq!(CATALOGUE.framework, "PCI DSS");
        for control in CATALOGUE.controls {
            let section = control.id.trim_start_matches("PCI-");
            assert_eq!(control.references, [requirement(section)]);
        }
    }
}
