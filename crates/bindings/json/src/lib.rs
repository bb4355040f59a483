//! The JSON entry of a Tollgate policy: what every glue that speaks JSON text (Extism plugins, OPA
//! Wasm ABI modules) calls, so that a request is parsed, a policy decided and an answer written the
//! same way whatever the target. The glue crates keep only their ABI.
//!
//! | call | input | output |
//! |---|---|---|
//! | [`metadata_json`] | nothing | [`PolicyMetadata`](tollgate_decision::PolicyMetadata) |
//! | [`validate_settings_json`] | the policy's settings object (blank means defaults) | [`SettingsValidation`] |
//! | [`evaluate_json`] | [`EvaluateRequest`]: `{"manifest": {...}, "settings": {...}, "now": "RFC 3339"}` | [`Decision`] |
//!
//! A deny is a value: a decision is returned whatever its outcome. Anything that prevents an
//! evaluation (invalid settings, an invalid manifest or request, an internal error) is an
//! [`EvalError`], which [`error_json`] writes as `{"kind": "...", "message": "..."}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tollgate_decision::{Decision, EvalError};
use tollgate_manifest::{Manifest, Timestamp};
use tollgate_rules::{EvaluationContext, Policy};

/// The request of [`evaluate_json`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// The change manifest, in the JSON form of a manifest file (defaults apply, unknown fields are
    /// rejected).
    pub manifest: Manifest,
    /// The policy's settings object; absent or `null` means the defaults.
    #[serde(default)]
    pub settings: Option<Value>,
    /// The evaluation time (RFC 3339); approvals dated after it do not count.
    pub now: Timestamp,
}

/// The answer of [`validate_settings_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsValidation {
    /// Whether the settings are valid.
    pub valid: bool,
    /// Why they are not (always an `invalid_settings` error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EvalError>,
}

/// The policy's identity and control catalogue as JSON.
pub fn metadata_json<P: Policy>(policy: &P) -> Result<String, EvalError> {
    to_json(&policy.metadata())
}

/// Checks a settings object (JSON text; blank means defaults). Invalid settings are a value, not
/// an error.
pub fn validate_settings_json<P: Policy>(policy: &P, settings: &str) -> Result<String, EvalError> {
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

/// Decides an [`EvaluateRequest`] given as JSON text and answers with the decision as JSON text.
pub fn evaluate_json<P: Policy>(policy: &P, request: &str) -> Result<String, EvalError> {
    to_json(&decide_request(policy, request)?)
}

/// Parses an [`EvaluateRequest`] and decides it. A request that is not valid JSON of that shape is
/// an [`EvalError::InvalidManifest`] naming the field path and line.
pub fn decide_request<P: Policy>(policy: &P, request: &str) -> Result<Decision, EvalError> {
    let request: EvaluateRequest = tollgate_manifest::decode_json(request)
        .map_err(|e| EvalError::InvalidManifest(format!("invalid evaluate request: {e}")))?;
    decide(
        policy,
        &request.manifest,
        request.settings.as_ref(),
        request.now,
    )
}

/// Parses a manifest given as JSON text (`field` names where it came from in error messages, e.g.
/// `` `input` ``) and decides it.
pub fn decide_manifest_json<P: Policy>(
    policy: &P,
    manifest: &str,
    field: &str,
    settings: Option<&Value>,
    now: Timestamp,
) -> Result<Decision, EvalError> {
    let manifest = Manifest::from_json(manifest)
        .map_err(|e| EvalError::InvalidManifest(format!("{field}: {e}")))?;
    decide(policy, &manifest, settings, now)
}

/// As [`decide_manifest_json`], with the settings object as JSON text (empty: the defaults),
/// without serde_json: what the OPA modules call.
pub fn decide_manifest_text<P: Policy>(
    policy: &P,
    manifest: &str,
    field: &str,
    settings: &str,
    now: Timestamp,
) -> Result<Decision, EvalError> {
    let manifest = Manifest::from_json(manifest)
        .map_err(|e| EvalError::InvalidManifest(format!("{field}: {e}")))?;
    policy.decide(&manifest, settings, &EvaluationContext { now })
}

/// Decides a manifest with a settings object (absent or `null`: the defaults).
pub fn decide<P: Policy>(
    policy: &P,
    manifest: &Manifest,
    settings: Option<&Value>,
    now: Timestamp,
) -> Result<Decision, EvalError> {
    let settings = match settings {
        None | Some(Value::Null) => String::new(),
        Some(value) => value.to_string(),
    };
    policy.decide(manifest, &settings, &EvaluationContext { now })
}

/// A value as JSON text; failing to write it is an internal error, never an answer.
pub fn to_json<T: Serialize>(value: &T) -> Result<String, EvalError> {
    serde_json::to_string(value)
        .map_err(|e| EvalError::Internal(format!("could not serialize the output: {e}")))
}

/// The JSON text of an evaluation error, as a failed call carries it.
pub fn error_json(error: &EvalError) -> String {
    serde_json::to_string(error).unwrap_or_else(|_| {
        // An `EvalError` always serializes; this fallback keeps the error an error.
        r#"{"kind":"internal","message":"could not serialize the evaluation error"}"#.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_decision::{Outcome, PolicyMetadata};
    use tollgate_rules::{Catalogue, ControlEntry, DecisionBuilder, Settings};

    /// A policy that approves everything: enough to exercise the glue.
    struct Approve;

    impl Policy for Approve {
        type Settings = Settings;

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
                settings_schema: None,
                extensions: &[],
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
        let json = metadata_json(&Approve).unwrap();
        let back: PolicyMetadata = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Approve.metadata());
    }

    #[test]
    fn settings_validation_is_a_value() {
        let ok: SettingsValidation =
            serde_json::from_str(&validate_settings_json(&Approve, "").unwrap()).unwrap();
        assert!(ok.valid && ok.error.is_none());
        let bad: SettingsValidation =
            serde_json::from_str(&validate_settings_json(&Approve, r#"{"nope": 1}"#).unwrap())
                .unwrap();
        assert!(!bad.valid);
        assert!(matches!(bad.error, Some(EvalError::InvalidSettings(m)) if m.contains("nope")));
    }

    #[test]
    fn evaluate_returns_the_decision() {
        let json = evaluate_json(&Approve, &request("")).unwrap();
        let decision: Decision = serde_json::from_str(&json).unwrap();
        assert_eq!(decision.policy_id, "approve");
        assert_eq!(decision.outcome, Outcome::Approved);
    }

    #[test]
    fn invalid_settings_fail_the_call_with_a_json_error() {
        let error =
            evaluate_json(&Approve, &request(r#", "settings": {"nope": true}"#)).unwrap_err();
        let error: EvalError = serde_json::from_str(&error_json(&error)).unwrap();
        assert!(matches!(error, EvalError::InvalidSettings(m) if m.contains("nope")));
    }

    #[test]
    fn a_misspelt_manifest_field_fails_with_its_path_and_line() {
        let input = request("").replace("ticket_status", "ticket_stauts");
        let error: EvalError = evaluate_json(&Approve, &input).unwrap_err();
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
        let error: EvalError = evaluate_json(&Approve, &input).unwrap_err();
        assert!(matches!(error, EvalError::InvalidManifest(m) if m.contains("now")));
    }
}
