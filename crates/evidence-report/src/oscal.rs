//! OSCAL 1.2 assessment results (`assessment-results`): one result for the period, one observation
//! per change (its latest decision record), one finding per control.
//!
//! A finding's target status is `satisfied` (reason `pass`) when the control was compliant in
//! at least one change and non-compliant in none; otherwise `not-satisfied`, with the reason
//! `fail` (non-compliant), `waived`, `pending` (only awaiting required approvals) or
//! `not-assessed` (the evidence the control rests on was absent in every change). Pending and not
//! assessed results are never counted as satisfied; remarks say how many were left out.
//!
//! UUIDs are version 5, derived from the log's Merkle root and the record or control they name, so
//! the same log and period always give the same document.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::model::{ControlSummary, Report};

/// The OSCAL version the output follows (the vendored schema's).
pub const OSCAL_VERSION: &str = "1.2.3";

/// Namespace of Tollgate's OSCAL properties.
pub const PROPERTY_NS: &str = "urn:tollgate";

fn uuid(seed: &str, name: &str) -> String {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:tollgate:oscal");
    Uuid::new_v5(&namespace, format!("{seed}/{name}").as_bytes()).to_string()
}

/// An OSCAL token for a control id: `(x)` becomes `.x`, and any other character that a token
/// cannot hold becomes `_` (`HIPAA-164.312(a)(2)(iv)` → `HIPAA-164.312.a.2.iv`).
pub fn control_token(id: &str) -> String {
    let mut token = String::with_capacity(id.len());
    for c in id.chars() {
        match c {
            '(' => token.push('.'),
            ')' => {}
            c if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') => token.push(c),
            _ => token.push('_'),
        }
    }
    if !token.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        token.insert(0, '_');
    }
    token
}

fn prop(name: &str, value: impl ToString) -> Value {
    json!({ "name": name, "ns": PROPERTY_NS, "value": value.to_string() })
}

/// The finding target's status for a control over the period (see the module documentation).
fn target_status(c: &ControlSummary) -> Value {
    let (state, reason, remarks) = if c.non_compliant > 0 {
        ("not-satisfied", "fail", None)
    } else if c.waived > 0 {
        ("not-satisfied", "waived", None)
    } else if c.compliant > 0 {
        let left_out = (c.pending > 0 || c.not_assessed > 0).then(|| {
            format!(
                "Satisfied in every assessed change; {} pending and {} not assessed results are not counted.",
                c.pending, c.not_assessed
            )
        });
        ("satisfied", "pass", left_out)
    } else if c.pending > 0 {
        (
            "not-satisfied",
            "pending",
            Some(format!(
                "Not assessed yet: {} change(s) await required approvals{}.",
                c.pending,
                if c.not_assessed > 0 {
                    format!(" and {} could not be exercised", c.not_assessed)
                } else {
                    String::new()
                }
            )),
        )
    } else {
        (
            "not-satisfied",
            "not-assessed",
            Some(format!(
                "Not assessed: the evidence the control rests on was absent in all {} change(s), so the control was not exercised.",
                c.not_assessed
            )),
        )
    };
    let mut status = json!({ "state": state, "reason": reason });
    if let Some(remarks) = remarks {
        status["remarks"] = json!(remarks);
    }
    status
}

/// Renders the report as an OSCAL assessment-results document.
pub fn render(report: &Report) -> Value {
    let scope = &report.scope;
    let seed = format!(
        "{}/{}/{}/{}",
        report.log.root,
        scope.from,
        scope.to,
        scope.frameworks.join(",")
    );
    let version = scope
        .generator
        .split_whitespace()
        .nth(1)
        .unwrap_or("0")
        .to_owned();

    let mut observations = Vec::new();
    let mut observation_of = std::collections::BTreeMap::new();
    for c in &report.change_control {
        let id = uuid(&seed, &format!("observation/{}", c.record.decision_id));
        observation_of.insert(c.record.decision_id.clone(), id.clone());
        observations.push(json!({
            "uuid": id,
            "title": format!("Tollgate decision on change {}", c.record.change_id),
            "description": format!(
                "Decision {} (log record seq {}) on change {} \"{}\": outcome {}, risk {}, manifest {}.",
                c.record.decision_id,
                c.record.seq,
                c.record.change_id,
                c.title,
                c.outcome,
                c.risk_class.as_deref().unwrap_or("n/a"),
                c.manifest_digest
            ),
            "props": [
                prop("decision-id", &c.record.decision_id),
                prop("change-id", &c.record.change_id),
                prop("log-seq", c.record.seq),
                prop("outcome", &c.outcome),
                prop("manifest-digest", &c.manifest_digest),
            ],
            "methods": ["TEST"],
            "collected": c.decided_at.to_string(),
            "relevant-evidence": [{
                "description": format!(
                    "Record seq {} of the Tollgate decision log `{}` (Merkle root {}).",
                    c.record.seq, report.log.path, report.log.root
                )
            }],
        }));
    }

    let mut findings = Vec::new();
    for c in &report.controls {
        let applicable = c.evaluated - c.not_applicable;
        if applicable == 0 {
            continue;
        }
        let status = target_status(c);
        let related: Vec<Value> = c
            .changes
            .iter()
            .filter_map(|x| observation_of.get(&x.record.decision_id))
            .map(|id| json!({ "observation-uuid": id }))
            .collect();
        let mut finding = json!({
            "uuid": uuid(&seed, &format!("finding/{}/{}", c.framework, c.control_id)),
            "title": match &c.title {
                Some(title) => format!("{} {}: {title}", c.framework, c.control_id),
                None => format!("{} {}", c.framework, c.control_id),
            },
            "description": format!(
                "{} changes evaluated against {}{} ({}): {} compliant, {} non-compliant, {} pending, {} not assessed, {} waived, {} not applicable.",
                c.evaluated,
                c.control_id,
                c.title.as_deref().map(|t| format!(" ({t})")).unwrap_or_default(),
                if c.references.is_empty() { "no references recorded".to_owned() } else { c.references.join("; ") },
                c.compliant,
                c.non_compliant,
                c.pending,
                c.not_assessed,
                c.waived,
                c.not_applicable
            ),
            "props": [
                prop("framework", &c.framework),
                prop("control-id", &c.control_id),
                prop("policy-id", &c.policy_id),
                prop("compliant", c.compliant),
                prop("non-compliant", c.non_compliant),
                prop("pending", c.pending),
                prop("not-assessed", c.not_assessed),
                prop("waived", c.waived),
                prop("not-applicable", c.not_applicable),
            ],
            "target": {
                "type": "objective-id",
                "target-id": control_token(&c.control_id),
                "status": status,
            },
        });
        if !related.is_empty() {
            finding["related-observations"] = Value::Array(related);
        }
        if let Some(props) = finding["props"].as_array_mut() {
            // The organisation's own control ids (a crosswalk), one property each.
            props.extend(
                c.organisation_controls
                    .iter()
                    .map(|o| prop("organisation-control-id", &o.id)),
            );
        }
        findings.push(finding);
    }

    let control_ids: Vec<Value> = report
        .controls
        .iter()
        .map(|c| json!({ "control-id": control_token(&c.control_id) }))
        .collect();
    let selection = if control_ids.is_empty() {
        json!({ "description": "No control was evaluated in the period.", "include-all": {} })
    } else {
        json!({ "include-controls": control_ids })
    };
    let mut result = json!({
        "uuid": uuid(&seed, "result"),
        "title": format!("Tollgate gate decisions {}", scope.period),
        "description": format!("{} {}", report.log.statement, "Each observation is one change's latest decision record; each finding is one control over the period."),
        "start": scope.from.to_string(),
        "end": scope.to.to_string(),
        "props": [
            prop("log-intact", report.log.intact),
            prop("log-records", report.log.records),
            prop("log-merkle-root", &report.log.root),
        ],
        "reviewed-controls": { "control-selections": [selection] },
    });
    if let Some(c) = &report.log.checkpoint
        && let Some(props) = result["props"].as_array_mut()
    {
        props.push(prop("checkpoint-origin", &c.origin));
        props.push(prop("checkpoint-size", c.size));
        props.push(prop("checkpoint-root", &c.root));
    }
    if !observations.is_empty() {
        result["observations"] = Value::Array(observations);
    }
    if !findings.is_empty() {
        result["findings"] = Value::Array(findings);
    }
    json!({
        "assessment-results": {
            "uuid": uuid(&seed, "assessment-results"),
            "metadata": {
                "title": format!("Tollgate compliance evidence {}", scope.period),
                "last-modified": scope.generated_at.to_string(),
                "version": version,
                "oscal-version": OSCAL_VERSION,
            },
            "import-ap": { "href": "urn:tollgate:assessment-plan:policy-packs" },
            "results": [result],
        }
    })
}
