//! Extism glue for Tollgate policies.
//!
//! A policy crate implements `tollgate_rules::Policy`; a thin plugin crate calls
//! [`export_plugin!`] and is built for `wasm32-unknown-unknown`. The plugin exports the three calls
//! of the policy's JSON entry ([`tollgate_bindings_json`]), each taking and returning JSON text:
//! `metadata`, `validate_settings` and `evaluate`.
//!
//! A deny is a value: `evaluate` returns the decision whatever its outcome. When the policy cannot
//! evaluate (invalid settings, an invalid manifest or request, an internal error) the call **fails**
//! with an Extism error whose message is the JSON of an
//! [`EvalError`](tollgate_decision::EvalError) (`{"kind": "invalid_settings", "message": "..."}`),
//! so a host that ignores errors still never reads an approval.

#[doc(hidden)]
pub use extism_pdk as __pdk;
#[doc(hidden)]
pub use tollgate_bindings_json as __json;
#[doc(hidden)]
pub use tollgate_decision::EvalError as __EvalError;

/// Exports a policy as an Extism plugin with the `metadata`, `validate_settings` and `evaluate`
/// functions described in the [crate documentation](crate). The argument is an expression of a type
/// implementing `tollgate_rules::Policy`, evaluated on every call (a unit struct is typical).
///
/// ```ignore
/// tollgate_bindings_extism::export_plugin!(tollgate_policy_sox::SoxPolicy);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($policy:expr) => {
        /// The plugin's Extism exports.
        #[allow(
            unsafe_code,
            missing_docs,
            reason = "the Extism ABI exports unmangled `extern \"C\"` functions"
        )]
        pub mod extism_exports {
            use $crate::__json as json;
            use $crate::__pdk as extism_pdk;
            use $crate::__pdk::{FnResult, WithReturnCode, plugin_fn};

            /// Fails the call with the error's JSON as its message.
            fn fail(error: $crate::__EvalError) -> WithReturnCode<extism_pdk::Error> {
                WithReturnCode::new(extism_pdk::Error::msg(json::error_json(&error)), 1)
            }

            #[plugin_fn]
            pub fn metadata() -> FnResult<::std::string::String> {
                json::metadata_json(&$policy).map_err(fail)
            }

            #[plugin_fn]
            pub fn validate_settings(
                settings: ::std::string::String,
            ) -> FnResult<::std::string::String> {
                json::validate_settings_json(&$policy, &settings).map_err(fail)
            }

            #[plugin_fn]
            pub fn evaluate(input: ::std::string::String) -> FnResult<::std::string::String> {
                json::evaluate_json(&$policy, &input).map_err(fail)
            }
        }
    };
}
