//! GitLab Code Quality report: a JSON array of issues (`description`, `check_name`, `fingerprint`,
//! `severity`, `location.path`, `location.lines.begin`), shown in merge-request widgets. Severities:
//! info → `info`, low → `minor`, medium → `major`, high → `critical`, critical → `blocker`; waived
//! findings are `info` and say which waiver applies.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tollgate_decision::Severity;

use crate::relative::shown;
use crate::sentence::sentence;
use crate::{Evaluation, FindingLocation, organisation_ids};

fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Low => "minor",
        Severity::Medium => "major",
        Severity::High => "critical",
        Severity::Critical => "blocker",
    }
}

fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// The Code Quality report, pretty-printed with a final newline.
pub fn gitlab_code_quality(evaluation: &Evaluation<'_>) -> serde_json::Result<String> {
    let mut issues = Vec::new();
    for view in evaluation.findings() {
        let finding = view.finding;
        let (path, line) = match &view.location {
            FindingLocation::Manifest { position, .. } => (
                shown(evaluation.manifest_path),
                position.map_or(1, |p| p.line),
            ),
            FindingLocation::Data { file, line } => (file.clone(), line.unwrap_or(1)),
        };
        let mut description = format!(
            "{}{} {} ({}): {}",
            finding.control_id,
            organisation_ids(&view.organisation_controls),
            finding.rule_id,
            view.policy.metadata.framework,
            sentence(&finding.message)
        );
        if !finding.remediation.is_empty() {
            description.push_str(&format!(" Remediation: {}", sentence(&finding.remediation)));
        }
        let level = match view.waiver_note() {
            Some(note) => {
                description = format!("[{note}] {description}");
                "info"
            }
            None => severity(finding.severity),
        };
        let check_name = format!("{}/{}", finding.control_id, finding.rule_id);
        let index = view.index.to_string();
        issues.push(json!({
            "type": "issue",
            "description": description,
            "check_name": check_name,
            "categories": ["Compliance"],
            "fingerprint": fingerprint(&[
                &view.policy.metadata.id,
                &check_name,
                &finding.field_path,
                &index,
            ]),
            "severity": level,
            "location": { "path": path, "lines": { "begin": line } },
        }));
    }
    for failure in &evaluation.failures {
        issues.push(json!({
            "type": "issue",
            "description": format!("policy `{}` failed ({}): {}; a failure never approves", failure.policy, failure.kind, failure.message),
            "check_name": "tollgate/policy-failure",
            "categories": ["Compliance"],
            "fingerprint": fingerprint(&["policy-failure", failure.policy, failure.kind]),
            "severity": "blocker",
            "location": { "path": shown(evaluation.manifest_path), "lines": { "begin": 1 } },
        }));
    }
    for problem in &evaluation.waivers.problems {
        let path = shown(evaluation.waivers_file.unwrap_or(evaluation.manifest_path));
        let path = path.as_str();
        let index = problem.index.to_string();
        issues.push(json!({
            "type": "issue",
            "description": problem.to_string(),
            "check_name": format!("tollgate/waiver-{}", problem.kind.as_str().replace('_', "-")),
            "categories": ["Compliance"],
            "fingerprint": fingerprint(&["waiver", path, &index, problem.kind.as_str()]),
            "severity": "minor",
            "location": { "path": path, "lines": { "begin": problem.location.map_or(1, |l| l.line) } },
        }));
    }
    serde_json::to_string_pretty(&Value::Array(issues)).map(|text| text + "\n")
}
