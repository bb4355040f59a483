//! Conversions between the Rust manifest and decision types and the records generated from the WIT
//! contract. Enums map variant by variant (by name); the compiler checks both sides are exhaustive.
//!
//! The manifest is lowered the same way for every contract version (its interface did not change);
//! results are lifted by [`v0_3`], [`v0_2`] or [`v0_1`], which share `convert/from_wit.rs` and
//! differ in the hooks each defines (control statuses, optional risk and routing, finding
//! references, declared schemas).

use tollgate_manifest as m;

use crate::bindings::v0_3::tollgate::policy::manifest as wm;

/// The extension facts a policy receives: the manifest's objects of the namespaces its metadata
/// declares, as JSON text, in namespace order.
pub(crate) struct Extensions<'a> {
    facts: Vec<(&'a str, String)>,
}

impl<'a> Extensions<'a> {
    /// The namespaces of `manifest` that `metadata` declares.
    pub(crate) fn new(
        manifest: &'a m::Manifest,
        metadata: &tollgate_decision::PolicyMetadata,
    ) -> Self {
        if metadata.extensions.is_empty() || manifest.extensions.is_empty() {
            return Self { facts: Vec::new() };
        }
        Self {
            facts: manifest
                .extensions
                .iter()
                .filter(|(namespace, _)| {
                    metadata
                        .extensions
                        .iter()
                        .any(|declared| &declared.namespace == *namespace)
                })
                .map(|(namespace, facts)| {
                    (
                        namespace.as_str(),
                        serde_json::Value::Object(facts.clone()).to_string(),
                    )
                })
                .collect(),
        }
    }

    /// The context's `extension` records, borrowing the texts.
    pub(crate) fn records(&self) -> Vec<crate::bindings::v0_3::Extension<'_>> {
        self.facts
            .iter()
            .map(|(namespace, facts)| crate::bindings::v0_3::Extension { namespace, facts })
            .collect()
    }
}

/// WIT `timestamp` from a manifest timestamp.
pub(crate) fn timestamp(ts: m::Timestamp) -> wm::Timestamp {
    wm::Timestamp {
        seconds: ts.seconds,
        nanoseconds: ts.nanoseconds,
    }
}

/// The lists of a manifest's WIT record, built once so that the record can borrow them; the
/// record's strings borrow the manifest's own.
pub(crate) struct ManifestLists<'a> {
    manifest: &'a m::Manifest,
    deployer_groups: Vec<&'a str>,
    approvals: Vec<wm::Approval<'a>>,
    data_classes: Vec<wm::DataClass>,
    categories: Vec<wm::ChangeCategory>,
    tests: Vec<wm::TestSuite<'a>>,
    sensitive_data_findings: Vec<wm::SensitiveDataFinding<'a>>,
    resources: Option<Vec<wm::InfrastructureResource<'a>>>,
    provenance: Vec<wm::FactSource<'a>>,
}

impl<'a> ManifestLists<'a> {
    /// Collects the lists of `manifest`.
    pub(crate) fn new(manifest: &'a m::Manifest) -> Self {
        let (c, e) = (&manifest.change, &manifest.evidence);
        Self {
            manifest,
            deployer_groups: c.deployer_groups.iter().map(String::as_str).collect(),
            approvals: c
                .approvals
                .iter()
                .map(|a| wm::Approval {
                    by: &a.by,
                    role: &a.role,
                    at: timestamp(a.at),
                })
                .collect(),
            data_classes: c.data_classes.iter().copied().filter_map(data_class).collect(),
            categories: c.categories.iter().copied().map(category).collect(),
            tests: e
                .tests
                .iter()
                .map(|t| wm::TestSuite {
                    suite: &t.suite,
                    passed: t.passed,
                    failed: t.failed,
                })
                .collect(),
            sensitive_data_findings: e
                .sensitive_data_findings
                .iter()
                .map(|f| wm::SensitiveDataFinding {
                    kind: sensitive_kind(f.kind),
                    location: &f.location,
                })
                .collect(),
            resources: e
                .infrastructure
                .as_ref()
                .map(|i| i.resources.iter().map(resource).collect()),
            provenance: manifest
                .provenance
                .iter()
                .map(|(field, source)| wm::FactSource {
                    field,
                    kind: source_kind(source.kind),
                    detail: source.detail.as_deref(),
                })
                .collect(),
        }
    }

    /// The WIT `change-manifest` record.
    pub(crate) fn record(&self) -> wm::ChangeManifest<'_> {
        wm::ChangeManifest {
            version: self.manifest.version,
            change: self.change(),
            evidence: self.evidence(),
            provenance: &self.provenance,
        }
    }

    fn change(&self) -> wm::Change<'_> {
        let c = &self.manifest.change;
        wm::Change {
            id: &c.id,
            title: &c.title,
            reason: c.reason.as_deref(),
            security_impact: c.security_impact.as_deref(),
            ticket_status: ticket_status(c.ticket_status),
            submitted_at: c.submitted_at.map(timestamp),
            emergency: c.emergency,
            commit: c.commit.as_deref(),
            pipeline_id: c.pipeline_id.as_deref(),
            author: &c.author,
            deployer: &c.deployer,
            deployer_groups: &self.deployer_groups,
            approvals: &self.approvals,
            environment: &c.environment,
            data_classes: &self.data_classes,
            categories: &self.categories,
            includes_schema_changes: c.includes_schema_changes,
            touches_security_components: c.touches_security_components,
            lines_changed: c.lines_changed,
            historical_failure_rate: c.historical_failure_rate,
        }
    }

    fn evidence(&self) -> wm::Evidence<'_> {
        let e = &self.manifest.evidence;
        wm::Evidence {
            tests: &self.tests,
            security_scan: e.security_scan.as_ref().map(|s| wm::SecurityScan {
                completed: s.completed,
                critical: s.critical,
                high: s.high,
                medium: s.medium,
                low: s.low,
            }),
            compliance_checks_passed: e.compliance_checks_passed,
            backup_verified: e.backup_verified,
            rollback_plan: wm::RollbackPlan {
                documented: e.rollback_plan.documented,
                strategy: e.rollback_plan.strategy.map(rollback_strategy),
                tested: e.rollback_plan.tested,
            },
            encryption: e.encryption.as_ref().map(|x| wm::Encryption {
                at_rest: x.at_rest,
                in_transit: x.in_transit,
                key_rotated_days_ago: x.key_rotated_days_ago,
            }),
            audit_logging: e.audit_logging,
            sensitive_data_findings: &self.sensitive_data_findings,
            test_data_removed: e.test_data_removed,
            breach_notification_procedure: e.breach_notification_procedure,
            infrastructure: self
                .resources
                .as_deref()
                .map(|resources| wm::Infrastructure { resources }),
        }
    }
}

fn source_kind(kind: m::SourceKind) -> wm::SourceKind {
    match kind {
        m::SourceKind::Unrecorded => wm::SourceKind::Unrecorded,
        m::SourceKind::Git => wm::SourceKind::Git,
        m::SourceKind::Ci => wm::SourceKind::Ci,
        m::SourceKind::CommandLine => wm::SourceKind::CommandLine,
        m::SourceKind::Ticket => wm::SourceKind::Ticket,
        m::SourceKind::TestReport => wm::SourceKind::TestReport,
        m::SourceKind::Scanner => wm::SourceKind::Scanner,
        m::SourceKind::Detector => wm::SourceKind::Detector,
        m::SourceKind::Configuration => wm::SourceKind::Configuration,
        m::SourceKind::Directory => wm::SourceKind::Directory,
        m::SourceKind::HandWritten => wm::SourceKind::HandWritten,
        m::SourceKind::Default => wm::SourceKind::Default,
        m::SourceKind::TerraformPlan => wm::SourceKind::TerraformPlan,
    }
}

fn ticket_status(status: m::TicketStatus) -> wm::TicketStatus {
    match status {
        m::TicketStatus::Draft => wm::TicketStatus::Draft,
        m::TicketStatus::Submitted => wm::TicketStatus::Submitted,
        m::TicketStatus::Approved => wm::TicketStatus::Approved,
        m::TicketStatus::Rejected => wm::TicketStatus::Rejected,
    }
}

fn data_class(class: m::DataClass) -> Option<wm::DataClass> {
    match class {
        m::DataClass::Phi => Some(wm::DataClass::Phi),
        m::DataClass::CardholderData => Some(wm::DataClass::CardholderData),
        m::DataClass::FinancialReporting => Some(wm::DataClass::FinancialReporting),
        m::DataClass::Pii => Some(wm::DataClass::Pii),
        m::DataClass::Gxp => None,
    }
}

fn category(category: m::ChangeCategory) -> wm::ChangeCategory {
    match category {
        m::ChangeCategory::ConfigOnly => wm::ChangeCategory::ConfigOnly,
        m::ChangeCategory::FeatureFlags => wm::ChangeCategory::FeatureFlags,
        m::ChangeCategory::ContentUpdates => wm::ChangeCategory::ContentUpdates,
        m::ChangeCategory::BusinessLogic => wm::ChangeCategory::BusinessLogic,
        m::ChangeCategory::DatabaseViews => wm::ChangeCategory::DatabaseViews,
        m::ChangeCategory::UiChanges => wm::ChangeCategory::UiChanges,
        m::ChangeCategory::DatabaseSchema => wm::ChangeCategory::DatabaseSchema,
        m::ChangeCategory::SecurityChanges => wm::ChangeCategory::SecurityChanges,
        m::ChangeCategory::Infrastructure => wm::ChangeCategory::Infrastructure,
    }
}

fn resource(r: &m::InfrastructureResource) -> wm::InfrastructureResource<'_> {
    wm::InfrastructureResource {
        address: &r.address,
        resource_type: &r.resource_type,
        action: match r.action {
            m::ResourceAction::Create => wm::ResourceAction::Create,
            m::ResourceAction::Update => wm::ResourceAction::Update,
            m::ResourceAction::Replace => wm::ResourceAction::Replace,
            m::ResourceAction::Delete => wm::ResourceAction::Delete,
        },
        tracking_tags: r.tracking_tags.as_ref().map(|t| wm::TrackingTags {
            change_ticket: t.change_ticket.as_deref(),
            git_commit_sha: t.git_commit_sha.as_deref(),
            approval_reference: t.approval_reference.as_deref(),
            compliance_framework: t.compliance_framework.as_deref(),
        }),
        audit_trail: r.audit_trail.map(|a| wm::AuditTrail {
            logging: a.logging,
            multi_region: a.multi_region,
            log_file_validation: a.log_file_validation,
            kms_encrypted: a.kms_encrypted,
        }),
        data_store: r.data_store.map(|d| wm::DataStore {
            kind: match d.kind {
                m::DataStoreKind::Bucket => wm::DataStoreKind::Bucket,
                m::DataStoreKind::Database => wm::DataStoreKind::Database,
                m::DataStoreKind::Volume => wm::DataStoreKind::Volume,
                m::DataStoreKind::FileSystem => wm::DataStoreKind::FileSystem,
            },
            encrypted: d.encrypted,
            public: d.public,
        }),
    }
}

fn rollback_strategy(strategy: m::RollbackStrategy) -> wm::RollbackStrategy {
    match strategy {
        m::RollbackStrategy::BlueGreen => wm::RollbackStrategy::BlueGreen,
        m::RollbackStrategy::Canary => wm::RollbackStrategy::Canary,
        m::RollbackStrategy::RedeployPrevious => wm::RollbackStrategy::RedeployPrevious,
        m::RollbackStrategy::FeatureFlag => wm::RollbackStrategy::FeatureFlag,
        m::RollbackStrategy::RestoreBackup => wm::RollbackStrategy::RestoreBackup,
        m::RollbackStrategy::Other => wm::RollbackStrategy::Other,
    }
}

fn sensitive_kind(kind: m::SensitiveDataKind) -> wm::SensitiveDataKind {
    match kind {
        m::SensitiveDataKind::Pan => wm::SensitiveDataKind::Pan,
        m::SensitiveDataKind::Ssn => wm::SensitiveDataKind::Ssn,
        m::SensitiveDataKind::MedicalRecordNumber => wm::SensitiveDataKind::MedicalRecordNumber,
        m::SensitiveDataKind::HealthPlanId => wm::SensitiveDataKind::HealthPlanId,
        m::SensitiveDataKind::PhiOther => wm::SensitiveDataKind::PhiOther,
    }
}

/// Results of a `tollgate:policy@0.3.0` component: findings without references (filled from the
/// catalogue), optional risk and routing, declared schemas.
pub(crate) mod v0_3 {
    use crate::bindings::v0_3::tollgate::policy::decision as wd;
    use tollgate_decision as d;

    include!("convert/from_wit.rs");

    fn control_status(status: wd::ControlStatus) -> d::ControlStatus {
        match status {
            wd::ControlStatus::Compliant => d::ControlStatus::Compliant,
            wd::ControlStatus::NonCompliant => d::ControlStatus::NonCompliant,
            wd::ControlStatus::NotApplicable => d::ControlStatus::NotApplicable,
            wd::ControlStatus::NotAssessed => d::ControlStatus::NotAssessed,
            wd::ControlStatus::Pending => d::ControlStatus::Pending,
        }
    }

    fn present<T>(value: Option<T>) -> Option<T> {
        value
    }

    /// The references of the finding's control in the catalogue (none for a control the catalogue
    /// lacks, which the decision contract refuses).
    fn finding_references(
        finding: &wd::Finding,
        catalogue: &d::PolicyMetadata,
    ) -> Vec<d::RegulatoryReference> {
        catalogue
            .control(&finding.control_id)
            .map(|control| control.references.clone())
            .unwrap_or_default()
    }

    fn schemas(meta: &wd::PolicyMetadata) -> (Option<String>, Vec<d::ExtensionSchema>) {
        (
            meta.settings_schema.clone(),
            meta.extensions
                .iter()
                .map(|e| d::ExtensionSchema {
                    namespace: e.namespace.clone(),
                    description: e.description.clone(),
                    schema: e.schema.clone(),
                })
                .collect(),
        )
    }
}

/// Results of a `tollgate:policy@0.2.0` component: risk, routing and each finding's references
/// always present, no declared schemas.
pub(crate) mod v0_2 {
    use crate::bindings::v0_2::tollgate::policy::decision as wd;
    use tollgate_decision as d;

    include!("convert/from_wit.rs");
    include!("convert/before_0_3.rs");

    fn control_status(status: wd::ControlStatus) -> d::ControlStatus {
        match status {
            wd::ControlStatus::Compliant => d::ControlStatus::Compliant,
            wd::ControlStatus::NonCompliant => d::ControlStatus::NonCompliant,
            wd::ControlStatus::NotApplicable => d::ControlStatus::NotApplicable,
            wd::ControlStatus::NotAssessed => d::ControlStatus::NotAssessed,
            wd::ControlStatus::Pending => d::ControlStatus::Pending,
        }
    }
}

/// Results of a `tollgate:policy@0.1.0` component: as 0.2.0's, with control statuses a subset of
/// 0.2.0's that map to the same names.
pub(crate) mod v0_1 {
    use crate::bindings::v0_1::tollgate::policy::decision as wd;
    use tollgate_decision as d;

    include!("convert/from_wit.rs");
    include!("convert/before_0_3.rs");

    fn control_status(status: wd::ControlStatus) -> d::ControlStatus {
        match status {
            wd::ControlStatus::Compliant => d::ControlStatus::Compliant,
            wd::ControlStatus::NonCompliant => d::ControlStatus::NonCompliant,
            wd::ControlStatus::NotApplicable => d::ControlStatus::NotApplicable,
        }
    }
}
