//! [`Scope`]: when a framework applies to a change, and which of its controls apply only to
//! production deployments.

use tollgate_manifest::DataClass;

/// Which changes a framework applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliesTo {
    /// Every change the pipeline submits (the pipeline only gates systems in the framework's
    /// scope).
    EveryChange,
    /// Only changes whose data classes include `class`; any other change gets a not-applicable
    /// decision.
    DataClass {
        /// The data class that brings a change into scope.
        class: DataClass,
        /// Summary note when the framework applies.
        in_scope: &'static str,
        /// Why the framework does not apply otherwise; the evidence of every control.
        out_of_scope: &'static str,
    },
}

/// When a framework applies, as [`crate::DecisionBuilder::for_scope`] enforces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Which changes the framework applies to.
    pub applies_to: AppliesTo,
    /// Control ids that apply only to deployments to a production environment
    /// ([`crate::Settings::production_environments`]); elsewhere they are not applicable.
    pub production_only: &'static [&'static str],
}
