//! Results by the organisation's own controls: with a crosswalk, each organisation control (for
//! example `CC-01 All changes must have approval`) gathers the Tollgate controls and rules it maps
//! onto, and each change is counted once under it, by its worst status among them.

use std::collections::BTreeMap;

use serde::Serialize;
use tollgate_crosswalk::{Crosswalk, Mapping, OrganisationControl};
use tollgate_decision::ControlStatus;
use tollgate_decision_log::DecisionRecord;
use tollgate_decision_log::verify::LoggedRecord;

use super::{ControlChange, ReportOptions, link, ratio};

/// Results of one organisation control over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrganisationSummary {
    /// The organisation's control.
    #[serde(flatten)]
    pub control: OrganisationControl,
    /// The Tollgate controls it maps onto: `SOX-CC-05`, or `PCI-6.5.1 (rule-a, rule-b)` for some
    /// of a control's rules.
    pub maps_to: Vec<String>,
    /// Changes evaluated under it (each once, by its latest decision).
    pub evaluated: u64,
    /// Compliant under every mapped control.
    pub compliant: u64,
    /// Non-compliant (and not waived) under at least one.
    pub non_compliant: u64,
    /// Waiting for approvals under at least one, and non-compliant under none.
    pub pending: u64,
    /// Not exercised under at least one, and otherwise compliant.
    pub not_assessed: u64,
    /// Non-compliant only where waived.
    pub waived: u64,
    /// Not applicable under every mapped control.
    pub not_applicable: u64,
    /// Compliant share of the assessed changes (compliant + non-compliant), if any.
    pub effectiveness: Option<f64>,
    /// The changes.
    pub changes: Vec<ControlChange>,
}

/// Statuses from the least to the most telling: a change's status under an organisation control is
/// the highest of its mapped controls'.
const RANK: [&str; 6] = [
    "not_applicable",
    "compliant",
    "not_assessed",
    "pending",
    "waived",
    "non_compliant",
];

fn rank(status: &str) -> usize {
    RANK.iter().position(|s| *s == status).unwrap_or(0)
}

/// The status of one change under one mapping, if any decision of the change answers its control.
fn status_under(
    d: &DecisionRecord,
    mapping: &Mapping,
    options: &ReportOptions,
) -> Option<&'static str> {
    d.decisions
        .iter()
        .filter(|decision| options.wants_policy(&decision.policy_id, &decision.framework))
        .find_map(|decision| {
            let result = decision
                .controls
                .iter()
                .find(|c| c.control_id == mapping.control)?;
            let waived = d.waivers.iter().any(|w| {
                w.control_id.as_deref() == Some(mapping.control.as_str())
                    && w.policy_id
                        .as_deref()
                        .is_none_or(|p| p == decision.policy_id)
            });
            let failing = match &mapping.rules {
                None => result.status == ControlStatus::NonCompliant,
                Some(rules) => decision.findings.iter().any(|f| {
                    f.control_id == mapping.control
                        && rules.contains(&f.rule_id)
                        && f.severity.denies()
                }),
            };
            Some(
                match (decision.applicable, result.status, failing, waived) {
                    (false, _, _, _) | (_, ControlStatus::NotApplicable, _, _) => "not_applicable",
                    (_, _, true, true) => "waived",
                    (_, _, true, false) => "non_compliant",
                    (_, ControlStatus::Pending, _, _) => "pending",
                    (_, ControlStatus::NotAssessed, _, _) => "not_assessed",
                    // Non-compliant for rules this organisation control does not map: compliant here.
                    (_, ControlStatus::Compliant | ControlStatus::NonCompliant, false, _) => {
                        "compliant"
                    }
                },
            )
        })
}

pub(super) fn organisation_summaries(
    latest: &BTreeMap<&str, (&LoggedRecord, &DecisionRecord)>,
    crosswalk: &Crosswalk,
    options: &ReportOptions,
) -> Vec<OrganisationSummary> {
    crosswalk
        .controls()
        .map(|control| {
            let mappings = crosswalk.mappings(&control.id);
            let mut summary = OrganisationSummary {
                maps_to: mappings.iter().map(shown).collect(),
                control,
                evaluated: 0,
                compliant: 0,
                non_compliant: 0,
                pending: 0,
                not_assessed: 0,
                waived: 0,
                not_applicable: 0,
                effectiveness: None,
                changes: Vec::new(),
            };
            for &(r, d) in latest.values() {
                let status = mappings
                    .iter()
                    .filter_map(|m| status_under(d, m, options))
                    .max_by_key(|s| rank(s));
                let Some(status) = status else { continue };
                summary.evaluated += 1;
                match status {
                    "compliant" => summary.compliant += 1,
                    "non_compliant" => summary.non_compliant += 1,
                    "pending" => summary.pending += 1,
                    "not_assessed" => summary.not_assessed += 1,
                    "waived" => summary.waived += 1,
                    _ => summary.not_applicable += 1,
                }
                summary.changes.push(ControlChange {
                    record: link(r, d),
                    status: status.to_owned(),
                });
            }
            summary.effectiveness =
                ratio(summary.compliant, summary.compliant + summary.non_compliant);
            summary
        })
        .collect()
}

fn shown(mapping: &Mapping) -> String {
    match &mapping.rules {
        None => mapping.control.clone(),
        Some(rules) => format!("{} ({})", mapping.control, rules.join(", ")),
    }
}
