//! The Tollgate SOX policy as an OPA Wasm ABI 1.3 module: the `tollgate-policy-sox` crate exported
//! with [`tollgate_policy_sdk::export_opa!`] under the entrypoints `tollgate/sox/decision`, `allow` and
//! `deny`. The engine's build script builds it for `wasm32-unknown-unknown`.

tollgate_policy_sdk::export_opa!("sox", tollgate_policy_sox::SoxPolicy);
