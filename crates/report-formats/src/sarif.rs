//! SARIF 2.1.0 for code scanning. One rule per control and rule id (`SOX-CC-05/sod-self-approval`),
//! one result per finding. A finding about a manifest field points at the manifest file, at the
//! field's line when the manifest text is known, with the field path as a logical location; a
//! sensitive-data finding points at the repository file and line where the data is. Waived findings
//! carry an accepted external suppression with the waiver's justification. A policy that could not
//! evaluate is a tool execution notification, and the invocation is not successful.

use serde_json::{Value, json};
use tollgate_decision::Severity;

use crate::relative::SRCROOT;
use crate::sentence::sentence;
use crate::{Evaluation, FindingLocation, FindingView};

/// The SARIF schema URI written in the log.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` scale (critical ≥ 9, high ≥ 7, medium ≥ 4).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
        Severity::Info => "0.0",
    }
}

/// Percent-encodes a path into a URI reference (RFC 3986): unreserved characters, sub-delimiters,
/// `:`, `@` and `/` stay; backslashes become `/`.
pub(crate) fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.replace('\\', "/").bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    // A first segment with a colon would read as a scheme.
    if out
        .split('/')
        .next()
        .is_some_and(|first| first.contains(':'))
    {
        out.insert_str(0, "./");
    }
    out
}

/// An artifact location: a path relative to the working directory or repository root, resolved
/// against [`SRCROOT`] (as GitHub code scanning and the SARIF viewers expect); a path outside both
/// stays absolute.
fn artifact(path: &str) -> Value {
    let shown = crate::relative::shown(path);
    if std::path::Path::new(&shown).is_absolute() {
        json!({ "uri": format!("file://{}", uri(&shown)) })
    } else {
        json!({ "uri": uri(&shown), "uriBaseId": SRCROOT })
    }
}

fn rule_id(view: &FindingView<'_>) -> String {
    format!("{}/{}", view.finding.control_id, view.finding.rule_id)
}

fn location(view: &FindingView<'_>, manifest_path: &str) -> Value {
    match &view.location {
        FindingLocation::Manifest { field, position } => {
            let logical = json!([{ "fullyQualifiedName": field, "kind": "member" }]);
            if manifest_path == "-" {
                return json!({ "logicalLocations": logical });
            }
            let mut physical = json!({ "artifactLocation": artifact(manifest_path) });
            if let Some(position) = position {
                physical["region"] = json!({
                    "startLine": position.line,
                    "startColumn": position.column,
                });
            }
            json!({ "physicalLocation": physical, "logicalLocations": logical })
        }
        FindingLocation::Data { file, line } => {
            let mut physical = json!({ "artifactLocation": artifact(file) });
            if let Some(line) = line {
                physical["region"] = json!({ "startLine": line });
            }
            json!({
                "physicalLocation": physical,
                "logicalLocations": [{
                    "fullyQualifiedName": view.finding.field_path,
                    "kind": "member",
                }],
            })
        }
    }
}

/// The SARIF 2.1.0 log, pretty-printed with a final newline.
pub fn sarif(evaluation: &Evaluation<'_>) -> serde_json::Result<String> {
    let findings = evaluation.findings();
    let mut rules: Vec<(String, Severity, Value)> = Vec::new();
    let mut results = Vec::new();
    for view in &findings {
        let id = rule_id(view);
        let index = match rules.iter().position(|(r, _, _)| *r == id) {
            Some(index) => {
                if view.finding.severity > rules[index].1 {
                    rules[index].1 = view.finding.severity;
                }
                index
            }
            None => {
                let control = view.policy.metadata.control(&view.finding.control_id);
                let title = control.map_or(view.finding.control_id.as_str(), |c| c.title.as_str());
                let description = control
                    .map(|c| c.description.clone())
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| title.to_owned());
                let mut tags = vec![
                    view.policy.metadata.framework.clone(),
                    view.finding.control_id.clone(),
                    "compliance".to_owned(),
                ];
                tags.extend(view.finding.references.iter().map(ToString::to_string));
                rules.push((
                    id.clone(),
                    view.finding.severity,
                    json!({
                        "id": id,
                        "name": view.finding.rule_id,
                        "shortDescription": { "text": format!("{} {}", view.finding.control_id, title) },
                        "fullDescription": { "text": description },
                        "help": { "text": view.finding.remediation },
                        "properties": {
                            "tags": tags,
                            "precision": "very-high",
                            "policy": view.policy.metadata.id,
                        },
                    }),
                ));
                rules.len() - 1
            }
        };
        let mut text = sentence(&view.finding.message);
        if !view.finding.remediation.is_empty() {
            text.push_str(&format!(
                " Remediation: {}",
                sentence(&view.finding.remediation)
            ));
        }
        let mut result = json!({
            "ruleId": id,
            "ruleIndex": index,
            "level": level(view.finding.severity),
            "message": { "text": text },
            "locations": [location(view, evaluation.manifest_path)],
            "partialFingerprints": {
                "tollgate/v1": format!("{}/{}/{}", view.policy.metadata.id, id, view.finding.field_path),
            },
            "properties": {
                "severity": view.finding.severity.as_str(),
                "policy": view.policy.metadata.id,
                "framework": view.policy.metadata.framework,
                "control": view.finding.control_id,
                "field": view.finding.field_path,
                "references": view.finding.references.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "remediation": view.finding.remediation,
                "blocking": view.blocks(),
            },
        });
        if !view.organisation_controls.is_empty() {
            result["properties"]["organisationControls"] = view
                .organisation_controls
                .iter()
                .map(|c| json!({ "id": c.id, "title": c.title }))
                .collect();
        }
        if let Some(waived) = view.waiver {
            let w = &waived.waiver;
            result["suppressions"] = json!([{
                "kind": "external",
                "status": "accepted",
                "justification": format!(
                    "{} ({}, approved by {}, expires {}): {}",
                    w.id, w.ticket, w.approved_by, w.expires, w.justification
                ),
                "properties": {
                    "waiver": w.id,
                    "ticket": w.ticket,
                    "approved_by": w.approved_by,
                    "expires": w.expires,
                },
            }]);
        }
        results.push(result);
    }
    let rules: Vec<Value> = rules
        .into_iter()
        .map(|(_, severity, mut rule)| {
            rule["defaultConfiguration"] = json!({ "level": level(severity) });
            rule["properties"]["security-severity"] = json!(security_severity(severity));
            rule
        })
        .collect();
    let notifications: Vec<Value> = evaluation
        .failures
        .iter()
        .map(|f| {
            json!({
                "level": "error",
                "message": { "text": format!("policy `{}` failed: {}", f.policy, f.message) },
                "descriptor": { "id": f.kind },
                "properties": { "policy": f.policy },
            })
        })
        .collect();
    let problems: Vec<Value> = evaluation
        .waivers
        .problems
        .iter()
        .map(|p| {
            json!({
                "level": "warning",
                "message": { "text": p.to_string() },
                "descriptor": { "id": format!("waiver-{}", p.kind.as_str().replace('_', "-")) },
            })
        })
        .collect();
    let mut invocation = json!({
        "executionSuccessful": evaluation.failures.is_empty(),
        "exitCode": evaluation.exit_code,
        "properties": {
            "outcome": evaluation.outcome().as_str(),
            "evaluatedAt": evaluation.evaluated_at,
            "manifestDigest": evaluation.manifest_digest,
        },
    });
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::Array(notifications);
    }
    if !problems.is_empty() {
        invocation["toolConfigurationNotifications"] = Value::Array(problems);
    }
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "Tollgate",
                    "version": evaluation.tool_version,
                    "semanticVersion": evaluation.tool_version,
                    "rules": rules,
                },
            },
            "originalUriBaseIds": {
                SRCROOT: {
                    "description": { "text": "The working directory of the run (the repository root in CI)." },
                },
            },
            "invocations": [invocation],
            "results": results,
            "properties": {
                "policies": evaluation.policies.iter().map(|p| json!({
                    "id": p.metadata.id,
                    "framework": p.metadata.framework,
                    "version": p.metadata.version,
                    "digest": p.digest,
                })).collect::<Vec<_>>(),
            },
        }],
    });
    serde_json::to_string_pretty(&log).map(|text| text + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("fixtures/cards.csv"), "fixtures/cards.csv");
        assert_eq!(uri("a dir/ünï.yaml"), "a%20dir/%C3%BCn%C3%AF.yaml");
        assert_eq!(uri("c:\\x\\y"), "./c:/x/y");
    }
}
