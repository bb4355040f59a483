//! Tollgate SOX policy: IT general controls over change management, as auditors test them under
//! PCAOB AS 2201 with COSO 2013 principle 11 and COBIT 2019 BAI06/BAI07.
//!
//! SOX applies to every change evaluated by this policy (the pipeline gates systems in SOX scope).
//!
//! [`catalogue`] holds the controls and their references, [`scope`] when they apply, and
//! [`controls`] binds the shared checks of `tollgate_rules` to them.

pub mod catalogue;
pub mod controls;
pub mod scope;

use tollgate_policy_sdk::decision::Decision;
use tollgate_policy_sdk::manifest::Manifest;
use tollgate_policy_sdk::{
    Assessment, Catalogue, DecisionBuilder, EvaluationContext, Policy, Settings,
};

pub use catalogue::{
    AUDIT_LOGGING, CHANGE_CONTROL, CHANGE_TRACKING, DEPLOYER_AUTHORISATION, DEPLOYMENT_WINDOW,
    ENCRYPTION,
};

/// The SOX policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct SoxPolicy;

impl Policy for SoxPolicy {
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

tollgate_policy_sdk::export_policy!(crate::SoxPolicy);
