//! The change manifest model. Every struct rejects unknown fields, so a misspelt field is an error
//! rather than a silently weakened gate. Defaults are fail-closed: missing evidence counts as absent.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

use crate::{Provenance, Timestamp};

/// The manifest format version this crate reads.
pub const MANIFEST_VERSION: u32 = 1;

/// One change and its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Tollgate change manifest")]
pub struct Manifest {
    /// Manifest format version. Required; must be `1`.
    #[serde(deserialize_with = "version")]
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// The change. Required.
    pub change: Change,
    /// The evidence gathered for the change. Default: no evidence (every evidence-based control fails).
    #[serde(default)]
    pub evidence: Evidence,
    /// Where each fact came from, by field path (`change.approvals: {kind: ticket}`). Default:
    /// nothing recorded (every fact's source is `unrecorded`).
    #[serde(default, skip_serializing_if = "Provenance::is_empty")]
    pub provenance: Provenance,
    /// Facts the core fields do not cover, as one object per namespace (`extensions: {acme:
    /// {service_tier: gold}}`). A namespace must be one a loaded policy declares; the host checks
    /// its object against that policy's JSON Schema before any policy runs. Default: none.
    #[serde(default, skip_serializing_if = "Extensions::is_empty")]
    pub extensions: Extensions,
}

/// A manifest's extension facts: namespace → that namespace's object.
pub type Extensions =
    std::collections::BTreeMap<String, serde_json::Map<String, serde_json::Value>>;

/// What the change is and who is involved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Change ticket id, for example `CHG-2041`. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    #[schemars(length(min = 1))]
    pub id: String,
    /// Short title. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    #[schemars(length(min = 1))]
    pub title: String,
    /// Why the change is made (PCI DSS 6.5.1 reason). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The documented security impact (PCI DSS 6.5.1). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_impact: Option<String>,
    /// State of the change ticket. Required.
    pub ticket_status: TicketStatus,
    /// When the change ticket was submitted for approval (RFC 3339). Default: unknown. The
    /// evidence report measures approval time from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<Timestamp>,
    /// Whether this is an emergency change (COBIT BAI06.02). Default: `false`.
    #[serde(default)]
    pub emergency: bool,
    /// Commit being deployed. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// CI pipeline id. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    /// Author of the change. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    #[schemars(length(min = 1))]
    pub author: String,
    /// Who deploys the change. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    #[schemars(length(min = 1))]
    pub deployer: String,
    /// Directory groups the deployer belongs to. Default: none.
    #[serde(default)]
    pub deployer_groups: Vec<String>,
    /// Approvals recorded on the ticket. Default: none.
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// Target environment, for example `production`, `staging` or `development`. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    #[schemars(length(min = 1))]
    pub environment: String,
    /// Classes of data the change affects; each can bring a framework into scope. Default: none.
    #[serde(default)]
    pub data_classes: Vec<DataClass>,
    /// Kinds of change; each implies a minimum risk class. Default: none.
    #[serde(default)]
    pub categories: Vec<ChangeCategory>,
    /// Whether the change alters a database schema. Default: `false`.
    #[serde(default)]
    pub includes_schema_changes: bool,
    /// Whether the change touches security components. Default: `false`.
    #[serde(default)]
    pub touches_security_components: bool,
    /// Lines added plus lines removed. Default: `0`.
    #[serde(default)]
    pub lines_changed: u32,
    /// Failure rate of similar past changes, between 0 and 1. Default: `0`.
    #[serde(default, deserialize_with = "failure_rate")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub historical_failure_rate: f64,
}

/// Lifecycle state of the change ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// Being written.
    Draft,
    /// Submitted and awaiting approval.
    Submitted,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
}

/// Classes of data a change can affect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataClass {
    /// Protected health information (brings HIPAA into scope).
    Phi,
    /// Cardholder data (brings PCI DSS into scope).
    CardholderData,
    /// Data feeding financial reporting.
    FinancialReporting,
    /// Other personally identifiable information.
    Pii,
    /// Records subject to GxP predicate rules, kept or signed electronically under FDA 21 CFR
    /// Part 11 and EU GMP Annex 11 (brings the FDA pack into scope).
    Gxp,
}

/// Kinds of change, each implying a default risk class for change management (SOX ITGC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeCategory {
    /// Configuration only (low risk).
    ConfigOnly,
    /// Feature flags (low risk).
    FeatureFlags,
    /// Content updates (low risk).
    ContentUpdates,
    /// Business logic (medium risk).
    BusinessLogic,
    /// Database views (medium risk).
    DatabaseViews,
    /// User-interface changes (medium risk).
    UiChanges,
    /// Database schema (high risk).
    DatabaseSchema,
    /// Security changes (high risk).
    SecurityChanges,
    /// Infrastructure (high risk).
    Infrastructure,
}

impl ChangeCategory {
    /// Every category, in declaration order.
    pub const ALL: [ChangeCategory; 9] = [
        Self::ConfigOnly,
        Self::FeatureFlags,
        Self::ContentUpdates,
        Self::BusinessLogic,
        Self::DatabaseViews,
        Self::UiChanges,
        Self::DatabaseSchema,
        Self::SecurityChanges,
        Self::Infrastructure,
    ];

    /// The snake-case name, as manifests and settings spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigOnly => "config_only",
            Self::FeatureFlags => "feature_flags",
            Self::ContentUpdates => "content_updates",
            Self::BusinessLogic => "business_logic",
            Self::DatabaseViews => "database_views",
            Self::UiChanges => "ui_changes",
            Self::DatabaseSchema => "database_schema",
            Self::SecurityChanges => "security_changes",
            Self::Infrastructure => "infrastructure",
        }
    }
}

/// One recorded approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Identity of the approver. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    #[schemars(length(min = 1))]
    pub by: String,
    /// Role the approver acted in, for example `TECHNICAL_LEAD`. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    #[schemars(length(min = 1))]
    pub role: String,
    /// When the approval was given (RFC 3339). Required.
    pub at: Timestamp,
    /// What the signature means (21 CFR 11.50(a)(3)): `review`, `approval`, `responsibility` or
    /// `authorship`. Default: not stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meaning: Option<SignatureMeaning>,
}

/// The meaning of an electronic signature, as 21 CFR 11.50(a)(3) requires a signed record to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureMeaning {
    /// The signer reviewed the change.
    Review,
    /// The signer approved the change.
    Approval,
    /// The signer takes responsibility for the change.
    Responsibility,
    /// The signer authored the change.
    Authorship,
}

/// The evidence gathered for a change.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// Test results by suite. Default: none.
    #[serde(default)]
    pub tests: Vec<TestSuite>,
    /// Security scan summary. Default: none (no scan ran).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_scan: Option<SecurityScan>,
    /// Whether the automated compliance checks passed. Default: `false`.
    #[serde(default)]
    pub compliance_checks_passed: bool,
    /// Whether a restorable backup was verified. Default: `false`.
    #[serde(default)]
    pub backup_verified: bool,
    /// The back-out plan. Default: not documented.
    #[serde(default)]
    pub rollback_plan: RollbackPlan,
    /// Encryption posture. Default: none (not evidenced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// Whether audit logging is enabled. Default: `false`.
    #[serde(default)]
    pub audit_logging: bool,
    /// Sensitive data found in non-production evidence. Default: none.
    #[serde(default)]
    pub sensitive_data_findings: Vec<SensitiveDataFinding>,
    /// Whether test data and test accounts were removed. Default: `false`.
    #[serde(default)]
    pub test_data_removed: bool,
    /// Whether a breach-notification procedure is in place. Default: `false`.
    #[serde(default)]
    pub breach_notification_procedure: bool,
    /// What the change's infrastructure plan (`terraform show -json`) changes. Default: none (no
    /// plan was gathered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure: Option<Infrastructure>,
}

/// What an infrastructure plan changes: every resource it creates, updates, replaces or deletes
/// (unchanged and read-only resources are left out).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Infrastructure {
    /// The changed resources, in plan order. Default: none.
    #[serde(default)]
    pub resources: Vec<InfrastructureResource>,
}

/// One resource an infrastructure plan changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InfrastructureResource {
    /// Resource address, for example `aws_s3_bucket.records`. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    #[schemars(length(min = 1))]
    pub address: String,
    /// Resource type, for example `aws_s3_bucket`. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    #[schemars(length(min = 1))]
    pub resource_type: String,
    /// What the plan does to it. Required.
    pub action: ResourceAction,
    /// Its change-tracking tags after the change. Default: none (the resource takes no tags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_tags: Option<TrackingTags>,
    /// Its audit-trail settings, if it is an audit trail (AWS CloudTrail): after the change, or
    /// before it for a deletion. Default: none (not an audit trail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_trail: Option<AuditTrail>,
    /// Its protection, if it stores data (bucket, database, volume, file system): after the
    /// change, or before it for a deletion. Default: none (not a data store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_store: Option<DataStore>,
}

/// What a plan does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceAction {
    /// Created.
    Create,
    /// Updated in place.
    Update,
    /// Destroyed and created again.
    Replace,
    /// Destroyed.
    Delete,
}

/// The change-tracking tags of a resource (`ChangeTicket`, `GitCommitSHA`, `ApprovalReference`,
/// `ComplianceFramework`); an absent tag is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingTags {
    /// `ChangeTicket`: the change ticket id. Default: absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_ticket: Option<String>,
    /// `GitCommitSHA`: the commit deployed. Default: absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit_sha: Option<String>,
    /// `ApprovalReference`: the approval record. Default: absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_reference: Option<String>,
    /// `ComplianceFramework`: the framework the resource is in scope of. Default: absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance_framework: Option<String>,
}

/// Audit-trail settings; a setting that is unknown or off is `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditTrail {
    /// The trail is logging. Default: `false`.
    #[serde(default)]
    pub logging: bool,
    /// The trail records every region. Default: `false`.
    #[serde(default)]
    pub multi_region: bool,
    /// Log file integrity validation is on. Default: `false`.
    #[serde(default)]
    pub log_file_validation: bool,
    /// Log files are encrypted with a customer-managed (KMS) key. Default: `false`.
    #[serde(default)]
    pub kms_encrypted: bool,
}

/// Protection of a data store; a setting that is not evidenced is `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataStore {
    /// What kind of store. Required.
    pub kind: DataStoreKind,
    /// Data at rest is encrypted. Default: `false`.
    #[serde(default)]
    pub encrypted: bool,
    /// The store is reachable from the public internet (public ACL, public endpoint). Default:
    /// `false`.
    #[serde(default)]
    pub public: bool,
}

/// Kinds of data store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataStoreKind {
    /// An object-storage bucket.
    Bucket,
    /// A database instance or cluster.
    Database,
    /// A block-storage volume.
    Volume,
    /// A network file system.
    FileSystem,
}

impl DataStoreKind {
    /// The snake-case name, as manifests spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bucket => "bucket",
            Self::Database => "database",
            Self::Volume => "volume",
            Self::FileSystem => "file_system",
        }
    }
}

/// Results of one test suite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestSuite {
    /// Suite kind, for example `unit`, `integration`, `e2e`, `smoke`, `security`. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    #[schemars(length(min = 1))]
    pub suite: String,
    /// Passed tests. Required.
    pub passed: u32,
    /// Failed tests. Required.
    pub failed: u32,
}

/// Security scan summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityScan {
    /// Whether the scan completed. Required.
    pub completed: bool,
    /// Open critical findings. Default: `0`.
    #[serde(default)]
    pub critical: u32,
    /// Open high findings. Default: `0`.
    #[serde(default)]
    pub high: u32,
    /// Open medium findings. Default: `0`.
    #[serde(default)]
    pub medium: u32,
    /// Open low findings. Default: `0`.
    #[serde(default)]
    pub low: u32,
}

/// The back-out plan.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackPlan {
    /// Whether the plan is documented. Default: `false`.
    #[serde(default)]
    pub documented: bool,
    /// How the change is backed out. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<RollbackStrategy>,
    /// Whether the plan was exercised. Default: `false`.
    #[serde(default)]
    pub tested: bool,
}

/// How a change is backed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RollbackStrategy {
    /// Switch traffic back to the previous environment.
    BlueGreen,
    /// Shift traffic back from the canary.
    Canary,
    /// Redeploy the previous version.
    RedeployPrevious,
    /// Turn the feature flag off.
    FeatureFlag,
    /// Restore from backup.
    RestoreBackup,
    /// Any other documented strategy.
    Other,
}

impl RollbackStrategy {
    /// The snake-case name, as manifests spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BlueGreen => "blue_green",
            Self::Canary => "canary",
            Self::RedeployPrevious => "redeploy_previous",
            Self::FeatureFlag => "feature_flag",
            Self::RestoreBackup => "restore_backup",
            Self::Other => "other",
        }
    }
}

/// Encryption posture of the affected systems.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Encryption {
    /// Data at rest is encrypted. Default: `false`.
    #[serde(default)]
    pub at_rest: bool,
    /// Data in transit is encrypted. Default: `false`.
    #[serde(default)]
    pub in_transit: bool,
    /// Days since the data-encryption key was rotated. Default: unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_rotated_days_ago: Option<u32>,
}

/// Kinds of sensitive data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveDataKind {
    /// A payment card number.
    Pan,
    /// A US social security number.
    Ssn,
    /// A medical record number.
    MedicalRecordNumber,
    /// A health-plan beneficiary or member number.
    HealthPlanId,
    /// Other protected health information.
    PhiOther,
}

impl SensitiveDataKind {
    /// The snake-case name, as manifests spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pan => "pan",
            Self::Ssn => "ssn",
            Self::MedicalRecordNumber => "medical_record_number",
            Self::HealthPlanId => "health_plan_id",
            Self::PhiOther => "phi_other",
        }
    }

    /// Whether this kind is protected health information (HIPAA identifiers, 45 CFR 164.514(b)(2)).
    pub fn is_phi(self) -> bool {
        !matches!(self, Self::Pan)
    }
}

/// One sensitive-data finding. The matched value is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SensitiveDataFinding {
    /// What was found. Required.
    pub kind: SensitiveDataKind,
    /// Where it was found, for example `fixtures/cards.csv:12`. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    #[schemars(length(min = 1))]
    pub location: String,
}

impl Manifest {
    /// Whether the change affects data of the given class.
    pub fn has_data_class(&self, class: DataClass) -> bool {
        self.change.data_classes.contains(&class)
    }
}

/// Validates a scalar inside the deserializer's visitor, so that errors carry the scalar's own
/// line and column rather than those of the enclosing mapping. The check's error is text: serde
/// makes it the deserializer's own error with `de::Error::custom`, which keeps only a message.
struct Validated<F> {
    expecting: &'static str,
    check: F,
}

impl<'de, T, F> serde::de::Visitor<'de> for Validated<F>
where
    F: FnOnce(Scalar<'_>) -> Result<T, String>,
{
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        (self.check)(Scalar::Text(v)).map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
        (self.check)(Scalar::Unsigned(v)).map_err(E::custom)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
        (self.check)(Scalar::Signed(v)).map_err(E::custom)
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<T, E> {
        (self.check)(Scalar::Float(v)).map_err(E::custom)
    }
}

/// A scalar seen by a [`Validated`] visitor.
enum Scalar<'a> {
    Text(&'a str),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

pub(crate) fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_str(Validated {
        expecting: "a non-empty string",
        check: |scalar: Scalar<'_>| match scalar {
            Scalar::Text(text) if text.trim().is_empty() => Err("must not be empty".to_owned()),
            Scalar::Text(text) => Ok(text.to_owned()),
            _ => Err("invalid type: expected a non-empty string".to_owned()),
        },
    })
}

fn version<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    deserializer.deserialize_u32(Validated {
        expecting: "manifest version 1",
        check: |scalar: Scalar<'_>| match scalar {
            Scalar::Unsigned(v) if v == u64::from(MANIFEST_VERSION) => Ok(MANIFEST_VERSION),
            Scalar::Unsigned(v) => Err(format!(
                "unsupported manifest version {v}, expected {MANIFEST_VERSION}"
            )),
            _ => Err(format!(
                "invalid type: expected the integer {MANIFEST_VERSION}"
            )),
        },
    })
}

fn failure_rate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    deserializer.deserialize_f64(Validated {
        expecting: "a number between 0 and 1",
        check: |scalar: Scalar<'_>| {
            #[expect(clippy::cast_precision_loss, reason = "only 0 and 1 are in range")]
            let rate = match scalar {
                Scalar::Float(v) => v,
                Scalar::Unsigned(v) => v as f64,
                Scalar::Signed(v) => v as f64,
                Scalar::Text(_) => {
                    return Err("invalid type: expected a number between 0 and 1".to_owned());
                }
            };
            if (0.0..=1.0).contains(&rate) {
                Ok(rate)
            } else {
                Err(format!("{rate} is outside 0..=1"))
            }
        },
    })
}
