//! Evaluation as the browser sees it: manifest text and options in, a plain [`Evaluation`] out.
//! The page decides through the same pipeline as `tollgate eval` and `tollgate serve`
//! (`tollgate-pipeline`), with the policy crates run natively instead of as components, and a
//! recorder that records nothing: the preview gates nothing.

use serde::{Deserialize, Serialize};
use tollgate_decision::{CombinedDecision, PolicyMetadata};
use tollgate_manifest::{Format, Timestamp};
use tollgate_pipeline::{
    Candidate, DecideError, Evaluator, Gate, NativePolicy, NoRecord, Pipeline, PipelineOptions,
    PolicyError, PolicyFailure, Submission,
};
pub use tollgate_pipeline::{InputError, InputSource};
use tsify::Tsify;

/// The built-in policy crates, natively, in the order the CLI runs them.
pub fn builtin() -> Vec<NativePolicy> {
    tollgate_builtin_packs::all()
        .into_iter()
        .map(NativePolicy::from_boxed)
        .collect()
}

/// The metadata and control catalogue of every built-in policy.
pub fn policies() -> Vec<PolicyMetadata> {
    builtin().iter().map(|p| p.metadata().clone()).collect()
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
    /// Ids of the policies to run (`sox`, `hipaa`, `pci`, and the ids of the packs given to
    /// `evaluateWithPacks`); absent means all of them.
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

/// Why a policy could not evaluate the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
pub struct FailureDetail {
    /// Stable kind: an evaluation error's kind (`invalid_manifest`, `internal`, ...), or
    /// `malformed_result` for a decision that breaks the policy contract.
    pub kind: String,
    /// What happened.
    pub message: String,
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
        /// What went wrong.
        error: FailureDetail,
    },
}

/// Evaluates manifest text with the selected built-in policies. `now` is used when the options
/// give no evaluation time.
pub fn evaluate(text: &str, options: &EvaluateOptions, now: Timestamp) -> Evaluation {
    evaluate_including(Vec::new(), text, options, now)
}

/// Evaluates manifest text with the selected policies among the built-in ones and `packs` (the
/// page's third-party packs, run after the built-in ones). `now` is used when the options give no
/// evaluation time.
pub fn evaluate_including(
    packs: Vec<Box<dyn Evaluator>>,
    text: &str,
    options: &EvaluateOptions,
    now: Timestamp,
) -> Evaluation {
    let mut all: Vec<Box<dyn Evaluator>> = builtin()
        .into_iter()
        .map(|p| Box::new(p) as Box<dyn Evaluator>)
        .collect();
    all.extend(packs);
    match select(all, options.policies.as_deref())
        .and_then(|policies| run(policies, text, options, now))
    {
        Ok(evaluation) | Err(evaluation) => evaluation,
    }
}

/// Evaluates manifest text with the given policies instead of the selected built-in ones (the
/// `policies` option is ignored): what the page does, for any [`Evaluator`].
pub fn evaluate_with(
    policies: Vec<Box<dyn Evaluator>>,
    text: &str,
    options: &EvaluateOptions,
    now: Timestamp,
) -> Evaluation {
    match run(policies, text, options, now) {
        Ok(evaluation) | Err(evaluation) => evaluation,
    }
}

fn invalid(error: InputError) -> Evaluation {
    Evaluation::Invalid { error }
}

/// The one mapping of the pipeline's errors to what the page shows.
fn from_decide_error(error: DecideError) -> Evaluation {
    match error {
        DecideError::Invalid(errors) => match errors.into_iter().next() {
            Some(first) => invalid(first),
            None => invalid(InputError::new(InputSource::Options, "invalid input")),
        },
        DecideError::Policies { failures, .. } => match failures.first() {
            Some(failure) => failed(failure),
            None => internal("a policy failed"),
        },
        DecideError::Unrecorded(e) => internal(&e.to_string()),
        DecideError::Internal(message) => internal(&message),
    }
}

fn failed(failure: &PolicyError) -> Evaluation {
    let error = match &failure.failure {
        Some(PolicyFailure::Eval(error)) => FailureDetail {
            kind: error.kind().to_owned(),
            message: error.message().to_owned(),
        },
        _ => FailureDetail {
            kind: failure.kind.to_owned(),
            message: failure.message.clone(),
        },
    };
    Evaluation::Failed {
        policy: failure.policy.clone(),
        error,
    }
}

fn internal(message: &str) -> Evaluation {
    Evaluation::Failed {
        policy: String::new(),
        error: FailureDetail {
            kind: "internal".to_owned(),
            message: message.to_owned(),
        },
    }
}

fn run(
    policies: Vec<Box<dyn Evaluator>>,
    text: &str,
    options: &EvaluateOptions,
    now: Timestamp,
) -> Result<Evaluation, Evaluation> {
    crate::schemas::install();
    // Everything the user gave is checked before any policy runs.
    let format = options
        .format
        .map_or_else(|| Format::detect(None, text), Format::from);
    let now = match &options.now {
        Some(text) => Timestamp::parse(text).map_err(|e| {
            invalid(InputError {
                path: Some("now".into()),
                ..InputError::new(InputSource::Options, format!("invalid `now`: {e}"))
            })
        })?,
        None => now,
    };
    let submission = Submission::parse("<browser>", "manifest", text.to_owned(), format, now)
        .map_err(invalid)?;
    let settings = match options.settings.as_deref() {
        Some(text) if !text.trim().is_empty() => Some(
            tollgate_pipeline::parse_settings(text, "settings", Format::detect(None, text))
                .map_err(invalid)?,
        ),
        _ => None,
    };
    let candidates = policies.into_iter().map(Candidate::Loaded).collect();
    let options = PipelineOptions {
        settings,
        ..PipelineOptions::default()
    };
    let pipeline = Pipeline::new(candidates, options).map_err(from_decide_error)?;
    let gate = Gate::new(
        pipeline,
        NoRecord::new("the browser preview records nothing"),
    );
    let decided = gate.decide(submission).map_err(from_decide_error)?;
    let report = decided.report();
    if let Some(failure) = report.failures.first() {
        return Err(failed(failure));
    }
    Ok(Evaluation::Decided {
        decision: report.combined.clone(),
    })
}

fn select(
    all: Vec<Box<dyn Evaluator>>,
    ids: Option<&[String]>,
) -> Result<Vec<Box<dyn Evaluator>>, Evaluation> {
    let option_error = |message: String| {
        invalid(InputError {
            path: Some("policies".into()),
            ..InputError::new(InputSource::Options, message)
        })
    };
    let names: Vec<&str> = all.iter().map(|p| p.metadata().id.as_str()).collect();
    if let Some(i) = (0..names.len()).find(|&i| names[..i].contains(&names[i])) {
        return Err(option_error(format!(
            "two policies have the id `{}`",
            names[i]
        )));
    }
    let Some(ids) = ids else {
        return Ok(all);
    };
    if ids.is_empty() {
        return Err(option_error("select at least one policy".into()));
    }
    for (i, id) in ids.iter().enumerate() {
        if !names.contains(&id.as_str()) {
            return Err(option_error(format!(
                "unknown policy `{id}` (available: {})",
                names.join(", ")
            )));
        }
        if ids[..i].contains(id) {
            return Err(option_error(format!("policy `{id}` is given twice")));
        }
    }
    // The CLI's order (built-in packs first), whatever order the ids were given in.
    Ok(all
        .into_iter()
        .filter(|p| ids.contains(&p.metadata().id))
        .collect())
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
            assert_eq!(
                decision.decisions.len(),
                tollgate_builtin_packs::NAMES.len()
            );
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
