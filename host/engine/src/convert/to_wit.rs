// Lowering a manifest into the records of one contract version's `manifest` interface; included
// by each `lower_*` module of `convert.rs`, whose `wm` names that interface and which defines the
// hooks where versions differ: `approval` (the signature meaning, since 0.4.0), `data_class` (a
// class the version cannot express is left out) and `carries_fact` (a provenance fact the
// version's guests do not know is left out).

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
            approvals: c.approvals.iter().map(approval).collect(),
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
                .filter(|(field, _)| carries_fact(field))
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
