//! A replay as people read it: text for a terminal, Markdown for a merge-request comment, and one
//! self-contained HTML page (no script, no external resource, everything escaped). Every format
//! lists the decisions whose outcome or findings changed and those not replayed; the JSON document
//! lists every decision.

use std::fmt::Write as _;
use tollgate_evidence_report::html::escape;

use super::{Classification, FailureChange, FindingChange, ReplayReport, Replayed};

/// Whether a decision is worth a line: its outcome or findings changed, or it was not replayed.
fn shown(entry: &Replayed) -> bool {
    entry.class != Classification::Unchanged || entry.findings_changed()
}

fn outcome_name(outcome: Option<tollgate_decision_log::RecordedOutcome>) -> &'static str {
    outcome.map_or("not replayed", |o| o.as_str())
}

fn policies_line(report: &ReplayReport) -> String {
    let policies: Vec<String> = report
        .policies
        .iter()
        .map(|p| format!("{} {}", p.id, p.version))
        .collect();
    format!(
        "policies {}; settings {}; waivers {}",
        policies.join(", "),
        report.settings_file.as_deref().unwrap_or("(defaults)"),
        report.waivers_file.as_deref().unwrap_or("(none)")
    )
}

fn selection_line(report: &ReplayReport) -> String {
    let s = &report.selection;
    if !s.decisions.is_empty() {
        return format!("decisions {}", s.decisions.join(", "));
    }
    let from = s
        .from
        .map_or_else(|| "the first record".to_owned(), |t| t.to_string());
    let to =
        s.to.map_or_else(|| "the last record".to_owned(), |t| t.to_string());
    let changes = if s.changes.is_empty() {
        String::new()
    } else {
        format!(", changes {}", s.changes.join(", "))
    };
    let which = if s.all_decisions {
        "every decision"
    } else {
        "the latest decision of each change"
    };
    format!("{which} recorded from {from} to {to}{changes}")
}

fn summary_line(report: &ReplayReport) -> String {
    let s = &report.summary;
    format!(
        "{} stricter, {} looser, {} unchanged, {} not replayed ({} decisions of {} changes; findings changed in {})",
        s.stricter,
        s.looser,
        s.unchanged,
        s.not_replayed,
        s.decisions,
        s.changes,
        s.findings_changed
    )
}

fn masked_line(report: &ReplayReport) -> Option<String> {
    let s = &report.summary;
    (s.with_masked_fields > 0).then(|| {
        format!(
            "{} of {} replayed decisions were decided from a stored manifest with masked fields: the policies saw `{}` where the original had a value, so a rule reading such a field may decide otherwise than on the original (re-evaluate those manifests with `tollgate eval --dry-run` to be sure)",
            s.with_masked_fields,
            s.decisions,
            tollgate_decision_log::MASKED
        )
    })
}

fn finding_text(sign: char, f: &FindingChange) -> String {
    format!(
        "{sign} {} {} {} ({}): {}",
        f.policy, f.control, f.rule, f.severity, f.message
    )
}

fn failure_text(f: &FailureChange) -> String {
    format!("policy `{}` failed ({}): {}", f.policy, f.kind, f.message)
}

/// The replay as text.
pub fn text(report: &ReplayReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Replay of `{}` (verified: {} records, root {}); nothing was recorded",
        report.log.location, report.log.records, report.log.root
    );
    let _ = writeln!(out, "Replayed with {}", policies_line(report));
    let _ = writeln!(out, "Selected {}", selection_line(report));
    for entry in report.decisions.iter().filter(|e| shown(e)) {
        let _ = writeln!(
            out,
            "\n{} (#{}, {}, evaluated {}): {} -> {}, {}",
            entry.change_id,
            entry.seq,
            entry.environment,
            entry.evaluated_at,
            entry.recorded.as_str(),
            outcome_name(entry.new),
            entry.class.as_str().replace('_', " ")
        );
        for f in &entry.findings_added {
            let _ = writeln!(out, "  {}", finding_text('+', f));
        }
        for f in &entry.findings_removed {
            let _ = writeln!(out, "  {}", finding_text('-', f));
        }
        for f in &entry.failures {
            let _ = writeln!(out, "  ! {}", failure_text(f));
        }
        if let Some(reason) = &entry.reason {
            let _ = writeln!(out, "  ! {reason}");
        }
        if !entry.masked_paths.is_empty() {
            let _ = writeln!(out, "  masked: {}", entry.masked_paths.join(", "));
        }
    }
    let hidden = report.decisions.iter().filter(|e| !shown(e)).count();
    if hidden > 0 {
        let _ = writeln!(
            out,
            "\n{hidden} decisions unchanged, with the same findings (`--format json` lists every decision)"
        );
    }
    let _ = writeln!(out, "\nSummary: {}", summary_line(report));
    for (transition, count) in &report.summary.transitions {
        let _ = writeln!(out, "  {transition}: {count}");
    }
    if let Some(line) = masked_line(report) {
        let _ = writeln!(out, "Note: {line}");
    }
    out
}

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

/// The replay as Markdown, for a merge-request comment.
pub fn markdown(report: &ReplayReport) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let _ = writeln!(out, "### Tollgate replay: {}\n", summary_line(report));
    let _ = writeln!(
        out,
        "Log `{}` verified ({} records, root `{}`); nothing was recorded. Replayed with {}. Selected {}.\n",
        cell(&report.log.location),
        report.log.records,
        report.log.root,
        cell(&policies_line(report)),
        cell(&selection_line(report))
    );
    let _ = writeln!(
        out,
        "| stricter | looser | unchanged | not replayed | decisions | changes |\n|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {} |\n",
        s.stricter, s.looser, s.unchanged, s.not_replayed, s.decisions, s.changes
    );
    let rows: Vec<&Replayed> = report.decisions.iter().filter(|e| shown(e)).collect();
    if !rows.is_empty() {
        out.push_str("| change | record | recorded | new | | findings added | findings removed |\n|---|---:|---|---|---|---|---|\n");
        for entry in rows {
            let list = |items: &[FindingChange]| {
                items
                    .iter()
                    .map(|f| {
                        format!(
                            "`{}` {} {}",
                            cell(&f.policy),
                            cell(&f.control),
                            cell(&f.rule)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let mut added = list(&entry.findings_added);
            for f in &entry.failures {
                if !added.is_empty() {
                    added.push_str("<br>");
                }
                added.push_str(&cell(&failure_text(f)));
            }
            if let Some(reason) = &entry.reason {
                if !added.is_empty() {
                    added.push_str("<br>");
                }
                added.push_str(&cell(reason));
            }
            let _ = writeln!(
                out,
                "| {} | #{} | {} | {} | {} | {} | {} |",
                cell(&entry.change_id),
                entry.seq,
                entry.recorded.as_str(),
                outcome_name(entry.new),
                entry.class.as_str().replace('_', " "),
                added,
                list(&entry.findings_removed)
            );
        }
        out.push('\n');
    }
    if let Some(line) = masked_line(report) {
        let _ = writeln!(out, "> {}\n", cell(&line));
    }
    out
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1b1b}\
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .5rem;\
text-align:left;vertical-align:top}th{background:#f3f3f3}.stricter{color:#a40000}\
.looser{color:#0a5c00}.not_replayed{color:#7a5200}ul{margin:0;padding-left:1.1rem}\
code{font-size:90%}@media print{body{margin:0}}";

/// The replay as one self-contained HTML page.
pub fn html(report: &ReplayReport) -> String {
    let s = &report.summary;
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">");
    let _ = write!(
        out,
        "<title>Tollgate replay</title><style>{STYLE}</style></head><body><h1>Tollgate replay</h1>"
    );
    let _ = write!(
        out,
        "<p>Log <code>{}</code> verified ({} records, root <code>{}</code>); nothing was recorded.</p><p>Replayed with {}.</p><p>Selected {}.</p>",
        escape(&report.log.location),
        report.log.records,
        escape(&report.log.root),
        escape(&policies_line(report)),
        escape(&selection_line(report))
    );
    let _ = write!(
        out,
        "<table><tr><th>stricter</th><th>looser</th><th>unchanged</th><th>not replayed</th><th>decisions</th><th>changes</th><th>findings changed</th></tr><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        s.stricter,
        s.looser,
        s.unchanged,
        s.not_replayed,
        s.decisions,
        s.changes,
        s.findings_changed
    );
    let rows: Vec<&Replayed> = report.decisions.iter().filter(|e| shown(e)).collect();
    if !rows.is_empty() {
        out.push_str("<table><tr><th>change</th><th>record</th><th>evaluated at</th><th>recorded</th><th>new</th><th></th><th>findings added</th><th>findings removed</th></tr>");
        for entry in rows {
            let list = |items: &[FindingChange], extra: &[String]| {
                let mut html = String::from("<ul>");
                for f in items {
                    let _ = write!(
                        html,
                        "<li><code>{} {} {}</code> ({}): {}</li>",
                        escape(&f.policy),
                        escape(&f.control),
                        escape(&f.rule),
                        escape(&f.severity),
                        escape(&f.message)
                    );
                }
                for line in extra {
                    let _ = write!(html, "<li>{}</li>", escape(line));
                }
                html.push_str("</ul>");
                html
            };
            let mut notes: Vec<String> = entry.failures.iter().map(failure_text).collect();
            notes.extend(entry.reason.iter().cloned());
            if !entry.masked_paths.is_empty() {
                notes.push(format!("masked: {}", entry.masked_paths.join(", ")));
            }
            let _ = write!(
                out,
                "<tr class=\"{class}\"><td>{}</td><td>#{} <code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&entry.change_id),
                entry.seq,
                escape(&entry.decision_id),
                entry.evaluated_at,
                entry.recorded.as_str(),
                outcome_name(entry.new),
                entry.class.as_str().replace('_', " "),
                list(&entry.findings_added, &notes),
                list(&entry.findings_removed, &[]),
                class = entry.class.as_str()
            );
        }
        out.push_str("</table>");
    }
    if !s.transitions.is_empty() {
        out.push_str("<h2>Outcome changes</h2><ul>");
        for (transition, count) in &s.transitions {
            let _ = write!(out, "<li>{}: {count}</li>", escape(transition));
        }
        out.push_str("</ul>");
    }
    if let Some(line) = masked_line(report) {
        let _ = write!(out, "<p><strong>Note:</strong> {}</p>", escape(&line));
    }
    out.push_str("</body></html>\n");
    out
}
