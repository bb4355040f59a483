//! Evaluation as the browser sees it: manifest text and options in, a plain [`Evaluation`] out.
//! This is the same sequence as `tollgate eval` — parse and validate the manifest, read the
//! settings document keyed by policy id, validate each policy's settings, then evaluate and
//! combine — calling the policy crates directly instead of their components.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tollgate_decision::{CombinedDecision, EvalError, PolicyMetadata};
use tollgate_manifest::{DocumentError, Format, Manifest, Timestamp};
use tollgate_rules::{EvaluationContext, Policy};
use tsify::Tsify;

/// The built-in policies, in the order the CLI runs them.
pub fn builtin() -> [(&'static str, &'static dyn Policy); 3] {
    [
        ("sox", &tollgate_policy_sox::SoxPolicy),
        ("hipaa", &tollgate_policy_hipaa::HipaaPolicy),
        ("pci", &tollgate_policy_pci::PciPolicy),
    ]
}

/// The metadata and control catalogue of every built-in policy.
pub fn policies() -> Vec<PolicyMetadata> {
    builtin().iter().map(|(_, p)| p.metadata()).collect()
}

/// Syntax of a manifest or settings document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "lowercase")]
pub enum DocumentFormat {
    /// YAML (a superset of JSON).
    Yaml,
    /// JSON.
    Json,
}

impl From<DocumentFormat> for Format {
    fn from(format: DocumentFormat) -> Self {
        match format {
            DocumentFormat::Yaml => Self::Yaml,
            DocumentFormat::Json => Self::Json,
        }
    }
}

/// Options of [`evaluate`](crate::evaluate). Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Tsify)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluateOptions {
    /// Ids of the policies to run (`sox`, `hipaa`, `pci`); absent means all of them.
    #[tsify(optional)]
    pub policies: Option<Vec<String>>,
    /// A settings document (YAML or JSON text) mapping policy id to that policy's settings, as
    /// given to `tollgate eval --settings`; absent or blank means defaults.
    #[tsify(optional)]
    pub settings: Option<String>,
    /// Evaluation time (RFC 3339); absent means the current time.
    #[tsify(optional)]
    pub now: Option<String>,
    /// Syntax of the manifest; absent means detected (a document starting with `{` is JSON).
    #[tsify(optional)]
    pub format: Option<DocumentFormat>,
}

/// Which input an [`InputError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "snake_case")]
pub enum InputSource {
    /// The manifest text.
    Manifest,
    /// The settings document, or one policy's settings.
    Settings,
    /// The evaluation options (`policies`, `now`, `format`).
    Options,
}

/// Why the input could not be evaluated: nothing was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
pub struct InputError {
    /// Which input is wrong.
    pub source: InputSource,
    /// The policy whose settings are wrong, for settings errors found by a policy.
    pub policy: Option<String>,
    /// The whole message, as the CLI prints it.
    pub message: String,
    /// Field path where the document is wrong (`change.approvals[0].at`), if known.
    pub path: Option<String>,
    /// Line where the document is wrong (from 1), if known.
    pub line: Option<u32>,
    /// Column where the document is wrong (from 1), if known.
    pub column: Option<u32>,
}

impl InputError {
    fn new(source: InputSource, message: impl Into<String>) -> Self {
        Self {
            source,
            policy: None,
            message: message.into(),
            path: None,
            line: None,
            column: None,
        }
    }

    fn document(source: InputSource, what: &str, error: &DocumentError) -> Self {
        let location = error.location();
        Self {
            source,
            policy: None,
            message: format!("invalid {what}: {error}"),
            path: error.path().map(str::to_owned),
            line: location.and_then(|l| u32::try_from(l.line).ok()),
            column: location.and_then(|l| u32::try_from(l.column).ok()),
        }
    }
}

/// The result of one evaluation. Only `decided` carries an outcome; `invalid` and `failed` mean
/// nothing was approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Tsify)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Evaluation {
    /// Every selected policy decided; the decisions are combined (strictest outcome wins).
    Decided {
        /// The combined decision, with each policy's decision.
        decision: CombinedDecision,
    },
    /// The manifest, the settings or the options are invalid.
    Invalid {
        /// What is wrong, and where.
        error: InputError,
    },
    /// A policy could not evaluate the change.
    Failed {
        /// Id of the policy that failed.
        policy: String,
        /// Its evaluation error.
        error: EvalError,
    },
}

/// Evaluates manifest text with the selected built-in policies. `now` is used when the options
/// give no evaluation time.
pub fn evaluate(text: &str, options: &EvaluateOptions, now: Timestamp) -> Evaluation {
    match run(text, options, now) {
        Ok(evaluation) | Err(evaluation) => evaluation,
    }
}

fn invalid(error: InputError) -> Evaluation {
    Evaluation::Invalid { error }
}

fn run(text: &str, options: &EvaluateOptions, now: Timestamp) -> Result<Evaluation, Evaluation> {
    // Everything the user gave is checked before any policy runs, in the CLI's order.
    let format = options
        .format
        .map_or_else(|| Format::detect(None, text), Format::from);
    let manifest = Manifest::from_text(text, format)
        .map_err(|e| invalid(InputError::document(InputSource::Manifest, "manifest", &e)))?;
    let settings = read_settings(options.settings.as_deref())?;
    let now = match &options.now {
        Some(text) => Timestamp::parse(text).map_err(|e| {
            invalid(InputError {
                path: Some("now".into()),
                ..InputError::new(InputSource::Options, format!("invalid `now`: {e}"))
            })
        })?,
        None => now,
    };
    let selected = select(options.policies.as_deref())?;
    if let Some(key) = settings
        .keys()
        .find(|k| !selected.iter().any(|(id, _)| id == k))
    {
        let loaded: Vec<&str> = selected.iter().map(|(id, _)| *id).collect();
        return Err(invalid(InputError {
            path: Some(key.clone()),
            ..InputError::new(
                InputSource::Settings,
                format!(
                    "settings name policy `{key}`, which is not selected (selected: {})",
                    loaded.join(", ")
                ),
            )
        }));
    }

    let mut ready = Vec::new();
    for (id, policy) in selected {
        let json = settings
            .get(id)
            .filter(|value| !value.is_null())
            .map(serde_json::Value::to_string)
            .unwrap_or_default();
        match policy.validate_settings(&json) {
            Ok(_) => ready.push((id, policy, json)),
            Err(EvalError::InvalidSettings(message)) => {
                return Err(invalid(InputError {
                    policy: Some(id.to_owned()),
                    path: Some(id.to_owned()),
                    ..InputError::new(InputSource::Settings, message)
                }));
            }
            Err(error) => {
                return Err(Evaluation::Failed {
                    policy: id.to_owned(),
                    error,
                });
            }
        }
    }

    let context = EvaluationContext { now };
    let mut decisions = Vec::new();
    for (id, policy, json) in ready {
        let decision =
            policy
                .decide(&manifest, &json, &context)
                .map_err(|error| Evaluation::Failed {
                    policy: id.to_owned(),
                    error,
                })?;
        decisions.push(decision);
    }
    Ok(Evaluation::Decided {
        decision: CombinedDecision::combine(decisions),
    })
}

fn read_settings(text: Option<&str>) -> Result<BTreeMap<String, serde_json::Value>, Evaluation> {
    match text {
        None => Ok(BTreeMap::new()),
        Some(text) if text.trim().is_empty() => Ok(BTreeMap::new()),
        Some(text) => tollgate_manifest::decode::<Option<BTreeMap<String, serde_json::Value>>>(
            text,
            Format::detect(None, text),
        )
        .map(Option::unwrap_or_default)
        .map_err(|e| invalid(InputError::document(InputSource::Settings, "settings", &e))),
    }
}

fn select(ids: Option<&[String]>) -> Result<Vec<(&'static str, &'static dyn Policy)>, Evaluation> {
    let all = builtin();
    let Some(ids) = ids else {
        return Ok(all.to_vec());
    };
    if ids.is_empty() {
        return Err(invalid(InputError {
            path: Some("policies".into()),
            ..InputError::new(InputSource::Options, "select at least one policy")
        }));
    }
    let mut selected = Vec::new();
    for id in ids {
        let Some(entry) = all.iter().find(|(name, _)| name == id) else {
            let names: Vec<&str> = all.iter().map(|(name, _)| *name).collect();
            return Err(invalid(InputError {
                path: Some("policies".into()),
                ..InputError::new(
                    InputSource::Options,
                    format!("unknown policy `{id}` (built-in: {})", names.join(", ")),
                )
            }));
        };
        if selected.iter().any(|(name, _)| name == id) {
            return Err(invalid(InputError {
                path: Some("policies".into()),
                ..InputError::new(
                    InputSource::Options,
                    format!("policy `{id}` is given twice"),
                )
            }));
        }
        selected.push(*entry);
    }
    // The CLI's order, whatever order the ids were given in.
    selected.sort_by_key(|(name, _)| all.iter().position(|(n, _)| n == name));
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_decision::Outcome;

    const NOW: &str = "2026-06-01T00:00:00Z";

    fn now() -> Timestamp {
        Timestamp::parse(NOW).unwrap()
    }

    fn example(name: &str) -> String {
        crate::examples::EXAMPLES
            .iter()
            .find(|e| e.file == name)
            .unwrap()
            .text
            .to_owned()
    }

    fn options() -> EvaluateOptions {
        EvaluateOptions {
            now: Some(NOW.into()),
            ..EvaluateOptions::default()
        }
    }

    #[test]
    fn every_bundled_example_reaches_its_recorded_outcome() {
        for example in crate::examples::EXAMPLES {
            let Evaluation::Decided { decision } = evaluate(example.text, &options(), now()) else {
                panic!("{} was not decided", example.file);
            };
            assert_eq!(
                decision.outcome.as_str(),
                example.expected_outcome,
                "{}",
                example.file
            );
            assert_eq!(decision.decisions.len(), 3);
        }
    }

    #[test]
    fn a_misspelt_field_is_an_input_error_with_path_and_line() {
        let text = example("business-logic-needs-tech-lead.yaml").replacen(
            "ticket_status",
            "ticket_stauts",
            1,
        );
        let Evaluation::Invalid { error } = evaluate(&text, &options(), now()) else {
            panic!("not invalid");
        };
        assert_eq!(error.source, InputSource::Manifest);
        assert_eq!(error.path.as_deref(), Some("change.ticket_stauts"));
        assert!(error.line.is_some_and(|l| l > 1), "{error:?}");
        assert!(error.message.contains("unknown field"), "{}", error.message);
    }

    #[test]
    fn policies_can_be_selected_and_are_run_in_the_cli_order() {
        let options = EvaluateOptions {
            policies: Some(vec!["pci".into(), "sox".into()]),
            ..options()
        };
        let text = example("self-approval-denied.yaml");
        let Evaluation::Decided { decision } = evaluate(&text, &options, now()) else {
            panic!("not decided");
        };
        let ids: Vec<&str> = decision
            .decisions
            .iter()
            .map(|d| d.policy_id.as_str())
            .collect();
        assert_eq!(ids, ["sox", "pci"]);
        assert_eq!(decision.outcome, Outcome::Denied);
    }

    #[test]
    fn no_policy_unknown_policy_and_duplicates_are_invalid() {
        for ids in [
            vec![],
            vec!["gdpr".to_owned()],
            vec!["sox".into(), "sox".into()],
        ] {
            let options = EvaluateOptions {
                policies: Some(ids.clone()),
                ..options()
            };
            let result = evaluate(&example("self-approval-denied.yaml"), &options, now());
            assert!(
                matches!(&result, Evaluation::Invalid { error } if error.source == InputSource::Options),
                "{ids:?}: {result:?}"
            );
        }
    }

    #[test]
    fn settings_are_keyed_by_policy_and_validated_before_evaluation() {
        let text = example("business-logic-needs-tech-lead.yaml");
        let bad = EvaluateOptions {
            settings: Some("sox:\n  key_rotation_max_days: soon\n".into()),
            ..options()
        };
        let Evaluation::Invalid { error } = evaluate(&text, &bad, now()) else {
            panic!("not invalid");
        };
        assert_eq!(error.source, InputSource::Settings);
        assert_eq!(error.policy.as_deref(), Some("sox"));

        let unknown = EvaluateOptions {
            settings: Some(r#"{"gdpr": {}}"#.into()),
            ..options()
        };
        let Evaluation::Invalid { error } = evaluate(&text, &unknown, now()) else {
            panic!("not invalid");
        };
        assert_eq!(error.path.as_deref(), Some("gdpr"));

        let malformed = EvaluateOptions {
            settings: Some("sox: [".into()),
            ..options()
        };
        let Evaluation::Invalid { error } = evaluate(&text, &malformed, now()) else {
            panic!("not invalid");
        };
        assert!(error.line.is_some(), "{error:?}");

        let blank = EvaluateOptions {
            settings: Some("  \n".into()),
            ..options()
        };
        assert!(matches!(
            evaluate(&text, &blank, now()),
            Evaluation::Decided { .. }
        ));
    }

    #[test]
    fn an_invalid_time_is_an_input_error() {
        let options = EvaluateOptions {
            now: Some("tomorrow".into()),
            ..options()
        };
        let result = evaluate(&example("self-approval-denied.yaml"), &options, now());
        assert!(
            matches!(&result, Evaluation::Invalid { error } if error.path.as_deref() == Some("now")),
            "{result:?}"
        );
    }

    #[test]
    fn the_result_serializes_as_the_documented_plain_objects() {
        let result = evaluate(&example("self-approval-denied.yaml"), &options(), now());
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(json["status"], "decided");
        assert_eq!(json["decision"]["outcome"], "denied");
        assert_eq!(json["decision"]["decisions"][0]["policy_id"], "sox");
        let back: Evaluation = serde_json::from_value(json).unwrap();
        assert_eq!(back, result);
    }
}
