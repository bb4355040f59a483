//! Decision replay (impact analysis): the decisions of a verified log re-decided, from the
//! manifests the log holds, with another policy set, settings and waivers, and compared with what
//! was recorded. Read-only: the gate a replay decides through has no recorder ([`NoRecord`]), so
//! nothing is ever appended to the log.

mod render;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tollgate_decision::{Decision, Finding};
use tollgate_decision_log::{DecisionRecord, Project, Record, RecordedOutcome, Verification};
use tollgate_manifest::{Format, Timestamp};
use tollgate_pipeline::{DecideError, Gate, NoRecord, Pipeline, Report, Submission};

use crate::RuntimeError;

pub use render::{html, markdown, text};

/// Why a replay cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The log cannot be read, or a policy set cannot be made.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The log fails verification: nothing read from it is trusted.
    #[error(
        "refusing to replay `{location}`: it fails verification ({problem}); run `tollgate audit verify`"
    )]
    Unverified {
        /// The log.
        location: String,
        /// Its first problem.
        problem: String,
    },
    /// A policy of the set could not be loaded: every replayed decision would be an error.
    #[error("the policy set cannot decide: {0}")]
    PolicyFailed(String),
    /// `--decision` names no decision of the log.
    #[error("no decision `{id}` in the audit log `{location}`")]
    UnknownDecision {
        /// The id given.
        id: String,
        /// The log.
        location: String,
    },
}

/// The project's log, read and verified with its configured writers' seals, as `tollgate audit
/// verify` does; a log that does not verify is refused, its problems written to standard error
/// (as every reader of the log does) and the first named in the error.
pub fn read_replayable(project: &Project) -> Result<Verification, ReplayError> {
    let verification = crate::read_log(project)?;
    if let Some(problem) = verification.problems.first() {
        crate::print_problems(&verification);
        return Err(ReplayError::Unverified {
            location: project.log_location(),
            problem: problem.to_string(),
        });
    }
    Ok(verification)
}

/// Which decisions to replay.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Selection {
    /// Recorded at or after (`recorded_at`, as `audit list` and `report` select).
    pub from: Option<Timestamp>,
    /// Recorded before.
    pub to: Option<Timestamp>,
    /// Only these changes (none: every change).
    pub changes: Vec<String>,
    /// Exactly these decisions (by id), whatever the period.
    pub decisions: Vec<String>,
    /// Every decision of each change, not only its latest in the period.
    pub all_decisions: bool,
}

/// A decision record chosen for replay, with its sequence number.
#[derive(Debug, Clone, Copy)]
pub struct Selected<'a> {
    /// Its sequence number in the log.
    pub seq: u64,
    /// The record.
    pub record: &'a DecisionRecord,
}

/// The decision records `selection` names, in log order: with `decisions`, those; else those
/// recorded in the period (of the given changes), and of each change only its latest decision
/// unless `all_decisions`.
pub fn select<'a>(
    verification: &'a Verification,
    selection: &Selection,
    location: &str,
) -> Result<Vec<Selected<'a>>, ReplayError> {
    let decisions = verification
        .records
        .iter()
        .filter_map(|logged| match &logged.record {
            Record::Decision(record) => Some(Selected {
                seq: logged.seq,
                record: record.as_ref(),
            }),
            _ => None,
        });
    if !selection.decisions.is_empty() {
        let wanted: BTreeSet<&str> = selection.decisions.iter().map(String::as_str).collect();
        let found: Vec<Selected<'a>> = decisions
            .filter(|s| wanted.contains(s.record.id.as_str()))
            .collect();
        if let Some(missing) = wanted
            .iter()
            .find(|id| !found.iter().any(|s| s.record.id == **id))
        {
            return Err(ReplayError::UnknownDecision {
                id: (*missing).to_owned(),
                location: location.to_owned(),
            });
        }
        return Ok(found);
    }
    // The period as `audit list` reads it: recorded at or after `from`, before `to`.
    let wanted: BTreeSet<&str> = selection.changes.iter().map(String::as_str).collect();
    let in_period = decisions.filter(|s| {
        let at = s.record.recorded_at;
        selection.from.is_none_or(|from| at >= from)
            && selection.to.is_none_or(|to| at < to)
            && (wanted.is_empty() || wanted.contains(s.record.change.id.as_str()))
    });
    if selection.all_decisions {
        return Ok(in_period.collect());
    }
    let mut latest: BTreeMap<&str, Selected<'a>> = BTreeMap::new();
    for selected in in_period {
        latest.insert(selected.record.change.id.as_str(), selected);
    }
    let mut chosen: Vec<Selected<'a>> = latest.into_values().collect();
    chosen.sort_by_key(|s| s.seq);
    Ok(chosen)
}

/// How a replayed outcome compares with the recorded one (`approved` < `needs_approval` <
/// `denied` < `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// The new outcome is stricter.
    Stricter,
    /// The new outcome is looser.
    Looser,
    /// The same outcome.
    Unchanged,
    /// The stored manifest could not be decided again (see [`Replayed::reason`]).
    NotReplayed,
}

impl Classification {
    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stricter => "stricter",
            Self::Looser => "looser",
            Self::Unchanged => "unchanged",
            Self::NotReplayed => "not_replayed",
        }
    }

    fn of(recorded: RecordedOutcome, new: Option<RecordedOutcome>) -> Self {
        match new {
            None => Self::NotReplayed,
            Some(new) if new > recorded => Self::Stricter,
            Some(new) if new < recorded => Self::Looser,
            Some(_) => Self::Unchanged,
        }
    }
}

/// A finding present on one side only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingChange {
    /// The policy that found it.
    pub policy: String,
    /// Its control.
    pub control: String,
    /// Its rule.
    pub rule: String,
    /// Its severity.
    pub severity: String,
    /// Its message (the recorded one is as the log holds it: masked values removed).
    pub message: String,
}

/// A policy that failed to decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureChange {
    /// The policy.
    pub policy: String,
    /// The stable kind (`timeout`, `trap`, ...).
    pub kind: String,
    /// What happened.
    pub message: String,
}

/// One decision replayed.
#[derive(Debug, Clone, Serialize)]
pub struct Replayed {
    /// Sequence number of the recorded decision.
    pub seq: u64,
    /// Its decision id.
    pub decision_id: String,
    /// The change.
    pub change_id: String,
    /// Its environment.
    pub environment: String,
    /// The manifest's path as recorded.
    pub manifest_path: String,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// The evaluation time, given again to the policies.
    pub evaluated_at: Timestamp,
    /// The recorded outcome.
    pub recorded: RecordedOutcome,
    /// The outcome now (`error`: a policy failed or the new set refused the manifest); none when
    /// the stored manifest could not be decided again.
    pub new: Option<RecordedOutcome>,
    /// Stricter, looser, unchanged or not replayed.
    pub class: Classification,
    /// Findings (by policy, control and rule) the new decision has and the recorded one had not.
    pub findings_added: Vec<FindingChange>,
    /// Findings the recorded decision had and the new one has not.
    pub findings_removed: Vec<FindingChange>,
    /// Policy failures of the recorded decision.
    pub recorded_failures: Vec<FailureChange>,
    /// Policy failures of the new decision.
    pub failures: Vec<FailureChange>,
    /// Why the new policy set refused the manifest, or why it could not be decided again.
    pub reason: Option<String>,
    /// Manifest fields the log holds masked: the policies saw the marker, not the value.
    pub masked_paths: Vec<String>,
}

impl Replayed {
    /// Whether the findings differ.
    pub fn findings_changed(&self) -> bool {
        !self.findings_added.is_empty() || !self.findings_removed.is_empty()
    }
}

/// A policy of the replayed set.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyUsed {
    /// Its id.
    pub id: String,
    /// Its framework.
    pub framework: String,
    /// Its version.
    pub version: String,
    /// What exactly ran.
    pub digest: String,
}

/// A gate that decides and records nothing: the only way a replay decides.
pub struct Replayer {
    gate: Gate<NoRecord>,
}

impl std::fmt::Debug for Replayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayer").finish_non_exhaustive()
    }
}

/// What the receipts of a replay's decisions say.
const NOT_RECORDED: &str = "replay: re-decided from the decision log, nothing recorded";

impl Replayer {
    /// The gate of a replay over `pipeline`; a set with a policy that failed to load is refused.
    pub fn new(pipeline: Pipeline) -> Result<Self, ReplayError> {
        if !pipeline.failures().is_empty() {
            let failed: Vec<String> = pipeline
                .failures()
                .iter()
                .map(ToString::to_string)
                .collect();
            return Err(ReplayError::PolicyFailed(failed.join("; ")));
        }
        Ok(Self {
            gate: Gate::new(pipeline, NoRecord::new(NOT_RECORDED)),
        })
    }

    /// The policies that decide.
    pub fn policies(&self) -> Vec<PolicyUsed> {
        self.gate
            .pipeline()
            .policies()
            .map(|p| PolicyUsed {
                id: p.metadata().id.clone(),
                framework: p.metadata().framework.clone(),
                version: p.metadata().version.clone(),
                digest: p.digest().to_owned(),
            })
            .collect()
    }

    /// Replays the selected decisions, in parallel (one thread per core), in their order.
    pub fn replay(&self, selected: &[Selected<'_>]) -> Vec<Replayed> {
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(selected.len());
        if threads <= 1 {
            return selected.iter().map(|s| self.replay_one(*s)).collect();
        }
        let chunk = selected.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let running: Vec<_> = selected
                .chunks(chunk)
                .map(|part| {
                    let handle = scope.spawn(move || {
                        part.iter().map(|s| self.replay_one(*s)).collect::<Vec<_>>()
                    });
                    (part, handle)
                })
                .collect();
            running
                .into_iter()
                .flat_map(|(part, handle)| {
                    handle.join().unwrap_or_else(|_| {
                        part.iter()
                            .map(|s| not_replayed(*s, "replaying it panicked".to_owned()))
                            .collect()
                    })
                })
                .collect()
        })
    }

    /// Decides one stored manifest again, at its recorded evaluation time.
    fn replay_one(&self, selected: Selected<'_>) -> Replayed {
        let record = selected.record;
        let submission = serde_json::to_string(&record.manifest.masked)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                Submission::parse(
                    record.manifest.path.clone(),
                    &format!("stored manifest of decision `{}`", record.id),
                    text,
                    Format::Json,
                    record.evaluated_at,
                )
                .map_err(|e| e.to_string())
            });
        let submission = match submission {
            Ok(submission) => submission,
            Err(reason) => return not_replayed(selected, reason),
        };
        let mut replayed = not_replayed(selected, String::new());
        replayed.reason = None;
        match self.gate.decide(submission) {
            Ok(decided) => compare(&mut replayed, record, decided.report()),
            Err(DecideError::Policies { failures, .. }) => {
                replayed.new = Some(RecordedOutcome::Error);
                replayed.failures = failures
                    .iter()
                    .map(|f| FailureChange {
                        policy: f.policy.clone(),
                        kind: f.kind.to_owned(),
                        message: f.message.clone(),
                    })
                    .collect();
            }
            Err(error) => {
                replayed.new = Some(RecordedOutcome::Error);
                replayed.reason = Some(tollgate_manifest::mask_secrets(&error.to_string()));
            }
        }
        replayed.class = Classification::of(replayed.recorded, replayed.new);
        replayed
    }
}

/// A replay entry for a record that could not be decided again.
fn not_replayed(selected: Selected<'_>, reason: String) -> Replayed {
    let record = selected.record;
    Replayed {
        seq: selected.seq,
        decision_id: record.id.clone(),
        change_id: record.change.id.clone(),
        environment: record.change.environment.clone(),
        manifest_path: record.manifest.path.clone(),
        recorded_at: record.recorded_at,
        evaluated_at: record.evaluated_at,
        recorded: record.outcome,
        new: None,
        class: Classification::NotReplayed,
        findings_added: Vec::new(),
        findings_removed: Vec::new(),
        recorded_failures: record
            .failures
            .iter()
            .map(|f| FailureChange {
                policy: f.policy.clone(),
                kind: f.kind.clone(),
                message: f.message.clone(),
            })
            .collect(),
        failures: Vec::new(),
        reason: Some(reason),
        masked_paths: record.manifest.masked_paths.clone(),
    }
}

/// Fills in the new outcome, failures and findings of a replayed decision.
fn compare(replayed: &mut Replayed, record: &DecisionRecord, report: &Report) {
    replayed.new = Some(if report.failures.is_empty() {
        report.outcome_after_waivers().into()
    } else {
        RecordedOutcome::Error
    });
    replayed.failures = report
        .failures
        .iter()
        .map(|f| FailureChange {
            policy: f.policy.clone(),
            kind: f.kind.to_owned(),
            message: f.message.clone(),
        })
        .collect();
    let before = findings(&record.decisions);
    let after = findings(&report.combined.decisions);
    replayed.findings_added = difference(&after, &before);
    replayed.findings_removed = difference(&before, &after);
}

/// Findings by (policy, control, rule), in the order found.
type Findings<'a> = BTreeMap<(&'a str, &'a str, &'a str), Vec<&'a Finding>>;

fn findings(decisions: &[Decision]) -> Findings<'_> {
    let mut all: Findings<'_> = BTreeMap::new();
    for decision in decisions {
        for finding in &decision.findings {
            all.entry((
                decision.policy_id.as_str(),
                finding.control_id.as_str(),
                finding.rule_id.as_str(),
            ))
            .or_default()
            .push(finding);
        }
    }
    all
}

/// The findings of `ours` beyond those of `theirs`, counted per (policy, control, rule).
fn difference(ours: &Findings<'_>, theirs: &Findings<'_>) -> Vec<FindingChange> {
    ours.iter()
        .flat_map(|(key, found)| {
            let skip = theirs.get(key).map_or(0, Vec::len);
            found.iter().skip(skip).map(move |finding| FindingChange {
                policy: key.0.to_owned(),
                control: key.1.to_owned(),
                rule: key.2.to_owned(),
                severity: finding.severity.as_str().to_owned(),
                message: finding.message.clone(),
            })
        })
        .collect()
}

/// The verified log a replay read.
#[derive(Debug, Clone, Serialize)]
pub struct LogRead {
    /// Where it is (a database's password never shown).
    pub location: String,
    /// Its records.
    pub records: u64,
    /// Its Merkle root (hex).
    pub root: String,
}

/// The counts of a replay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Decisions replayed.
    pub decisions: usize,
    /// Distinct changes among them.
    pub changes: usize,
    /// Decisions whose outcome would be stricter.
    pub stricter: usize,
    /// Decisions whose outcome would be looser.
    pub looser: usize,
    /// Decisions whose outcome would stay.
    pub unchanged: usize,
    /// Decisions whose stored manifest could not be decided again.
    pub not_replayed: usize,
    /// Decisions whose findings differ (whatever their outcome).
    pub findings_changed: usize,
    /// Decisions whose stored manifest has masked fields.
    pub with_masked_fields: usize,
    /// Outcome transitions, `recorded -> new`, with their counts (changed outcomes only).
    pub transitions: BTreeMap<String, usize>,
}

impl Summary {
    /// The counts of `entries`.
    pub fn of(entries: &[Replayed]) -> Self {
        let mut summary = Self {
            decisions: entries.len(),
            changes: entries
                .iter()
                .map(|e| e.change_id.as_str())
                .collect::<BTreeSet<_>>()
                .len(),
            ..Self::default()
        };
        for entry in entries {
            match entry.class {
                Classification::Stricter => summary.stricter += 1,
                Classification::Looser => summary.looser += 1,
                Classification::Unchanged => summary.unchanged += 1,
                Classification::NotReplayed => summary.not_replayed += 1,
            }
            summary.findings_changed += usize::from(entry.findings_changed());
            summary.with_masked_fields += usize::from(!entry.masked_paths.is_empty());
            if let Some(new) = entry.new.filter(|new| *new != entry.recorded) {
                *summary
                    .transitions
                    .entry(format!("{} -> {}", entry.recorded.as_str(), new.as_str()))
                    .or_default() += 1;
            }
        }
        summary
    }
}

/// When a replay fails a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailOn {
    /// Any outcome that changes (or any decision not replayed).
    Any,
    /// Only an outcome that becomes looser (or any decision not replayed).
    Looser,
}

/// A replay: what was read, what decided, what was selected, and the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    /// The log, verified.
    pub log: LogRead,
    /// The policies that decided again.
    pub policies: Vec<PolicyUsed>,
    /// The settings file given, if any.
    pub settings_file: Option<String>,
    /// The waivers file given, if any.
    pub waivers_file: Option<String>,
    /// What was selected; the period is on `recorded_at`.
    pub selection: Selection,
    /// The counts.
    pub summary: Summary,
    /// Each decision replayed, in log order.
    pub decisions: Vec<Replayed>,
}

impl ReplayReport {
    /// A report of `entries` replayed by `replayer` from the verified log.
    pub fn new(
        log: LogRead,
        replayer: &Replayer,
        selection: Selection,
        files: &crate::OptionFiles,
        entries: Vec<Replayed>,
    ) -> Self {
        Self {
            log,
            policies: replayer.policies(),
            settings_file: files.settings.as_ref().map(|p| p.display().to_string()),
            waivers_file: files.waivers.as_ref().map(|p| p.display().to_string()),
            selection,
            summary: Summary::of(&entries),
            decisions: entries,
        }
    }

    /// Whether the replay fails a gate: an outcome changed (with [`FailOn::Looser`], became
    /// looser), or a decision could not be replayed (fail closed: its outcome is unknown).
    pub fn fails(&self, fail_on: FailOn) -> bool {
        let s = &self.summary;
        s.not_replayed > 0
            || match fail_on {
                FailOn::Any => s.stricter + s.looser > 0,
                FailOn::Looser => s.looser > 0,
            }
    }

    /// The JSON document.
    pub fn to_json(&self) -> Result<String, RuntimeError> {
        serde_json::to_string_pretty(self)
            .map(|text| text + "\n")
            .map_err(RuntimeError::Json)
    }
}

impl LogRead {
    /// What a replay says of the log it read.
    pub fn of(project: &Project, verification: &Verification) -> Self {
        Self {
            location: project.log_location(),
            records: verification.size(),
            root: verification.root.to_hex(),
        }
    }
}

#[cfg(test)]
mod tests;
