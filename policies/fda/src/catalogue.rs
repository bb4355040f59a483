//! The FDA control catalogue: control ids, titles, descriptions and regulatory references (each
//! control's 21 CFR Part 11 section and the matching EU GMP Annex 11 clauses), the single source of
//! the policy's metadata and of the references its findings carry; and the manifest extension
//! namespace `fda` the policy reads, with its JSON Schema.

use tollgate_policy_sdk::{Catalogue, ControlEntry, ExtensionEntry, ReferenceEntry};

/// Validation of the system, risk-based (21 CFR 11.10(a); Annex 11 §4).
pub const VALIDATION: &str = "FDA-11.10(a)";
/// System access limited to authorised individuals (21 CFR 11.10(d); Annex 11 §12.1).
pub const ACCESS: &str = "FDA-11.10(d)";
/// Secure, computer-generated, time-stamped audit trails (21 CFR 11.10(e); Annex 11 §9, §12.4).
pub const AUDIT_TRAILS: &str = "FDA-11.10(e)";
/// Operational checks enforce the permitted sequence of steps (21 CFR 11.10(f); Annex 11 §10).
pub const SEQUENCING: &str = "FDA-11.10(f)";
/// Authority checks: only authorised, independent people sign and perform the operation
/// (21 CFR 11.10(g); Annex 11 §12.1, §2).
pub const AUTHORITY: &str = "FDA-11.10(g)";
/// Education and training of those who develop, approve and deploy (21 CFR 11.10(i);
/// Annex 11 §2).
pub const TRAINING: &str = "FDA-11.10(i)";
/// Systems documentation and change control (21 CFR 11.10(k); Annex 11 §10, §4.2).
pub const CHANGE_CONTROL: &str = "FDA-11.10(k)";
/// Signature manifestation: signer, date and time, meaning (21 CFR 11.50; Annex 11 §14(c)).
pub const SIGNATURE_MANIFESTATION: &str = "FDA-11.50";
/// Signatures linked to their records (21 CFR 11.70; Annex 11 §14(b)).
pub const SIGNATURE_LINKING: &str = "FDA-11.70";
/// Signatures unique to one individual, no shared accounts (21 CFR 11.100(a); Annex 11 §14(a),
/// §12.1).
pub const UNIQUE_SIGNATURES: &str = "FDA-11.100(a)";

/// The manifest extension namespace this policy reads (`extensions.fda`).
pub const NAMESPACE: &str = "fda";

/// A section of title 21 of the Code of Federal Regulations (Part 11).
const fn cfr(section: &'static str) -> ReferenceEntry {
    ReferenceEntry::new("21 CFR", section)
}

/// A clause of EU GMP (EudraLex Volume 4) Annex 11, Computerised Systems.
const fn annex11(clause: &'static str) -> ReferenceEntry {
    ReferenceEntry::new("EU GMP Annex 11", clause)
}

/// The FDA catalogue, in evaluation and report order.
pub const CATALOGUE: Catalogue = Catalogue {
    id: "fda",
    framework: "FDA 21 CFR Part 11",
    version: env!("CARGO_PKG_VERSION"),
    description: "FDA 21 CFR Part 11 electronic records and signatures, with EU GMP Annex 11, for \
                  changes to GxP computerised systems",
    controls: &[
        ControlEntry {
            id: VALIDATION,
            title: "Validation of systems",
            description: "The change is validated for its risk: the system's GAMP 5 category is \
                          declared; the qualification suites that category needs (IQ; IQ and PQ \
                          for category 3; IQ, OQ and PQ for categories 4 and 5) and the suites of \
                          the change's risk class passed with no failing suite; and, above \
                          category 1, every affected user requirement is traced to a test in a \
                          referenced trace matrix.",
            references: &[
                cfr("11.10(a)"),
                annex11("4.1"),
                annex11("4.4"),
                annex11("4.7"),
            ],
            rules: &[
                "gamp-category-missing",
                "validation-suite-missing",
                "validation-suite-empty",
                "required-tests-missing",
                "required-tests-empty",
                "tests-failed",
                "requirements-trace-missing",
                "requirements-not-traced",
                "evidence-untrusted-source",
            ],
            relies_on: &["evidence.tests"],
        },
        ControlEntry {
            id: ACCESS,
            title: "Limiting system access to authorised individuals",
            description: "Production deployments of the GxP system are made only by members of \
                          the authorised deployer group.",
            references: &[cfr("11.10(d)"), annex11("12.1")],
            rules: &["deployer-not-authorised", "evidence-untrusted-source"],
            relies_on: &["change.deployer", "change.deployer_groups"],
        },
        ControlEntry {
            id: AUDIT_TRAILS,
            title: "Secure, time-stamped audit trails",
            description: "Audit logging records the operator actions on the GxP system, and the \
                          change deletes no audit trail and leaves every trail it touches logging \
                          all regions with validated, KMS-encrypted log files.",
            references: &[cfr("11.10(e)"), annex11("9"), annex11("12.4")],
            rules: &[
                "audit-logging-disabled",
                "audit-trail-deleted",
                "audit-trail-weakened",
                "evidence-untrusted-source",
            ],
            relies_on: &["evidence.audit_logging", "evidence.infrastructure"],
        },
        ControlEntry {
            id: SEQUENCING,
            title: "Operational sequencing of steps",
            description: "Steps happen in their permitted order: the change is approved before it \
                          is deployed (an emergency change may proceed on a submitted ticket), \
                          and no approval is dated before the change was submitted or after the \
                          deployment is evaluated.",
            references: &[cfr("11.10(f)"), annex11("10")],
            rules: &[
                "ticket-rejected",
                "ticket-not-approved",
                "approval-before-submission",
                "approval-after-evaluation",
                "evidence-untrusted-source",
            ],
            relies_on: &["change.ticket_status", "change.submitted_at"],
        },
        ControlEntry {
            id: AUTHORITY,
            title: "Authority checks",
            description: "Only authorised people sign and perform the operation: the approver \
                          roles the change's risk class needs are held by people independent of \
                          the author and the deployer, and in production the author does not \
                          deploy their own change.",
            references: &[cfr("11.10(g)"), annex11("12.1"), annex11("2")],
            rules: &[
                "sod-self-approval",
                "sod-deployer-approval",
                "sod-identity-unmatched",
                "sod-author-deploys",
                "evidence-untrusted-source",
            ],
            relies_on: &["change.author", "change.deployer", "change.approvals"],
        },
        ControlEntry {
            id: TRAINING,
            title: "Training of those who develop, approve and deploy",
            description: "The author, every approver and the deployer have a GxP training record \
                          completed before the evaluation and not expired at it.",
            references: &[cfr("11.10(i)"), annex11("2")],
            rules: &[
                "training-record-missing",
                "training-not-completed",
                "training-expired",
            ],
            relies_on: &["change.author", "change.deployer"],
        },
        ControlEntry {
            id: CHANGE_CONTROL,
            title: "Systems documentation and change control",
            description: "The change is documented and controlled: its reason is recorded, it \
                          identifies the commit it deploys and the pipeline run that built and \
                          tested it, a rollback plan is documented, and it is deployed within its \
                          deployment window; an emergency change carries a retrospective approval.",
            references: &[cfr("11.10(k)"), annex11("10"), annex11("4.2")],
            rules: &[
                "change-reason-missing",
                "commit-not-recorded",
                "pipeline-run-not-recorded",
                "rollback-plan-missing",
                "deployment-outside-window",
                "deployment-in-change-freeze",
                "evidence-untrusted-source",
            ],
            relies_on: &[
                "change.reason",
                "change.commit",
                "change.pipeline_id",
                "evidence.rollback_plan",
            ],
        },
        ControlEntry {
            id: SIGNATURE_MANIFESTATION,
            title: "Signature manifestations",
            description: "Every approval shows the signer, the date and time of signing and the \
                          meaning of the signature (review, approval, responsibility or \
                          authorship); an approval that stands for a required approver role means \
                          approval or responsibility.",
            references: &[cfr("11.50(a)"), annex11("14(c)")],
            rules: &[
                "signature-meaning-missing",
                "signature-meaning-not-approval",
                "evidence-untrusted-source",
            ],
            relies_on: &["change.approvals", "change.approvals[*].meaning"],
        },
        ControlEntry {
            id: SIGNATURE_LINKING,
            title: "Signature/record linking",
            description: "The approvals' signatures are bound to this change's record and to the \
                          exact content deployed: the signing system's record id is the change \
                          id and its signed commit is the commit deployed.",
            references: &[cfr("11.70"), annex11("14(b)")],
            rules: &[
                "signature-link-missing",
                "signed-content-unidentified",
                "signature-linked-to-other-record",
                "signature-linked-to-other-content",
            ],
            relies_on: &["change.commit"],
        },
        ControlEntry {
            id: UNIQUE_SIGNATURES,
            title: "Signatures unique to one individual",
            description: "The deployer and every approver act under an individual identity, never \
                          a shared or service account, so that every signature belongs to one \
                          person.",
            references: &[cfr("11.100(a)"), annex11("14(a)"), annex11("12.1")],
            rules: &["deployer-shared-account", "approval-by-shared-account"],
            relies_on: &["change.deployer"],
        },
    ],
    settings_schema: None,
    extensions: &[ExtensionEntry {
        namespace: NAMESPACE,
        description: "GxP validation, training and signature facts: GAMP 5 category, requirement \
                      traceability, the signed record, training records",
        schema: include_str!("../schema/fda.schema.json"),
    }],
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn every_control_cites_part_11_and_annex_11() {
        let ids: BTreeSet<&str> = CATALOGUE.controls.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), CATALOGUE.controls.len());
        assert_eq!(CATALOGUE.controls.len(), 10);
        for control in CATALOGUE.controls {
            let sources: BTreeSet<&str> = control.references.iter().map(|r| r.source).collect();
            assert_eq!(
                sources,
                BTreeSet::from(["21 CFR", "EU GMP Annex 11"]),
                "{}",
                control.id
            );
            assert_eq!(control.references[0].source, "21 CFR", "{}", control.id);
            let section = control.id.strip_prefix("FDA-").unwrap();
            assert!(
                control.references[0].section.starts_with(section),
                "{}",
                control.id
            );
        }
    }

    #[test]
    fn the_extension_schema_is_json() {
        let schema: tollgate_policy_sdk::serde_json::Value =
            tollgate_policy_sdk::serde_json::from_str(CATALOGUE.extensions[0].schema).unwrap();
        let properties = schema["properties"].as_object().unwrap();
        assert_eq!(
            properties.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "gamp_category",
                "requirements",
                "signature_link",
                "training"
            ]
        );
    }
}
