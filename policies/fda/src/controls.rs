//! The FDA controls: the shared checks of the SDK (approvals, separation of duties, authorised
//! deployer, shared accounts, testing evidence, audit trails, deployment windows) and the
//! FDA-specific ones (validation, training, signatures, sequencing, change documentation), each
//! bound to its control.

use tollgate_policy_sdk::decision::Severity;
use tollgate_policy_sdk::manifest::Manifest;
use tollgate_policy_sdk::{
    Assessment, Check, DecisionBuilder, Issue, Settings, SharedAccountApprovals, checks,
    infrastructure,
};

use crate::catalogue::{
    ACCESS, AUDIT_TRAILS, AUTHORITY, CHANGE_CONTROL, SEQUENCING, SIGNATURE_LINKING,
    SIGNATURE_MANIFESTATION, TRAINING, UNIQUE_SIGNATURES, VALIDATION,
};
use crate::facts::FdaFacts;
use crate::{signatures, training, validation};

/// Rule id of an approval dated after the evaluation (raised by the shared approval routing),
/// reported under sequencing rather than authority checks.
const APPROVAL_AFTER_EVALUATION: &str = "approval-after-evaluation";

/// Records every FDA control, and the retrospective-approval obligation of an emergency change on
/// change control (11.10(k)).
pub fn apply(
    decision: &mut DecisionBuilder,
    manifest: &Manifest,
    facts: &FdaFacts,
    settings: &Settings,
    assessment: &Assessment,
) {
    let now = assessment.now;
    decision.control(
        VALIDATION,
        validation::validated(manifest, facts).and(checks::testing_evidence(
            manifest,
            settings,
            assessment.risk.class,
        )),
    );
    decision.control(ACCESS, checks::deployer_authorised(manifest, settings));
    decision.control(
        AUDIT_TRAILS,
        checks::audit_logging(manifest).and(infrastructure::audit_trails(manifest)),
    );
    let (separation, late) = split_late_approvals(
        assessment.approval_separation(manifest, SharedAccountApprovals::Separately),
    );
    decision.control(
        SEQUENCING,
        checks::ticket_approved(manifest)
            .and(approvals_after_submission(manifest))
            .and(late),
    );
    decision.control(
        AUTHORITY,
        separation.and(checks::author_not_deployer(manifest, settings)),
    );
    decision.control(TRAINING, training::trained(manifest, facts, settings, now));
    decision.control(
        CHANGE_CONTROL,
        change_record(manifest)
            .and(checks::rollback_plan(manifest))
            .and(checks::deployment_window(manifest, settings, now)),
    );
    decision.control(
        SIGNATURE_MANIFESTATION,
        signatures::manifested(manifest, assessment),
    );
    decision.control(SIGNATURE_LINKING, signatures::linked(manifest, facts));
    decision.control(
        UNIQUE_SIGNATURES,
        checks::individual_identities(manifest, settings)
            .and(assessment.shared_account_approvals()),
    );
    decision.emergency_obligation(CHANGE_CONTROL, manifest, settings, assessment);
}

/// Separates the approvals dated after the evaluation (a sequencing finding) from the other
/// separation-of-duties results.
fn split_late_approvals(separation: Check) -> (Check, Check) {
    let (late, others): (Vec<Issue>, Vec<Issue>) = separation
        .issues
        .into_iter()
        .partition(|issue| issue.rule_id == APPROVAL_AFTER_EVALUATION);
    let mut late_check = Check::default();
    for issue in late {
        late_check.issue(issue);
    }
    let rest = Check {
        issues: others,
        ..separation
    };
    (rest, late_check)
}

/// No approval is dated before the change was submitted (when the submission time is recorded):
/// a signature cannot precede the record it approves.
fn approvals_after_submission(manifest: &Manifest) -> Check {
    let change = &manifest.change;
    let mut check = Check::default();
    let Some(submitted) = change.submitted_at else {
        return check;
    };
    let mut in_order = true;
    for (index, approval) in change.approvals.iter().enumerate() {
        if approval.at < submitted {
            in_order = false;
            check.issue(Issue::new(
                "approval-before-submission",
                Severity::High,
                format!(
                    "approval by `{}` is dated {}, before change {} was submitted at {submitted}",
                    approval.by, approval.at, change.id
                ),
                "approve the change after it is submitted, on its final content",
                format!("change.approvals[{index}].at"),
            ));
        }
    }
    if in_order && !change.approvals.is_empty() {
        check.evidence(format!(
            "every approval follows the submission at {submitted}"
        ));
    }
    check
}

/// The change record identifies why the change is made, what it deploys and the run that built
/// and tested it (11.10(k)(2): a time-sequenced record of the system's modification).
fn change_record(manifest: &Manifest) -> Check {
    let change = &manifest.change;
    let mut check = Check::default();
    let recorded = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    match recorded(&change.reason) {
        Some(reason) => check.evidence(format!("reason documented: {reason}")),
        None => check.issue(Issue::new(
            "change-reason-missing",
            Severity::High,
            format!("change {} documents no reason for the change", change.id),
            "state why the change is made in `change.reason`",
            "change.reason",
        )),
    }
    match recorded(&change.commit) {
        Some(commit) => check.evidence(format!("change deploys commit `{commit}`")),
        None => check.issue(Issue::new(
            "commit-not-recorded",
            Severity::High,
            format!("change {} does not record the commit it deploys", change.id),
            "record the deployed commit (for example the CI commit SHA) in the manifest",
            "change.commit",
        )),
    }
    match recorded(&change.pipeline_id) {
        Some(pipeline) => check.evidence(format!("change was built by pipeline run `{pipeline}`")),
        None => check.issue(Issue::new(
            "pipeline-run-not-recorded",
            Severity::High,
            format!(
                "change {} does not record the pipeline run that built and tested it",
                change.id
            ),
            "record the CI pipeline id in the manifest so the validation evidence can be traced",
            "change.pipeline_id",
        )),
    }
    check
}

#[cfg(test)]
mod tests {
    use tollgate_policy_sdk::manifest::Format;

    use super::*;

    fn manifest(change_extra: &str) -> Manifest {
        let text = format!(
            "version: 1\nchange: {{id: CHG-1, title: t, ticket_status: approved, author: alice, \
             deployer: carol, environment: production, approvals: [{{by: bob, role: \
             TECHNICAL_LEAD, at: '2026-05-20T09:00:00Z'}}]{change_extra}}}\n"
        );
        Manifest::from_text(&text, Format::Yaml).unwrap()
    }

    fn rules(check: &Check) -> Vec<(&str, &str)> {
        check
            .issues
            .iter()
            .map(|i| (i.rule_id.as_str(), i.field_path.as_str()))
            .collect()
    }

    #[test]
    fn approvals_must_follow_the_submission() {
        assert!(approvals_after_submission(&manifest("")).issues.is_empty());
        let early = manifest(", submitted_at: '2026-05-20T10:00:00Z'");
        assert_eq!(
            rules(&approvals_after_submission(&early)),
            [("approval-before-submission", "change.approvals[0].at")]
        );
        let later = manifest(", submitted_at: '2026-05-19T10:00:00Z'");
        assert!(approvals_after_submission(&later).issues.is_empty());
    }

    #[test]
    fn the_change_record_names_reason_commit_and_run() {
        assert_eq!(
            rules(&change_record(&manifest(", reason: ' '"))),
            [
                ("change-reason-missing", "change.reason"),
                ("commit-not-recorded", "change.commit"),
                ("pipeline-run-not-recorded", "change.pipeline_id"),
            ]
        );
        let complete = manifest(", reason: r, commit: abc, pipeline_id: '7'");
        assert!(change_record(&complete).issues.is_empty());
    }

    #[test]
    fn late_approvals_move_to_sequencing() {
        let mut separation = Check::default();
        separation.issue(Issue::new(
            APPROVAL_AFTER_EVALUATION,
            Severity::Medium,
            "m",
            "r",
            "p",
        ));
        separation.issue(Issue::new(
            "sod-self-approval",
            Severity::High,
            "m",
            "r",
            "p",
        ));
        separation.awaiting(&["QA"]);
        let (rest, late) = split_late_approvals(separation);
        assert_eq!(rest.issues[0].rule_id, "sod-self-approval");
        assert!(rest.awaiting_approvals);
        assert_eq!(late.issues[0].rule_id, APPROVAL_AFTER_EVALUATION);
    }
}
