//! GitHub Actions workflow commands: one annotation per finding (`::error`, `::warning` or
//! `::notice`, at the manifest field's line or the data's file and line), one per waiver problem
//! and policy failure, and a final one with the outcome. The Markdown job summary is
//! [`crate::markdown`], which the host appends to `$GITHUB_STEP_SUMMARY`.

use std::fmt::Write as _;

use tollgate_decision::Severity;

use crate::relative::shown;
use crate::sentence::sentence;
use crate::{Evaluation, FindingLocation, organisation_ids};
use tollgate_decision::Verdict;

/// Escapes a workflow-command message.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(out: &mut String, kind: &str, properties: &[(&str, String)], message: &str) {
    let properties: Vec<String> = properties
        .iter()
        .map(|(key, value)| format!("{key}={}", property(value)))
        .collect();
    let separator = if properties.is_empty() { "" } else { " " };
    let _ = writeln!(
        out,
        "::{kind}{separator}{}::{}",
        properties.join(","),
        data(message)
    );
}

/// The workflow commands, one per line.
pub fn github_annotations(evaluation: &Evaluation<'_>) -> String {
    let mut out = String::new();
    for view in evaluation.findings() {
        let finding = view.finding;
        let kind = if view.waiver.is_some() {
            "notice"
        } else {
            match finding.severity {
                Severity::Critical | Severity::High => "error",
                Severity::Medium => "warning",
                Severity::Low | Severity::Info => "notice",
            }
        };
        let mut properties = Vec::new();
        match &view.location {
            FindingLocation::Manifest { position, .. } => {
                if evaluation.manifest_path != "-" {
                    properties.push(("file", shown(evaluation.manifest_path)));
                    if let Some(position) = position {
                        properties.push(("line", position.line.to_string()));
                        properties.push(("col", position.column.to_string()));
                    }
                }
            }
            FindingLocation::Data { file, line } => {
                properties.push(("file", file.clone()));
                if let Some(line) = line {
                    properties.push(("line", line.to_string()));
                }
            }
        }
        let waived = if view.waiver.is_some() {
            " [waived]"
        } else {
            ""
        };
        properties.push((
            "title",
            format!(
                "{}{} {} ({}, {}){waived}",
                finding.control_id,
                organisation_ids(&view.organisation_controls),
                finding.rule_id,
                view.policy.metadata.framework,
                finding.severity
            ),
        ));
        // One sentence a line: a view that joins the lines still reads them apart.
        let mut message = sentence(&finding.message);
        if !finding.field_path.is_empty() {
            message.push_str(&format!("\nField: {}.", finding.field_path));
        }
        let references = view.references();
        if !references.is_empty() {
            message.push_str(&format!("\nReferences: {}", sentence(&references)));
        }
        if !finding.remediation.is_empty() {
            message.push_str(&format!(
                "\nRemediation: {}",
                sentence(&finding.remediation)
            ));
        }
        if let Some(note) = view.waiver_note() {
            message.push_str(&format!("\nWaiver: {}", sentence(&note)));
        }
        command(&mut out, kind, &properties, &message);
    }
    for problem in &evaluation.waivers.problems {
        let mut properties = Vec::new();
        if let Some(file) = evaluation.waivers_file {
            properties.push(("file", shown(file)));
            if let Some(location) = problem.location {
                properties.push(("line", location.line.to_string()));
            }
        }
        properties.push(("title", "Tollgate waiver not applied".to_owned()));
        command(&mut out, "warning", &properties, &problem.to_string());
    }
    for failure in &evaluation.failures {
        command(
            &mut out,
            "error",
            &[(
                "title",
                format!("Tollgate policy `{}` failed", failure.policy),
            )],
            &format!(
                "{} ({}); a failure never approves",
                failure.message, failure.kind
            ),
        );
    }
    let outcome = evaluation.outcome();
    let kind = match outcome {
        Verdict::Decided(tollgate_decision::Outcome::Approved) => "notice",
        Verdict::Decided(tollgate_decision::Outcome::NeedsApproval) => "warning",
        _ => "error",
    };
    let missing = &evaluation.combined.missing_roles;
    let mut message = format!(
        "change {}: {} (exit code {})",
        evaluation.manifest.change.id,
        outcome.as_str(),
        evaluation.exit_code
    );
    if !missing.is_empty() && !matches!(outcome, Verdict::PolicyFailure) {
        message.push_str(&format!("; missing approvals: {}", missing.join(", ")));
    }
    command(
        &mut out,
        kind,
        &[("title", "Tollgate".to_owned())],
        &message,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_toolkit() {
        assert_eq!(data("50%\nnext\r"), "50%25%0Anext%0D");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
        let mut out = String::new();
        command(
            &mut out,
            "error",
            &[("file", "x.yaml".into()), ("line", "3".into())],
            "m",
        );
        assert_eq!(out, "::error file=x.yaml,line=3::m\n");
    }
}
