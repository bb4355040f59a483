//! Tollgate HIPAA policy: the Security Rule's technical safeguards (45 CFR 164.312), the data backup
//! plan (164.308(a)(7)(ii)(A)), de-identified test data (164.514(b), 164.502(b)) and the breach
//! notification procedure (164.400-414), for changes to systems holding protected health
//! information.
//!
//! HIPAA applies only when the change's data classes include `phi`; otherwise every control is
//! not applicable and the policy approves as far as HIPAA is concerned.
//!
//! [`catalogue`] holds the controls and their references, [`scope`] when they apply, and
//! [`controls`] binds the shared checks of `tollgate_rules` and the HIPAA-specific ones to them.

pub mod catalogue;
pub mod controls;
pub mod scope;

use tollgate_policy_sdk::decision::Decision;
use tollgate_policy_sdk::manifest::Manifest;
use tollgate_policy_sdk::{
    Assessment, Catalogue, DecisionBuilder, EvaluationContext, Policy, Settings,
};

pub use catalogue::{
    ACCESS_CONTROL, AUDIT_CONTROLS, AUTHENTICATION, BREACH_NOTIFICATION, DATA_BACKUP,
    ENCRYPTION_AT_REST, ENCRYPTION_IN_TRANSIT, INTEGRITY, NO_PHI_IN_TEST_EVIDENCE,
};
pub use controls::{breach_notification, traceability};

/// The HIPAA policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct HipaaPolicy;

impl Policy for HipaaPolicy {
    type Settings = Settings;

    fn catalogue(&self) -> &'static Catalogue {
        &catalogue::CATALOGUE
    }

    fn evaluate(
        &self,
        manifest: &Manifest,
        settings: &Settings,
        context: &EvaluationContext,
    ) -> Decision {
        let assessment = Assessment::new(manifest, settings, context);
        let scope = &scope::SCOPE;
        match DecisionBuilder::for_scope(self.catalogue(), scope, &assessment, manifest, settings) {
            Ok(mut decision) => {
                controls::apply(&mut decision, manifest, settings, &assessment);
                decision.finish()
            }
            Err(not_applicable) => *not_applicable,
        }
    }
}

tollgate_policy_sdk::export_policy!(crate::HipaaPolicy);
