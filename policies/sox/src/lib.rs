//! Tollgate SOX policy: IT general controls over change management, as auditors test them under
//! PCAOB AS 2201 with COSO 2013 principle 11 and COBIT 2019 BAI06/BAI07.
//!
//! SOX applies to every change evaluated by this policy (the pipeline gates systems in SOX scope).

use tollgate_decision::{Control, Decision, PolicyMetadata};
use tollgate_manifest::Manifest;
use tollgate_rules::{
    Assessment, DecisionBuilder, EvaluationContext, Policy, Settings, checks, reference,
};

/// Change control: approved ticket, risk-based approval, testing evidence, rollback plan.
pub const CHANGE_CONTROL: &str = "SOX-CC-05";
/// Audit logging is available on the affected systems.
pub const AUDIT_LOGGING: &str = "SOX-IT-01";
/// Data encryption at rest with key rotation.
pub const ENCRYPTION: &str = "SOX-IT-03";
/// Production deployment is restricted to authorised, independent deployers.
pub const DEPLOYER_AUTHORISATION: &str = "SOX-AC-02";

/// The SOX policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct SoxPolicy;

impl Policy for SoxPolicy {
    fn metadata(&self) -> PolicyMetadata {
        let coso = reference(
            "COSO 2013",
            "Principle 11 (general controls over technology)",
        );
        let pcaob = reference(
            "PCAOB AS 2201",
            ".B29 (general controls over program changes, access to programs and computer operations)",
        );
        PolicyMetadata {
            id: "sox".into(),
            framework: "SOX".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Sarbanes-Oxley IT general controls over change management".into(),
            controls: vec![
                Control {
                    id: CHANGE_CONTROL.into(),
                    title: "Change control".into(),
                    description: "Every production change has an approved change request, risk-based approval \
                                  by independent approvers before deployment, passing tests for its risk class \
                                  and a documented rollback plan."
                        .into(),
                    references: vec![
                        reference("COBIT 2019", "BAI06.01"),
                        reference("COBIT 2019", "BAI06.02"),
                        reference("COBIT 2019", "BAI07"),
                        coso.clone(),
                        pcaob.clone(),
                    ],
                },
                Control {
                    id: AUDIT_LOGGING.into(),
                    title: "Audit log availability".into(),
                    description: "Audit logging is enabled on the systems the change affects.".into(),
                    references: vec![reference("COBIT 2019", "DSS05.07"), coso.clone()],
                },
                Control {
                    id: ENCRYPTION.into(),
                    title: "Data encryption at rest".into(),
                    description: "Data at rest is encrypted and the encryption key was rotated within the \
                                  configured number of days (default 90)."
                        .into(),
                    references: vec![reference("COBIT 2019", "DSS05.03"), coso.clone()],
                },
                Control {
                    id: DEPLOYER_AUTHORISATION.into(),
                    title: "Deployment access".into(),
                    description: "Production deployments are made by members of the authorised deployer group, \
                                  under an individual identity, and never by the change's author."
                        .into(),
                    references: vec![reference("COBIT 2019", "DSS05.04"), coso, pcaob],
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
        let mut decision = DecisionBuilder::applicable(self.metadata(), &assessment);

        let change_control = checks::ticket_approved(manifest)
            .and(assessment.approval_separation(manifest))
            .and(checks::testing_evidence(
                manifest,
                settings,
                assessment.risk.class,
            ))
            .and(checks::rollback_plan(manifest));
        decision.control(CHANGE_CONTROL, change_control);
        decision.control(AUDIT_LOGGING, checks::audit_logging(manifest));
        decision.control(
            ENCRYPTION,
            checks::encryption_at_rest(manifest, settings, true),
        );
        decision.production_control(DEPLOYER_AUTHORISATION, manifest, settings, || {
            checks::deployer_authorised(manifest, settings)
                .and(checks::author_not_deployer(manifest, settings))
                .and(checks::individual_identities(manifest, settings))
        });
        decision.emergency_obligation(CHANGE_CONTROL, manifest, settings, &assessment);
        decision.finish()
    }
}

#[cfg(feature = "component")]
tollgate_guest::export_policy!(crate::SoxPolicy);
