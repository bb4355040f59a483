//! The HIPAA control catalogue: control ids, titles, descriptions and regulatory references, the
//! single source of the policy's metadata and of the references its findings carry.

use tollgate_policy_sdk::{Catalogue, ControlEntry, ReferenceEntry};

/// Access control: independent approvals, authorised production deployer, author is not the
/// deployer (45 CFR 164.312(a)(1)).
pub const ACCESS_CONTROL: &str = "HIPAA-164.312(a)(1)";
/// Encryption of ePHI at rest (45 CFR 164.312(a)(2)(iv)).
pub const ENCRYPTION_AT_REST: &str = "HIPAA-164.312(a)(2)(iv)";
/// Encryption of ePHI in transit (45 CFR 164.312(e)(1), (e)(2)(ii)).
pub const ENCRYPTION_IN_TRANSIT: &str = "HIPAA-164.312(e)(2)(ii)";
/// Audit controls on the systems holding ePHI (45 CFR 164.312(b)).
pub const AUDIT_CONTROLS: &str = "HIPAA-164.312(b)";
/// Integrity: tested for its risk class and traceable to a commit and pipeline run
/// (45 CFR 164.312(c)(1)).
pub const INTEGRITY: &str = "HIPAA-164.312(c)(1)";
/// Person or entity authentication: deployer and approvers are individuals (45 CFR 164.312(d)).
pub const AUTHENTICATION: &str = "HIPAA-164.312(d)";
/// Data backup plan: a restorable backup was verified (45 CFR 164.308(a)(7)(ii)(A)).
pub const DATA_BACKUP: &str = "HIPAA-164.308(a)(7)(ii)(A)";
/// No PHI in non-production evidence (45 CFR 164.514(b), 164.502(b)).
pub const NO_PHI_IN_TEST_EVIDENCE: &str = "HIPAA-164.514(b)";
/// A breach notification procedure is in place (45 CFR 164.400-414).
pub const BREACH_NOTIFICATION: &str = "HIPAA-164.400-414";

/// A section of title 45 of the Code of Federal Regulations.
const fn cfr(section: &'static str) -> ReferenceEntry {
    ReferenceEntry::new("45 CFR", section)
}

/// The HIPAA catalogue, in evaluation and report order.
pub const CATALOGUE: Catalogue = Catalogue {
    id: "hipaa",
    framework: "HIPAA",
    version: env!("CARGO_PKG_VERSION"),
    description: "HIPAA Security Rule safeguards for changes to systems holding protected health \
                  information",
    controls: &[
        ControlEntry {
            id: ACCESS_CONTROL,
            title: "Access control",
            description: "Changes to systems holding ePHI are approved by people independent of \
                          the author and the deployer; production deployments are made by members \
                          of the authorised deployer group and never by the change's author; \
                          emergency changes carry a retrospective approval.",
            references: &[cfr("164.312(a)(1)"), cfr("164.312(a)(2)(ii)")],
            rules: &[
                "sod-self-approval",
                "sod-deployer-approval",
                "sod-identity-unmatched",
                "approval-after-evaluation",
                "deployer-not-authorised",
                "sod-author-deploys",
                "data-store-public",
                "deployment-outside-window",
                "deployment-in-change-freeze",
                "evidence-untrusted-source",
            ],
            relies_on: &[
                "change.author",
                "change.deployer",
                "change.deployer_groups",
                "change.approvals",
                "evidence.infrastructure",
            ],
        },
        ControlEntry {
            id: ENCRYPTION_AT_REST,
            title: "Encryption and decryption (at rest)",
            description: "ePHI stored by the affected systems is encrypted at rest, including \
                          every data store the change's infrastructure plan creates or modifies.",
            references: &[cfr("164.312(a)(2)(iv)")],
            rules: &[
                "encryption-evidence-missing",
                "encryption-at-rest-disabled",
                "data-store-unencrypted",
                "evidence-untrusted-source",
            ],
            relies_on: &["evidence.encryption", "evidence.infrastructure"],
        },
        ControlEntry {
            id: ENCRYPTION_IN_TRANSIT,
            title: "Transmission security (encryption)",
            description: "ePHI transmitted by the affected systems is encrypted in transit.",
            references: &[cfr("164.312(e)(1)"), cfr("164.312(e)(2)(ii)")],
            rules: &[
                "encryption-evidence-missing",
                "encryption-in-transit-disabled",
                "evidence-untrusted-source",
            ],
            relies_on: &["evidence.encryption"],
        },
        ControlEntry {
            id: AUDIT_CONTROLS,
            title: "Audit controls",
            description: "Audit logging records activity on the systems that hold ePHI, and the \
                          change deletes no audit trail and leaves every trail it touches logging \
                          all regions with validated, KMS-encrypted log files.",
            references: &[cfr("164.312(b)")],
            rules: &[
                "audit-logging-disabled",
                "audit-trail-deleted",
                "audit-trail-weakened",
                "evidence-untrusted-source",
            ],
            relies_on: &["evidence.audit_logging", "evidence.infrastructure"],
        },
        ControlEntry {
            id: INTEGRITY,
            title: "Integrity",
            description: "The change passed the tests required for its risk class and is traceable \
                          to the commit and pipeline run that produced it, so ePHI is not altered \
                          by untested or unidentified code.",
            references: &[cfr("164.312(c)(1)")],
            rules: &[
                "required-tests-missing",
                "required-tests-empty",
                "tests-failed",
                "commit-not-recorded",
                "pipeline-run-not-recorded",
                "evidence-untrusted-source",
            ],
            relies_on: &["change.commit", "change.pipeline_id", "evidence.tests"],
        },
        ControlEntry {
            id: AUTHENTICATION,
            title: "Person or entity authentication",
            description: "The deployer and every approver act under an individual, authenticated \
                          identity, never a shared account.",
            references: &[cfr("164.312(d)"), cfr("164.312(a)(2)(i)")],
            rules: &[
                "deployer-shared-account",
                "approval-by-shared-account",
                "evidence-untrusted-source",
            ],
            relies_on: &["change.deployer", "change.approvals"],
        },
        ControlEntry {
            id: DATA_BACKUP,
            title: "Data backup plan",
            description: "A retrievable exact copy of the affected ePHI was taken and verified \
                          before the change.",
            references: &[cfr("164.308(a)(7)(ii)(A)")],
            rules: &["backup-not-verified", "evidence-untrusted-source"],
            relies_on: &["evidence.backup_verified"],
        },
        ControlEntry {
            id: NO_PHI_IN_TEST_EVIDENCE,
            title: "No PHI in non-production evidence",
            description: "Test fixtures, logs and other non-production evidence contain no \
                          protected health information: test data is de-identified and PHI use \
                          is limited to the minimum necessary.",
            references: &[cfr("164.514(b)"), cfr("164.502(b)")],
            rules: &["phi-in-test-evidence"],
            relies_on: &["evidence.sensitive_data_findings"],
        },
        ControlEntry {
            id: BREACH_NOTIFICATION,
            title: "Breach notification procedure",
            description: "A procedure to notify individuals, HHS and, where required, the media of \
                          a breach of unsecured PHI is in place for the affected systems.",
            references: &[cfr("164.400-414")],
            rules: &[
                "breach-notification-procedure-missing",
                "evidence-untrusted-source",
            ],
            relies_on: &["evidence.breach_notification_procedure"],
        },
    ],
    settings_schema: None,
    extensions: &[],
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn catalogue_ids_are_unique_and_referenced() {
        let ids: BTreeSet<&str> = CATALOGUE.controls.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), CATALOGUE.controls.len());
        for control in CATALOGUE.controls {
            assert!(!control.references.is_empty(), "{}", control.id);
            assert!(
                control.references.iter().all(|r| r.source == "45 CFR"),
                "{}",
                control.id
            );
        }
    }
}
