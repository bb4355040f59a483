//! The Tollgate FDA 21 CFR Part 11 policy as an OPA Wasm ABI 1.3 module: the `tollgate-policy-fda`
//! crate exported with [`tollgate_policy_sdk::export_opa!`] under the entrypoints
//! `tollgate/fda/decision`, `allow` and `deny`. The engine's build script builds it for
//! `wasm32-unknown-unknown`.

tollgate_policy_sdk::export_opa!("fda", tollgate_policy_fda::FdaPolicy);
