//! When SOX applies: to every change, since the pipeline only calls Tollgate for systems in SOX
//! scope (`financial_reporting` among the data classes is informational); deployment access
//! (SOX-AC-02) is tested on production deployments only.

use tollgate_policy_sdk::{AppliesTo, Scope};

use crate::catalogue::DEPLOYER_AUTHORISATION;

/// The SOX scope.
pub const SCOPE: Scope = Scope {
    applies_to: AppliesTo::EveryChange,
    production_only: &[DEPLOYER_AUTHORISATION],
};
