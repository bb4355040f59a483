//! The SOX control catalogue: control ids, titles, descriptions and regulatory references, the
//! single source of the policy's metadata and of the references its findings carry.

use tollgate_policy_sdk::{Catalogue, ControlEntry, ReferenceEntry};

/// Change control: approved ticket, risk-based approval, testing evidence, rollback plan.
pub const CHANGE_CONTROL: &str = "SOX-CC-05";
/// Audit logging is available on the affected systems.
pub const AUDIT_LOGGING: &str = "SOX-IT-01";
/// Data encryption at rest with key rotation.
pub const ENCRYPTION: &str = "SOX-IT-03";
/// Production deployment is restricted to authorised, independent deployers.
pub const DEPLOYER_AUTHORISATION: &str = "SOX-AC-02";
/// Every infrastructure resource the change creates or modifies is tagged with its change.
pub const CHANGE_TRACKING: &str = "SOX-CC-06";
/// The change is deployed inside its environment's window and outside change freezes.
pub const DEPLOYMENT_WINDOW: &str = "SOX-CC-07";

const COBIT: &str = "COBIT 2019";
const COSO_PRINCIPLE_11: ReferenceEntry = ReferenceEntry::new(
    "COSO 2013",
    "Principle 11 (general controls over technology)",
);
const PCAOB_B29: ReferenceEntry = ReferenceEntry::new(
    "PCAOB AS 2201",
    ".B29 (general controls over program changes, access to programs and computer operations)",
);

/// The SOX catalogue, in evaluation and report order.
pub const CATALOGUE: Catalogue = Catalogue {
    id: "sox",
    framework: "SOX",
    version: env!("CARGO_PKG_VERSION"),
    description: "Sarbanes-Oxley IT general controls over change management",
    controls: &[
        ControlEntry {
            id: CHANGE_CONTROL,
            title: "Change control",
            description: "Every production change has an approved change request, risk-based approval \
                          by independent approvers before deployment, passing tests for its risk class \
                          and a documented rollback plan.",
            references: &[
                ReferenceEntry::new(COBIT, "BAI06.01"),
                ReferenceEntry::new(COBIT, "BAI06.02"),
                ReferenceEntry::new(COBIT, "BAI07"),
                COSO_PRINCIPLE_11,
                PCAOB_B29,
            ],
            rules: &[
                "ticket-rejected",
                "ticket-not-approved",
                "sod-self-approval",
                "sod-deployer-approval",
                "sod-identity-unmatched",
                "approval-after-evaluation",
                "approval-by-shared-account",
                "required-tests-missing",
                "required-tests-empty",
                "tests-failed",
                "rollback-plan-missing",
                "evidence-untrusted-source",
            ],
            relies_on: &[
                "change.ticket_status",
                "change.approvals",
                "evidence.tests",
                "evidence.security_scan",
                "evidence.compliance_checks_passed",
                "evidence.backup_verified",
                "evidence.rollback_plan",
            ],
        },
        ControlEntry {
            id: CHANGE_TRACKING,
            title: "Infrastructure change tracking",
            description: "Every infrastructure resource the change's plan creates or modifies \
                          carries the ChangeTicket, GitCommitSHA, ApprovalReference and \
                          ComplianceFramework tags, naming this change's ticket and commit, so \
                          that each resource traces back to an approved change.",
            references: &[
                ReferenceEntry::new(COBIT, "BAI06.01"),
                ReferenceEntry::new(COBIT, "BAI06.03"),
                COSO_PRINCIPLE_11,
                PCAOB_B29,
            ],
            rules: &["infra-tags-missing", "infra-tags-mismatched"],
            relies_on: &["evidence.infrastructure"],
        },
        ControlEntry {
            id: DEPLOYMENT_WINDOW,
            title: "Deployment window and change freeze",
            description: "A change is deployed inside a maintenance window of its environment and \
                          outside any change freeze; an emergency change may deploy outside them \
                          with the additional approval of the configured role.",
            references: &[
                ReferenceEntry::new(COBIT, "BAI06.01"),
                ReferenceEntry::new(COBIT, "BAI06.02"),
                COSO_PRINCIPLE_11,
            ],
            rules: &["deployment-outside-window", "deployment-in-change-freeze"],
            relies_on: &["change.environment", "change.emergency"],
        },
        ControlEntry {
            id: AUDIT_LOGGING,
            title: "Audit log availability",
            description: "Audit logging is enabled on the systems the change affects, and the \
                          change deletes no audit trail and leaves every trail it touches logging \
                          all regions with validated, KMS-encrypted log files.",
            references: &[ReferenceEntry::new(COBIT, "DSS05.07"), COSO_PRINCIPLE_11],
            rules: &[
                "audit-logging-disabled",
                "audit-trail-deleted",
                "audit-trail-weakened",
                "evidence-untrusted-source",
            ],
            relies_on: &["evidence.audit_logging", "evidence.infrastructure"],
        },
        ControlEntry {
            id: ENCRYPTION,
            title: "Data encryption at rest",
            description: "Data at rest is encrypted and the encryption key was rotated within the \
                          configured number of days (default 90).",
            references: &[ReferenceEntry::new(COBIT, "DSS05.03"), COSO_PRINCIPLE_11],
            rules: &[
                "encryption-evidence-missing",
                "encryption-at-rest-disabled",
                "encryption-key-stale",
                "encryption-key-rotation-unknown",
                "evidence-untrusted-source",
            ],
            relies_on: &["evidence.encryption"],
        },
        ControlEntry {
            id: DEPLOYER_AUTHORISATION,
            title: "Deployment access",
            description: "Production deployments are made by members of the authorised deployer group, \
                          under an individual identity, and never by the change's author.",
            references: &[
                ReferenceEntry::new(COBIT, "DSS05.04"),
                COSO_PRINCIPLE_11,
                PCAOB_B29,
            ],
            rules: &[
                "deployer-not-authorised",
                "sod-author-deploys",
                "sod-identity-unmatched",
                "deployer-shared-account",
                "evidence-untrusted-source",
            ],
            relies_on: &["change.author", "change.deployer", "change.deployer_groups"],
        },
    ],
    settings_schema: None,
    extensions: &[],
};
