//! The built-in policy packs, listed once, in the order every host runs them. Native hosts (the
//! browser preview, the conformance tests) take the crates from here; the wasmtime host embeds the
//! same crates as components, and a conformance test checks that both lists agree.

use tollgate_rules::BuiltinPolicy;

/// Ids of the built-in policies, which are also their directory names under `policies/`.
pub const NAMES: [&str; 4] = ["sox", "hipaa", "pci", "fda"];

/// A built-in policy crate, by id.
pub fn policy(name: &str) -> Option<Box<BuiltinPolicy>> {
    match name {
        "sox" => Some(Box::new(tollgate_policy_sox::SoxPolicy)),
        "hipaa" => Some(Box::new(tollgate_policy_hipaa::HipaaPolicy)),
        "pci" => Some(Box::new(tollgate_policy_pci::PciPolicy)),
        "fda" => Some(Box::new(tollgate_policy_fda::FdaPolicy)),
        _ => None,
    }
}

/// Every built-in policy crate, in [`NAMES`] order.
pub fn all() -> Vec<Box<BuiltinPolicy>> {
    NAMES.iter().filter_map(|name| policy(name)).collect()
}
