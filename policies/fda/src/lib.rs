//! Tollgate FDA policy: the controls of 21 CFR Part 11 (electronic records and electronic
//! signatures) a change to a GxP computerised system must evidence — validation (11.10(a)),
//! access (11.10(d)), audit trails (11.10(e)), sequencing (11.10(f)), authority checks (11.10(g)),
//! training (11.10(i)), documentation and change control (11.10(k)), signature manifestation
//! (11.50), signature/record linking (11.70) and unique signatures (11.100(a)) — each mapped to the
//! matching clause of EU GMP Annex 11.
//!
//! The policy applies only when the change's data classes include `gxp`; otherwise every control
//! is not applicable. The facts only it reads (GAMP 5 category, requirement traceability, the
//! signed record, training records) are in the manifest's extension namespace `fda` ([`facts`]).
//!
//! [`catalogue`] holds the controls and their references, [`scope`] when they apply, and
//! [`controls`] binds the shared checks of the SDK and the FDA-specific ones ([`validation`],
//! [`training`], [`signatures`]) to them.

pub mod catalogue;
pub mod controls;
pub mod facts;
pub mod scope;
pub mod signatures;
pub mod training;
pub mod validation;

use tollgate_policy_sdk::decision::{Decision, EvalError};
use tollgate_policy_sdk::manifest::Manifest;
use tollgate_policy_sdk::{
    Assessment, Catalogue, DecisionBuilder, EvaluationContext, Policy, Settings, TrustedFacts,
    check_manifest, trust,
};

pub use catalogue::{
    ACCESS, AUDIT_TRAILS, AUTHORITY, CHANGE_CONTROL, SEQUENCING, SIGNATURE_LINKING,
    SIGNATURE_MANIFESTATION, TRAINING, UNIQUE_SIGNATURES, VALIDATION,
};
pub use facts::FdaFacts;

/// The FDA 21 CFR Part 11 policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct FdaPolicy;

impl Policy for FdaPolicy {
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
                // `decide` refuses invalid facts; a caller of `evaluate` alone gets them treated
                // as absent, which fails closed (every control needing one has a finding).
                let facts = FdaFacts::from_manifest(manifest).unwrap_or_default();
                controls::apply(&mut decision, manifest, &facts, settings, &assessment);
                decision.finish()
            }
            Err(not_applicable) => *not_applicable,
        }
    }

    /// As the SDK's `decide`, and the `fda` extension facts are refused (`invalid_manifest`,
    /// naming the field) before anything is evaluated, in scope or not, as the host's schema check
    /// refuses them.
    fn decide(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        context: &EvaluationContext,
    ) -> Result<Decision, EvalError> {
        let settings = self.validate_settings(settings_json)?;
        check_manifest(manifest)?;
        FdaFacts::from_manifest(manifest)?;
        let facts = TrustedFacts::weigh(manifest, &settings.trusted_sources);
        let mut decision = self.evaluate(facts.manifest(), &settings, context);
        trust::annotate(&mut decision, self.catalogue(), manifest, &facts);
        Ok(decision)
    }
}

tollgate_policy_sdk::export_policy!(crate::FdaPolicy);
