//! Electronic signatures: what a signed record shows (21 CFR 11.50: signer, date and time,
//! meaning; EU GMP Annex 11 §14(c)) and the signatures' link to their record (11.70; §14(b)). A
//! change's approvals are its signatures.

use tollgate_policy_sdk::decision::Severity;
use tollgate_policy_sdk::manifest::{Manifest, SignatureMeaning};
use tollgate_policy_sdk::{Assessment, Check, Issue};

use crate::facts::FdaFacts;

/// The meaning as written in manifests.
fn meaning_name(meaning: SignatureMeaning) -> &'static str {
    match meaning {
        SignatureMeaning::Review => "review",
        SignatureMeaning::Approval => "approval",
        SignatureMeaning::Responsibility => "responsibility",
        SignatureMeaning::Authorship => "authorship",
    }
}

/// Every approval states its meaning; one counted for a required approver role means approval or
/// responsibility (a review or authorship signature does not approve). The signer and the date
/// and time are required fields of every approval.
pub fn manifested(manifest: &Manifest, assessment: &Assessment) -> Check {
    let mut check = Check::default();
    let required = &assessment.routing.routing.required;
    for (index, approval) in manifest.change.approvals.iter().enumerate() {
        let counted = required
            .iter()
            .any(|r| r.role == approval.role && r.satisfied_by.as_deref() == Some(&approval.by));
        match approval.meaning {
            None => check.issue(Issue::new(
                "signature-meaning-missing",
                Severity::High,
                format!(
                    "the signature of `{}` as {} does not state its meaning",
                    approval.by, approval.role
                ),
                "record what the signature means (review, approval, responsibility or \
                 authorship) with the approval, as the signing system shows it",
                format!("change.approvals[{index}].meaning"),
            )),
            Some(meaning @ (SignatureMeaning::Review | SignatureMeaning::Authorship))
                if counted =>
            {
                check.issue(Issue::new(
                    "signature-meaning-not-approval",
                    Severity::High,
                    format!(
                        "`{}` signed for the {} approval with the meaning `{}`, which does not \
                         approve the change",
                        approval.by,
                        approval.role,
                        meaning_name(meaning)
                    ),
                    format!(
                        "have the {} sign the change with the meaning `approval` (or \
                         `responsibility`)",
                        approval.role
                    ),
                    format!("change.approvals[{index}].meaning"),
                ));
            }
            Some(meaning) => check.evidence(format!(
                "signed by `{}` as {} at {}, meaning {}",
                approval.by,
                approval.role,
                approval.at,
                meaning_name(meaning)
            )),
        }
    }
    if manifest.change.approvals.is_empty() {
        check.evidence("no signature was recorded on the change");
    }
    check
}

/// The approvals' signatures are bound to this change's record and to the commit it deploys.
/// Without approvals there is nothing to link.
pub fn linked(manifest: &Manifest, facts: &FdaFacts) -> Check {
    let change = &manifest.change;
    let mut check = Check::default();
    if change.approvals.is_empty() {
        check.evidence("no signature was recorded on the change, so none needs linking");
        return check;
    }
    let Some(link) = &facts.signature_link else {
        check.issue(Issue::new(
            "signature-link-missing",
            Severity::High,
            format!(
                "nothing shows that the {} signature(s) on change {} are bound to its record",
                change.approvals.len(),
                change.id
            ),
            "record the signing system's record id and signed commit in \
             `extensions.fda.signature_link`",
            "extensions.fda.signature_link",
        ));
        return check;
    };
    if link.record.trim() == change.id.trim() {
        check.evidence(format!("signatures bound to record {}", link.record));
    } else {
        check.issue(Issue::new(
            "signature-linked-to-other-record",
            Severity::Critical,
            format!(
                "the signatures are bound to record `{}`, not to change {}",
                link.record, change.id
            ),
            "signatures cannot be transferred between records: sign this change's record",
            "extensions.fda.signature_link.record",
        ));
    }
    match change
        .commit
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => check.issue(Issue::new(
            "signed-content-unidentified",
            Severity::High,
            format!(
                "change {} does not record the commit it deploys, so the signed content cannot \
                 be matched to it",
                change.id
            ),
            "record the deployed commit in `change.commit`",
            "change.commit",
        )),
        Some(commit) if commit == link.commit.trim() => {
            check.evidence(format!(
                "signatures apply to the deployed commit `{commit}`"
            ));
        }
        Some(commit) => check.issue(Issue::new(
            "signature-linked-to-other-content",
            Severity::Critical,
            format!(
                "the signatures apply to commit `{}`, but the change deploys `{commit}`",
                link.commit
            ),
            "have the approvers sign the content that is deployed (re-approve after a change to \
             the signed content)",
            "extensions.fda.signature_link.commit",
        )),
    }
    check
}

#[cfg(test)]
mod tests {
    use tollgate_policy_sdk::manifest::{Format, Timestamp};
    use tollgate_policy_sdk::{EvaluationContext, Settings};

    use super::*;
    use crate::facts::SignatureLink;

    fn manifest(approvals: &str, commit: &str) -> Manifest {
        let text = format!(
            "version: 1\nchange: {{id: CHG-1, title: t, ticket_status: approved, author: alice, \
             deployer: carol, environment: production, categories: [business_logic], \
             approvals: [{approvals}]{commit}}}\n"
        );
        Manifest::from_text(&text, Format::Yaml).unwrap()
    }

    fn assess(m: &Manifest) -> Assessment {
        let now = Timestamp::parse("2026-05-21T12:00:00Z").unwrap();
        Assessment::new(m, &Settings::default(), &EvaluationContext { now })
    }

    fn rules(check: &Check) -> Vec<(&str, &str)> {
        check
            .issues
            .iter()
            .map(|i| (i.rule_id.as_str(), i.field_path.as_str()))
            .collect()
    }

    #[test]
    fn meaning_is_required_and_a_counted_approval_approves() {
        let m = manifest(
            "{by: bob, role: TECHNICAL_LEAD, at: '2026-05-20T09:00:00Z', meaning: review}, \
             {by: dave, role: QA, at: '2026-05-20T09:00:00Z'}, \
             {by: erin, role: QA, at: '2026-05-20T09:00:00Z', meaning: authorship}",
            "",
        );
        assert_eq!(
            rules(&manifested(&m, &assess(&m))),
            [
                (
                    "signature-meaning-not-approval",
                    "change.approvals[0].meaning"
                ),
                ("signature-meaning-missing", "change.approvals[1].meaning"),
            ]
        );
        let ok = manifest(
            "{by: bob, role: TECHNICAL_LEAD, at: '2026-05-20T09:00:00Z', meaning: approval}",
            "",
        );
        assert!(manifested(&ok, &assess(&ok)).issues.is_empty());
    }

    #[test]
    fn the_link_binds_record_and_content() {
        let approval = "{by: bob, role: TECHNICAL_LEAD, at: '2026-05-20T09:00:00Z'}";
        let link = |record: &str, commit: &str| FdaFacts {
            signature_link: Some(SignatureLink {
                record: record.into(),
                commit: commit.into(),
            }),
            ..FdaFacts::default()
        };
        let m = manifest(approval, ", commit: abc123");
        assert!(linked(&m, &link("CHG-1", "abc123")).issues.is_empty());
        assert_eq!(
            rules(&linked(&m, &link("CHG-2", "def456"))),
            [
                (
                    "signature-linked-to-other-record",
                    "extensions.fda.signature_link.record"
                ),
                (
                    "signature-linked-to-other-content",
                    "extensions.fda.signature_link.commit"
                ),
            ]
        );
        assert_eq!(
            rules(&linked(&m, &FdaFacts::default())),
            [("signature-link-missing", "extensions.fda.signature_link")]
        );
        let uncommitted = manifest(approval, "");
        assert_eq!(
            rules(&linked(&uncommitted, &link("CHG-1", "abc123"))),
            [("signed-content-unidentified", "change.commit")]
        );
        let unsigned = manifest("", "");
        assert!(linked(&unsigned, &FdaFacts::default()).issues.is_empty());
    }
}
