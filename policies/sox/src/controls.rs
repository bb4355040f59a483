//! The SOX controls, each bound to the shared checks of `tollgate_rules`.

use tollgate_policy_sdk::checks::{self, KeyRotation};
use tollgate_policy_sdk::infrastructure;
use tollgate_policy_sdk::manifest::Manifest;
use tollgate_policy_sdk::{Assessment, DecisionBuilder, Settings, SharedAccountApprovals};

use crate::catalogue::{
    AUDIT_LOGGING, CHANGE_CONTROL, CHANGE_TRACKING, DEPLOYER_AUTHORISATION, DEPLOYMENT_WINDOW,
    ENCRYPTION,
};

/// Records every SOX control, and the retrospective-approval obligation of an emergency change
/// (COBIT 2019 BAI06.02).
pub fn apply(
    decision: &mut DecisionBuilder,
    manifest: &Manifest,
    settings: &Settings,
    assessment: &Assessment,
) {
    let change_control = checks::ticket_approved(manifest)
        .and(assessment.approval_separation(manifest, SharedAccountApprovals::WithSeparation))
        .and(checks::testing_evidence(
            manifest,
            settings,
            assessment.risk.class,
        ))
        .and(checks::rollback_plan(manifest));
    decision.control(CHANGE_CONTROL, change_control);
    decision.control(
        CHANGE_TRACKING,
        infrastructure::tracking_tags(manifest).and(infrastructure::plan_gathered(manifest)),
    );
    let mut window = checks::deployment_window(manifest, settings, assessment.now);
    if window.evidence.is_empty() && window.issues.is_empty() {
        window.not_assessed(format!(
            "no deployment window or change freeze is configured for `{}`",
            manifest.change.environment
        ));
    }
    decision.control(DEPLOYMENT_WINDOW, window);
    decision.control(
        AUDIT_LOGGING,
        checks::audit_logging(manifest).and(infrastructure::audit_trails(manifest)),
    );
    decision.control(
        ENCRYPTION,
        checks::encryption_at_rest(manifest, settings, KeyRotation::Required),
    );
    decision.control(
        DEPLOYER_AUTHORISATION,
        checks::deployer_authorised(manifest, settings)
            .and(checks::author_not_deployer(manifest, settings))
            .and(checks::individual_identities(manifest, settings)),
    );
    decision.emergency_obligation(CHANGE_CONTROL, manifest, settings, assessment);
}
