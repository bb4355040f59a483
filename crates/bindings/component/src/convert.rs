//! Conversions between the WIT records and the Rust model.

use tollgate_decision as d;
use tollgate_decision::EvalError;
use tollgate_manifest as m;

use crate::bindings::tollgate::policy::decision as wd;
use crate::bindings::tollgate::policy::manifest as wm;

pub(crate) fn timestamp(ts: wm::Timestamp, field: &str) -> Result<m::Timestamp, EvalError> {
    m::Timestamp::from_parts(ts.seconds, ts.nanoseconds).ok_or_else(|| {
        EvalError::InvalidManifest(format!(
            "`{field}`: {}s {}ns is not a representable instant",
            ts.seconds, ts.nanoseconds
        ))
    })
}

/// The manifest's extension objects from the evaluation context's JSON texts.
pub(crate) fn extensions(
    extensions: Vec<crate::bindings::Extension>,
) -> Result<m::Extensions, EvalError> {
    extensions
        .into_iter()
        .map(|e| {
            m::parse_json_object(&e.facts)
                .map(|facts| (e.namespace.clone(), facts))
                .map_err(|error| {
                    EvalError::InvalidManifest(format!(
                        "`extensions.{}` is not a JSON object: {error}",
                        e.namespace
                    ))
                })
        })
        .collect()
}

pub(crate) fn manifest(input: wm::ChangeManifest) -> Result<m::Manifest, EvalError> {
    let c = input.change;
    let approvals = c
        .approvals
        .into_iter()
        .enumerate()
        .map(|(index, a)| {
            Ok(m::Approval {
                by: a.by,
                role: a.role,
                at: timestamp(a.at, &format!("change.approvals[{index}].at"))?,
                meaning: a.meaning.map(|meaning| match meaning {
                    wm::SignatureMeaning::Review => m::SignatureMeaning::Review,
                    wm::SignatureMeaning::Approval => m::SignatureMeaning::Approval,
                    wm::SignatureMeaning::Responsibility => m::SignatureMeaning::Responsibility,
                    wm::SignatureMeaning::Authorship => m::SignatureMeaning::Authorship,
                }),
            })
        })
        .collect::<Result<Vec<_>, EvalError>>()?;
    let e = input.evidence;
    Ok(m::Manifest {
        version: input.version,
        change: m::Change {
            id: c.id,
            title: c.title,
            reason: c.reason,
            security_impact: c.security_impact,
            ticket_status: match c.ticket_status {
                wm::TicketStatus::Draft => m::TicketStatus::Draft,
                wm::TicketStatus::Submitted => m::TicketStatus::Submitted,
                wm::TicketStatus::Approved => m::TicketStatus::Approved,
                wm::TicketStatus::Rejected => m::TicketStatus::Rejected,
            },
            submitted_at: c
                .submitted_at
                .map(|at| timestamp(at, "change.submitted_at"))
                .transpose()?,
            emergency: c.emergency,
            commit: c.commit,
            pipeline_id: c.pipeline_id,
            author: c.author,
            deployer: c.deployer,
            deployer_groups: c.deployer_groups,
            approvals,
            environment: c.environment,
            data_classes: c
                .data_classes
                .into_iter()
                .map(|class| match class {
                    wm::DataClass::Phi => m::DataClass::Phi,
                    wm::DataClass::CardholderData => m::DataClass::CardholderData,
                    wm::DataClass::FinancialReporting => m::DataClass::FinancialReporting,
                    wm::DataClass::Pii => m::DataClass::Pii,
                    wm::DataClass::Gxp => m::DataClass::Gxp,
                })
                .collect(),
            categories: c.categories.into_iter().map(category).collect(),
            includes_schema_changes: c.includes_schema_changes,
            touches_security_components: c.touches_security_components,
            lines_changed: c.lines_changed,
            historical_failure_rate: c.historical_failure_rate,
        },
        evidence: m::Evidence {
            tests: e
                .tests
                .into_iter()
                .map(|t| m::TestSuite {
                    suite: t.suite,
                    passed: t.passed,
                    failed: t.failed,
                })
                .collect(),
            security_scan: e.security_scan.map(|s| m::SecurityScan {
                completed: s.completed,
                critical: s.critical,
                high: s.high,
                medium: s.medium,
                low: s.low,
            }),
            compliance_checks_passed: e.compliance_checks_passed,
            backup_verified: e.backup_verified,
            rollback_plan: m::RollbackPlan {
                documented: e.rollback_plan.documented,
                strategy: e.rollback_plan.strategy.map(|s| match s {
                    wm::RollbackStrategy::BlueGreen => m::RollbackStrategy::BlueGreen,
                    wm::RollbackStrategy::Canary => m::RollbackStrategy::Canary,
                    wm::RollbackStrategy::RedeployPrevious => m::RollbackStrategy::RedeployPrevious,
                    wm::RollbackStrategy::FeatureFlag => m::RollbackStrategy::FeatureFlag,
                    wm::RollbackStrategy::RestoreBackup => m::RollbackStrategy::RestoreBackup,
                    wm::RollbackStrategy::Other => m::RollbackStrategy::Other,
                }),
                tested: e.rollback_plan.tested,
            },
            encryption: e.encryption.map(|x| m::Encryption {
                at_rest: x.at_rest,
                in_transit: x.in_transit,
                key_rotated_days_ago: x.key_rotated_days_ago,
            }),
            audit_logging: e.audit_logging,
            sensitive_data_findings: e
                .sensitive_data_findings
                .into_iter()
                .map(|f| m::SensitiveDataFinding {
                    kind: match f.kind {
                        wm::SensitiveDataKind::Pan => m::SensitiveDataKind::Pan,
                        wm::SensitiveDataKind::Ssn => m::SensitiveDataKind::Ssn,
                        wm::SensitiveDataKind::MedicalRecordNumber => {
                            m::SensitiveDataKind::MedicalRecordNumber
                        }
                        wm::SensitiveDataKind::HealthPlanId => m::SensitiveDataKind::HealthPlanId,
                        wm::SensitiveDataKind::PhiOther => m::SensitiveDataKind::PhiOther,
                    },
                    location: f.location,
                })
                .collect(),
            test_data_removed: e.test_data_removed,
            breach_notification_procedure: e.breach_notification_procedure,
            infrastructure: e.infrastructure.map(infrastructure),
        },
        provenance: provenance(input.provenance)?,
        extensions: m::Extensions::new(),
    })
}

/// The manifest's provenance; an unknown or repeated field is an invalid manifest, as the parser
/// would have said.
fn provenance(sources: Vec<wm::FactSource>) -> Result<m::Provenance, EvalError> {
    let mut provenance = m::Provenance::default();
    for (index, source) in sources.into_iter().enumerate() {
        let place = format!("provenance[{index}].field");
        if !m::FACT_FIELDS.contains(&source.field.as_str()) {
            return Err(EvalError::InvalidManifest(format!(
                "`{place}`: unknown fact `{}`",
                source.field
            )));
        }
        if provenance.get(&source.field).is_some() {
            return Err(EvalError::InvalidManifest(format!(
                "`{place}`: `{}` is given twice",
                source.field
            )));
        }
        let kind = match source.kind {
            wm::SourceKind::Unrecorded => m::SourceKind::Unrecorded,
            wm::SourceKind::Git => m::SourceKind::Git,
            wm::SourceKind::Ci => m::SourceKind::Ci,
            wm::SourceKind::CommandLine => m::SourceKind::CommandLine,
            wm::SourceKind::Ticket => m::SourceKind::Ticket,
            wm::SourceKind::TestReport => m::SourceKind::TestReport,
            wm::SourceKind::Scanner => m::SourceKind::Scanner,
            wm::SourceKind::Detector => m::SourceKind::Detector,
            wm::SourceKind::Configuration => m::SourceKind::Configuration,
            wm::SourceKind::Directory => m::SourceKind::Directory,
            wm::SourceKind::HandWritten => m::SourceKind::HandWritten,
            wm::SourceKind::Default => m::SourceKind::Default,
            wm::SourceKind::TerraformPlan => m::SourceKind::TerraformPlan,
        };
        provenance.insert(source.field, m::FactSource::new(kind, source.detail));
    }
    Ok(provenance)
}

fn infrastructure(i: wm::Infrastructure) -> m::Infrastructure {
    m::Infrastructure {
        resources: i
            .resources
            .into_iter()
            .map(|r| m::InfrastructureResource {
                address: r.address,
                resource_type: r.resource_type,
                action: match r.action {
                    wm::ResourceAction::Create => m::ResourceAction::Create,
                    wm::ResourceAction::Update => m::ResourceAction::Update,
                    wm::ResourceAction::Replace => m::ResourceAction::Replace,
                    wm::ResourceAction::Delete => m::ResourceAction::Delete,
                },
                tracking_tags: r.tracking_tags.map(|t| m::TrackingTags {
                    change_ticket: t.change_ticket,
                    git_commit_sha: t.git_commit_sha,
                    approval_reference: t.approval_reference,
                    compliance_framework: t.compliance_framework,
                }),
                audit_trail: r.audit_trail.map(|a| m::AuditTrail {
                    logging: a.logging,
                    multi_region: a.multi_region,
                    log_file_validation: a.log_file_validation,
                    kms_encrypted: a.kms_encrypted,
                }),
                data_store: r.data_store.map(|d| m::DataStore {
                    kind: match d.kind {
                        wm::DataStoreKind::Bucket => m::DataStoreKind::Bucket,
                        wm::DataStoreKind::Database => m::DataStoreKind::Database,
                        wm::DataStoreKind::Volume => m::DataStoreKind::Volume,
                        wm::DataStoreKind::FileSystem => m::DataStoreKind::FileSystem,
                    },
                    encrypted: d.encrypted,
                    public: d.public,
                }),
            })
            .collect(),
    }
}

fn category(c: wm::ChangeCategory) -> m::ChangeCategory {
    match c {
        wm::ChangeCategory::ConfigOnly => m::ChangeCategory::ConfigOnly,
        wm::ChangeCategory::FeatureFlags => m::ChangeCategory::FeatureFlags,
        wm::ChangeCategory::ContentUpdates => m::ChangeCategory::ContentUpdates,
        wm::ChangeCategory::BusinessLogic => m::ChangeCategory::BusinessLogic,
        wm::ChangeCategory::DatabaseViews => m::ChangeCategory::DatabaseViews,
        wm::ChangeCategory::UiChanges => m::ChangeCategory::UiChanges,
        wm::ChangeCategory::DatabaseSchema => m::ChangeCategory::DatabaseSchema,
        wm::ChangeCategory::SecurityChanges => m::ChangeCategory::SecurityChanges,
        wm::ChangeCategory::Infrastructure => m::ChangeCategory::Infrastructure,
    }
}

fn references(refs: Vec<d::RegulatoryReference>) -> Vec<wd::RegulatoryReference> {
    refs.into_iter()
        .map(|r| wd::RegulatoryReference {
            source: r.source,
            section: r.section,
        })
        .collect()
}

pub(crate) fn metadata(meta: d::PolicyMetadata) -> wd::PolicyMetadata {
    wd::PolicyMetadata {
        id: meta.id,
        framework: meta.framework,
        version: meta.version,
        description: meta.description,
        controls: meta
            .controls
            .into_iter()
            .map(|c| wd::Control {
                id: c.id,
                title: c.title,
                description: c.description,
                references: references(c.references),
                rules: c.rules,
                relies_on: c.relies_on,
            })
            .collect(),
        settings_schema: meta.settings_schema,
        extensions: meta
            .extensions
            .into_iter()
            .map(|e| wd::ExtensionSchema {
                namespace: e.namespace,
                description: e.description,
                schema: e.schema,
            })
            .collect(),
    }
}

fn risk_class(class: d::RiskClass) -> wd::RiskClass {
    match class {
        d::RiskClass::Low => wd::RiskClass::Low,
        d::RiskClass::Medium => wd::RiskClass::Medium,
        d::RiskClass::High => wd::RiskClass::High,
    }
}

pub(crate) fn decision(decision: d::Decision) -> wd::Decision {
    wd::Decision {
        policy_id: decision.policy_id,
        framework: decision.framework,
        applicable: decision.applicable,
        outcome: match decision.outcome {
            d::Outcome::Approved => wd::Outcome::Approved,
            d::Outcome::NeedsApproval => wd::Outcome::NeedsApproval,
            d::Outcome::Denied => wd::Outcome::Denied,
        },
        risk: decision.risk.map(|risk| wd::RiskAssessment {
            score: risk.score,
            class: risk_class(risk.class),
            score_class: risk_class(risk.score_class),
            category_class: risk.category_class.map(risk_class),
            factors: risk
                .factors
                .into_iter()
                .map(|f| wd::RiskFactor {
                    id: f.id,
                    description: f.description,
                    points: f.points,
                })
                .collect(),
        }),
        routing: decision.routing.map(|routing| wd::Routing {
            route: routing.route,
            rationale: routing.rationale,
            required: routing
                .required
                .into_iter()
                .map(|r| wd::RequiredApproval {
                    role: r.role,
                    satisfied_by: r.satisfied_by,
                })
                .collect(),
            discounted: routing
                .discounted
                .into_iter()
                .map(|a| wd::DiscountedApproval {
                    by: a.by,
                    role: a.role,
                    reason: a.reason,
                })
                .collect(),
            automated_checks: routing
                .automated_checks
                .into_iter()
                .map(|c| wd::AutomatedCheck {
                    id: c.id,
                    passed: c.passed,
                })
                .collect(),
        }),
        findings: decision
            .findings
            .into_iter()
            .map(|f| wd::Finding {
                rule_id: f.rule_id,
                control_id: f.control_id,
                severity: match f.severity {
                    d::Severity::Info => wd::Severity::Info,
                    d::Severity::Low => wd::Severity::Low,
                    d::Severity::Medium => wd::Severity::Medium,
                    d::Severity::High => wd::Severity::High,
                    d::Severity::Critical => wd::Severity::Critical,
                },
                message: f.message,
                remediation: f.remediation,
                field_path: f.field_path,
            })
            .collect(),
        controls: decision
            .controls
            .into_iter()
            .map(|c| wd::ControlResult {
                control_id: c.control_id,
                status: match c.status {
                    d::ControlStatus::Compliant => wd::ControlStatus::Compliant,
                    d::ControlStatus::NonCompliant => wd::ControlStatus::NonCompliant,
                    d::ControlStatus::NotApplicable => wd::ControlStatus::NotApplicable,
                    d::ControlStatus::NotAssessed => wd::ControlStatus::NotAssessed,
                    d::ControlStatus::Pending => wd::ControlStatus::Pending,
                },
                evidence: c.evidence,
            })
            .collect(),
        obligations: decision
            .obligations
            .into_iter()
            .map(|o| wd::Obligation {
                id: o.id,
                control_id: o.control_id,
                description: o.description,
                due_within_days: o.due_within_days,
            })
            .collect(),
        summary: decision.summary,
    }
}

pub(crate) fn eval_error(error: EvalError) -> wd::EvalError {
    match error {
        EvalError::InvalidSettings(m) => wd::EvalError::InvalidSettings(m),
        EvalError::InvalidManifest(m) => wd::EvalError::InvalidManifest(m),
        EvalError::Internal(m) => wd::EvalError::Internal(m),
    }
}
