//! Delivery metrics over the period, computed from the deployments, the control results and the
//! decision counts.

use std::collections::BTreeMap;

use serde::Serialize;
use tollgate_decision_log::MarkStatus;

use super::{
    ChangeControlEvidence, ControlSummary, DeploymentEvidence, ReportOptions, Summary, day_of,
    hours_between, ratio, round,
};

/// Delivery metrics: DORA's deployment frequency, lead time for changes and change failure rate,
/// plus control effectiveness and the gate's stop rate, which show how the change-management
/// controls (SOX ITGC change management, PCI DSS requirement 6.5.1) operated over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Days in the period.
    pub period_days: f64,
    /// Deployments to production in the period.
    pub deployments: u64,
    /// Deployments per day.
    pub deployment_frequency_per_day: f64,
    /// Deployments per week.
    pub deployment_frequency_per_week: f64,
    /// Deployments per day, for the chart.
    pub deployments_by_day: Vec<(String, u64)>,
    /// Median lead time for changes in hours, if any.
    pub lead_time_median_hours: Option<f64>,
    /// Mean lead time in hours, if any.
    pub lead_time_mean_hours: Option<f64>,
    /// Changes whose approval time is known (ticket submitted → last required approval).
    pub approval_time_changes: u64,
    /// Median approval time in hours, if any.
    pub approval_time_median_hours: Option<f64>,
    /// 90th percentile (nearest rank) of the approval time in hours, if any.
    pub approval_time_p90_hours: Option<f64>,
    /// Deployments marked failed or rolled back.
    pub failed_deployments: u64,
    /// Failed share of the deployments, if any.
    pub change_failure_rate: Option<f64>,
    /// Compliant share of the assessed control evaluations (compliant ÷ (compliant +
    /// non-compliant): pending, not assessed, waived and not applicable results left out), if any.
    pub control_effectiveness: Option<f64>,
    /// Denied or needs-approval share of the decisions: changes the gate stopped.
    pub gate_stop_rate: Option<f64>,
}

pub(super) fn metrics(
    deployments: &[DeploymentEvidence],
    change_control: &[ChangeControlEvidence],
    controls: &[ControlSummary],
    summary: &Summary,
    options: &ReportOptions,
) -> Metrics {
    let period_days = round((hours_between(options.from, options.to) / 24.0).max(1.0 / 24.0));
    #[expect(clippy::cast_precision_loss, reason = "counts of records")]
    let count = deployments.len() as f64;
    let mut by_day: BTreeMap<String, u64> = BTreeMap::new();
    for d in deployments {
        *by_day.entry(day_of(d.deployed_at)).or_default() += 1;
    }
    let mut leads: Vec<f64> = deployments
        .iter()
        .filter_map(|d| d.lead_time_hours)
        .collect();
    leads.sort_by(f64::total_cmp);
    let lead_median = median(&leads);
    let mut approvals: Vec<f64> = change_control
        .iter()
        .filter_map(|c| c.approval_hours)
        .collect();
    approvals.sort_by(f64::total_cmp);
    #[expect(clippy::cast_precision_loss, reason = "counts of records")]
    let mean = (!leads.is_empty()).then(|| round(leads.iter().sum::<f64>() / leads.len() as f64));
    let failed = deployments
        .iter()
        .filter(|d| MarkStatus::parse(&d.status).is_some_and(MarkStatus::is_failure))
        .count() as u64;
    let compliant: u64 = controls.iter().map(|c| c.compliant).sum();
    let non_compliant: u64 = controls.iter().map(|c| c.non_compliant).sum();
    Metrics {
        period_days,
        deployments: deployments.len() as u64,
        deployment_frequency_per_day: round(count / period_days),
        deployment_frequency_per_week: round(count / period_days * 7.0),
        deployments_by_day: by_day.into_iter().collect(),
        lead_time_median_hours: lead_median,
        lead_time_mean_hours: mean,
        approval_time_changes: approvals.len() as u64,
        approval_time_median_hours: median(&approvals),
        approval_time_p90_hours: percentile(&approvals, 90),
        failed_deployments: failed,
        change_failure_rate: ratio(failed, deployments.len() as u64),
        control_effectiveness: ratio(compliant, compliant + non_compliant),
        gate_stop_rate: ratio(
            summary.denied_decisions + summary.needs_approval_decisions,
            summary.decisions,
        ),
    }
}

/// The median of sorted values.
fn median(sorted: &[f64]) -> Option<f64> {
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n.is_multiple_of(2) => Some(round((sorted[mid - 1] + sorted[mid]) / 2.0)),
        _ => Some(sorted[mid]),
    }
}

/// The `p`th percentile of sorted values by the nearest-rank method.
fn percentile(sorted: &[f64], p: usize) -> Option<f64> {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_nearest_rank_percentile() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median(&values), Some(5.5));
        assert_eq!(percentile(&values, 90), Some(9.0));
        assert_eq!(percentile(&[2.0], 90), Some(2.0));
        assert_eq!(median(&[]), None);
        assert_eq!(percentile(&[], 90), None);
    }
}
