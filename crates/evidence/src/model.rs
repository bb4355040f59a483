//! The evidence report, built from the decision log alone.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use tollgate_audit::verify::{CheckpointCheck, LoggedRecord, Problem, Recovered, TornTail};
use tollgate_audit::{DecisionRecord, MarkStatus, Record, RecordedOutcome, Verification};
use tollgate_decision::ControlStatus;
use tollgate_manifest::Timestamp;

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

/// One record of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordRow {
    /// Sequence number.
    pub seq: u64,
    /// `decision` or `mark`.
    pub kind: String,
    /// Record id.
    pub id: String,
    /// Change id.
    pub change_id: String,
    /// When recorded.
    pub recorded_at: Timestamp,
    /// Outcome of a decision, status of a mark.
    pub result: String,
    /// Who (actor) and from where (CI, pipeline, host).
    pub actor: String,
    /// CI system, pipeline and host.
    pub origin: String,
    /// Manifest digest of a decision.
    pub manifest_digest: Option<String>,
    /// Exit code of a decision.
    pub exit_code: Option<u8>,
}

/// What the report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Start of the period (inclusive).
    pub from: Timestamp,
    /// End of the period (exclusive).
    pub to: Timestamp,
    /// Frameworks reported (empty: all).
    pub frameworks: Vec<String>,
    /// Generation time.
    pub generated_at: Timestamp,
    /// Generator.
    pub generator: String,
    /// Environments counted as production.
    pub production_environments: Vec<String>,
}

/// The log's verification result, as the report states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogIntegrity {
    /// The log's path.
    pub path: String,
    /// Whether verification found no problem.
    pub intact: bool,
    /// Records in the log.
    pub records: u64,
    /// Merkle root of the log (hex).
    pub root: String,
    /// Problems, as sentences.
    pub problems: Vec<String>,
    /// Problems, structured.
    pub problem_details: Vec<Problem>,
    /// An interrupted append at the end, if any.
    pub torn_tail: Option<TornTail>,
    /// Interrupted appends set aside.
    pub recovered: Vec<Recovered>,
    /// Intact records this version cannot read (another format version): not in the report.
    pub unreadable_records: u64,
    /// The checkpoint verified against, if any.
    pub checkpoint: Option<CheckpointCheck>,
    /// Name of the key that signed that checkpoint.
    pub checkpoint_key: Option<String>,
    /// One sentence summarising the above.
    pub statement: String,
}

/// Decision counts in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Decision records.
    pub decisions: u64,
    /// Distinct changes.
    pub changes: u64,
    /// Approved decisions.
    pub approved: u64,
    /// Decisions needing approval.
    pub needs_approval: u64,
    /// Denied decisions.
    pub denied: u64,
    /// Evaluations that failed.
    pub error: u64,
    /// Decisions with at least one waiver applied.
    pub waived: u64,
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

/// One change's status for a control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlChange {
    /// The record.
    #[serde(flatten)]
    pub record: RecordLink,
    /// `compliant`, `non_compliant`, `waived` or `not_applicable`.
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
    /// Regulatory references seen in findings of this control.
    pub references: Vec<String>,
    /// Changes evaluated.
    pub evaluated: u64,
    /// Compliant.
    pub compliant: u64,
    /// Non-compliant (and not waived).
    pub non_compliant: u64,
    /// Non-compliant but waived.
    pub waived: u64,
    /// Not applicable.
    pub not_applicable: u64,
    /// Compliant share of the applicable, unwaived evaluations, if any.
    pub effectiveness: Option<f64>,
    /// The changes.
    pub changes: Vec<ControlChange>,
}

/// One approval, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalEvidence {
    /// Approver.
    pub by: String,
    /// Role.
    pub role: String,
    /// When.
    pub at: String,
}

/// Change-control evidence of one change (its latest decision).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeControlEvidence {
    /// The record.
    #[serde(flatten)]
    pub record: RecordLink,
    /// When it was decided.
    pub decided_at: Timestamp,
    /// Title.
    pub title: String,
    /// Ticket status.
    pub ticket_status: String,
    /// Requester (the change's author).
    pub requester: String,
    /// Approvals.
    pub approvals: Vec<ApprovalEvidence>,
    /// Time of the last approval, if any.
    pub approval_time: Option<String>,
    /// Required roles.
    pub required_roles: Vec<String>,
    /// Roles still missing.
    pub missing_roles: Vec<String>,
    /// Risk class.
    pub risk_class: Option<String>,
    /// Highest risk score of the decisions.
    pub risk_score: Option<f64>,
    /// Emergency change.
    pub emergency: bool,
    /// Outcome.
    pub outcome: String,
    /// Digest of the evaluated manifest.
    pub manifest_digest: String,
}

/// One test suite's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuiteEvidence {
    /// Suite kind.
    pub suite: String,
    /// Passed tests.
    pub passed: u64,
    /// Failed tests.
    pub failed: u64,
}

/// Testing evidence of one change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestingEvidence {
    /// The record.
    #[serde(flatten)]
    pub record: RecordLink,
    /// Test suites.
    pub suites: Vec<SuiteEvidence>,
    /// Security scan summary, as recorded.
    pub security_scan: Option<Value>,
    /// Whether every suite passed and at least one ran.
    pub all_passed: bool,
    /// Whether automated compliance checks passed.
    pub compliance_checks_passed: bool,
}

/// Segregation-of-duties evidence of one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegregationEvidence {
    /// The record.
    #[serde(flatten)]
    pub record: RecordLink,
    /// Author.
    pub author: String,
    /// Deployer.
    pub deployer: String,
    /// Approvers whose approval counted.
    pub approvers: Vec<String>,
    /// Approvals that did not count, with the reason.
    pub discounted: Vec<String>,
    /// Whether the author is not the deployer and no approval was discounted.
    pub segregated: bool,
}

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

/// Delivery metrics (the seed's governance metrics: DORA's plus control effectiveness).
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
    /// Deployments marked failed or rolled back.
    pub failed_deployments: u64,
    /// Failed share of the deployments, if any.
    pub change_failure_rate: Option<f64>,
    /// Compliant share of the applicable, unwaived control evaluations, if any.
    pub control_effectiveness: Option<f64>,
    /// Denied or needs-approval share of the decisions: changes the gate stopped.
    pub gate_stop_rate: Option<f64>,
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
    #[expect(clippy::cast_precision_loss, reason = "seconds within centuries")]
    let seconds = (to.seconds - from.seconds) as f64
        + (f64::from(to.nanoseconds) - f64::from(from.nanoseconds)) / 1e9;
    round(seconds / 3600.0)
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

fn integrity(verification: &Verification, options: &ReportOptions) -> LogIntegrity {
    let intact = verification.is_intact();
    let unreadable = verification
        .records
        .iter()
        .filter(|r| matches!(r.record, Record::Unreadable(_)))
        .count() as u64;
    let mut statement = match (&verification.checkpoint, intact) {
        (Some(c), true) => format!(
            "The log verified: {} records, every checksum, sequence number and hash-chain link intact, and it extends the checkpoint of {} records (root {}) signed by `{}`, proven by an RFC 9162 consistency proof.",
            verification.size(),
            c.size,
            c.root,
            options.checkpoint_key.as_deref().unwrap_or("?")
        ),
        (None, true) => format!(
            "The log verified: {} records, every checksum, sequence number and hash-chain link intact. No checkpoint was given, so the removal of the newest records could not be ruled out.",
            verification.size()
        ),
        (_, false) => format!(
            "THE LOG FAILED VERIFICATION with {} problem(s): the records below may not be complete or authentic.",
            verification.problems.len()
        ),
    };
    if unreadable > 0 {
        statement.push_str(&format!(
            " {unreadable} intact record(s) are of a format this version cannot read and are not counted below."
        ));
    }
    LogIntegrity {
        path: options.log_path.clone(),
        intact,
        records: verification.size(),
        root: verification.root.to_hex(),
        problems: verification
            .problems
            .iter()
            .map(ToString::to_string)
            .collect(),
        problem_details: verification.problems.clone(),
        torn_tail: verification.torn_tail.clone(),
        recovered: verification.recovered.clone(),
        unreadable_records: unreadable,
        checkpoint: verification.checkpoint.clone(),
        checkpoint_key: options.checkpoint_key.clone(),
        statement,
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
            RecordedOutcome::Approved => summary.approved += 1,
            RecordedOutcome::NeedsApproval => summary.needs_approval += 1,
            RecordedOutcome::Denied => summary.denied += 1,
            RecordedOutcome::Error => summary.error += 1,
        }
        summary.waived += u64::from(!d.waivers.is_empty());
    }
    // Each change by its latest decision in the period.
    let mut latest: BTreeMap<&str, (&LoggedRecord, &DecisionRecord)> = BTreeMap::new();
    for &(r, d) in &in_scope {
        latest.insert(d.change.id.as_str(), (r, d));
    }
    summary.changes = latest.len() as u64;

    let controls = control_summaries(&latest, options);
    let mut change_control = Vec::new();
    let mut testing = Vec::new();
    let mut segregation = Vec::new();
    for &(r, d) in latest.values() {
        let manifest = &d.manifest.masked;
        let approvals: Vec<ApprovalEvidence> = manifest["change"]["approvals"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|a| ApprovalEvidence {
                        by: text(a, &["by"]).unwrap_or_default(),
                        role: text(a, &["role"]).unwrap_or_default(),
                        at: text(a, &["at"]).unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        change_control.push(ChangeControlEvidence {
            record: link(r, d),
            decided_at: d.recorded_at,
            title: text(manifest, &["change", "title"]).unwrap_or_default(),
            ticket_status: text(manifest, &["change", "ticket_status"]).unwrap_or_default(),
            requester: text(manifest, &["change", "author"]).unwrap_or_default(),
            approval_time: approvals.iter().map(|a| a.at.clone()).max(),
            approvals: approvals.clone(),
            required_roles: d.required_roles.clone(),
            missing_roles: d.missing_roles.clone(),
            risk_class: d.risk_class.map(|c| c.as_str().to_owned()),
            risk_score: d
                .decisions
                .iter()
                .map(|x| x.risk.score)
                .reduce(f64::max)
                .map(round),
            emergency: manifest["change"]["emergency"].as_bool().unwrap_or(false),
            outcome: d.outcome.as_str().to_owned(),
            manifest_digest: d.manifest.digest.clone(),
        });
        let suites: Vec<SuiteEvidence> = manifest["evidence"]["tests"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|t| SuiteEvidence {
                        suite: text(t, &["suite"]).unwrap_or_default(),
                        passed: t["passed"].as_u64().unwrap_or(0),
                        failed: t["failed"].as_u64().unwrap_or(0),
                    })
                    .collect()
            })
            .unwrap_or_default();
        testing.push(TestingEvidence {
            record: link(r, d),
            all_passed: !suites.is_empty() && suites.iter().all(|s| s.failed == 0 && s.passed > 0),
            suites,
            security_scan: manifest["evidence"].get("security_scan").cloned(),
            compliance_checks_passed: manifest["evidence"]["compliance_checks_passed"]
                .as_bool()
                .unwrap_or(false),
        });
        let author = text(manifest, &["change", "author"]).unwrap_or_default();
        let deployer = text(manifest, &["change", "deployer"]).unwrap_or_default();
        let approvers: BTreeSet<String> = d
            .decisions
            .iter()
            .flat_map(|x| x.routing.required.iter())
            .filter_map(|req| req.satisfied_by.clone())
            .collect();
        let discounted: BTreeSet<String> = d
            .decisions
            .iter()
            .flat_map(|x| x.routing.discounted.iter())
            .map(|x| format!("{} ({}): {}", x.by, x.role, x.reason))
            .collect();
        segregation.push(SegregationEvidence {
            record: link(r, d),
            segregated: author != deployer && discounted.is_empty(),
            author,
            deployer,
            approvers: approvers.into_iter().collect(),
            discounted: discounted.into_iter().collect(),
        });
    }

    let deployments = deployments(verification, &in_scope, &first_seen, options);
    let metrics = metrics(&deployments, &controls, &summary, options);
    Report {
        scope: Scope {
            from: options.from,
            to: options.to,
            frameworks: options.frameworks.clone(),
            generated_at: options.generated_at,
            generator: options.generator.clone(),
            production_environments: options.production_environments.clone(),
        },
        log: integrity(verification, options),
        summary,
        controls,
        change_control,
        testing,
        segregation_of_duties: segregation,
        deployments,
        metrics,
        records: record_rows(verification, options),
    }
}

fn record_rows(verification: &Verification, options: &ReportOptions) -> Vec<RecordRow> {
    let origin = |o: &tollgate_audit::Origin| {
        format!(
            "{} pipeline {} on {}",
            o.ci,
            o.pipeline_id.as_deref().unwrap_or("none"),
            o.host
        )
    };
    verification
        .records
        .iter()
        .filter_map(|r| match &r.record {
            Record::Decision(d) if options.in_period(d.recorded_at) && options.wants(d) => {
                Some(RecordRow {
                    seq: r.seq,
                    kind: "decision".to_owned(),
                    id: d.id.clone(),
                    change_id: d.change.id.clone(),
                    recorded_at: d.recorded_at,
                    result: d.outcome.as_str().to_owned(),
                    actor: d.origin.actor.clone(),
                    origin: origin(&d.origin),
                    manifest_digest: Some(d.manifest.digest.clone()),
                    exit_code: Some(d.exit_code),
                })
            }
            Record::Mark(m) if options.in_period(m.recorded_at) => Some(RecordRow {
                seq: r.seq,
                kind: "mark".to_owned(),
                id: m.id.clone(),
                change_id: m.change_id.clone(),
                recorded_at: m.recorded_at,
                result: m.status.as_str().to_owned(),
                actor: m.origin.actor.clone(),
                origin: origin(&m.origin),
                manifest_digest: None,
                exit_code: None,
            }),
            _ => None,
        })
        .collect()
}

fn control_summaries(
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
                    (_, ControlStatus::NonCompliant, true) => "waived",
                    (_, ControlStatus::NonCompliant, false) => "non_compliant",
                };
                let entry = controls
                    .entry((decision.framework.clone(), result.control_id.clone()))
                    .or_insert_with(|| ControlSummary {
                        framework: decision.framework.clone(),
                        policy_id: decision.policy_id.clone(),
                        control_id: result.control_id.clone(),
                        references: Vec::new(),
                        evaluated: 0,
                        compliant: 0,
                        non_compliant: 0,
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
            c.references.sort();
            c.effectiveness = ratio(c.compliant, c.compliant + c.non_compliant);
            c
        })
        .collect()
}

fn deployments(
    verification: &Verification,
    in_scope: &[(&LoggedRecord, &DecisionRecord)],
    first_seen: &BTreeMap<&str, Timestamp>,
    options: &ReportOptions,
) -> Vec<DeploymentEvidence> {
    // Marks by decision id, in log order (the latest wins).
    let mut marks: BTreeMap<&str, Vec<(MarkStatus, Timestamp)>> = BTreeMap::new();
    for r in &verification.records {
        if let Record::Mark(m) = &r.record {
            marks
                .entry(m.decision_id.as_str())
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
        let own = marks.get(d.id.as_str());
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

fn metrics(
    deployments: &[DeploymentEvidence],
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
    let median = (!leads.is_empty()).then(|| {
        let mid = leads.len() / 2;
        if leads.len().is_multiple_of(2) {
            round((leads[mid - 1] + leads[mid]) / 2.0)
        } else {
            leads[mid]
        }
    });
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
        lead_time_median_hours: median,
        lead_time_mean_hours: mean,
        failed_deployments: failed,
        change_failure_rate: ratio(failed, deployments.len() as u64),
        control_effectiveness: ratio(compliant, compliant + non_compliant),
        gate_stop_rate: ratio(summary.denied + summary.needs_approval, summary.decisions),
    }
}
