//! The one result of the decision path: every policy's decision, combined, with the policy
//! failures and the waivers applied.

use std::sync::Arc;

use tollgate_decision::{CombinedDecision, Outcome, PolicyMetadata, Verdict};
use tollgate_manifest::{Manifest, Timestamp};
use tollgate_report_formats::{Evaluation, PolicyFailureRun, PolicyRun};
use tollgate_waivers::Applied;

use crate::{PolicyFailure, exit};

/// A policy that produced a decision: its identity (the decision itself is in the combination),
/// shared with the pipeline that loaded it rather than copied into every report.
#[derive(Debug, Clone)]
pub struct Evaluated {
    /// Its metadata and control catalogue.
    pub metadata: Arc<PolicyMetadata>,
    /// What exactly ran (`sha256:` of the component, or `native:` for a native crate).
    pub digest: Arc<str>,
    /// Who vouches for it ([`crate::Evaluator::signer`]).
    pub signer: Option<Arc<str>>,
}

/// A policy that produced no decision.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyError {
    /// Policy id, or the name it was given by when it could not be loaded.
    pub policy: String,
    /// Stable kind, for example `timeout` or `load`.
    pub kind: &'static str,
    /// What happened.
    pub message: String,
    /// The failure itself; `None` for a policy that could not be loaded.
    pub failure: Option<PolicyFailure>,
}

impl PolicyError {
    /// A policy's failure to decide.
    pub fn new(policy: &str, failure: &PolicyFailure) -> Self {
        Self {
            policy: policy.to_owned(),
            kind: failure.kind(),
            message: failure.to_string(),
            failure: Some(failure.clone()),
        }
    }

    /// A policy that could not be loaded at all.
    pub fn load(name: &str, message: impl std::fmt::Display) -> Self {
        Self {
            policy: name.to_owned(),
            kind: "load",
            message: format!("could not be loaded: {message}"),
            failure: None,
        }
    }
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "policy `{}` failed: {}", self.policy, self.message)
    }
}

/// Everything decided about one manifest.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// Where the manifest came from, as recorded.
    pub manifest_path: String,
    /// `sha256:` of the manifest's exact text.
    pub manifest_digest: String,
    /// The manifest.
    pub manifest: Manifest,
    /// The manifest's text, to locate fields in reports.
    pub manifest_text: String,
    /// The evaluation time given to the policies.
    pub now: Timestamp,
    /// Policies with a decision, in the order of `combined.decisions`.
    pub evaluated: Vec<Evaluated>,
    /// Policies without one.
    pub failures: Vec<PolicyError>,
    /// The decisions, combined (strictest outcome, union of roles); unchanged by waivers.
    pub combined: CombinedDecision,
    /// The waivers file, if one was given.
    pub waivers_file: Option<String>,
    /// Waivers applied to `combined.decisions`.
    pub waivers: Applied,
    /// `sha256:` of the settings as canonical JSON, when settings were given.
    pub settings_digest: Option<String>,
    /// Who asked, when the edge authenticated them ([`crate::Submission::actor`]).
    pub actor: Option<crate::Actor>,
}

impl Report {
    /// The verdict: a policy failure if any policy failed, else the outcome after waivers.
    pub fn verdict(&self) -> Verdict {
        if self.failures.is_empty() {
            Verdict::Decided(self.outcome_after_waivers())
        } else {
            Verdict::PolicyFailure
        }
    }

    /// Fail-closed: any policy failure exits 5, whatever the others decided.
    pub fn exit_code(&self) -> u8 {
        match self.verdict() {
            Verdict::Decided(outcome) => exit::for_outcome(outcome),
            Verdict::PolicyFailure => exit::POLICY_FAILURE,
        }
    }

    /// The combined outcome once waived findings stop blocking (as decided without waivers).
    pub fn outcome_after_waivers(&self) -> Outcome {
        if self.combined.decisions.is_empty() {
            self.combined.outcome
        } else {
            self.waivers.combined_outcome()
        }
    }

    /// The report formats' view of this report.
    pub fn view(&self) -> Evaluation<'_> {
        Evaluation {
            tool_version: env!("CARGO_PKG_VERSION"),
            evaluated_at: self.now.to_string(),
            manifest_path: &self.manifest_path,
            manifest_digest: &self.manifest_digest,
            manifest_text: Some(&self.manifest_text),
            manifest: &self.manifest,
            policies: self
                .evaluated
                .iter()
                .zip(&self.combined.decisions)
                .map(|(evaluated, decision)| PolicyRun {
                    metadata: &evaluated.metadata,
                    digest: &evaluated.digest,
                    decision,
                })
                .collect(),
            failures: self
                .failures
                .iter()
                .map(|f| PolicyFailureRun {
                    policy: &f.policy,
                    kind: f.kind,
                    message: &f.message,
                })
                .collect(),
            combined: &self.combined,
            waivers_file: self.waivers_file.as_deref(),
            waivers: &self.waivers,
            crosswalk: None,
            exit_code: self.exit_code(),
        }
    }
}
