//! When the FDA policy applies: only to changes whose data classes include `gxp` (records that
//! GxP predicate rules require, kept or signed electronically); any other change gets a
//! not-applicable decision. No control is production-only: a GxP system is validated and
//! controlled in every environment the change passes through.

use tollgate_policy_sdk::manifest::DataClass;
use tollgate_policy_sdk::{AppliesTo, Scope};

/// The FDA scope.
pub const SCOPE: Scope = Scope {
    applies_to: AppliesTo::DataClass {
        class: DataClass::Gxp,
        in_scope: "GxP records are in scope: 21 CFR Part 11 and EU GMP Annex 11 apply.",
        out_of_scope: "no GxP records among the change's data classes",
    },
    production_only: &[],
};
