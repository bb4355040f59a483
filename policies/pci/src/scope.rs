//! When PCI DSS applies: only to changes whose data classes include `cardholder_data`, the changes
//! to system components in, or connected to, the cardholder data environment; any other change
//! gets a not-applicable decision. Removing test data and test accounts (6.5.6) is checked on
//! production deployments only.

use tollgate_policy_sdk::manifest::DataClass;
use tollgate_policy_sdk::{AppliesTo, Scope};

use crate::catalogue::TEST_DATA_REMOVED;

/// The PCI DSS scope.
pub const SCOPE: Scope = Scope {
    applies_to: AppliesTo::DataClass {
        class: DataClass::CardholderData,
        in_scope: "PCI DSS v4.0 applies: the change affects cardholder data.",
        out_of_scope: "no cardholder data among the change's data classes",
    },
    production_only: &[TEST_DATA_REMOVED],
};
