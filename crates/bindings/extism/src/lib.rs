//! Extism glue for Tollgate policies.
//!
//! A policy crate implements [`tollgate_rules::Policy`]; a thin plugin crate calls
//! [`export_plugin!`] and is built for `wasm32-unknown-unknown`. The plugin exports three functions,
//! each taking and returning JSON text:
//!
//! | export | input | output |
//! |---|---|---|
//! | `metadata` | nothing | [`PolicyMetadata`](tollgate_decision::PolicyMetadata) |
//! | `validate_settings` | the policy's settings object (blank means defaults) | [`SettingsValidation`]: `{"valid": true}` or `{"valid": false, "error": {"kind": "invalid_settings", "message": ...}}` |
//! | `evaluate` | [`EvaluateInput`]: `{"manifest": {...}, "settings": {...}, "now": "RFC 3339"}` | [`Decision`] |
//!
//! A deny is a value: `evaluate` returns the decision whatever its outcome. When the policy cannot
//! evaluate (invalid settings, an invalid manifest or request, an internal error) the call **fails**
//! with an Extism error whose message is the JSON of an [`EvalError`]
//! (`{"kind": "invalid_settings", "message": "..."}`), so a host that ignores errors still never
//! reads an approval.

use serde::{Deserialize, Serialize};
use tollgate_decision::{Decision, EvalError};
use tollgate_manifest::{Manifest, Timestamp};
use tollgate_rules::{EvaluationContext, Policy};

#[doc(hidden)]
pub use extism_pdk as __pdk;

/// The input of the `evaluate` export.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateInput {
    /// The change manifest, in the JSON form of a manifest file (defaults apply, unknown fields are
    /// rejected).
    pub manifest: Manifest,
    /// The policy's settings object; absent or `null` means the defaults.
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
    /// The evaluation time (RFC 3339); approvals dated after it do not count.
    pub now: Timestamp,
}

/// The output of the `validate_settings` export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsValidation {
    /// Whether the settings are valid.
    pub valid: bool,
    /// Why they are not (always an `invalid_settings` error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EvalError>,
}

/// The `metadata` export: the policy's identity and control catalogue as JSON.
pub fn metadata<P: Policy>(policy: &P) -> Result<String, String> {
    to_json(&policy.metadata())
}

/// The `validate_settings` export: checks a settings object (JSON text; blank means defaults).
pub fn validate_settings<P: Policy>(policy: &P, settings: &str) -> Result<String, String> {
    let validation = match policy.validate_settings(settings) {
        Ok(_) => SettingsValidation {
            valid: true,
            error: None,
        },
        Err(error) => SettingsValidation {
            valid: false,
            error: Some(error),
        },
    };
    to_json(&validation)
}

/// The `evaluate` export: `Ok` is the decision as JSON; `Err` is the JSON of the [`EvalError`]
/// that the plugin call fails with.
pub fn evaluate<P: Policy>(policy: &P, input: &str) -> Result<String, String> {
    let decision = decide(policy, input).map_err(|error| error_json(&error))?;
    to_json(&decision)
}

/// Parses an `evaluate` request and evaluates it. A request that is not valid JSON of the
/// documented shape is an [`EvalError::InvalidManifest`] naming the field path and line.
pub fn decide<P: Policy>(policy: &P, input: &str) -> Result<Decision, EvalError> {
    let input: EvaluateInput = tollgate_manifest::decode_json(input)
        .map_err(|e| EvalError::InvalidManifest(format!("invalid evaluate request: {e}")))?;
    let settings = match &input.settings {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(value) => value.to_string(),
    };
    policy.decide(
        &input.manifest,
        &settings,
        &EvaluationContext { now: input.now },
    )
}

/// The JSON text of an evaluation error, as carried by a failed plugin call.
pub fn error_json(error: &EvalError) -> String {
    serde_json::to_string(error).unwrap_or_else(|_| {
        // An `EvalError` always serializes; this fallback keeps the error an error.
        r#"{"kind":"internal","message":"could not serialize the evaluation error"}"#.to_owned()
    })
}

fn to_json<T: Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| {
        error_json(&EvalError::Internal(format!(
            "could not serialize the output: {e}"
        )))
    })
}

/// Exports a policy as an Extism plugin with the `metadata`, `validate_settings` and `evaluate`
/// functions described in the [crate documentation](crate). The argument is an expression of a type
/// implementing [`tollgate_rules::Policy`], evaluated on every call (a unit struct is typical).
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
            use $crate::__pdk as extism_pdk;
            use $crate::__pdk::{FnResult, WithReturnCode, plugin_fn};

            fn fail(message: ::std::string::String) -> WithReturnCode<extism_pdk::Error> {
                WithReturnCode::new(extism_pdk::Error::msg(message), 1)
            }

            #[plugin_fn]
            pub fn metadata() -> FnResult<::std::string::String> {
                $crate::metadata(&$policy).map_err(fail)
            }

            #[plugin_fn]
            pub fn validate_settings(
                settings: ::std::string::String,
            ) -> FnResult<::std::string::String> {
                $crate::validate_settings(&$policy, &settings).map_err(fail)
            }

            #[plugin_fn]
            pub fn evaluate(input: ::std::string::String) -> FnResult<::std::string::String> {
                $crate::evaluate(&$policy, &input).map_err(fail)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_decision::{Outcome, PolicyMetadata};
    use tollgate_rules::{Catalogue, ControlEntry, DecisionBuilder, Settings};

    /// A policy that approves everything: enough to exercise the glue.
    struct Approve;

    impl Policy for Approve {
        fn catalogue(&self) -> &'static Catalogue {
            &Catalogue {
                id: "approve",
                framework: "TEST",
                version: "0.0.0",
                description: "approves",
                controls: &[ControlEntry {
                    id: "T-1",
                    title: "t",
                    description: "d",
                    references: &[],
                    rules: &[],
                    relies_on: &[],
                }],
            }
        }

        fn evaluate(
            &self,
            manifest: &Manifest,
            settings: &Settings,
            context: &EvaluationContext,
        ) -> Decision {
            let assessment = tollgate_rules::Assessment::new(manifest, settings, context);
            DecisionBuilder::not_applicable(self.catalogue(), &assessment, "test")
        }
    }

    const MANIFEST: &str = r#"{"version": 1, "change": {"id": "CHG-1", "title": "t",
        "ticket_status": "approved", "author": "alice", "deployer": "bob",
        "environment": "staging"}}"#;

    fn request(extra: &str) -> String {
        format!(r#"{{"manifest": {MANIFEST}, "now": "2026-06-01T00:00:00Z"{extra}}}"#)
    }

    #[test]
    fn metadata_is_the_policy_metadata_as_json() {
        let json = metadata(&Approve).unwrap();
        let back: PolicyMetadata = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Approve.metadata());
    }

    #[test]
    fn settings_validation_is_a_value() {
        let ok: SettingsValidation =
            serde_json::from_str(&validate_settings(&Approve, "").unwrap()).unwrap();
        assert!(ok.valid && ok.error.is_none());
        let bad: SettingsValidation =
            serde_json::from_str(&validate_settings(&Approve, r#"{"nope": 1}"#).unwrap()).unwrap();
        assert!(!bad.valid);
        assert!(matches!(bad.error, Some(EvalError::InvalidSettings(m)) if m.contains("nope")));
    }

    #[test]
    fn evaluate_returns_the_decision() {
        let json = evaluate(&Approve, &request("")).unwrap();
        let decision: Decision = serde_json::from_str(&json).unwrap();
        assert_eq!(decision.policy_id, "approve");
        assert_eq!(decision.outcome, Outcome::Approved);
    }

    #[test]
    fn invalid_settings_fail_the_call_with_a_json_error() {
        let error = evaluate(&Approve, &request(r#", "settings": {"nope": true}"#)).unwrap_err();
        let error: EvalError = serde_json::from_str(&error).unwrap();
        assert!(matches!(error, EvalError::InvalidSettings(m) if m.contains("nope")));
    }

    #[test]
    fn a_misspelt_manifest_field_fails_with_its_path_and_line() {
        let input = request("").replace("ticket_status", "ticket_stauts");
        let error: EvalError =
            serde_json::from_str(&evaluate(&Approve, &input).unwrap_err()).unwrap();
        let EvalError::InvalidManifest(message) = error else {
            panic!("wrong kind: {error:?}");
        };
        assert!(
            message.contains("`manifest.change.ticket_stauts`") && message.contains("line 2"),
            "{message}"
        );
    }

    #[test]
    fn a_request_without_time_fails() {
        let input = format!(r#"{{"manifest": {MANIFEST}}}"#);
        let error: EvalError =
            serde_json::from_str(&evaluate(&Approve, &input).unwrap_err()).unwrap();
        assert!(matches!(error, EvalError::InvalidManifest(m) if m.contains("now")));
    }
}
