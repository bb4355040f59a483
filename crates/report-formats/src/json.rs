//! Tollgate's JSON report. Its shape is stable: fields are only ever added.
//!
//! ```text
//! {
//!   "tollgate_version": "0.1.0",
//!   "evaluated_at": "2026-05-20T10:00:00Z",
//!   "manifest": { "path": "change.yaml", "digest": "sha256:..." },
//!   "outcome": "approved" | "needs_approval" | "denied" | "policy_failure",   // after waivers
//!   "outcome_before_waivers": same values,                                   // as the policies decided
//!   "exit_code": 0,
//!   "risk_class": "low" | "medium" | "high" | null,                          // null when nothing decided
//!   "required_roles": ["TECHNICAL_LEAD", ...],
//!   "missing_roles": [...],
//!   "policies": [{
//!     "id": "sox", "framework": "SOX", "version": "0.1.0", "digest": "sha256:...",
//!     "outcome": "approved",                                                 // after waivers
//!     "decision": { ...the policy's decision, unchanged (wit/tollgate.wit `decision`)... }
//!   }],
//!   "failures": [{ "policy": "pci", "kind": "timeout", "message": "..." }],
//!   "waivers": {
//!     "file": "waivers.yaml" | null,
//!     "waived": [{ "policy_id", "finding_index", "rule_id", "control_id",
//!                  "waiver": { "id", "justification", "ticket", "approved_by", "expires" } }],
//!     "problems": [{ "waiver", "index", "kind": "malformed" | "expired" | "approved_by_author"
//!                    | "approved_by_deployer" | "approver_unmatched" | "future_dated" | "non_waivable",
//!                    "message", "field"?, "location"?: { "line", "column" } }],
//!     "unused": ["WVR-9"],
//!     "unmatched": [{ "waiver": "WVR-9", "reason": "its scope did not match: service `payments` ..." }]
//!   },
//!   "crosswalk": {                                     // only with a crosswalk (`--crosswalk`)
//!     "catalogue": "ACME risk and control matrix" | null,
//!     "controls": [{ "policy_id", "control_id", "organisation_controls": [{ "id", "title" }] }],
//!     "findings": [{ "policy_id", "finding_index", "rule_id", "control_id",
//!                    "organisation_controls": [{ "id", "title" }] }]
//!   }
//! }
//! ```

use serde::Serialize;
use tollgate_decision::{Decision, RiskClass};
use tollgate_waivers::{Unmatched, WaivedFinding, WaiverProblem};

use crate::Evaluation;
use tollgate_crosswalk::{Crosswalk, OrganisationControl};
use tollgate_decision::Verdict;

#[derive(Serialize)]
struct JsonReport<'a> {
    tollgate_version: &'a str,
    evaluated_at: &'a str,
    manifest: JsonManifest<'a>,
    outcome: &'static str,
    outcome_before_waivers: &'static str,
    exit_code: u8,
    risk_class: Option<&'static str>,
    required_roles: &'a [String],
    missing_roles: &'a [String],
    policies: Vec<JsonPolicy<'a>>,
    failures: Vec<JsonFailure<'a>>,
    waivers: JsonWaivers<'a>,
    /// With a crosswalk: the organisation's controls of each control and finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    crosswalk: Option<JsonCrosswalk<'a>>,
}

#[derive(Serialize)]
struct JsonCrosswalk<'a> {
    catalogue: Option<&'a str>,
    controls: Vec<JsonMapped<'a>>,
    findings: Vec<JsonMappedFinding<'a>>,
}

#[derive(Serialize)]
struct JsonMapped<'a> {
    policy_id: &'a str,
    control_id: &'a str,
    organisation_controls: Vec<OrganisationControl>,
}

#[derive(Serialize)]
struct JsonMappedFinding<'a> {
    policy_id: &'a str,
    finding_index: usize,
    rule_id: &'a str,
    control_id: &'a str,
    organisation_controls: Vec<OrganisationControl>,
}

#[derive(Serialize)]
struct JsonManifest<'a> {
    path: &'a str,
    digest: &'a str,
}

#[derive(Serialize)]
struct JsonPolicy<'a> {
    id: &'a str,
    framework: &'a str,
    version: &'a str,
    digest: &'a str,
    outcome: &'static str,
    decision: &'a Decision,
}

#[derive(Serialize)]
struct JsonFailure<'a> {
    policy: &'a str,
    kind: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonWaivers<'a> {
    file: Option<&'a str>,
    waived: &'a [WaivedFinding],
    problems: &'a [WaiverProblem],
    unused: &'a [String],
    unmatched: &'a [Unmatched],
}

/// The JSON report, pretty-printed with a final newline.
pub fn json(evaluation: &Evaluation<'_>) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&report(evaluation)).map(|text| text + "\n")
}

/// The JSON report as compact JSON text (no whitespace, no final newline): the same document as
/// [`json`], for an API answer that embeds it.
pub fn json_compact(evaluation: &Evaluation<'_>) -> serde_json::Result<String> {
    serde_json::to_string(&report(evaluation))
}

/// The JSON report's document.
fn report<'a>(evaluation: &'a Evaluation<'_>) -> JsonReport<'a> {
    let combined = evaluation.combined;
    let before = if evaluation.failures.is_empty() {
        Verdict::Decided(combined.outcome)
    } else {
        Verdict::PolicyFailure
    };
    JsonReport {
        tollgate_version: evaluation.tool_version,
        evaluated_at: &evaluation.evaluated_at,
        manifest: JsonManifest {
            path: evaluation.manifest_path,
            digest: evaluation.manifest_digest,
        },
        outcome: evaluation.outcome().as_str(),
        outcome_before_waivers: before.as_str(),
        exit_code: evaluation.exit_code,
        risk_class: combined.risk_class.map(RiskClass::as_str),
        required_roles: &combined.required_roles,
        missing_roles: &combined.missing_roles,
        policies: evaluation
            .policies
            .iter()
            .enumerate()
            .map(|(index, run)| JsonPolicy {
                id: &run.metadata.id,
                framework: &run.metadata.framework,
                version: &run.metadata.version,
                digest: run.digest,
                outcome: evaluation.policy_outcome(index).as_str(),
                decision: run.decision,
            })
            .collect(),
        failures: evaluation
            .failures
            .iter()
            .map(|f| JsonFailure {
                policy: f.policy,
                kind: f.kind,
                message: f.message,
            })
            .collect(),
        waivers: JsonWaivers {
            file: evaluation.waivers_file,
            waived: &evaluation.waivers.waived,
            problems: &evaluation.waivers.problems,
            unused: &evaluation.waivers.unused,
            unmatched: &evaluation.waivers.unmatched,
        },
        crosswalk: evaluation
            .crosswalk
            .map(|crosswalk| crosswalk_of(evaluation, crosswalk)),
    }
}

/// The organisation's controls of every control and finding that has any.
fn crosswalk_of<'a>(evaluation: &'a Evaluation<'_>, crosswalk: &'a Crosswalk) -> JsonCrosswalk<'a> {
    let controls = evaluation
        .policies
        .iter()
        .flat_map(|run| {
            run.decision.controls.iter().map(move |result| JsonMapped {
                policy_id: &run.metadata.id,
                control_id: &result.control_id,
                organisation_controls: crosswalk.for_control(&result.control_id),
            })
        })
        .filter(|mapped| !mapped.organisation_controls.is_empty())
        .collect();
    let findings = evaluation
        .policies
        .iter()
        .flat_map(|run| {
            run.decision
                .findings
                .iter()
                .enumerate()
                .map(move |(finding_index, finding)| JsonMappedFinding {
                    policy_id: &run.metadata.id,
                    finding_index,
                    rule_id: &finding.rule_id,
                    control_id: &finding.control_id,
                    organisation_controls: crosswalk
                        .for_finding(&finding.control_id, &finding.rule_id),
                })
        })
        .filter(|mapped| !mapped.organisation_controls.is_empty())
        .collect();
    JsonCrosswalk {
        catalogue: crosswalk.catalogue(),
        controls,
        findings,
    }
}
