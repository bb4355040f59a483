//! The evidence report, built from the decision log alone.
//!
//! The report's parts are built in submodules, one topic each: the log's integrity and records
//! (`log`), per-control results (`controls`), the per-change change-control, testing and
//! segregation-of-duties evidence (`changes`), deployments (`deployments`) and delivery metrics
//! (`metrics`). Their types are re-exported here.

mod changes;
mod controls;
mod deployments;
mod log;
mod metrics;
mod organisation;
mod period;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use tollgate_crosswalk::Crosswalk;
use tollgate_decision::PolicyMetadata;
use tollgate_decision_log::verify::LoggedRecord;
use tollgate_decision_log::{DecisionRecord, Record, RecordedOutcome, Verification};
use tollgate_manifest::Timestamp;

pub use changes::{
    ApprovalEvidence, ChangeControlEvidence, SegregationEvidence, SuiteEvidence, TestingEvidence,
};
pub use controls::{ControlChange, ControlSummary};
pub use deployments::DeploymentEvidence;
pub use log::{LogIntegrity, RecordRow};
pub use metrics::Metrics;
pub use organisation::OrganisationSummary;
pub use period::{period_in_words, scan_in_words};

/// What to report on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// Start of the period (inclusive).
    pub from: Timestamp,
    /// End of the period (exclusive).
    pub to: Timestamp,
    /// Frameworks to report (policy id or framework name, case-insensitive); empty for all.
    pub frameworks: Vec<String>,
    /// When the report is generated.
    pub generated_at: Timestamp,
    /// The log's path, as shown in the report.
    pub log_path: String,
    /// Name of the key whose signature on the checkpoint was verified, if a checkpoint was given.
    pub checkpoint_key: Option<String>,
    /// Environments whose approved changes count as deployments.
    pub production_environments: Vec<String>,
    /// The tool that generated the report, for example `tollgate 0.1.0`.
    pub generator: String,
    /// The control catalogues of the policies the host knows (their metadata), which give each
    /// control its title and regulatory references; a control of no catalogue is reported with
    /// the references its findings carried.
    pub catalogues: Vec<PolicyMetadata>,
    /// The organisation's controls mapped onto Tollgate's, if given: each control then shows the
    /// organisation's ids, and the report gains the results by organisation control.
    pub crosswalk: Option<Crosswalk>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// What the report covers.
    pub scope: Scope,
    /// The log's verification result.
    pub log: LogIntegrity,
    /// Decision counts.
    pub summary: Summary,
    /// Per framework and control.
    pub controls: Vec<ControlSummary>,
    /// The name of the organisation's catalogue, when a crosswalk names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation_catalogue: Option<String>,
    /// Per organisation control, when a crosswalk is given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub organisation_controls: Vec<OrganisationSummary>,
    /// Change-control evidence, one entry per change.
    pub change_control: Vec<ChangeControlEvidence>,
    /// Testing evidence, one entry per change.
    pub testing: Vec<TestingEvidence>,
    /// Segregation-of-duties evidence, one entry per change.
    pub segregation_of_duties: Vec<SegregationEvidence>,
    /// Deployment evidence, one entry per deployment.
    pub deployments: Vec<DeploymentEvidence>,
    /// Delivery metrics.
    pub metrics: Metrics,
    /// Every record of the period that the report draws on, with who wrote it and from where.
    pub records: Vec<RecordRow>,
}

/// What the report covers: the period, and what was in scope, for the scope and sign-off section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Start of the period (inclusive).
    pub from: Timestamp,
    /// End of the period (exclusive).
    pub to: Timestamp,
    /// The period in words, for example `2026-11-06 to 2026-12-05, both days included (UTC)`.
    pub period: String,
    /// Frameworks reported (empty: all).
    pub frameworks: Vec<String>,
    /// Frameworks that applied to at least one change of the period, as `SOX (sox)`.
    pub frameworks_in_scope: Vec<String>,
    /// Environments the period's changes were evaluated for.
    pub environments: Vec<String>,
    /// Policy packs that decided the period's changes, as `sox 1.4.0 sha256:...`.
    pub policies: Vec<String>,
    /// Generation time.
    pub generated_at: Timestamp,
    /// Generator.
    pub generator: String,
    /// Environments counted as production.
    pub production_environments: Vec<String>,
}

/// Counts of the period. Every count but `changes` counts decision records (a change evaluated
/// three times is three decisions), so each field is named for what it counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Decision records.
    pub decisions: u64,
    /// Distinct changes.
    pub changes: u64,
    /// Approved decisions.
    pub approved_decisions: u64,
    /// Decisions needing approval.
    pub needs_approval_decisions: u64,
    /// Denied decisions.
    pub denied_decisions: u64,
    /// Evaluations that failed (decisions recorded as `error`).
    pub error_decisions: u64,
    /// Decisions with at least one waiver applied.
    pub waived_decisions: u64,
    /// Attempts rejected before any decision (invalid manifest, invalid settings, refused policy).
    pub rejected_attempts: u64,
}

/// A link to a record of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordLink {
    /// Change id.
    pub change_id: String,
    /// Decision id.
    pub decision_id: String,
    /// Sequence number of the record.
    pub seq: u64,
}

fn link(logged: &LoggedRecord, d: &DecisionRecord) -> RecordLink {
    RecordLink {
        change_id: d.change.id.clone(),
        decision_id: d.id.clone(),
        seq: logged.seq,
    }
}

fn text(value: &Value, path: &[&str]) -> Option<String> {
    let mut v = value;
    for key in path {
        v = v.get(key)?;
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    #[expect(clippy::cast_precision_loss, reason = "counts of records")]
    (whole > 0).then(|| round(part as f64 / whole as f64))
}

fn hours_between(from: Timestamp, to: Timestamp) -> f64 {
    round(tollgate_manifest::seconds_between(from, to) / 3600.0)
}

fn day_of(at: Timestamp) -> String {
    at.to_string().chars().take(10).collect()
}

impl ReportOptions {
    fn wants(&self, d: &DecisionRecord) -> bool {
        self.frameworks.is_empty()
            || d.decisions.iter().any(|dec| {
                dec.applicable
                    && self.frameworks.iter().any(|f| {
                        f.eq_ignore_ascii_case(&dec.policy_id)
                            || f.eq_ignore_ascii_case(&dec.framework)
                    })
            })
    }

    fn wants_policy(&self, policy_id: &str, framework: &str) -> bool {
        self.frameworks.is_empty()
            || self
                .frameworks
                .iter()
                .any(|f| f.eq_ignore_ascii_case(policy_id) || f.eq_ignore_ascii_case(framework))
    }

    fn in_period(&self, at: Timestamp) -> bool {
        at >= self.from && at < self.to
    }
}

/// A `--framework` the report cannot report on: neither a framework of the log's decisions nor a
/// built-in policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown framework `{name}`: known frameworks are {}", known.join(", "))]
pub struct UnknownFramework {
    /// The framework as the user typed it.
    pub name: String,
    /// The known frameworks, as `id (framework)` or a bare id.
    pub known: Vec<String>,
}

/// The frameworks a report can name: every policy id and framework of the log's decisions (the
/// whole log, not only the period), and the `builtin` policy ids. Names compare case-insensitively.
pub fn known_frameworks(verification: &Verification, builtin: &[&str]) -> Vec<String> {
    let mut known: BTreeMap<String, String> = builtin
        .iter()
        .map(|id| (id.to_ascii_lowercase(), (*id).to_owned()))
        .collect();
    for r in &verification.records {
        if let Record::Decision(d) = &r.record {
            for decision in &d.decisions {
                let key = decision.policy_id.to_ascii_lowercase();
                known.insert(
                    key,
                    format!("{} ({})", decision.policy_id, decision.framework),
                );
            }
        }
    }
    known.into_values().collect()
}

/// Checks every requested framework against [`known_frameworks`]: a policy id or framework name
/// of the log's decisions, or a built-in policy id, ignoring case.
pub fn check_frameworks(
    verification: &Verification,
    requested: &[String],
    builtin: &[&str],
) -> Result<(), UnknownFramework> {
    let mut names: Vec<&str> = builtin.to_vec();
    for r in &verification.records {
        if let Record::Decision(d) = &r.record {
            for decision in &d.decisions {
                names.push(&decision.policy_id);
                names.push(&decision.framework);
            }
        }
    }
    match requested
        .iter()
        .find(|f| !names.iter().any(|n| n.eq_ignore_ascii_case(f.trim())))
    {
        Some(unknown) => Err(UnknownFramework {
            name: unknown.clone(),
            known: known_frameworks(verification, builtin),
        }),
        None => Ok(()),
    }
}

/// Builds the report from a verified log.
pub fn build(verification: &Verification, options: &ReportOptions) -> Report {
    let decisions: Vec<(&LoggedRecord, &DecisionRecord)> = verification
        .records
        .iter()
        .filter_map(|r| match &r.record {
            Record::Decision(d) => Some((r, d.as_ref())),
            _ => None,
        })
        .collect();
    // First appearance of each change anywhere in the log: the lead-time fallback start.
    let mut first_seen: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for (_, d) in &decisions {
        first_seen
            .entry(d.change.id.as_str())
            .and_modify(|t| *t = (*t).min(d.recorded_at))
            .or_insert(d.recorded_at);
    }
    let in_scope: Vec<(&LoggedRecord, &DecisionRecord)> = decisions
        .iter()
        .copied()
        .filter(|(_, d)| options.in_period(d.recorded_at) && options.wants(d))
        .collect();

    let mut summary = Summary {
        decisions: in_scope.len() as u64,
        ..Summary::default()
    };
    for (_, d) in &in_scope {
        match d.outcome {
            RecordedOutcome::Approved => summary.approved_decisions += 1,
            RecordedOutcome::NeedsApproval => summary.needs_approval_decisions += 1,
            RecordedOutcome::Denied => summary.denied_decisions += 1,
            RecordedOutcome::Error => summary.error_decisions += 1,
        }
        summary.waived_decisions += u64::from(!d.waivers.is_empty());
    }
    summary.rejected_attempts = verification
        .records
        .iter()
        .filter(|r| matches!(&r.record, Record::Rejected(j) if options.in_period(j.recorded_at)))
        .count() as u64;
    // Each change by its latest decision in the period.
    let mut latest: BTreeMap<&str, (&LoggedRecord, &DecisionRecord)> = BTreeMap::new();
    for &(r, d) in &in_scope {
        latest.insert(d.change.id.as_str(), (r, d));
    }
    summary.changes = latest.len() as u64;

    let controls = controls::control_summaries(&latest, options);
    let organisation_controls = options
        .crosswalk
        .as_ref()
        .map(|crosswalk| organisation::organisation_summaries(&latest, crosswalk, options))
        .unwrap_or_default();
    let mut change_control = Vec::new();
    let mut testing = Vec::new();
    let mut segregation = Vec::new();
    for &(r, d) in latest.values() {
        change_control.push(changes::change_control(r, d));
        testing.push(changes::testing(r, d));
        segregation.push(changes::segregation(r, d));
    }

    let deployments = deployments::deployments(verification, &in_scope, &first_seen, options);
    let metrics = metrics::metrics(&deployments, &change_control, &controls, &summary, options);
    let (frameworks_in_scope, environments, policies) = in_scope_systems(&in_scope, options);
    Report {
        scope: Scope {
            from: options.from,
            to: options.to,
            period: period_in_words(options.from, options.to),
            frameworks: options.frameworks.clone(),
            frameworks_in_scope,
            environments,
            policies,
            generated_at: options.generated_at,
            generator: options.generator.clone(),
            production_environments: options.production_environments.clone(),
        },
        log: log::integrity(verification, options),
        summary,
        controls,
        organisation_catalogue: options
            .crosswalk
            .as_ref()
            .and_then(|c| c.catalogue().map(str::to_owned)),
        organisation_controls,
        change_control,
        testing,
        segregation_of_duties: segregation,
        deployments,
        metrics,
        records: log::record_rows(verification, options),
    }
}

/// The frameworks that applied, the environments and the policy packs of the period's decisions,
/// each sorted and listed once.
fn in_scope_systems(
    in_scope: &[(&LoggedRecord, &DecisionRecord)],
    options: &ReportOptions,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut frameworks = std::collections::BTreeSet::new();
    let mut environments = std::collections::BTreeSet::new();
    let mut policies = std::collections::BTreeSet::new();
    for (_, d) in in_scope {
        environments.insert(d.change.environment.clone());
        for decision in d.decisions.iter().filter(|dec| dec.applicable) {
            if options.wants_policy(&decision.policy_id, &decision.framework) {
                frameworks.insert(format!("{} ({})", decision.framework, decision.policy_id));
            }
        }
        for policy in &d.policies {
            let words: Vec<&str> = [
                Some(policy.id.as_str()),
                policy.version.as_deref(),
                policy.digest.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect();
            policies.insert(words.join(" "));
        }
    }
    (
        frameworks.into_iter().collect(),
        environments.into_iter().collect(),
        policies.into_iter().collect(),
    )
}
