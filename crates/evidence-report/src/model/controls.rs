//! Per-control results: for each framework and control, the changes evaluated (each by its latest
//! decision) and how many were compliant, non-compliant, pending, not assessed, waived or not
//! applicable. Effectiveness counts assessed results only: compliant ÷ (compliant + non-compliant).

use std::collections::BTreeMap;

use serde::Serialize;
use tollgate_crosswalk::OrganisationControl;
use tollgate_decision::ControlStatus;
use tollgate_decision_log::DecisionRecord;
use tollgate_decision_log::verify::LoggedRecord;

use super::{RecordLink, ReportOptions, link, ratio};

/// One change's status for a control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlChange {
    /// The record.
    #[serde(flatten)]
    pub record: RecordLink,
    /// `compliant`, `non_compliant`, `pending`, `not_assessed`, `waived` or `not_applicable`.
    pub status: String,
}

/// Results of one control over the period (each change counted once, by its latest decision).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlSummary {
    /// Framework.
    pub framework: String,
    /// Policy id.
    pub policy_id: String,
    /// Control id.
    pub control_id: String,
    /// Control title, from the policy's catalogue (`None` when no catalogue names the control).
    pub title: Option<String>,
    /// Regulatory references: the catalogue's, else those seen in findings of this control.
    pub references: Vec<String>,
    /// The organisation's controls that map onto this one (with a crosswalk).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub organisation_controls: Vec<OrganisationControl>,
    /// Changes evaluated.
    pub evaluated: u64,
    /// Compliant.
    pub compliant: u64,
    /// Non-compliant (and not waived).
    pub non_compliant: u64,
    /// Satisfied except for required approvals not yet given (not assessed for effectiveness).
    pub pending: u64,
    /// Not exercised: the evidence it rests on was absent (not assessed for effectiveness).
    pub not_assessed: u64,
    /// Non-compliant but waived.
    pub waived: u64,
    /// Not applicable.
    pub not_applicable: u64,
    /// Compliant share of the assessed evaluations (compliant + non-compliant; pending, not
    /// assessed, waived and not applicable results are left out), if any.
    pub effectiveness: Option<f64>,
    /// The changes.
    pub changes: Vec<ControlChange>,
}

pub(super) fn control_summaries(
    latest: &BTreeMap<&str, (&LoggedRecord, &DecisionRecord)>,
    options: &ReportOptions,
) -> Vec<ControlSummary> {
    let mut controls: BTreeMap<(String, String), ControlSummary> = BTreeMap::new();
    for &(r, d) in latest.values() {
        for decision in &d.decisions {
            if !options.wants_policy(&decision.policy_id, &decision.framework) {
                continue;
            }
            for result in &decision.controls {
                let waived = d.waivers.iter().any(|w| {
                    w.control_id.as_deref() == Some(result.control_id.as_str())
                        && w.policy_id
                            .as_deref()
                            .is_none_or(|p| p == decision.policy_id)
                });
                let status = match (decision.applicable, result.status, waived) {
                    (false, _, _) | (_, ControlStatus::NotApplicable, _) => "not_applicable",
                    (_, ControlStatus::Compliant, _) => "compliant",
                    (_, ControlStatus::Pending, _) => "pending",
                    (_, ControlStatus::NotAssessed, _) => "not_assessed",
                    (_, ControlStatus::NonCompliant, true) => "waived",
                    (_, ControlStatus::NonCompliant, false) => "non_compliant",
                };
                let entry = controls
                    .entry((decision.framework.clone(), result.control_id.clone()))
                    .or_insert_with(|| ControlSummary {
                        framework: decision.framework.clone(),
                        policy_id: decision.policy_id.clone(),
                        control_id: result.control_id.clone(),
                        title: None,
                        references: Vec::new(),
                        organisation_controls: Vec::new(),
                        evaluated: 0,
                        compliant: 0,
                        non_compliant: 0,
                        pending: 0,
                        not_assessed: 0,
                        waived: 0,
                        not_applicable: 0,
                        effectiveness: None,
                        changes: Vec::new(),
                    });
                entry.evaluated += 1;
                match status {
                    "compliant" => entry.compliant += 1,
                    "waived" => entry.waived += 1,
                    "non_compliant" => entry.non_compliant += 1,
                    "pending" => entry.pending += 1,
                    "not_assessed" => entry.not_assessed += 1,
                    _ => entry.not_applicable += 1,
                }
                for finding in decision
                    .findings
                    .iter()
                    .filter(|f| f.control_id == result.control_id)
                {
                    for reference in &finding.references {
                        let reference = reference.to_string();
                        if !entry.references.contains(&reference) {
                            entry.references.push(reference);
                        }
                    }
                }
                entry.changes.push(ControlChange {
                    record: link(r, d),
                    status: status.to_owned(),
                });
            }
        }
    }
    controls
        .into_values()
        .map(|mut c| {
            let catalogued = options
                .catalogues
                .iter()
                .find(|m| m.id == c.policy_id)
                .and_then(|m| m.control(&c.control_id));
            if let Some(control) = catalogued {
                c.title = Some(control.title.clone());
                c.references = control.references.iter().map(ToString::to_string).collect();
            } else {
                c.references.sort();
            }
            if let Some(crosswalk) = &options.crosswalk {
                c.organisation_controls = crosswalk.for_control(&c.control_id);
            }
            c.effectiveness = ratio(c.compliant, c.compliant + c.non_compliant);
            c
        })
        .collect()
}
