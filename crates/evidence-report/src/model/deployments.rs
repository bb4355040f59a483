//! Deployment evidence: the first approved production decision of each change, when it was
//! deployed (from `deployed`, `failed` and `rolled_back` marks) and its lead time.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tollgate_decision_log::verify::LoggedRecord;
use tollgate_decision_log::{DecisionRecord, MarkStatus, Record, RecordedOutcome, Verification};
use tollgate_manifest::Timestamp;

use super::{RecordLink, ReportOptions, hours_between, link, text};

/// Deployment evidence of one change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentEvidence {
    /// The record.
    #[serde(flatten)]
    pub record: RecordLink,
    /// Environment.
    pub environment: String,
    /// Deployer.
    pub deployer: String,
    /// When the change was approved.
    pub approved_at: Timestamp,
    /// When it was deployed (a `deployed` mark), else when approved.
    pub deployed_at: Timestamp,
    /// Rollback strategy.
    pub rollback_strategy: Option<String>,
    /// Commit.
    pub commit: Option<String>,
    /// `deployed`, `failed` or `rolled_back`, from the latest mark; `approved` without one.
    pub status: String,
    /// Lead time in hours, when a start is known.
    pub lead_time_hours: Option<f64>,
    /// What the lead time was measured from.
    pub lead_time_from: Option<String>,
}

pub(super) fn deployments(
    verification: &Verification,
    in_scope: &[(&LoggedRecord, &DecisionRecord)],
    first_seen: &BTreeMap<&str, Timestamp>,
    options: &ReportOptions,
) -> Vec<DeploymentEvidence> {
    // Marks by change id, in log order (the latest wins): a mark on any decision of a change is
    // about that change's deployment, so a mark made by decision id on a later re-evaluation and
    // one made by change id (`tollgate_decision_log::deployment_of`) count alike.
    let mut marks: BTreeMap<&str, Vec<(MarkStatus, Timestamp)>> = BTreeMap::new();
    for r in &verification.records {
        if let Record::Mark(m) = &r.record {
            marks
                .entry(m.change_id.as_str())
                .or_default()
                .push((m.status, m.at.unwrap_or(m.recorded_at)));
        }
    }
    // A deployment: the first approved production decision of a change in the period.
    let mut seen = BTreeSet::new();
    let mut deployments = Vec::new();
    for &(r, d) in in_scope {
        let production = options
            .production_environments
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&d.change.environment));
        if d.outcome != RecordedOutcome::Approved
            || !production
            || !seen.insert(d.change.id.as_str())
        {
            continue;
        }
        let manifest = &d.manifest.masked;
        let own = marks.get(d.change.id.as_str());
        let deployed_at = own
            .and_then(|m| m.iter().find(|(s, _)| *s == MarkStatus::Deployed))
            .map_or(d.recorded_at, |(_, at)| *at);
        let status = own
            .and_then(|m| m.last())
            .map_or("approved", |(s, _)| s.as_str());
        let earliest_approval = manifest["change"]["approvals"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["at"].as_str())
            .filter_map(|t| Timestamp::parse(t).ok())
            .min();
        let (start, from) = if let Some(started) = d.change.started_at {
            (Some(started), "change start (first commit or ticket)")
        } else {
            let first = first_seen.get(d.change.id.as_str()).copied();
            match (first, earliest_approval) {
                (Some(f), Some(a)) if a < f => (Some(a), "first approval"),
                (Some(f), _) => (Some(f), "first evaluation in the log"),
                (None, a) => (a, "first approval"),
            }
        };
        deployments.push(DeploymentEvidence {
            record: link(r, d),
            environment: d.change.environment.clone(),
            deployer: text(manifest, &["change", "deployer"]).unwrap_or_default(),
            approved_at: d.recorded_at,
            deployed_at,
            rollback_strategy: text(manifest, &["evidence", "rollback_plan", "strategy"]),
            commit: d.change.commit.clone(),
            status: status.to_owned(),
            lead_time_hours: start.map(|s| hours_between(s, d.recorded_at)),
            lead_time_from: start.map(|_| from.to_owned()),
        });
    }
    deployments
}
