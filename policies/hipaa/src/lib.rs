//! Tollgate HIPAA policy: the Security Rule's technical safeguards (45 CFR 164.312), the data backup
//! plan (164.308(a)(7)(ii)(A)), de-identified test data (164.514(b), 164.502(b)) and the breach
//! notification procedure (164.400-414), for changes to systems holding protected health
//! information.
//!
//! HIPAA applies only when the change's data classes include `phi`; otherwise every control is
//! not applicable and the policy approves as far as HIPAA is concerned.

use tollgate_decision::{Control, Decision, PolicyMetadata, Severity};
use tollgate_manifest::{DataClass, Manifest, SensitiveDataKind};
use tollgate_rules::{
    Assessment, Check, DecisionBuilder, EvaluationContext, Issue, Policy, Settings, checks,
    reference,
};

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

/// Rule id of an approval given by a shared account, as reported by approval routing.
const APPROVAL_BY_SHARED_ACCOUNT: &str = "approval-by-shared-account";

/// The HIPAA policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct HipaaPolicy;

impl Policy for HipaaPolicy {
    fn metadata(&self) -> PolicyMetadata {
        let cfr = |section: &str| reference("45 CFR", section);
        PolicyMetadata {
            id: "hipaa".into(),
            framework: "HIPAA".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "HIPAA Security Rule safeguards for changes to systems holding protected health \
                          information"
                .into(),
            controls: vec![
                Control {
                    id: ACCESS_CONTROL.into(),
                    title: "Access control".into(),
                    description: "Changes to systems holding ePHI are approved by people independent of \
                                  the author and the deployer; production deployments are made by members \
                                  of the authorised deployer group and never by the change's author; \
                                  emergency changes carry a retrospective approval."
                        .into(),
                    references: vec![cfr("164.312(a)(1)"), cfr("164.312(a)(2)(ii)")],
                },
                Control {
                    id: ENCRYPTION_AT_REST.into(),
                    title: "Encryption and decryption (at rest)".into(),
                    description: "ePHI stored by the affected systems is encrypted at rest.".into(),
                    references: vec![cfr("164.312(a)(2)(iv)")],
                },
                Control {
                    id: ENCRYPTION_IN_TRANSIT.into(),
                    title: "Transmission security (encryption)".into(),
                    description: "ePHI transmitted by the affected systems is encrypted in transit."
                        .into(),
                    references: vec![cfr("164.312(e)(1)"), cfr("164.312(e)(2)(ii)")],
                },
                Control {
                    id: AUDIT_CONTROLS.into(),
                    title: "Audit controls".into(),
                    description: "Audit logging records activity on the systems that hold ePHI.".into(),
                    references: vec![cfr("164.312(b)")],
                },
                Control {
                    id: INTEGRITY.into(),
                    title: "Integrity".into(),
                    description: "The change passed the tests required for its risk class and is traceable \
                                  to the commit and pipeline run that produced it, so ePHI is not altered \
                                  by untested or unidentified code."
                        .into(),
                    references: vec![cfr("164.312(c)(1)")],
                },
                Control {
                    id: AUTHENTICATION.into(),
                    title: "Person or entity authentication".into(),
                    description: "The deployer and every approver act under an individual, authenticated \
                                  identity, never a shared account."
                        .into(),
                    references: vec![cfr("164.312(d)"), cfr("164.312(a)(2)(i)")],
                },
                Control {
                    id: DATA_BACKUP.into(),
                    title: "Data backup plan".into(),
                    description: "A retrievable exact copy of the affected ePHI was taken and verified \
                                  before the change."
                        .into(),
                    references: vec![cfr("164.308(a)(7)(ii)(A)")],
                },
                Control {
                    id: NO_PHI_IN_TEST_EVIDENCE.into(),
                    title: "No PHI in non-production evidence".into(),
                    description: "Test fixtures, logs and other non-production evidence contain no \
                                  protected health information: test data is de-identified and PHI use \
                                  is limited to the minimum necessary."
                        .into(),
                    references: vec![cfr("164.514(b)"), cfr("164.502(b)")],
                },
                Control {
                    id: BREACH_NOTIFICATION.into(),
                    title: "Breach notification procedure".into(),
                    description: "A procedure to notify individuals, HHS and, where required, the media of \
                                  a breach of unsecured PHI is in place for the affected systems."
                        .into(),
                    references: vec![cfr("164.400-414")],
                },
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
            DataClass::Phi,
            "PHI is in scope: the HIPAA Security Rule safeguards apply.",
            "no PHI among the change's data classes",
        ) {
            Ok(builder) => builder,
            Err(not_applicable) => return *not_applicable,
        };

        let (separation, shared_account_approvals) =
            split_shared_account_approvals(assessment.approval_separation(manifest));
        let access = separation
            .and(checks::deployer_authorised(manifest, settings))
            .and(checks::author_not_deployer(manifest, settings));
        decision.control(ACCESS_CONTROL, access);
        decision.control(
            ENCRYPTION_AT_REST,
            checks::encryption_at_rest(manifest, settings, false),
        );
        decision.control(
            ENCRYPTION_IN_TRANSIT,
            checks::encryption_in_transit(manifest),
        );
        decision.control(AUDIT_CONTROLS, checks::audit_logging(manifest));
        let integrity = checks::testing_evidence(manifest, settings, assessment.risk.class)
            .and(traceability(manifest, settings));
        decision.control(INTEGRITY, integrity);
        let authentication =
            checks::individual_identities(manifest, settings).and(shared_account_approvals);
        decision.control(AUTHENTICATION, authentication);
        decision.control(DATA_BACKUP, checks::backup_verified(manifest));
        decision.control(
            NO_PHI_IN_TEST_EVIDENCE,
            checks::no_sensitive_data(
                manifest,
                SensitiveDataKind::is_phi,
                "phi-in-test-evidence",
                "protected health information",
            ),
        );
        decision.control(BREACH_NOTIFICATION, breach_notification(manifest));
        decision.emergency_obligation(ACCESS_CONTROL, manifest, settings, &assessment);
        decision.finish()
    }
}

/// Splits the approval separation check: approvals by shared accounts fail person or entity
/// authentication (164.312(d)), every other approval issue fails access control (164.312(a)(1)).
/// Returns `(access control, authentication)`.
fn split_shared_account_approvals(separation: Check) -> (Check, Check) {
    let (shared, other): (Vec<Issue>, Vec<Issue>) = separation
        .issues
        .into_iter()
        .partition(|issue| issue.rule_id == APPROVAL_BY_SHARED_ACCOUNT);
    let mut authentication = Check::default();
    if shared.is_empty() {
        authentication.evidence("no approval was given by a shared account");
    }
    for issue in shared {
        authentication.issue(issue);
    }
    let access = Check {
        evidence: separation.evidence,
        issues: other,
    };
    (access, authentication)
}

/// The change is traceable to the commit it deploys and the pipeline run that built and tested it.
/// Missing traceability denies in production and is reported (medium) elsewhere.
pub fn traceability(manifest: &Manifest, settings: &Settings) -> Check {
    let change = &manifest.change;
    let severity = if settings.is_production(&change.environment) {
        Severity::High
    } else {
        Severity::Medium
    };
    let recorded = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let mut check = Check::default();
    match recorded(&change.commit) {
        Some(commit) => check.evidence(format!("change deploys commit `{commit}`")),
        None => check.issue(Issue::new(
            "commit-not-recorded",
            severity,
            format!("change {} does not record the commit it deploys", change.id),
            "record the deployed commit (for example the CI commit SHA) in the manifest",
            "change.commit",
        )),
    }
    match recorded(&change.pipeline_id) {
        Some(pipeline) => check.evidence(format!("change was built by pipeline run `{pipeline}`")),
        None => check.issue(Issue::new(
            "pipeline-run-not-recorded",
            severity,
            format!(
                "change {} does not record the pipeline run that built and tested it",
                change.id
            ),
            "record the CI pipeline id in the manifest so the test evidence can be traced",
            "change.pipeline_id",
        )),
    }
    check
}

/// A breach notification procedure covers the affected systems (45 CFR 164.400-414).
pub fn breach_notification(manifest: &Manifest) -> Check {
    let mut check = Check::default();
    if manifest.evidence.breach_notification_procedure {
        check.evidence("a breach notification procedure is in place");
    } else {
        check.issue(Issue::new(
            "breach-notification-procedure-missing",
            Severity::High,
            "no breach notification procedure is in place for systems holding PHI",
            "adopt and document a breach notification procedure (notice to individuals, HHS and, \
             where required, the media) covering the affected systems",
            "evidence.breach_notification_procedure",
        ));
    }
    check
}

#[cfg(feature = "component")]
tollgate_guest::export_policy!(crate::HipaaPolicy);

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use tollgate_manifest::{Format, Manifest, Timestamp};

    use super::*;

    fn manifest(change_extra: &str) -> Manifest {
        let text = format!(
            r#"{{"version": 1, "change": {{"id": "CHG-1", "title": "t", "ticket_status": "approved",
                "author": "alice", "deployer": "carol", "environment": "production",
                "data_classes": ["phi"]{change_extra}}}}}"#
        );
        Manifest::from_text(&text, Format::Json).unwrap()
    }

    fn rule_ids(check: &Check) -> Vec<(&str, Severity)> {
        check
            .issues
            .iter()
            .map(|i| (i.rule_id.as_str(), i.severity))
            .collect()
    }

    #[test]
    fn catalogue_ids_are_unique_and_referenced() {
        let metadata = HipaaPolicy.metadata();
        let ids: BTreeSet<&str> = metadata.controls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), metadata.controls.len());
        for control in &metadata.controls {
            assert!(!control.references.is_empty(), "{}", control.id);
            assert!(
                control.references.iter().all(|r| r.source == "45 CFR"),
                "{}",
                control.id
            );
        }
    }

    #[test]
    fn traceability_denies_only_in_production() {
        let settings = Settings::default();
        let check = traceability(&manifest(""), &settings);
        assert_eq!(
            rule_ids(&check),
            [
                ("commit-not-recorded", Severity::High),
                ("pipeline-run-not-recorded", Severity::High)
            ]
        );
        let mut staging = manifest(r#", "commit": "  ""#);
        staging.change.environment = "staging".into();
        let check = traceability(&staging, &settings);
        assert_eq!(
            rule_ids(&check),
            [
                ("commit-not-recorded", Severity::Medium),
                ("pipeline-run-not-recorded", Severity::Medium)
            ]
        );
        let check = traceability(
            &manifest(r#", "commit": "3f9c2a1e", "pipeline_id": "48213""#),
            &settings,
        );
        assert!(check.issues.is_empty());
        assert_eq!(check.evidence.len(), 2);
    }

    #[test]
    fn shared_account_approvals_move_to_authentication() {
        let m = manifest(
            r#", "approvals": [
                {"by": "jenkins", "role": "TECHNICAL_LEAD", "at": "2026-05-20T09:00:00Z"},
                {"by": "alice", "role": "TECHNICAL_LEAD", "at": "2026-05-20T09:00:00Z"}]"#,
        );
        let settings = Settings::default();
        let now = Timestamp::parse("2026-05-21T12:00:00Z").unwrap();
        let assessment = Assessment::new(&m, &settings, &EvaluationContext { now });
        let (access, authentication) =
            split_shared_account_approvals(assessment.approval_separation(&m));
        assert_eq!(rule_ids(&access), [("sod-self-approval", Severity::High)]);
        assert_eq!(
            rule_ids(&authentication),
            [("approval-by-shared-account", Severity::High)]
        );
    }

    #[test]
    fn not_applicable_without_phi() {
        let mut m = manifest("");
        m.change.data_classes = vec![DataClass::Pii];
        let now = Timestamp::parse("2026-05-21T12:00:00Z").unwrap();
        let decision = HipaaPolicy.evaluate(&m, &Settings::default(), &EvaluationContext { now });
        assert!(!decision.applicable);
        assert!(decision.findings.is_empty());
        assert_eq!(
            decision.controls.len(),
            HipaaPolicy.metadata().controls.len()
        );
    }
}
