//! The Tollgate FDA 21 CFR Part 11 policy as an Extism plugin: the `tollgate-policy-fda` crate
//! exported with [`tollgate_policy_sdk::export_plugin!`]. Build it for `wasm32-unknown-unknown`
//! (`just extism`).

tollgate_policy_sdk::export_plugin!(tollgate_policy_fda::FdaPolicy);
