//! Tollgate PCI DSS policy: the change-management requirements of PCI DSS v4.0 (6.5.1 and 6.5.3 to
//! 6.5.6), with the vulnerability requirements a deployment must evidence (6.2.4, 6.3.3) and audit
//! logging (10.2.1).
//!
//! PCI DSS applies only to changes whose data classes include `cardholder_data`: those are the
//! changes to system components in, or connected to, the cardholder data environment. Any other
//! change gets a not-applicable decision from this policy.
//!
//! [`catalogue`] holds the controls and their references, [`scope`] when they apply, and
//! [`controls`] binds the shared checks of `tollgate_rules` and the PCI-specific ones to them.

pub mod catalogue;
pub mod controls;
pub mod scope;

use tollgate_policy_sdk::decision::Decision;
use tollgate_policy_sdk::manifest::Manifest;
use tollgate_policy_sdk::{
    Assessment, Catalogue, DecisionBuilder, EvaluationContext, Policy, Settings,
};

pub use catalogue::{
    AUDIT_LOGS, CHANGE_PROCEDURES, ENVIRONMENT_SEPARATION, NO_LIVE_PANS, ROLE_SEPARATION,
    SECURITY_TESTING, TEST_DATA_REMOVED, VULNERABILITIES,
};

/// The PCI DSS v4.0 policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct PciPolicy;

impl Policy for PciPolicy {
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

tollgate_policy_sdk::export_policy!(crate::PciPolicy);
