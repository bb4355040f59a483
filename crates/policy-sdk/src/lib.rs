//! The Tollgate policy SDK: everything a policy pack needs, in one dependency.
//!
//! A pack is a type implementing [`Policy`]: a [`Catalogue`] of controls with their regulatory
//! references and rule ids, and an `evaluate` that turns a change [`Manifest`](manifest::Manifest)
//! into a [`Decision`](decision::Decision), usually through the [`DecisionBuilder`] and the shared
//! [`checks`]. One macro exports it for a target:
//!
//! ```ignore
//! // Cargo.toml: tollgate-policy-sdk = { version = "...", features = ["component"] }
//! // crate-type = ["cdylib", "rlib"], built for wasm32-unknown-unknown.
//! tollgate_policy_sdk::export_policy!(AcmePolicy);
//! ```
//!
//! | feature | macro | result |
//! |---|---|---|
//! | `component` | [`export_policy!`] | a `tollgate:policy` component (the WIT contract in `wit/`) |
//! | `extism` | `export_plugin!` | an Extism plugin (JSON in and out) |
//! | `opa` | `export_opa!` | an OPA Wasm ABI 1.3 `policy.wasm` |
//!
//! Without its feature a macro expands to nothing, so a pack calls it unconditionally and the same
//! crate builds natively (for its tests) and for each target. The built-in SOX, HIPAA and PCI DSS
//! packs are written against this crate and nothing else.
//!
//! A pack takes the built-in packs' shared [`Settings`] (`type Settings = Settings;`) or its own
//! type implementing [`PolicySettings`] (usually with [`settings_from_json`]); it declares the
//! JSON Schema of its settings and of the manifest extension namespaces it reads in its
//! [`Catalogue`] (`settings_schema`, `extensions`); a pack without a risk model starts its
//! decision with [`DecisionBuilder::without_risk_model`].

/// Serde, for a pack's own settings type: `#[derive(serde::Deserialize)]` with
/// `#[serde(crate = "tollgate_policy_sdk::serde")]`, read with [`settings_from_json`].
pub use serde;
/// JSON values, for a pack's extension facts (`manifest.extensions["acme"]`).
pub use serde_json;
pub use tollgate_decision as decision;
pub use tollgate_manifest as manifest;
pub use tollgate_rules::*;

#[cfg(feature = "component")]
#[doc(hidden)]
pub use tollgate_bindings_component as __component;
#[cfg(feature = "extism")]
#[doc(hidden)]
pub use tollgate_bindings_extism as __extism;
#[cfg(feature = "opa")]
#[doc(hidden)]
pub use tollgate_bindings_opa as __opa;

/// Exports a policy as a `tollgate:policy` component: the `metadata`, `validate-settings` and
/// `evaluate` functions of the WIT world `policy`. The argument is an expression of a type
/// implementing [`Policy`], evaluated on every call (a unit struct is typical), written as seen
/// from the crate root. Expands to nothing without the `component` feature.
#[cfg(feature = "component")]
#[macro_export]
macro_rules! export_policy {
    ($policy:expr) => {
        /// The component's exports.
        #[doc(hidden)]
        mod __tollgate_policy_component {
            #[allow(
                unused_imports,
                reason = "the policy expression may name items of the crate root"
            )]
            use super::*;
            // The generated exports name the glue crate by this path.
            use $crate::__component as tollgate_bindings_component;
            tollgate_bindings_component::export_policy!($policy);
        }
    };
}

/// Exports a policy as a `tollgate:policy` component (see the `component` feature): without it,
/// nothing.
#[cfg(not(feature = "component"))]
#[macro_export]
macro_rules! export_policy {
    ($policy:expr) => {};
}

/// Exports a policy as an Extism plugin (`metadata`, `validate_settings`, `evaluate`, JSON in and
/// out). Expands to nothing without the `extism` feature.
#[cfg(feature = "extism")]
#[macro_export]
macro_rules! export_plugin {
    ($policy:expr) => {
        $crate::__extism::export_plugin!($policy);
    };
}

/// Exports a policy as an Extism plugin (see the `extism` feature): without it, nothing.
#[cfg(not(feature = "extism"))]
#[macro_export]
macro_rules! export_plugin {
    ($policy:expr) => {};
}

/// Exports a policy as an OPA Wasm ABI 1.3 module under the entrypoints
/// `tollgate/<framework>/decision`, `allow` and `deny`. Expands to nothing without the `opa`
/// feature.
#[cfg(feature = "opa")]
#[macro_export]
macro_rules! export_opa {
    ($framework:literal, $policy:expr) => {
        $crate::__opa::export_opa!($framework, $policy);
    };
}

/// Exports a policy as an OPA Wasm ABI 1.3 module (see the `opa` feature): without it, nothing.
#[cfg(not(feature = "opa"))]
#[macro_export]
macro_rules! export_opa {
    ($framework:literal, $policy:expr) => {};
}
