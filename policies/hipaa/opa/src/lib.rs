//! The Tollgate HIPAA policy as an OPA Wasm ABI 1.3 module: the `tollgate-policy-hipaa` crate exported
//! with [`tollgate_policy_sdk::export_opa!`] under the entrypoints `tollgate/hipaa/decision`, `allow` and
//! `deny`. The engine's build script builds it for `wasm32-unknown-unknown`.

tollgate_policy_sdk::export_opa!("hipaa", tollgate_policy_hipaa::HipaaPolicy);
