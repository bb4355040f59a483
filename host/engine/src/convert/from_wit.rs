// Lifting a policy's results from the records of one contract version; included by each module of
// `convert.rs`, whose `wd` names that version's `decision` interface and which defines the hooks
// where versions differ: `control_status`, `present` (a risk or routing record, optional since
// 0.3.0), `finding_references` (carried by findings before 0.3.0, filled from the catalogue since)
// and `schemas` (declared since 0.3.0).

/// Policy metadata from its WIT record.
pub(crate) fn metadata(meta: wd::PolicyMetadata) -> d::PolicyMetadata {
    let (settings_schema, extensions) = schemas(&meta);
    d::PolicyMetadata {
        id: meta.id,
        framework: meta.framework,
        version: meta.version,
        description: meta.description,
        controls: meta
            .controls
            .into_iter()
            .map(|c| d::Control {
                id: c.id,
                title: c.title,
                description: c.description,
                references: references(c.references),
                rules: c.rules,
                relies_on: c.relies_on,
            })
            .collect(),
        settings_schema,
        extensions,
    }
}

fn references(refs: Vec<wd::RegulatoryReference>) -> Vec<d::RegulatoryReference> {
    refs.into_iter()
        .map(|r| d::RegulatoryReference {
            source: r.source,
            section: r.section,
        })
        .collect()
}

/// An evaluation error from its WIT variant.
pub(crate) fn eval_error(error: wd::EvalError) -> d::EvalError {
    match error {
        wd::EvalError::InvalidSettings(m) => d::EvalError::InvalidSettings(m),
        wd::EvalError::InvalidManifest(m) => d::EvalError::InvalidManifest(m),
        wd::EvalError::Internal(m) => d::EvalError::Internal(m),
    }
}

/// A decision from its WIT record; `catalogue` is the deciding policy's metadata.
pub(crate) fn decision(dec: wd::Decision, catalogue: &d::PolicyMetadata) -> d::Decision {
    d::Decision {
        policy_id: dec.policy_id,
        framework: dec.framework,
        applicable: dec.applicable,
        outcome: outcome(dec.outcome),
        risk: present(dec.risk).map(|risk| d::RiskAssessment {
            score: risk.score,
            class: risk_class(risk.class),
            score_class: risk_class(risk.score_class),
            category_class: risk.category_class.map(risk_class),
            factors: risk
                .factors
                .into_iter()
                .map(|f| d::RiskFactor {
                    id: f.id,
                    description: f.description,
                    points: f.points,
                })
                .collect(),
        }),
        routing: present(dec.routing).map(|routing| d::Routing {
            route: routing.route,
            rationale: routing.rationale,
            required: routing
                .required
                .into_iter()
                .map(|r| d::RequiredApproval {
                    role: r.role,
                    satisfied_by: r.satisfied_by,
                })
                .collect(),
            discounted: routing
                .discounted
                .into_iter()
                .map(|r| d::DiscountedApproval {
                    by: r.by,
                    role: r.role,
                    reason: r.reason,
                })
                .collect(),
            automated_checks: routing
                .automated_checks
                .into_iter()
                .map(|c| d::AutomatedCheck {
                    id: c.id,
                    passed: c.passed,
                })
                .collect(),
        }),
        findings: dec
            .findings
            .into_iter()
            .map(|f| d::Finding {
                references: finding_references(&f, catalogue),
                rule_id: f.rule_id,
                control_id: f.control_id,
                severity: severity(f.severity),
                message: f.message,
                remediation: f.remediation,
                field_path: f.field_path,
            })
            .collect(),
        controls: dec
            .controls
            .into_iter()
            .map(|c| d::ControlResult {
                control_id: c.control_id,
                status: control_status(c.status),
                evidence: c.evidence,
            })
            .collect(),
        obligations: dec
            .obligations
            .into_iter()
            .map(|o| d::Obligation {
                id: o.id,
                control_id: o.control_id,
                description: o.description,
                due_within_days: o.due_within_days,
            })
            .collect(),
        summary: dec.summary,
    }
}

fn outcome(outcome: wd::Outcome) -> d::Outcome {
    match outcome {
        wd::Outcome::Approved => d::Outcome::Approved,
        wd::Outcome::NeedsApproval => d::Outcome::NeedsApproval,
        wd::Outcome::Denied => d::Outcome::Denied,
    }
}

fn risk_class(class: wd::RiskClass) -> d::RiskClass {
    match class {
        wd::RiskClass::Low => d::RiskClass::Low,
        wd::RiskClass::Medium => d::RiskClass::Medium,
        wd::RiskClass::High => d::RiskClass::High,
    }
}

fn severity(severity: wd::Severity) -> d::Severity {
    match severity {
        wd::Severity::Info => d::Severity::Info,
        wd::Severity::Low => d::Severity::Low,
        wd::Severity::Medium => d::Severity::Medium,
        wd::Severity::High => d::Severity::High,
        wd::Severity::Critical => d::Severity::Critical,
    }
}
