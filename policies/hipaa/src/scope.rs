//! When HIPAA applies: only to changes whose data classes include `phi`; otherwise every control
//! is not applicable and the policy approves as far as HIPAA is concerned. No control is
//! production-only, but outside production missing traceability is reported without denying (see
//! `controls`).

use tollgate_policy_sdk::manifest::DataClass;
use tollgate_policy_sdk::{AppliesTo, Scope};

/// The HIPAA scope.
pub const SCOPE: Scope = Scope {
    applies_to: AppliesTo::DataClass {
        class: DataClass::Phi,
        in_scope: "PHI is in scope: the HIPAA Security Rule safeguards apply.",
        out_of_scope: "no PHI among the change's data classes",
    },
    production_only: &[],
};

#[cfg(test)]
mod tests {
    use tollgate_policy_sdk::manifest::{Format, Manifest, Timestamp};
    use tollgate_policy_sdk::{EvaluationContext, Policy, Settings};

    use crate::HipaaPolicy;

    #[test]
    fn not_applicable_without_phi() {
        let text = r#"{"version": 1, "change": {"id": "CHG-1", "title": "t", "ticket_status": "approved",
            "author": "alice", "deployer": "carol", "environment": "production",
            "data_classes": ["pii"]}}"#;
        let m = Manifest::from_text(text, Format::Json).unwrap();
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
