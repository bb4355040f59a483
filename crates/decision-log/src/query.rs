//! Selecting records: by change, framework, outcome, kind and time range.

use tollgate_manifest::Timestamp;

use crate::record::{DecisionRecord, Record, RecordedOutcome};

/// The deployment of a change: its first approved decision, in log order. `tollgate audit mark
/// CHANGE` attaches a mark to this decision and the evidence report counts it as the change's
/// deployment, so a change evaluated (and approved) again later is still one deployment, and a
/// mark on it counts in the change failure rate.
pub fn deployment_of<'a>(
    decisions: impl IntoIterator<Item = &'a DecisionRecord>,
    change_id: &str,
) -> Option<&'a DecisionRecord> {
    decisions
        .into_iter()
        .find(|d| d.change.id == change_id && d.outcome == RecordedOutcome::Approved)
}

/// What `tollgate audit mark CHANGE --status deployed` attaches to.
#[derive(Debug, Clone, Copy)]
pub enum DeploymentTarget<'a> {
    /// The change's deployment: its latest decision is approved, and this is its first approved
    /// decision (the one the evidence report counts).
    Approved(&'a DecisionRecord),
    /// A direct production change: the latest decision of the change (not approved), or none.
    Direct(Option<&'a DecisionRecord>),
}

/// Where a deployment of `change_id` is attached: its deployment decision when its latest
/// decision is approved, else a direct production change.
pub fn deployment_target<'a>(
    decisions: impl IntoIterator<Item = &'a DecisionRecord> + Clone,
    change_id: &str,
) -> DeploymentTarget<'a> {
    let latest = decisions
        .clone()
        .into_iter()
        .filter(|d| d.change.id == change_id)
        .last();
    match latest {
        Some(latest) if latest.outcome == RecordedOutcome::Approved => {
            DeploymentTarget::Approved(deployment_of(decisions, change_id).unwrap_or(latest))
        }
        other => DeploymentTarget::Direct(other),
    }
}

/// A record filter; every given criterion must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Change id.
    pub change: Option<String>,
    /// Framework of an applicable decision (case-insensitive), for example `SOX`.
    pub framework: Option<String>,
    /// Outcome of a decision.
    pub outcome: Option<RecordedOutcome>,
    /// Record kind: `decision`, `mark` or `recovery`.
    pub kind: Option<String>,
    /// Recorded at or after.
    pub from: Option<Timestamp>,
    /// Recorded before.
    pub to: Option<Timestamp>,
}

impl Filter {
    /// Whether a record passes.
    pub fn matches(&self, record: &Record) -> bool {
        let at = record.recorded_at();
        if self.from.is_some_and(|from| at < from) || self.to.is_some_and(|to| at >= to) {
            return false;
        }
        if self.kind.as_deref().is_some_and(|k| k != record.kind()) {
            return false;
        }
        match record {
            Record::Decision(d) => {
                self.change.as_deref().is_none_or(|c| c == d.change.id)
                    && self.outcome.is_none_or(|o| o == d.outcome)
                    && self
                        .framework
                        .as_deref()
                        .is_none_or(|f| d.frameworks().any(|g| g.eq_ignore_ascii_case(f)))
            }
            Record::Mark(m) => {
                self.change.as_deref().is_none_or(|c| c == m.change_id)
                    && self.outcome.is_none()
                    && self.framework.is_none()
            }
            Record::Rejected(r) => {
                self.change
                    .as_deref()
                    .is_none_or(|c| r.change_id.as_deref() == Some(c))
                    && self.outcome.is_none()
                    && self.framework.is_none()
            }
            Record::Recovery(_) | Record::Access(_) | Record::Seal(_) | Record::Unreadable(_) => {
                self.change.is_none() && self.outcome.is_none() && self.framework.is_none()
            }
        }
    }
}
