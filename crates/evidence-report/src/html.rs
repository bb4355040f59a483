//! The self-contained HTML report: no script, no network, charts as inline SVG, and a print style.

use std::fmt::Write;

use tollgate_crosswalk::OrganisationControl;

use crate::model::{ControlChange, ControlSummary, RecordLink, Report};

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --na: #8c959f; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta { color: var(--muted); margin: 0 0 16px; }
.integrity { border: 2px solid var(--ok); border-radius: 6px; padding: 10px 14px; background: #dafbe1; }
.integrity.failed { border-color: var(--bad); background: #ffebe9; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 150px; }
.card .value { font-size: 20px; font-weight: 600; } .card .label { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.compliant, .approved, .deployed { color: var(--ok); } .non_compliant, .denied, .failed, .rolled_back, .error { color: var(--bad); font-weight: 600; }
.waived, .needs_approval, .pending { color: var(--warn); } .not_applicable, .not_assessed { color: var(--na); }
.note { color: var(--muted); font-size: 12px; margin: 4px 0 8px; }
.signoff { break-before: page; }
.signoff table.fields td { height: 36px; } .signoff table.fields td.opinion { height: 140px; }
.signoff th { width: 220px; }
code { font-size: 12px; word-break: break-all; }
svg { max-width: 100%; height: auto; } svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
.legend span { display: inline-block; margin-right: 12px; } .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; } table, svg, .card { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .integrity, .swatch, rect { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

const COLORS: [(&str, &str); 6] = [
    ("compliant", "#1a7f37"),
    ("non_compliant", "#cf222e"),
    ("pending", "#fb8f44"),
    ("not_assessed", "#6e7781"),
    ("waived", "#d4a72c"),
    ("not_applicable", "#afb8c1"),
];

fn record_link(record: &RecordLink) -> String {
    format!(
        "<a href=\"#record-{}\">{}</a>",
        record.seq,
        escape(&record.change_id)
    )
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn number(value: Option<f64>, unit: &str) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1} {unit}"))
}

/// Horizontal bars, one per label, each split into coloured segments.
fn stacked_bars(id: &str, title: &str, rows: &[(String, [u64; 6])]) -> String {
    let (label_width, bar_width, row_height) = (180.0, 520.0, 22.0);
    #[expect(clippy::cast_precision_loss, reason = "a few rows")]
    let height = rows.len() as f64 * row_height + 30.0;
    let max = rows
        .iter()
        .map(|(_, v)| v.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = format!(
        "<svg id=\"{id}\" class=\"chart\" role=\"img\" viewBox=\"0 0 {w} {height}\" width=\"{w}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        escape(title),
        w = label_width + bar_width + 60.0
    );
    for (i, (label, values)) in rows.iter().enumerate() {
        #[expect(clippy::cast_precision_loss, reason = "a few rows")]
        let y = i as f64 * row_height + 4.0;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{:.1}\">{}</text>",
            y + 14.0,
            escape(label)
        );
        let mut x = label_width;
        for (value, (name, color)) in values.iter().zip(COLORS) {
            if *value == 0 {
                continue;
            }
            #[expect(clippy::cast_precision_loss, reason = "counts")]
            let w = bar_width * *value as f64 / max as f64;
            let _ = write!(
                svg,
                "<rect class=\"bar {name}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"16\" fill=\"{color}\"><title>{} {name}: {value}</title></rect>",
                escape(label)
            );
            x += w;
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            x + 6.0,
            y + 14.0,
            values.iter().sum::<u64>()
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Vertical bars with labels under them.
fn column_chart(id: &str, title: &str, columns: &[(String, u64, &str)]) -> String {
    let (width, height, top) = (720.0, 200.0, 16.0);
    let max = columns.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    #[expect(clippy::cast_precision_loss, reason = "a few columns")]
    let step = width / columns.len().max(1) as f64;
    let mut svg = format!(
        "<svg id=\"{id}\" class=\"chart\" role=\"img\" viewBox=\"0 0 {width} {}\" width=\"{width}\" height=\"{}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        height + 40.0,
        height + 40.0,
        escape(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"0\" y1=\"{b}\" x2=\"{width}\" y2=\"{b}\" stroke=\"#8c959f\"/>",
        b = height + top
    );
    for (i, (label, value, color)) in columns.iter().enumerate() {
        #[expect(clippy::cast_precision_loss, reason = "counts")]
        let h = (height - top) * *value as f64 / max as f64;
        #[expect(clippy::cast_precision_loss, reason = "a few columns")]
        let x = i as f64 * step + step * 0.15;
        let w = step * 0.7;
        let y = height + top - h;
        let _ = write!(
            svg,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{color}\"><title>{}: {value}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{value}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            escape(label),
            x + w / 2.0,
            y - 4.0,
            x + w / 2.0,
            height + top + 16.0,
            escape(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn control_rows(controls: &[ControlSummary]) -> Vec<(String, [u64; 6])> {
    controls
        .iter()
        .map(|c| {
            (
                c.control_id.clone(),
                [
                    c.compliant,
                    c.non_compliant,
                    c.pending,
                    c.not_assessed,
                    c.waived,
                    c.not_applicable,
                ],
            )
        })
        .collect()
}

/// The changes of a control, linked to their records, with their statuses; not-applicable changes
/// are counted, not listed.
fn listed_changes(changes: &[ControlChange]) -> String {
    changes
        .iter()
        .filter(|x| x.status != "not_applicable")
        .map(|x| {
            format!(
                "{} <span class=\"{}\">{}</span>",
                record_link(&x.record),
                x.status,
                x.status.replace('_', " ")
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The organisation's ids of a Tollgate control, under its title.
fn organisation_line(controls: &[OrganisationControl]) -> String {
    if controls.is_empty() {
        return String::new();
    }
    let ids: Vec<String> = controls.iter().map(|c| escape(&c.id)).collect();
    format!("<br><small class=\"org\">{}</small>", ids.join(", "))
}

/// Results by the organisation's own controls, when a crosswalk was given.
fn organisation_section(h: &mut String, report: &Report) {
    if report.organisation_controls.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<h2 id=\"organisation-controls\">Controls of {}</h2><p class=\"note\">Each change is counted once per control, by its least favourable status among the Tollgate controls the control maps onto.</p>",
        escape(
            report
                .organisation_catalogue
                .as_deref()
                .unwrap_or("the organisation")
        )
    );
    let _ = write!(
        h,
        "<table><thead><tr><th>Control</th><th>Maps to</th>{COUNT_HEADERS}<th>Changes</th></tr></thead><tbody>"
    );
    for c in &report.organisation_controls {
        let _ = write!(
            h,
            "<tr><td>{}<br><small>{}</small></td><td>{}</td>{}<td>{}</td></tr>",
            escape(&c.control.id),
            escape(&c.control.title),
            escape(&c.maps_to.join("; ")),
            count_cells(
                [
                    c.evaluated,
                    c.compliant,
                    c.non_compliant,
                    c.pending,
                    c.not_assessed,
                    c.waived,
                    c.not_applicable
                ],
                c.effectiveness
            ),
            listed_changes(&c.changes)
        );
    }
    h.push_str("</tbody></table>");
}

/// The header cells of a control's counts, as [`count_cells`] fills them.
const COUNT_HEADERS: &str = "<th>Evaluated</th><th>Compliant</th><th>Non-compliant</th><th>Pending</th><th>Not assessed</th><th>Waived</th><th>N/A</th><th>Effectiveness</th>";

/// The count cells of a control row: changes evaluated, each status, and effectiveness.
fn count_cells(counts: [u64; 7], effectiveness: Option<f64>) -> String {
    let mut cells: String = counts
        .iter()
        .map(|n| format!("<td class=\"num\">{n}</td>"))
        .collect();
    let _ = write!(cells, "<td class=\"num\">{}</td>", percent(effectiveness));
    cells
}

/// What control effectiveness counts, stated wherever it is shown.
const EFFECTIVENESS_NOTE: &str = "Effectiveness is compliant ÷ (compliant + non-compliant): assessed results only. Pending (awaiting required approvals), not assessed (the evidence the control rests on was absent, so it was not exercised), waived and not applicable results are counted but left out of it.";

/// Renders the report as one HTML document.
pub fn render(report: &Report) -> String {
    let mut h = String::new();
    let scope = &report.scope;
    let frameworks = if scope.frameworks.is_empty() {
        "all frameworks".to_owned()
    } else {
        scope.frameworks.join(", ")
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"><title>Tollgate compliance evidence {}</title><style>{STYLE}</style></head><body>",
        escape(&scope.period)
    );
    let _ = write!(
        h,
        "<h1>Compliance evidence report</h1><p class=\"meta\">Period {} · {} · generated {} by {} from the decision log <code>{}</code></p>",
        escape(&scope.period),
        escape(&frameworks),
        scope.generated_at,
        escape(&scope.generator),
        escape(&report.log.path)
    );

    // Integrity first: the reader must know whether to trust the rest.
    let log = &report.log;
    let _ = write!(
        h,
        "<section id=\"integrity\" class=\"integrity{}\"><strong>Log verification: {}</strong><p>{}</p><p>Merkle root <code>{}</code> over {} records.",
        if log.intact { "" } else { " failed" },
        if log.intact { "passed" } else { "FAILED" },
        escape(&log.statement),
        log.root,
        log.records
    );
    if let Some(c) = &log.checkpoint {
        let _ = write!(
            h,
            " Checkpoint: origin <code>{}</code>, size {}, root <code>{}</code>, consistency proof of {} hashes.",
            escape(&c.origin),
            c.size,
            c.root,
            c.consistency_proof.len()
        );
    }
    h.push_str("</p>");
    if !log.problems.is_empty() {
        h.push_str("<ul>");
        for p in &log.problems {
            let _ = write!(h, "<li>{}</li>", escape(p));
        }
        h.push_str("</ul>");
    }
    if let Some(t) = &log.torn_tail {
        let _ = write!(
            h,
            "<p>An interrupted append of {} bytes at offset {} (line {}) is not a record.</p>",
            t.length, t.offset, t.line
        );
    }
    h.push_str("</section>");

    // Summary and metrics.
    let s = &report.summary;
    let m = &report.metrics;
    h.push_str("<h2 id=\"summary\">Summary and delivery metrics</h2><div class=\"cards\">");
    let cards = [
        ("Decisions", s.decisions.to_string()),
        ("Changes", s.changes.to_string()),
        ("Deployments", m.deployments.to_string()),
        (
            "Deployment frequency",
            format!("{:.2} / day", m.deployment_frequency_per_day),
        ),
        (
            "Lead time for changes (median)",
            number(m.lead_time_median_hours, "h"),
        ),
        (
            "Approval time (median / p90)",
            format!(
                "{} / {}",
                number(m.approval_time_median_hours, "h"),
                number(m.approval_time_p90_hours, "h")
            ),
        ),
        ("Change failure rate", percent(m.change_failure_rate)),
        (
            "Control effectiveness (assessed results)",
            percent(m.control_effectiveness),
        ),
        ("Decisions stopped by the gate", percent(m.gate_stop_rate)),
        ("Rejected attempts", s.rejected_attempts.to_string()),
    ];
    for (label, value) in cards {
        let _ = write!(
            h,
            "<div class=\"card\"><div class=\"value\">{}</div><div class=\"label\">{}</div></div>",
            escape(&value),
            escape(label)
        );
    }
    h.push_str("</div>");
    h.push_str(&column_chart(
        "chart-outcomes",
        "Decisions by outcome",
        &[
            ("approved".to_owned(), s.approved_decisions, "#1a7f37"),
            (
                "needs approval".to_owned(),
                s.needs_approval_decisions,
                "#d4a72c",
            ),
            ("denied".to_owned(), s.denied_decisions, "#cf222e"),
            ("error".to_owned(), s.error_decisions, "#8250df"),
        ],
    ));

    // Controls.
    h.push_str("<h2 id=\"controls\">Controls</h2><p class=\"legend\">");
    for (name, color) in COLORS {
        let _ = write!(
            h,
            "<span><i class=\"swatch\" style=\"background:{color}\"></i>{}</span>",
            name.replace('_', " ")
        );
    }
    let _ = write!(
        h,
        "</p><p class=\"note\">{}</p>",
        escape(EFFECTIVENESS_NOTE)
    );
    h.push_str(&stacked_bars(
        "chart-controls",
        "Changes per control by status",
        &control_rows(&report.controls),
    ));
    let _ = write!(
        h,
        "<table><thead><tr><th>Framework</th><th>Control</th><th>References</th>{COUNT_HEADERS}<th>Changes</th></tr></thead><tbody>"
    );
    for c in &report.controls {
        let changes = listed_changes(&c.changes);
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}{}{}</td><td>{}</td>{}<td>{}</td></tr>",
            escape(&c.framework),
            escape(&c.control_id),
            c.title
                .as_deref()
                .map(|title| format!("<br><small>{}</small>", escape(title)))
                .unwrap_or_default(),
            organisation_line(&c.organisation_controls),
            escape(&c.references.join("; ")),
            count_cells(
                [
                    c.evaluated,
                    c.compliant,
                    c.non_compliant,
                    c.pending,
                    c.not_assessed,
                    c.waived,
                    c.not_applicable
                ],
                c.effectiveness
            ),
            changes
        );
    }
    h.push_str("</tbody></table>");
    organisation_section(&mut h, report);

    // Change control.
    h.push_str("<h2 id=\"change-control\">Change-control evidence</h2><table><thead><tr><th>Change</th><th>Title</th><th>Ticket</th><th>Requester</th><th>Approvals</th><th>Approvals from</th><th>Approval time</th><th>Risk</th><th>Outcome</th></tr></thead><tbody>");
    for c in &report.change_control {
        let approvals: Vec<String> = c
            .approvals
            .iter()
            .map(|a| format!("{} ({}, {})", escape(&a.by), escape(&a.role), escape(&a.at)))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td class=\"{}\">{}</td></tr>",
            record_link(&c.record),
            if c.emergency { " (emergency)" } else { "" },
            escape(&c.title),
            escape(&c.ticket_status),
            escape(&c.requester),
            approvals.join("<br>"),
            escape(&c.approvals_source),
            escape(c.approval_time.as_deref().unwrap_or("none")),
            escape(c.risk_class.as_deref().unwrap_or("n/a")),
            c.risk_score.map(|s| format!("({s})")).unwrap_or_default(),
            c.outcome,
            c.outcome.replace('_', " ")
        );
    }
    h.push_str("</tbody></table>");

    // Testing.
    h.push_str("<h2 id=\"testing\">Testing evidence</h2><table><thead><tr><th>Change</th><th>Suites (passed / failed)</th><th>Security scan</th><th>Compliance checks</th><th>All passed</th></tr></thead><tbody>");
    for t in &report.testing {
        let suites: Vec<String> = t
            .suites
            .iter()
            .map(|s| format!("{} {} / {}", escape(&s.suite), s.passed, s.failed))
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            record_link(&t.record),
            suites.join("<br>"),
            escape(&t.security_scan_summary),
            if t.compliance_checks_passed {
                "passed"
            } else {
                "not passed"
            },
            if t.all_passed {
                "compliant"
            } else {
                "non_compliant"
            },
            if t.all_passed { "yes" } else { "no" }
        );
    }
    h.push_str("</tbody></table>");

    // Segregation of duties.
    h.push_str("<h2 id=\"segregation\">Segregation-of-duties evidence</h2><table><thead><tr><th>Change</th><th>Author</th><th>Deployer</th><th>Counted approvers</th><th>Discounted approvals</th><th>Segregated</th></tr></thead><tbody>");
    for x in &report.segregation_of_duties {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
            record_link(&x.record),
            escape(&x.author),
            escape(&x.deployer),
            escape(&x.approvers.join(", ")),
            x.discounted
                .iter()
                .map(|d| escape(d))
                .collect::<Vec<_>>()
                .join("<br>"),
            if x.segregated {
                "compliant"
            } else {
                "non_compliant"
            },
            if x.segregated { "yes" } else { "no" }
        );
    }
    h.push_str("</tbody></table>");

    // Deployments.
    h.push_str("<h2 id=\"deployments\">Deployment evidence</h2>");
    if !m.deployments_by_day.is_empty() {
        let columns: Vec<(String, u64, &str)> = m
            .deployments_by_day
            .iter()
            .map(|(day, n)| (day.clone(), *n, "#0969da"))
            .collect();
        h.push_str(&column_chart(
            "chart-deployments",
            "Deployments per day",
            &columns,
        ));
    }
    h.push_str("<table><thead><tr><th>Change</th><th>Environment</th><th>Deployer</th><th>Approved</th><th>Deployed</th><th>Rollback</th><th>Commit</th><th>Status</th><th>Lead time</th></tr></thead><tbody>");
    for d in &report.deployments {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"{}\">{}</td><td>{}</td></tr>",
            record_link(&d.record),
            escape(&d.environment),
            escape(&d.deployer),
            d.approved_at,
            d.deployed_at,
            escape(d.rollback_strategy.as_deref().unwrap_or("none")),
            escape(d.commit.as_deref().unwrap_or("")),
            d.status,
            d.status.replace('_', " "),
            escape(&match (&d.lead_time_hours, &d.lead_time_from) {
                (Some(hours), Some(from)) => format!("{hours:.1} h from {from}"),
                _ => "n/a".to_owned(),
            })
        );
    }
    h.push_str("</tbody></table>");

    // Records appendix: every record of the period, each an anchor the tables link to.
    h.push_str("<h2 id=\"records\">Records</h2><table><thead><tr><th>Seq</th><th>Kind</th><th>Change</th><th>Record id</th><th>Recorded</th><th>Result</th><th>Exit</th><th>Actor</th><th>From</th><th>Manifest digest</th></tr></thead><tbody>");
    for r in &report.records {
        let _ = write!(
            h,
            "<tr id=\"record-{}\"><td class=\"num\">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"{}\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            r.seq,
            r.seq,
            r.kind,
            escape(&r.change_id),
            escape(&r.id),
            r.recorded_at,
            escape(&r.result),
            escape(&r.result.replace('_', " ")),
            r.exit_code.map(|c| c.to_string()).unwrap_or_default(),
            escape(&r.actor),
            escape(&r.origin),
            escape(r.manifest_digest.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</tbody></table>");
    sign_off(&mut h, report);
    h.push_str("</body></html>\n");
    h
}

/// The scope and sign-off section: what the report covers, the log's verification, and blank
/// fields for the auditor, on a page of its own when printed.
fn sign_off(h: &mut String, report: &Report) {
    let scope = &report.scope;
    let list = |items: &[String], none: &str| {
        if items.is_empty() {
            escape(none)
        } else {
            items
                .iter()
                .map(|i| escape(i))
                .collect::<Vec<_>>()
                .join("<br>")
        }
    };
    let log = &report.log;
    let verification = format!(
        "{} {}",
        if log.intact { "Passed." } else { "FAILED." },
        log.statement
    );
    let _ = write!(
        h,
        "<section id=\"sign-off\" class=\"signoff\"><h2>Scope and sign-off</h2><table class=\"scope\"><tbody><tr><th>Period</th><td>{}</td></tr><tr><th>Frameworks in scope</th><td>{}</td></tr><tr><th>Environments (systems) evaluated</th><td>{}</td></tr><tr><th>Policy packs</th><td>{}</td></tr><tr><th>Production environments</th><td>{}</td></tr><tr><th>Decision log</th><td><code>{}</code>, {} records, Merkle root <code>{}</code></td></tr><tr><th>Log verification</th><td class=\"{}\">{}</td></tr><tr><th>Generated</th><td>{} by {}</td></tr></tbody></table>",
        escape(&scope.period),
        list(&scope.frameworks_in_scope, "none applied in the period"),
        list(&scope.environments, "none"),
        list(&scope.policies, "none"),
        escape(&scope.production_environments.join(", ")),
        escape(&log.path),
        log.records,
        log.root,
        if log.intact {
            "compliant"
        } else {
            "non_compliant"
        },
        escape(&verification),
        scope.generated_at,
        escape(&scope.generator)
    );
    h.push_str("<p class=\"note\">To be completed by the auditor. ");
    h.push_str(&escape(EFFECTIVENESS_NOTE));
    h.push_str("</p><table class=\"fields\"><tbody>");
    for (field, class) in [
        ("Auditor name", ""),
        ("Role", ""),
        ("Date", ""),
        ("Signature", ""),
        ("Opinion", " class=\"opinion\""),
    ] {
        let id = field.to_ascii_lowercase().replace(' ', "-");
        let _ = write!(
            h,
            "<tr><th>{field}</th><td id=\"sign-off-{id}\"{class}></td></tr>"
        );
    }
    h.push_str("</tbody></table></section>");
}
