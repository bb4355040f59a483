//! The log described for people and scripts: a verification's result, one record with its
//! Merkle inclusion proof, and listings of records (text and JSON).

use serde_json::{Value, json};

use crate::merkle;
use crate::verify::LoggedRecord;
use crate::{Record, Verification};

/// A verification as JSON: `log` names the log, `checkpoint_key` the key of a checked checkpoint.
pub fn verification_json(
    verification: &Verification,
    log: &str,
    checkpoint_key: Option<&str>,
) -> Value {
    let intact = verification.is_intact();
    json!({
        "log": log,
        "intact": intact,
        "records": verification.size(),
        "root": verification.root.to_hex(),
        "problems": verification.problems.iter().map(|p| json!({
            "message": p.to_string(),
            "detail": p,
        })).collect::<Vec<_>>(),
        "torn_tail": verification.torn_tail,
        "recovered": verification.recovered,
        "checkpoint": verification.checkpoint,
        "checkpoint_key": checkpoint_key,
        "seals": verification.seals,
    })
}

/// A verification as text: the result, then its problems, torn tail, recoveries, seals and
/// checkpoint, one per line.
pub fn verification_text(verification: &Verification, checkpoint_key: Option<&str>) -> String {
    let intact = verification.is_intact();
    let mut text = format!(
        "{}: {} records, Merkle root {}\n",
        if intact { "verified" } else { "FAILED" },
        verification.size(),
        verification.root
    );
    for problem in &verification.problems {
        text.push_str(&format!("  problem: {problem}\n"));
    }
    if let Some(torn) = &verification.torn_tail {
        text.push_str(&format!(
                    "  torn tail: {} bytes at offset {} (line {}) are an interrupted append, not a record; the next append sets them aside\n",
                    torn.length, torn.offset, torn.line
                ));
    }
    for r in &verification.recovered {
        text.push_str(&format!(
                    "  recovered: {} bytes of an interrupted append at offset {} (line {}), set aside by record seq {}\n",
                    r.length, r.offset, r.line, r.recovery_seq
                ));
    }
    if let Some(seals) = &verification.seals {
        text.push_str(&format!(
            "  seals: {} seals by {} cover {} records{}\n",
            seals.seals,
            if seals.by_writer.is_empty() {
                "no configured writer".to_owned()
            } else {
                seals
                    .by_writer
                    .iter()
                    .map(|(name, n)| format!("`{name}` ({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            seals.sealed,
            if seals.before_seals > 0 {
                format!("; {} records predate seals", seals.before_seals)
            } else {
                String::new()
            }
        ));
    }
    if let (Some(check), Some(key)) = (&verification.checkpoint, checkpoint_key) {
        text.push_str(&format!(
            "  checkpoint: `{}` size {} root {} signed by `{}`: {}\n",
            check.origin,
            check.size,
            check.root,
            key,
            if check.consistent {
                format!(
                    "the log extends it (consistency proof of {} hashes)",
                    check.consistency_proof.len()
                )
            } else {
                "the log does NOT extend it".to_owned()
            }
        ));
    }
    text
}

/// The record `id` names: a record id, or `#N` for sequence number N.
pub fn find<'a>(verification: &'a Verification, id: &str) -> Option<&'a LoggedRecord> {
    if let Some(seq) = id.strip_prefix('#').and_then(|n| n.parse::<u64>().ok()) {
        return verification.records.iter().find(|r| r.seq == seq);
    }
    verification.records.iter().find(|r| r.record.id() == id)
}

/// One record with its inclusion proof: the JSON document and the text.
pub fn show(verification: &Verification, logged: &LoggedRecord) -> (Value, String) {
    let leaves = verification.leaves();
    let proof = usize::try_from(logged.index)
        .ok()
        .and_then(|index| merkle::inclusion_proof(&leaves, index))
        .unwrap_or_default();
    let proven = merkle::verify_inclusion(
        &logged.leaf,
        logged.index,
        verification.size(),
        &proof,
        &verification.root,
    );
    let value = json!({
        "seq": logged.seq,
        "line": logged.line,
        "leaf_index": logged.index,
        "leaf_hash": logged.leaf.to_hex(),
        "tree_size": verification.size(),
        "root": verification.root.to_hex(),
        "inclusion_proof": proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
        "inclusion_verified": proven,
        "record": logged.record.to_json(),
    });
    let mut text = format!(
        "{} {} (seq {}, line {})\n",
        logged.record.kind(),
        logged.record.id(),
        logged.seq,
        logged.line
    );
    text.push_str(&summary_lines(&logged.record));
    text.push_str(&format!(
        "inclusion: leaf {} is leaf {} of the tree of {} records with root {} ({} proof hashes, {})\n",
        logged.leaf,
        logged.index,
        verification.size(),
        verification.root,
        proof.len(),
        if proven { "verified" } else { "NOT verified" }
    ));
    text.push_str(&format!("record:\n{:#}\n", value["record"]));
    (value, text)
}

/// A record in a few lines of text.
pub fn summary_lines(record: &Record) -> String {
    match record {
        Record::Decision(d) => format!(
            "change {} to {}: {} (exit {}) at {} by {} ({} pipeline {} on {})\nmanifest {} ({})\npolicies: {}\n",
            d.change.id,
            d.change.environment,
            d.outcome.as_str(),
            d.exit_code,
            d.recorded_at,
            d.origin.actor,
            d.origin.ci,
            d.origin.pipeline_id.as_deref().unwrap_or("none"),
            d.origin.host,
            d.manifest.digest,
            d.manifest.path,
            d.policies
                .iter()
                .map(|p| format!(
                    "{} {}",
                    p.id,
                    p.version.as_deref().unwrap_or("(not loaded)")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Record::Mark(m) => format!(
            "change {} decision {}: {} at {} by {}\n",
            m.change_id,
            m.decision_id,
            m.status.as_str(),
            m.at.unwrap_or(m.recorded_at),
            m.origin.actor
        ),
        Record::Recovery(r) => format!(
            "set aside {} bytes of an interrupted append at offset {} ({})\n",
            r.length, r.offset, r.digest
        ),
        Record::Rejected(r) => format!(
            "rejected attempt ({} refused, exit {}) at {} by {} ({} pipeline {} on {})\n{} {} ({})\nerror: {}\n",
            r.input.as_str(),
            r.exit_code,
            r.recorded_at,
            r.origin.actor,
            r.origin.ci,
            r.origin.pipeline_id.as_deref().unwrap_or("none"),
            r.origin.host,
            r.input.as_str(),
            r.refused.digest.as_deref().unwrap_or("(not read)"),
            [
                Some(r.refused.path.clone()),
                r.refused.bytes.map(|b| format!("{b} bytes")),
                r.refused.media_type.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
            r.error
        ),
        Record::Access(a) => format!(
            "refused {} {} ({}) from {} for {}: {}{}\n",
            a.method,
            a.path,
            a.status,
            a.source.as_deref().unwrap_or("unknown"),
            a.subject.as_deref().unwrap_or("no valid token"),
            a.reason,
            match (a.first_at, a.last_at) {
                (Some(first), Some(last)) => format!(" ({} requests, {first} to {last})", a.count),
                _ => String::new(),
            }
        ),
        Record::Seal(s) => format!(
            "seal by writer {} (key id {}) of {} records: {}\n",
            s.writer,
            s.key_id,
            s.covers.len(),
            s.covers
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Record::Unreadable(u) => format!("intact, but this version cannot read it: {}\n", u.error),
    }
}

/// Records as JSON: `[{seq, record}]`.
pub fn list_json(records: &[&LoggedRecord]) -> Value {
    Value::Array(
        records
            .iter()
            .map(|r| json!({ "seq": r.seq, "record": r.record.to_json() }))
            .collect(),
    )
}

/// Records as an aligned table with a header; empty without records.
pub fn list_table(records: &[&LoggedRecord]) -> String {
    let mut rows =
        vec![["SEQ", "RECORDED", "KIND", "ID", "CHANGE", "RESULT", "ACTOR"].map(str::to_owned)];
    for r in records {
        let (change, result, actor) = match &r.record {
            Record::Decision(d) => (
                d.change.id.as_str(),
                d.outcome.as_str(),
                d.origin.actor.as_str(),
            ),
            Record::Mark(m) => (
                m.change_id.as_str(),
                m.status.as_str(),
                m.origin.actor.as_str(),
            ),
            Record::Rejected(j) => (
                j.change_id.as_deref().unwrap_or("-"),
                "rejected",
                j.origin.actor.as_str(),
            ),
            Record::Recovery(_) => ("-", "recovered", "-"),
            Record::Access(a) => ("-", "refused", a.subject.as_deref().unwrap_or("-")),
            Record::Seal(s) => ("-", "sealed", s.writer.as_str()),
            Record::Unreadable(_) => ("-", "unreadable", "-"),
        };
        rows.push([
            r.seq.to_string(),
            r.record.recorded_at().to_string(),
            r.record.kind().to_owned(),
            r.record.id().to_owned(),
            change.to_owned(),
            result.to_owned(),
            actor.to_owned(),
        ]);
    }
    if rows.len() > 1 {
        table(&rows)
    } else {
        String::new()
    }
}

/// Rows as aligned columns, two spaces apart: the first column (sequence numbers) right-aligned,
/// the last one unpadded.
fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (index, (cell, width)) in row.iter().zip(widths).enumerate() {
            match index {
                0 => line.push_str(&format!("{cell:>width$}")),
                i if i + 1 == N => line.push_str(cell),
                _ => line.push_str(&format!("{cell:<width$}")),
            }
            if index + 1 < N {
                line.push_str("  ");
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}
