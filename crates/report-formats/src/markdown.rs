//! A Markdown summary for a merge-request comment or a GitHub job summary: the outcome, a table of
//! policies, blocking, other and waived findings (waived ones with their justification), waiver
//! problems, policy failures, and each policy's controls in a collapsed section.

use std::fmt::Write as _;

use tollgate_decision::Outcome;

use crate::{Evaluation, FindingLocation, FindingView, organisation_ids};
use tollgate_decision::Verdict;

/// Escapes a table cell: pipes, and newlines as spaces.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn code(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("`{}`", text.replace('`', "'"))
    }
}

fn headline(outcome: Verdict) -> &'static str {
    match outcome {
        Verdict::Decided(Outcome::Approved) => "✅ Approved",
        Verdict::Decided(Outcome::NeedsApproval) => "⏳ Needs approval",
        Verdict::Decided(Outcome::Denied) => "⛔ Denied",
        Verdict::PolicyFailure => "❌ Policy failure",
    }
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Approved => "approved",
        Outcome::NeedsApproval => "needs approval",
        Outcome::Denied => "denied",
    }
}

fn place(view: &FindingView<'_>, manifest_path: &str) -> String {
    match &view.location {
        FindingLocation::Manifest { field, position } => {
            let line = position
                .map(|p| format!(" ({manifest_path}:{})", p.line))
                .unwrap_or_default();
            format!("{}{line}", code(field))
        }
        FindingLocation::Data { file, line } => {
            let line = line.map(|l| format!(":{l}")).unwrap_or_default();
            code(&format!("{file}{line}"))
        }
    }
}

/// The Markdown summary.
pub fn markdown(evaluation: &Evaluation<'_>) -> String {
    let mut out = String::new();
    let change = &evaluation.manifest.change;
    let outcome = evaluation.outcome();
    let _ = writeln!(out, "## Tollgate: {}\n", headline(outcome));
    let _ = writeln!(
        out,
        "Change **{}** — {} — to `{}`; manifest {} (`{}`), evaluated at {}.\n",
        cell(&change.id),
        cell(&change.title),
        cell(&change.environment),
        code(evaluation.manifest_path),
        evaluation.manifest_digest,
        evaluation.evaluated_at
    );

    if !evaluation.policies.is_empty() {
        out.push_str("| Framework | Policy | Outcome | Risk | Missing approvals |\n");
        out.push_str("|---|---|---|---|---|\n");
        for (index, run) in evaluation.policies.iter().enumerate() {
            let decision = run.decision;
            let after = evaluation.policy_outcome(index);
            let mut shown = outcome_name(after).to_owned();
            if after != decision.outcome {
                shown.push_str(&format!(
                    " (waivers; was {})",
                    outcome_name(decision.outcome)
                ));
            }
            if !decision.applicable {
                shown.push_str(" (not applicable)");
            }
            let missing: Vec<&str> = decision.missing_roles().collect();
            let _ = writeln!(
                out,
                "| {} | {} {} | {} | {} | {} |",
                cell(&run.metadata.framework),
                code(&run.metadata.id),
                cell(&run.metadata.version),
                shown,
                decision.risk.as_ref().map_or_else(
                    || "not assessed".to_owned(),
                    |risk| format!("{} (score {:.2})", risk.class, risk.score)
                ),
                if missing.is_empty() {
                    "none".to_owned()
                } else {
                    cell(&missing.join(", "))
                }
            );
        }
        out.push('\n');
    }

    let findings = evaluation.findings();
    let blocking: Vec<&FindingView<'_>> = findings.iter().filter(|v| v.blocks()).collect();
    let other: Vec<&FindingView<'_>> = findings
        .iter()
        .filter(|v| !v.blocks() && v.waiver.is_none())
        .collect();
    let waived: Vec<&FindingView<'_>> = findings.iter().filter(|v| v.waiver.is_some()).collect();
    for (title, list) in [("Blocking findings", &blocking), ("Other findings", &other)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title} ({})\n", list.len());
        out.push_str("| Severity | Control | Rule | Finding | Where | Remediation |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for view in list {
            let finding = view.finding;
            let control = match view.control_title() {
                Some(t) => format!("{} {}", finding.control_id, t),
                None => finding.control_id.clone(),
            } + &organisation_ids(&view.organisation_controls);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                finding.severity,
                cell(&control),
                code(&finding.rule_id),
                cell(&finding.message),
                place(view, evaluation.manifest_path),
                cell(&finding.remediation)
            );
        }
        out.push('\n');
    }
    if !waived.is_empty() {
        let _ = writeln!(out, "### Waived findings ({})\n", waived.len());
        out.push_str(
            "| Severity | Control | Rule | Finding | Waiver | Justification | Approved by | Expires |\n",
        );
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        for view in &waived {
            if let Some(w) = view.waiver {
                let w = &w.waiver;
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} ({}) | {} | {} | {} |",
                    view.finding.severity,
                    cell(
                        &(view.finding.control_id.clone()
                            + &organisation_ids(&view.organisation_controls))
                    ),
                    code(&view.finding.rule_id),
                    cell(&view.finding.message),
                    cell(&w.id),
                    cell(&w.ticket),
                    cell(&w.justification),
                    cell(&w.approved_by),
                    w.expires
                );
            }
        }
        out.push('\n');
    }
    if findings.is_empty() && evaluation.failures.is_empty() {
        out.push_str("No findings.\n\n");
    }
    if !evaluation.waivers.problems.is_empty() {
        out.push_str("### Waivers not applied\n\n");
        for problem in &evaluation.waivers.problems {
            let _ = writeln!(out, "- {}", cell(&problem.to_string()));
        }
        out.push('\n');
    }
    if !evaluation.waivers.unmatched.is_empty() {
        out.push_str("Active waivers that matched no finding:\n\n");
        for unmatched in &evaluation.waivers.unmatched {
            let _ = writeln!(
                out,
                "- {}: {}",
                code(&unmatched.waiver),
                cell(&unmatched.reason)
            );
        }
        out.push('\n');
    }
    if !evaluation.failures.is_empty() {
        out.push_str("### Policy failures\n\nA failure never approves.\n\n");
        for failure in &evaluation.failures {
            let _ = writeln!(
                out,
                "- {} ({}): {}",
                code(failure.policy),
                failure.kind,
                cell(failure.message)
            );
        }
        out.push('\n');
    }
    for run in &evaluation.policies {
        if run.decision.controls.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<details><summary>{} controls</summary>\n",
            cell(&run.metadata.framework)
        );
        out.push_str("| Control | Status | Evidence |\n|---|---|---|\n");
        for result in &run.decision.controls {
            let status = result.status.label();
            let title = run
                .metadata
                .control(&result.control_id)
                .map(|c| format!("{} {}", result.control_id, c.title))
                .unwrap_or_else(|| result.control_id.clone())
                + &organisation_ids(&evaluation.organisation_controls(&result.control_id));
            let _ = writeln!(
                out,
                "| {} | {status} | {} |",
                cell(&title),
                cell(&result.evidence.join("; "))
            );
        }
        out.push_str("\n</details>\n\n");
    }
    let combined = evaluation.combined;
    if !combined.required_roles.is_empty() {
        let _ = writeln!(
            out,
            "Required approvals: {}; missing: {}.\n",
            combined.required_roles.join(", "),
            if combined.missing_roles.is_empty() {
                "none".to_owned()
            } else {
                combined.missing_roles.join(", ")
            }
        );
    }
    let _ = writeln!(out, "Exit code: {}", evaluation.exit_code);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_and_newlines() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(code("x`y"), "`x'y`");
    }
}
