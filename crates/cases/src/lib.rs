//! Golden cases of a Tollgate policy: one YAML file per case holding a manifest, settings, an
//! evaluation time and the expected decision (`policies/<name>/tests/cases/*.yaml`). Every runner
//! — native crates, components in the host, `tollgate test`, the other engines — reads the same
//! files and checks results with [`check`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tollgate_decision::{ControlStatus, Decision, EvalError, Outcome, PolicyMetadata, RiskClass};
use tollgate_manifest::{Format, Manifest, Timestamp};

#[cfg(test)]
mod json_paths;

/// Why a case file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The case's manifest is not a valid manifest.
    #[error("manifest: {0}")]
    Manifest(#[source] tollgate_manifest::DocumentError),
    /// The case's manifest could not be written as JSON to be read back.
    #[error("manifest: {0}")]
    ManifestJson(#[source] serde_json::Error),
    /// The file is not a valid case.
    #[error("`{path}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// One golden case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows.
    pub description: String,
    /// Evaluation time.
    pub now: Timestamp,
    /// Settings object for the policy; absent means defaults.
    #[serde(default)]
    pub settings: Option<serde_json::Value>,
    /// The manifest, as it would be written in a manifest file.
    pub manifest: serde_json::Value,
    /// The expected decision.
    pub expect: Expectation,
}

/// Expectations on a decision. Absent fields are not checked, except `controls`: a control not
/// listed must be compliant (or not applicable when the framework does not apply), so a case lists
/// every control that is `non_compliant`, `pending`, `not_assessed` or `not_applicable`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Expected outcome.
    pub outcome: Option<Outcome>,
    /// Expected evaluation error kind instead of a decision (`invalid_settings`, `invalid_manifest`).
    pub error: Option<String>,
    /// Whether the framework applies.
    pub applicable: Option<bool>,
    /// Expected risk score.
    pub risk_score: Option<f64>,
    /// Expected risk class.
    pub risk_class: Option<RiskClass>,
    /// Expected route.
    pub route: Option<String>,
    /// Expected required roles, in order.
    pub required_roles: Option<Vec<String>>,
    /// Expected roles still missing an approval, in order.
    pub missing_roles: Option<Vec<String>>,
    /// Expected findings as `rule-id@CONTROL-ID`, in any order.
    pub findings: Option<Vec<String>>,
    /// Expected status of controls; unlisted controls must be compliant.
    #[serde(default)]
    pub controls: BTreeMap<String, ControlStatus>,
    /// Expected obligation ids, in order.
    pub obligations: Option<Vec<String>>,
}

impl Case {
    /// Reads a case file.
    pub fn load(path: &Path) -> Result<Self, CaseError> {
        let text = std::fs::read_to_string(path).map_err(|source| CaseError::Read {
            path: path.to_owned(),
            source,
        })?;
        tollgate_manifest::decode(&text, Format::Yaml).map_err(|e| CaseError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// The manifest, parsed exactly as a manifest file would be.
    pub fn manifest(&self) -> Result<Manifest, CaseError> {
        let text = serde_json::to_string(&self.manifest).map_err(CaseError::ManifestJson)?;
        Manifest::from_text(&text, Format::Json).map_err(CaseError::Manifest)
    }

    /// The settings as the JSON text a policy receives (empty for defaults).
    pub fn settings_json(&self) -> String {
        self.settings
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default()
    }
}

/// The case files (`*.yaml`) of a directory, sorted by name.
pub fn case_files_in(dir: &Path) -> Result<Vec<PathBuf>, CaseError> {
    let read = |source| CaseError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let path = entry.map_err(read)?.path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// How a result differs from its case.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Mismatch {
    /// The policy could not evaluate, and the case expected a decision (or another error).
    #[error("evaluation failed: {0}")]
    Failed(EvalError),
    /// The case expected an error, and the policy decided.
    #[error("expected error `{expected}`, got outcome {got}")]
    Decided {
        /// The error kind the case expects.
        expected: String,
        /// The outcome the policy gave.
        got: Outcome,
    },
    /// The decision differs from the expectation or breaks an invariant: one problem per line.
    #[error("{}", .0.trim_end())]
    Differs(String),
}

/// Checks a result against the case's expectation and the decision invariants.
pub fn check(
    case: &Case,
    metadata: &PolicyMetadata,
    result: &Result<Decision, EvalError>,
) -> Result<(), Mismatch> {
    let expect = &case.expect;
    let decision = match (result, &expect.error) {
        (Err(error), Some(kind)) if error.kind() == kind => return Ok(()),
        (Err(error), _) => return Err(Mismatch::Failed(error.clone())),
        (Ok(decision), Some(kind)) => {
            return Err(Mismatch::Decided {
                expected: kind.clone(),
                got: decision.outcome,
            });
        }
        (Ok(decision), None) => decision,
    };
    let mut problems = String::new();
    let mismatch = |problems: &mut String, what: &str, want: String, got: String| {
        if want != got {
            let _ = writeln!(problems, "{what}: expected {want}, got {got}");
        }
    };
    if let Some(outcome) = expect.outcome {
        mismatch(
            &mut problems,
            "outcome",
            outcome.to_string(),
            decision.outcome.to_string(),
        );
    } else {
        let _ = writeln!(
            problems,
            "case must state `expect.outcome` or `expect.error`"
        );
    }
    if let Some(applicable) = expect.applicable {
        mismatch(
            &mut problems,
            "applicable",
            applicable.to_string(),
            decision.applicable.to_string(),
        );
    }
    if let Some(score) = expect.risk_score {
        mismatch(
            &mut problems,
            "risk score",
            score.to_string(),
            decision
                .risk
                .as_ref()
                .map_or_else(|| "none".to_owned(), |risk| risk.score.to_string()),
        );
    }
    if let Some(class) = expect.risk_class {
        mismatch(
            &mut problems,
            "risk class",
            class.to_string(),
            decision
                .risk_class()
                .map_or_else(|| "none".to_owned(), |class| class.to_string()),
        );
    }
    if let Some(route) = &expect.route {
        mismatch(
            &mut problems,
            "route",
            route.clone(),
            decision.route().unwrap_or("none").to_owned(),
        );
    }
    if let Some(roles) = &expect.required_roles {
        let got: Vec<&str> = decision
            .required_approvals()
            .iter()
            .map(|r| r.role.as_str())
            .collect();
        mismatch(
            &mut problems,
            "required roles",
            format!("{roles:?}"),
            format!("{got:?}"),
        );
    }
    if let Some(roles) = &expect.missing_roles {
        let got: Vec<&str> = decision.missing_roles().collect();
        mismatch(
            &mut problems,
            "missing roles",
            format!("{roles:?}"),
            format!("{got:?}"),
        );
    }
    // A control that declares its rule ids must declare every rule its findings carry, so that
    // `tollgate inspect` and waivers can name them.
    for finding in &decision.findings {
        if let Some(control) = metadata.control(&finding.control_id)
            && !control.rules.is_empty()
            && !control.rules.contains(&finding.rule_id)
        {
            let _ = writeln!(
                problems,
                "finding `{}` is not among the rules {} declares in its metadata",
                finding.rule_id, finding.control_id
            );
        }
    }
    if let Some(findings) = &expect.findings {
        let mut want = findings.clone();
        want.sort();
        let mut got: Vec<String> = decision
            .findings
            .iter()
            .map(|f| format!("{}@{}", f.rule_id, f.control_id))
            .collect();
        got.sort();
        mismatch(
            &mut problems,
            "findings",
            format!("{want:?}"),
            format!("{got:?}"),
        );
    }
    if let Some(obligations) = &expect.obligations {
        let got: Vec<&str> = decision.obligations.iter().map(|o| o.id.as_str()).collect();
        mismatch(
            &mut problems,
            "obligations",
            format!("{obligations:?}"),
            format!("{got:?}"),
        );
    }
    for id in expect.controls.keys() {
        if metadata.control(id).is_none() {
            let _ = writeln!(problems, "expected control `{id}` is not in the catalogue");
        }
    }
    for result in &decision.controls {
        let default = if decision.applicable {
            ControlStatus::Compliant
        } else {
            ControlStatus::NotApplicable
        };
        let want = expect
            .controls
            .get(&result.control_id)
            .copied()
            .unwrap_or(default);
        mismatch(
            &mut problems,
            &format!("control {}", result.control_id),
            want.to_string(),
            result.status.to_string(),
        );
    }
    invariants(metadata, decision, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Mismatch::Differs(problems))
    }
}

/// Structural rules every decision obeys, whatever the case.
fn invariants(metadata: &PolicyMetadata, decision: &Decision, problems: &mut String) {
    if decision.policy_id != metadata.id {
        let _ = writeln!(
            problems,
            "decision policy id `{}` is not `{}`",
            decision.policy_id, metadata.id
        );
    }
    let ids: Vec<&str> = decision
        .controls
        .iter()
        .map(|c| c.control_id.as_str())
        .collect();
    let catalogue: Vec<&str> = metadata.controls.iter().map(|c| c.id.as_str()).collect();
    if ids != catalogue {
        let _ = writeln!(
            problems,
            "controls {ids:?} differ from the catalogue {catalogue:?}"
        );
    }
    for finding in &decision.findings {
        match metadata.control(&finding.control_id) {
            None => {
                let _ = writeln!(
                    problems,
                    "finding `{}` names unknown control `{}`",
                    finding.rule_id, finding.control_id
                );
            }
            Some(control) if control.references != finding.references => {
                let _ = writeln!(
                    problems,
                    "finding `{}` does not carry its control's references",
                    finding.rule_id
                );
            }
            Some(_) => {}
        }
        let status = decision
            .controls
            .iter()
            .find(|c| c.control_id == finding.control_id)
            .map(|c| c.status);
        if status != Some(ControlStatus::NonCompliant) {
            let _ = writeln!(
                problems,
                "finding `{}` belongs to a control that is not non-compliant",
                finding.rule_id
            );
        }
    }
    let denies = decision.findings.iter().any(|f| f.severity.denies());
    let missing = decision.missing_roles().next().is_some();
    for control in &decision.controls {
        if control.status == ControlStatus::Pending && !missing {
            let _ = writeln!(
                problems,
                "control {} is pending while no required approval is missing",
                control.control_id
            );
        }
    }
    let consistent = match decision.outcome {
        Outcome::Denied => denies,
        Outcome::NeedsApproval => !denies && missing,
        Outcome::Approved => !denies && !missing,
    };
    if !consistent {
        let _ = writeln!(
            problems,
            "outcome {} is inconsistent with findings and approvals",
            decision.outcome
        );
    }
    if decision.summary.trim().is_empty() {
        let _ = writeln!(problems, "summary is empty");
    }
}
