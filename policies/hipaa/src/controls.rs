//! The HIPAA controls: the shared checks of `tollgate_rules` and two HIPAA-specific ones
//! (traceability for integrity, the breach notification procedure), each bound to its control.

use tollgate_policy_sdk::checks::{self, KeyRotation};
use tollgate_policy_sdk::decision::Severity;
use tollgate_policy_sdk::infrastructure::{self, StoreRequirement};
use tollgate_policy_sdk::manifest::{Manifest, SensitiveDataKind};
use tollgate_policy_sdk::{
    Assessment, Check, DecisionBuilder, Issue, Settings, SharedAccountApprovals,
};

use crate::catalogue::{
    ACCESS_CONTROL, AUDIT_CONTROLS, AUTHENTICATION, BREACH_NOTIFICATION, DATA_BACKUP,
    ENCRYPTION_AT_REST, ENCRYPTION_IN_TRANSIT, INTEGRITY, NO_PHI_IN_TEST_EVIDENCE,
};

/// Records every HIPAA control, and the retrospective-approval obligation of an emergency change
/// on access control (emergency access procedure, 45 CFR 164.312(a)(2)(ii)).
pub fn apply(
    decision: &mut DecisionBuilder,
    manifest: &Manifest,
    settings: &Settings,
    assessment: &Assessment,
) {
    // Approvals by shared accounts fail person or entity authentication (164.312(d)), not access
    // control.
    let access = assessment
        .approval_separation(manifest, SharedAccountApprovals::Separately)
        .and(checks::deployer_authorised(manifest, settings))
        .and(checks::author_not_deployer(manifest, settings))
        .and(infrastructure::data_stores(
            manifest,
            StoreRequirement::NotPublic,
            "ePHI",
        ))
        .and(checks::deployment_window(
            manifest,
            settings,
            assessment.now,
        ));
    decision.control(ACCESS_CONTROL, access);
    decision.control(
        ENCRYPTION_AT_REST,
        checks::encryption_at_rest(manifest, settings, KeyRotation::NotChecked).and(
            infrastructure::data_stores(manifest, StoreRequirement::Encrypted, "ePHI"),
        ),
    );
    decision.control(
        ENCRYPTION_IN_TRANSIT,
        checks::encryption_in_transit(manifest),
    );
    decision.control(
        AUDIT_CONTROLS,
        checks::audit_logging(manifest).and(infrastructure::audit_trails(manifest)),
    );
    let integrity = checks::testing_evidence(manifest, settings, assessment.risk.class)
        .and(traceability(manifest, settings));
    decision.control(INTEGRITY, integrity);
    let authentication = checks::individual_identities(manifest, settings)
        .and(assessment.shared_account_approvals());
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
    decision.emergency_obligation(ACCESS_CONTROL, manifest, settings, assessment);
}

/// Integrity (45 CFR 164.312(c)(1)): the change is traceable to the commit it deploys and the
/// pipeline run that built and tested it. Missing traceability denies in production and is
/// reported (medium) elsewhere.
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

#[cfg(test)]
mod tests {
    use tollgate_policy_sdk::manifest::{Format, Manifest};

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
    fn breach_notification_procedure_is_required() {
        let mut m = manifest("");
        assert_eq!(
            rule_ids(&breach_notification(&m)),
            [("breach-notification-procedure-missing", Severity::High)]
        );
        m.evidence.breach_notification_procedure = true;
        assert!(breach_notification(&m).issues.is_empty());
    }
}
