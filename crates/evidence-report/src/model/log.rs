//! The log's part of the report: its verification result, stated for an auditor, and every record
//! of the period with who wrote it and from where.

use serde::Serialize;
use tollgate_decision_log::verify::{CheckpointCheck, Problem, Recovered, TornTail};
use tollgate_decision_log::{Record, Verification};
use tollgate_manifest::Timestamp;

use super::ReportOptions;

/// One record of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordRow {
    /// Sequence number.
    pub seq: u64,
    /// `decision`, `mark` or `rejected`.
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

pub(super) fn integrity(verification: &Verification, options: &ReportOptions) -> LogIntegrity {
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

pub(super) fn record_rows(verification: &Verification, options: &ReportOptions) -> Vec<RecordRow> {
    let origin = |o: &tollgate_decision_log::Origin| {
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
            Record::Rejected(j) if options.in_period(j.recorded_at) => Some(RecordRow {
                seq: r.seq,
                kind: "rejected".to_owned(),
                id: j.id.clone(),
                change_id: j.change_id.clone().unwrap_or_else(|| "-".to_owned()),
                recorded_at: j.recorded_at,
                result: format!("rejected ({}): {}", j.input.as_str(), j.error),
                actor: j.origin.actor.clone(),
                origin: origin(&j.origin),
                manifest_digest: j.manifest.as_ref().unwrap_or(&j.refused).digest.clone(),
                exit_code: Some(j.exit_code),
            }),
            _ => None,
        })
        .collect()
}
