//! The explained text report of an evaluation: each policy's decision by framework, the waivers,
//! then the combined outcome; optionally with ANSI colours.

use std::fmt::Write as _;

use tollgate_decision::{
    ControlStatus, Decision, Outcome, PolicyMetadata, RiskClass, Routing, Severity,
};

use crate::{Evaluation, organisation_ids};

/// ANSI colours of the text report, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    colour: bool,
}

impl Style {
    /// With ANSI colours (for a terminal).
    pub fn coloured() -> Self {
        Self { colour: true }
    }

    /// No colours, for reports written to files.
    pub fn plain() -> Self {
        Self { colour: false }
    }

    /// Colours only when standard output is a terminal and `NO_COLOR` is unset.
    pub fn for_stdout() -> Self {
        use std::io::IsTerminal as _;
        Self {
            colour: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(self, text: &str, code: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn bold(self, text: &str) -> String {
        self.paint(text, "1")
    }

    fn outcome(self, outcome: Outcome) -> String {
        let text = outcome.as_str().replace('_', " ").to_uppercase();
        match outcome {
            Outcome::Approved => self.paint(&text, "1;32"),
            Outcome::NeedsApproval => self.paint(&text, "1;33"),
            Outcome::Denied => self.paint(&text, "1;31"),
        }
    }

    fn severity(self, severity: Severity) -> String {
        let text = severity.as_str().to_uppercase();
        match severity {
            Severity::Critical | Severity::High => self.paint(&text, "1;31"),
            Severity::Medium => self.paint(&text, "33"),
            Severity::Low | Severity::Info => self.paint(&text, "36"),
        }
    }

    fn mark(self, ok: bool) -> String {
        if ok {
            self.paint("[ok]  ", "32")
        } else {
            self.paint("[MISS]", "31")
        }
    }
}

/// The text report: each policy's decision explained, grouped by framework, then the combined
/// outcome and any failures.
pub fn text(report: &Evaluation<'_>, style: Style) -> String {
    let mut out = String::new();
    let change = &report.manifest.change;
    let _ = writeln!(
        out,
        "{} {} — change {} \"{}\" to {}",
        style.bold("Tollgate"),
        env!("CARGO_PKG_VERSION"),
        change.id,
        change.title,
        change.environment
    );
    let _ = writeln!(
        out,
        "manifest {} ({}), evaluated at {}",
        report.manifest_path, report.manifest_digest, report.evaluated_at
    );
    for run in &report.policies {
        out.push('\n');
        policy_section(
            &mut out,
            report,
            run.metadata,
            run.digest,
            run.decision,
            style,
        );
    }

    out.push_str(&waivers_section(report));

    out.push('\n');
    let _ = writeln!(out, "{}", style.bold("== Combined =="));
    let combined = report.combined;
    // The outcome stated is the one the exit code carries: after waivers.
    let outcome = if combined.decisions.is_empty() {
        combined.outcome
    } else {
        report.waivers.combined_outcome()
    };
    let before = if outcome == combined.outcome {
        String::new()
    } else {
        format!(
            " ({} before waivers; the waived findings no longer block)",
            style.outcome(combined.outcome)
        )
    };
    if report.failures.is_empty() {
        let _ = writeln!(out, "Outcome: {}{before}", style.outcome(outcome));
    } else {
        let _ = writeln!(
            out,
            "Outcome: {} ({} of {} policies failed; a failure never approves)",
            style.paint("POLICY FAILURE", "1;31"),
            report.failures.len(),
            report.failures.len() + report.policies.len()
        );
        for failure in &report.failures {
            let _ = writeln!(
                out,
                "  policy `{}` failed: {}",
                failure.policy, failure.message
            );
        }
        if !report.policies.is_empty() {
            let _ = writeln!(
                out,
                "Outcome of the other policies: {}{before}",
                style.outcome(outcome)
            );
        }
    }
    if !report.policies.is_empty() {
        let _ = writeln!(
            out,
            "Risk class: {}",
            combined.risk_class.map_or(
                "not assessed (no policy has a risk model)",
                RiskClass::as_str
            )
        );
    }
    let _ = writeln!(
        out,
        "Required roles: {}",
        list_or_none(&combined.required_roles)
    );
    let _ = writeln!(
        out,
        "Missing roles: {}",
        list_or_none(&combined.missing_roles)
    );
    let obligations: Vec<String> = combined
        .decisions
        .iter()
        .flat_map(|d| {
            d.obligations.iter().map(move |o| {
                let due = o
                    .due_within_days
                    .map(|days| format!(", due within {days} days"))
                    .unwrap_or_default();
                format!("{} ({} {}{due})", o.id, d.policy_id, o.control_id)
            })
        })
        .collect();
    let _ = writeln!(out, "Obligations: {}", list_or_none(&obligations));
    let _ = writeln!(out, "Exit code: {}", report.exit_code);
    out
}

/// The waivers section: empty without a waivers file.
fn waivers_section(report: &Evaluation<'_>) -> String {
    let Some(file) = &report.waivers_file else {
        return String::new();
    };
    let evaluation = report;
    let mut out = format!("\n== Waivers ({file}) ==\n");
    let findings = evaluation.findings();
    let waived: Vec<_> = findings.iter().filter(|v| v.waiver.is_some()).collect();
    if waived.is_empty() {
        out.push_str("No finding is waived.\n");
    }
    for view in waived {
        let _ = writeln!(
            out,
            "  waived [{}] {} ({}, {}): {}\n      {}",
            view.policy.metadata.id,
            view.finding.rule_id,
            view.finding.control_id,
            view.finding.severity,
            view.finding.message,
            view.waiver_note().unwrap_or_default()
        );
    }
    for problem in &report.waivers.problems {
        let _ = writeln!(out, "  not applied: {problem}");
    }
    for unmatched in &report.waivers.unmatched {
        let _ = writeln!(out, "  matched no finding: {unmatched}");
    }
    out
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

fn policy_section(
    out: &mut String,
    report: &Evaluation<'_>,
    metadata: &PolicyMetadata,
    digest: &str,
    decision: &Decision,
    style: Style,
) {
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!(
            "== {} — policy {} {} ({digest}) ==",
            metadata.framework, metadata.id, metadata.version
        ))
    );
    let _ = writeln!(out, "Outcome: {}", style.outcome(decision.outcome));
    if !decision.summary.is_empty() {
        let _ = writeln!(out, "Summary: {}", decision.summary);
    }
    if !decision.applicable {
        let _ = writeln!(
            out,
            "Not applicable to this change: all {} controls are not applicable.",
            decision.controls.len()
        );
        return;
    }

    match &decision.risk {
        None => {
            let _ = writeln!(out, "Risk: not assessed (the policy has no risk model)");
        }
        Some(risk) => {
            let category = risk
                .category_class
                .map_or_else(|| "none".to_owned(), |c| c.to_string());
            let _ = writeln!(
                out,
                "Risk: score {:.2} -> class {} (score class {}, category class {})",
                risk.score, risk.class, risk.score_class, category
            );
            for factor in &risk.factors {
                let _ = writeln!(
                    out,
                    "  {:+7.2}  {:<24} {}",
                    factor.points, factor.id, factor.description
                );
            }
        }
    }

    match &decision.routing {
        None => {
            let _ = writeln!(out, "Routing: none (the policy routes no approvals)");
        }
        Some(routing) => routing_section(out, routing, style),
    }

    if decision.findings.is_empty() {
        let _ = writeln!(out, "Findings: none");
    } else {
        let _ = writeln!(out, "Findings ({}):", decision.findings.len());
        for finding in &decision.findings {
            let title = metadata
                .control(&finding.control_id)
                .map(|c| format!(" {}", c.title))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  [{}] {} ({}{title}){}: {}",
                style.severity(finding.severity),
                finding.rule_id,
                finding.control_id,
                organisation_ids(&report.organisation_controls_of(finding)),
                finding.message
            );
            if !finding.references.is_empty() {
                let refs: Vec<String> =
                    finding.references.iter().map(ToString::to_string).collect();
                let _ = writeln!(out, "      references: {}", refs.join("; "));
            }
            if !finding.field_path.is_empty() {
                let _ = writeln!(out, "      field: {}", finding.field_path);
            }
            if !finding.remediation.is_empty() {
                let _ = writeln!(out, "      remediation: {}", finding.remediation);
            }
        }
    }

    if !decision.controls.is_empty() {
        let _ = writeln!(out, "Controls:");
        for result in &decision.controls {
            let status = match result.status {
                ControlStatus::Compliant => style.paint("compliant     ", "32"),
                ControlStatus::NonCompliant => style.paint("non-compliant ", "31"),
                ControlStatus::NotApplicable => style.paint("not applicable", "2"),
                ControlStatus::NotAssessed => style.paint("not assessed  ", "33"),
                ControlStatus::Pending => style.paint("pending       ", "33"),
            };
            let control = metadata.control(&result.control_id);
            let title = control.map(|c| c.title.as_str()).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {status}  {:<16} {title}{}",
                result.control_id,
                organisation_ids(&report.organisation_controls(&result.control_id))
            );
            if let Some(control) = control.filter(|c| !c.references.is_empty()) {
                let refs: Vec<String> =
                    control.references.iter().map(ToString::to_string).collect();
                let _ = writeln!(out, "      references: {}", refs.join("; "));
            }
            for evidence in &result.evidence {
                let _ = writeln!(out, "      - {evidence}");
            }
        }
    }

    if !decision.obligations.is_empty() {
        let _ = writeln!(out, "Obligations:");
        for obligation in &decision.obligations {
            let due = obligation
                .due_within_days
                .map(|days| format!(" (due within {days} days)"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  - {} ({}): {}{due}",
                obligation.id, obligation.control_id, obligation.description
            );
        }
    }
}

/// How a decision is routed for approval: required roles, discounted approvals, automated checks.
fn routing_section(out: &mut String, routing: &Routing, style: Style) {
    let _ = writeln!(out, "Routing: {} — {}", routing.route, routing.rationale);
    if !routing.required.is_empty() {
        let _ = writeln!(out, "  Required approvals:");
        for required in &routing.required {
            let who = required
                .satisfied_by
                .as_deref()
                .map_or_else(|| "missing".to_owned(), |by| format!("approved by {by}"));
            let _ = writeln!(
                out,
                "    {} {:<20} {who}",
                style.mark(required.satisfied_by.is_some()),
                required.role
            );
        }
    }
    if !routing.discounted.is_empty() {
        let _ = writeln!(out, "  Approvals that do not count:");
        for discounted in &routing.discounted {
            let _ = writeln!(
                out,
                "    - {} as {}: {}",
                discounted.by, discounted.role, discounted.reason
            );
        }
    }
    if !routing.automated_checks.is_empty() {
        let _ = writeln!(out, "  Automated checks:");
        for check in &routing.automated_checks {
            let _ = writeln!(out, "    {} {}", style.mark(check.passed), check.id);
        }
    }
}
