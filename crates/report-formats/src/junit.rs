//! JUnit XML: one `<testsuite>` per policy and one `<testcase>` per control of that policy
//! (classname `tollgate.<policy id>`, name `<control id> <control title>`). A non-compliant control
//! fails with its findings (severity, rule, message, field, references, remediation); a control
//! whose findings are all waived, or that does not apply, is skipped with the reason; a policy that
//! could not evaluate is an error. Valid against the Jenkins / Surefire JUnit schema (`junit-10.xsd`).

use std::fmt::Write as _;

use tollgate_decision::{ControlStatus, RiskClass};

use crate::{Evaluation, FindingLocation, FindingView, organisation_ids};

/// Escapes text for XML content and attributes, dropping characters XML 1.0 cannot carry.
pub(crate) fn xml(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || !c.is_control())
        .collect();
    quick_xml::escape::escape(clean.as_str()).into_owned()
}

struct Case {
    name: String,
    body: CaseBody,
}

/// One `<testsuite>`: name, properties and cases.
struct Suite {
    name: String,
    properties: Vec<(String, String)>,
    cases: Vec<Case>,
}

enum CaseBody {
    Passed(Vec<String>),
    Failed {
        kind: String,
        message: String,
        detail: String,
    },
    Skipped(String),
    Error {
        kind: String,
        message: String,
    },
}

fn describe(view: &FindingView<'_>) -> String {
    let finding = view.finding;
    let mut text = format!(
        "[{}] {}: {}\n",
        finding.severity.as_str().to_uppercase(),
        finding.rule_id,
        finding.message
    );
    match &view.location {
        FindingLocation::Manifest { field, position } => {
            if !field.is_empty() {
                let line = position
                    .map(|p| format!(" (line {})", p.line))
                    .unwrap_or_default();
                let _ = writeln!(text, "  field: {field}{line}");
            }
        }
        FindingLocation::Data { file, line } => {
            let line = line.map(|l| format!(":{l}")).unwrap_or_default();
            let _ = writeln!(text, "  location: {file}{line}");
        }
    }
    let references = view.references();
    if !references.is_empty() {
        let _ = writeln!(text, "  references: {references}");
    }
    if !finding.remediation.is_empty() {
        let _ = writeln!(text, "  remediation: {}", finding.remediation);
    }
    if let Some(note) = view.waiver_note() {
        let _ = writeln!(text, "  {note}");
    }
    text
}

/// The JUnit XML report.
pub fn junit(evaluation: &Evaluation<'_>) -> String {
    let findings = evaluation.findings();
    let mut suites: Vec<Suite> = Vec::new();
    for (policy_index, run) in evaluation.policies.iter().enumerate() {
        let decision = run.decision;
        let mut cases = Vec::new();
        let mut listed: Vec<&str> = Vec::new();
        let title = |id: &str| {
            run.metadata
                .control(id)
                .map(|c| format!("{id} {}", c.title))
                .unwrap_or_else(|| id.to_owned())
        };
        let of_control = |id: &str| -> Vec<&FindingView<'_>> {
            findings
                .iter()
                .filter(|v| v.policy_index == policy_index && v.finding.control_id == id)
                .collect()
        };
        let case_for = |id: &str, status: ControlStatus, evidence: &[String]| -> Case {
            let views = of_control(id);
            let open: Vec<&&FindingView<'_>> =
                views.iter().filter(|v| v.waiver.is_none()).collect();
            let body = if !open.is_empty() {
                let message = open
                    .iter()
                    .map(|v| format!("[{}] {}", v.finding.severity, v.finding.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut detail: String = views.iter().map(|v| describe(v)).collect();
                for line in evidence {
                    let _ = writeln!(detail, "evidence: {line}");
                }
                CaseBody::Failed {
                    kind: open[0].finding.rule_id.clone(),
                    message,
                    detail,
                }
            } else if !views.is_empty() {
                CaseBody::Skipped(
                    views
                        .iter()
                        .filter_map(|v| {
                            v.waiver_note()
                                .map(|note| format!("{}: {note}", v.finding.rule_id))
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            } else if matches!(
                status,
                ControlStatus::NotApplicable | ControlStatus::NotAssessed | ControlStatus::Pending
            ) {
                CaseBody::Skipped(format!("{}: {}", status.label(), evidence.join("; ")))
            } else {
                CaseBody::Passed(evidence.to_vec())
            };
            Case {
                name: title(id) + &organisation_ids(&evaluation.organisation_controls(id)),
                body,
            }
        };
        for result in &decision.controls {
            listed.push(&result.control_id);
            cases.push(case_for(
                &result.control_id,
                result.status,
                &result.evidence,
            ));
        }
        for finding in &decision.findings {
            if !listed.contains(&finding.control_id.as_str()) {
                listed.push(&finding.control_id);
                cases.push(case_for(
                    &finding.control_id,
                    ControlStatus::NonCompliant,
                    &[],
                ));
            }
        }
        let properties = vec![
            ("policy".to_owned(), run.metadata.id.clone()),
            ("framework".to_owned(), run.metadata.framework.clone()),
            ("version".to_owned(), run.metadata.version.clone()),
            ("digest".to_owned(), run.digest.to_owned()),
            (
                "outcome".to_owned(),
                evaluation.policy_outcome(policy_index).as_str().to_owned(),
            ),
            (
                "outcome_before_waivers".to_owned(),
                decision.outcome.as_str().to_owned(),
            ),
            (
                "risk_class".to_owned(),
                decision
                    .risk_class()
                    .map_or("not assessed", RiskClass::as_str)
                    .to_owned(),
            ),
            ("summary".to_owned(), decision.summary.clone()),
        ];
        suites.push(Suite {
            name: format!(
                "{} ({} {})",
                run.metadata.framework, run.metadata.id, run.metadata.version
            ),
            properties,
            cases,
        });
    }
    for failure in &evaluation.failures {
        suites.push(Suite {
            name: format!("{} (policy failure)", failure.policy),
            properties: vec![("policy".to_owned(), failure.policy.to_owned())],
            cases: vec![Case {
                name: format!("{} evaluation", failure.policy),
                body: CaseBody::Error {
                    kind: failure.kind.to_owned(),
                    message: failure.message.to_owned(),
                },
            }],
        });
    }

    let count =
        |cases: &[Case], f: fn(&CaseBody) -> bool| cases.iter().filter(|c| f(&c.body)).count();
    let failed = |b: &CaseBody| matches!(b, CaseBody::Failed { .. });
    let errored = |b: &CaseBody| matches!(b, CaseBody::Error { .. });
    let skipped = |b: &CaseBody| matches!(b, CaseBody::Skipped(_));
    let all: Vec<&Case> = suites.iter().flat_map(|s| &s.cases).collect();
    let total_failed = all.iter().filter(|c| failed(&c.body)).count();
    let total_errors = all.iter().filter(|c| errored(&c.body)).count();

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"tollgate {}\" tests=\"{}\" failures=\"{total_failed}\" errors=\"{total_errors}\">",
        xml(evaluation.manifest_path),
        all.len()
    );
    for Suite {
        name,
        properties,
        cases,
    } in &suites
    {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" timestamp=\"{}\">",
            xml(name),
            cases.len(),
            count(cases, failed),
            count(cases, errored),
            count(cases, skipped),
            xml(&evaluation.evaluated_at)
        );
        out.push_str("    <properties>\n");
        for (key, value) in properties {
            let _ = writeln!(
                out,
                "      <property name=\"{}\" value=\"{}\"/>",
                xml(key),
                xml(value)
            );
        }
        out.push_str("    </properties>\n");
        let classname = properties
            .first()
            .map(|(_, id)| format!("tollgate.{id}"))
            .unwrap_or_default();
        for case in cases {
            let open = format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(&classname),
                xml(&case.name)
            );
            match &case.body {
                CaseBody::Passed(evidence) if evidence.is_empty() => {
                    let _ = writeln!(out, "{open}/>");
                }
                CaseBody::Passed(evidence) => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <system-out>{}</system-out>\n    </testcase>",
                        xml(&evidence.join("\n"))
                    );
                }
                CaseBody::Failed {
                    kind,
                    message,
                    detail,
                } => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                        xml(kind),
                        xml(message),
                        xml(detail)
                    );
                }
                CaseBody::Skipped(reason) => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                        xml(reason)
                    );
                }
                CaseBody::Error { kind, message } => {
                    let _ = writeln!(
                        out,
                        "{open}>\n      <error type=\"{}\" message=\"{}\">{}</error>\n    </testcase>",
                        xml(kind),
                        xml(message),
                        xml(message)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
