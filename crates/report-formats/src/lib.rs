//! Reports of a Tollgate evaluation in the formats CI systems show natively:
//!
//! | format | for | shape |
//! |---|---|---|
//! | [`ReportFormat::Json`] | scripts, dashboards, the audit trail | Tollgate's stable JSON document ([`json`]) |
//! | [`ReportFormat::Junit`] | test-report views (GitLab, Jenkins, Azure DevOps) | JUnit XML: one test suite per policy, one test case per control |
//! | [`ReportFormat::Sarif`] | code scanning (GitHub, GitLab, Azure) | SARIF 2.1.0: one result per finding, at the manifest field or the data's file and line |
//! | [`ReportFormat::Github`] | GitHub Actions | workflow-command annotations (the Markdown summary is [`markdown`]) |
//! | [`ReportFormat::Gitlab`] | GitLab merge requests | Code Quality report JSON |
//! | [`ReportFormat::Markdown`] | merge-request comments, job summaries | Markdown |
//! | [`text`] | people at a terminal | the explained text report, optionally coloured |
//!
//! Waived findings ([`tollgate_waivers`]) appear in every format with their waiver's id and
//! justification, marked as not blocking.

mod github;
mod gitlab;
pub mod json;
mod junit;
mod locate;
mod markdown;
mod relative;
mod sarif;
mod sentence;
mod text;

use std::fmt;
use std::str::FromStr;

use tollgate_crosswalk::{Crosswalk, OrganisationControl};
use tollgate_decision::{CombinedDecision, Decision, Finding, Outcome, PolicyMetadata, Verdict};
use tollgate_manifest::Manifest;
use tollgate_waivers::{Applied, WaivedFinding};

pub use github::github_annotations;
pub use gitlab::gitlab_code_quality;
pub use json::{json, json_compact};
pub use junit::junit;
pub use locate::{FieldMap, Position};
pub use markdown::markdown;
pub use sarif::sarif;
pub use text::{Style as TextStyle, text};

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// JSON serialisation failed.
    #[error("cannot write the {format} report: {message}")]
    Serialize {
        /// The format.
        format: ReportFormat,
        /// What failed.
        message: String,
    },
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportFormat {
    /// Tollgate's stable JSON document.
    Json,
    /// JUnit XML.
    Junit,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
    /// GitLab Code Quality JSON.
    Gitlab,
    /// Markdown summary.
    Markdown,
}

impl ReportFormat {
    /// Every format, in documentation order.
    pub const ALL: [ReportFormat; 6] = [
        Self::Json,
        Self::Junit,
        Self::Sarif,
        Self::Github,
        Self::Gitlab,
        Self::Markdown,
    ];

    /// The format's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Junit => "junit",
            Self::Sarif => "sarif",
            Self::Github => "github",
            Self::Gitlab => "gitlab",
            Self::Markdown => "markdown",
        }
    }
}

impl fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "unknown format `{text}` (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// One policy that decided.
#[derive(Debug, Clone, Copy)]
pub struct PolicyRun<'a> {
    /// Its metadata and control catalogue.
    pub metadata: &'a PolicyMetadata,
    /// Digest of the component.
    pub digest: &'a str,
    /// Its decision.
    pub decision: &'a Decision,
}

/// One policy that could not decide.
#[derive(Debug, Clone, Copy)]
pub struct PolicyFailureRun<'a> {
    /// Policy id, or the name it was given by.
    pub policy: &'a str,
    /// Stable kind, for example `timeout`.
    pub kind: &'a str,
    /// What happened.
    pub message: &'a str,
}

/// Everything a report shows about one evaluation.
#[derive(Debug, Clone)]
pub struct Evaluation<'a> {
    /// Tollgate's version.
    pub tool_version: &'a str,
    /// Evaluation time, RFC 3339.
    pub evaluated_at: String,
    /// Manifest path as given (`-` for standard input).
    pub manifest_path: &'a str,
    /// Manifest digest (`sha256:...`).
    pub manifest_digest: &'a str,
    /// The manifest's text, to locate fields; `None` maps nothing.
    pub manifest_text: Option<&'a str>,
    /// The manifest.
    pub manifest: &'a Manifest,
    /// Policies with a decision, in the order of `combined.decisions`.
    pub policies: Vec<PolicyRun<'a>>,
    /// Policies without one.
    pub failures: Vec<PolicyFailureRun<'a>>,
    /// The combined decision (before waivers).
    pub combined: &'a CombinedDecision,
    /// The waivers file, if one was given.
    pub waivers_file: Option<&'a str>,
    /// Waivers applied to the decisions.
    pub waivers: &'a Applied,
    /// The run's exit code.
    pub exit_code: u8,
    /// The organisation's controls mapped onto Tollgate's, if a crosswalk was given: every format
    /// shows their ids beside Tollgate's.
    pub crosswalk: Option<&'a Crosswalk>,
}

/// Organisation control ids as reports append them: ` [CC-01, CC-07]`, or nothing.
pub fn organisation_ids(controls: &[OrganisationControl]) -> String {
    if controls.is_empty() {
        return String::new();
    }
    let ids: Vec<&str> = controls.iter().map(|c| c.id.as_str()).collect();
    format!(" [{}]", ids.join(", "))
}

impl Evaluation<'_> {
    /// The organisation's controls mapped onto a Tollgate control (none without a crosswalk).
    pub fn organisation_controls(&self, control_id: &str) -> Vec<OrganisationControl> {
        self.crosswalk
            .map(|c| c.for_control(control_id))
            .unwrap_or_default()
    }

    /// The organisation's controls a finding falls under (none without a crosswalk).
    pub fn organisation_controls_of(&self, finding: &Finding) -> Vec<OrganisationControl> {
        self.crosswalk
            .map(|c| c.for_finding(&finding.control_id, &finding.rule_id))
            .unwrap_or_default()
    }

    /// The run's outcome: policy failure if any policy failed, else the strictest outcome after
    /// waivers (denied when nothing was decided).
    pub fn outcome(&self) -> Verdict {
        if !self.failures.is_empty() {
            Verdict::PolicyFailure
        } else if self.policies.is_empty() {
            Verdict::Decided(self.combined.outcome)
        } else {
            Verdict::Decided(self.waivers.combined_outcome())
        }
    }

    /// A policy's outcome after waivers.
    pub fn policy_outcome(&self, index: usize) -> Outcome {
        self.waivers
            .outcomes
            .get(index)
            .map(|o| o.after)
            .or_else(|| self.policies.get(index).map(|p| p.decision.outcome))
            .unwrap_or(Outcome::Denied)
    }

    /// Every finding with its policy, waiver and location, in policy and finding order.
    pub fn findings(&self) -> Vec<FindingView<'_>> {
        let fields = self.manifest_text.map(FieldMap::new).unwrap_or_default();
        let mut views = Vec::new();
        for (policy_index, run) in self.policies.iter().enumerate() {
            for (index, finding) in run.decision.findings.iter().enumerate() {
                views.push(FindingView {
                    policy_index,
                    policy: *run,
                    index,
                    finding,
                    waiver: self.waivers.waiver_for(&run.decision.policy_id, index),
                    location: self.location(finding, &fields),
                    organisation_controls: self.organisation_controls_of(finding),
                });
            }
        }
        views
    }

    fn location(&self, finding: &Finding, fields: &FieldMap) -> FindingLocation {
        if let Some(index) = finding
            .field_path
            .strip_prefix("evidence.sensitive_data_findings[")
            .and_then(|rest| rest.split(']').next())
            .and_then(|n| n.parse::<usize>().ok())
            && let Some(data) = self.manifest.evidence.sensitive_data_findings.get(index)
        {
            let (file, line) = match data.location.rsplit_once(':') {
                Some((file, line)) if !file.is_empty() => match line.trim().parse::<usize>() {
                    Ok(line) if line > 0 => (file.to_owned(), Some(line)),
                    _ => (data.location.clone(), None),
                },
                _ => (data.location.clone(), None),
            };
            return FindingLocation::Data { file, line };
        }
        FindingLocation::Manifest {
            field: finding.field_path.clone(),
            position: fields.locate(&finding.field_path),
        }
    }
}

/// Where a finding points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingLocation {
    /// A manifest field, and where it is in the manifest's text if known.
    Manifest {
        /// Field path, for example `change.approvals[0].by`.
        field: String,
        /// Position of the field (or its nearest present ancestor).
        position: Option<Position>,
    },
    /// Sensitive data in a repository file.
    Data {
        /// File path, relative to the repository.
        file: String,
        /// Line, if known.
        line: Option<usize>,
    },
}

/// A finding as reports see it.
#[derive(Debug, Clone)]
pub struct FindingView<'a> {
    /// Index of the policy in [`Evaluation::policies`].
    pub policy_index: usize,
    /// The deciding policy.
    pub policy: PolicyRun<'a>,
    /// Index of the finding in the decision.
    pub index: usize,
    /// The finding.
    pub finding: &'a Finding,
    /// The waiver that applies, if any.
    pub waiver: Option<&'a WaivedFinding>,
    /// Where it points.
    pub location: FindingLocation,
    /// The organisation's controls it falls under (with a crosswalk).
    pub organisation_controls: Vec<OrganisationControl>,
}

impl FindingView<'_> {
    /// Whether the finding blocks the change (high or critical and not waived).
    pub fn blocks(&self) -> bool {
        self.finding.severity.denies() && self.waiver.is_none()
    }

    /// The control's title from the policy's catalogue, if listed.
    pub fn control_title(&self) -> Option<&str> {
        self.policy
            .metadata
            .control(&self.finding.control_id)
            .map(|c| c.title.as_str())
    }

    /// The regulatory references joined with `; `.
    pub fn references(&self) -> String {
        self.finding
            .references
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// One line naming the waiver, for example `waived by WVR-7 (CHG-2101, approved by dave,
    /// expires 2026-06-30): justification`.
    pub fn waiver_note(&self) -> Option<String> {
        self.waiver.map(|w| {
            let w = &w.waiver;
            format!(
                "waived by {} ({}, approved by {}, expires {}): {}",
                w.id, w.ticket, w.approved_by, w.expires, w.justification
            )
        })
    }
}

/// Renders a report.
pub fn render(format: ReportFormat, evaluation: &Evaluation<'_>) -> Result<String, ReportError> {
    let serialize = |e: serde_json::Error| ReportError::Serialize {
        format,
        message: e.to_string(),
    };
    match format {
        ReportFormat::Json => json(evaluation).map_err(serialize),
        ReportFormat::Junit => Ok(junit(evaluation)),
        ReportFormat::Sarif => sarif(evaluation).map_err(serialize),
        ReportFormat::Github => Ok(github_annotations(evaluation)),
        ReportFormat::Gitlab => gitlab_code_quality(evaluation).map_err(serialize),
        ReportFormat::Markdown => Ok(markdown(evaluation)),
    }
}
