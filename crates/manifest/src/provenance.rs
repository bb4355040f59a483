//! Evidence provenance: where each manifest fact came from. `tollgate manifest` records the source
//! of every field it sets; a hand-written manifest may state sources itself. A fact without a
//! recorded source is [`SourceKind::Unrecorded`]. Policies decide which sources they trust for the
//! facts a change's author could otherwise assert about their own change.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize};

/// Every manifest fact that can carry a source, in manifest order.
pub const FACT_FIELDS: &[&str] = &[
    "change.id",
    "change.title",
    "change.reason",
    "change.security_impact",
    "change.ticket_status",
    "change.submitted_at",
    "change.emergency",
    "change.commit",
    "change.pipeline_id",
    "change.author",
    "change.deployer",
    "change.deployer_groups",
    "change.approvals",
    "change.approvals[*].meaning",
    "change.environment",
    "change.data_classes",
    "change.categories",
    "change.includes_schema_changes",
    "change.touches_security_components",
    "change.lines_changed",
    "change.historical_failure_rate",
    "evidence.tests",
    "evidence.security_scan",
    "evidence.compliance_checks_passed",
    "evidence.backup_verified",
    "evidence.rollback_plan",
    "evidence.encryption",
    "evidence.audit_logging",
    "evidence.sensitive_data_findings",
    "evidence.test_data_removed",
    "evidence.breach_notification_procedure",
    "evidence.infrastructure",
];

/// The kind of system a fact came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// No source was recorded (a hand-written manifest that states none).
    Unrecorded,
    /// The git history of the change.
    Git,
    /// The CI system's own variables (set by the runner, not by the repository).
    Ci,
    /// A command-line flag of the pipeline step.
    CommandLine,
    /// The change-ticket system.
    Ticket,
    /// A test report (JUnit).
    TestReport,
    /// A security scanner's report (SARIF).
    Scanner,
    /// Tollgate's sensitive-data detectors.
    Detector,
    /// The project configuration (path rules).
    Configuration,
    /// A directory service (group membership).
    Directory,
    /// A file written by hand, for example one committed to the repository under change.
    HandWritten,
    /// The fail-closed default, because no source said anything.
    Default,
    /// An infrastructure plan (`terraform show -json`).
    TerraformPlan,
}

impl SourceKind {
    /// Every kind, in declaration order.
    pub const ALL: [SourceKind; 13] = [
        Self::Unrecorded,
        Self::Git,
        Self::Ci,
        Self::CommandLine,
        Self::Ticket,
        Self::TestReport,
        Self::Scanner,
        Self::Detector,
        Self::Configuration,
        Self::Directory,
        Self::HandWritten,
        Self::Default,
        Self::TerraformPlan,
    ];

    /// The snake-case name, as manifests and settings spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unrecorded => "unrecorded",
            Self::Git => "git",
            Self::Ci => "ci",
            Self::CommandLine => "command_line",
            Self::Ticket => "ticket",
            Self::TestReport => "test_report",
            Self::Scanner => "scanner",
            Self::Detector => "detector",
            Self::Configuration => "configuration",
            Self::Directory => "directory",
            Self::HandWritten => "hand_written",
            Self::Default => "default",
            Self::TerraformPlan => "terraform_plan",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one fact came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FactSource {
    /// The kind of system. Required.
    pub kind: SourceKind,
    /// Which one, for example `gitlab GITLAB_USER_LOGIN` or `reports/unit.xml`. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl FactSource {
    /// A source of `kind` with an optional detail.
    pub fn new(kind: SourceKind, detail: Option<String>) -> Self {
        Self { kind, detail }
    }
}

impl fmt::Display for FactSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{} ({detail})", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

/// The sources of a manifest's facts, by field path (`change.approvals`). Only the fields of
/// [`FACT_FIELDS`] may appear.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Provenance(pub BTreeMap<String, FactSource>);

impl JsonSchema for Provenance {
    fn schema_name() -> Cow<'static, str> {
        "Provenance".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let source = generator.subschema_for::<FactSource>();
        json_schema!({
            "type": "object",
            "description": "Where each fact came from, by field path.",
            "propertyNames": { "enum": FACT_FIELDS },
            "additionalProperties": source
        })
    }
}

impl Serialize for Provenance {
    /// In manifest field order.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (field, source) in self.iter() {
            map.serialize_entry(field, source)?;
        }
        map.end()
    }
}

impl Provenance {
    /// The source of `field`, if one was recorded.
    pub fn get(&self, field: &str) -> Option<&FactSource> {
        self.0.get(field)
    }

    /// The kind of source of `field`; [`SourceKind::Unrecorded`] when none was recorded.
    pub fn kind_of(&self, field: &str) -> SourceKind {
        self.get(field).map_or(SourceKind::Unrecorded, |s| s.kind)
    }

    /// Records the source of `field`.
    pub fn insert(&mut self, field: impl Into<String>, source: FactSource) {
        self.0.insert(field.into(), source);
    }

    /// Whether no source is recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The recorded sources in manifest field order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FactSource)> {
        FACT_FIELDS
            .iter()
            .filter_map(|field| self.0.get_key_value(*field))
            .map(|(field, source)| (field.as_str(), source))
    }
}

impl<'de> Deserialize<'de> for Provenance {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ProvenanceVisitor)
    }
}

struct ProvenanceVisitor;

impl<'de> serde::de::Visitor<'de> for ProvenanceVisitor {
    type Value = Provenance;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping from manifest field to its source")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Provenance, A::Error> {
        let mut sources = BTreeMap::new();
        while let Some(field) = map.next_key::<String>()? {
            if !FACT_FIELDS.contains(&field.as_str()) {
                return Err(serde::de::Error::custom(format!(
                    "unknown fact `{field}`, expected one of {}",
                    FACT_FIELDS.join(", ")
                )));
            }
            let source: FactSource = map.next_value()?;
            if sources.insert(field.clone(), source).is_some() {
                return Err(serde::de::Error::custom(format!(
                    "`{field}` is given twice"
                )));
            }
        }
        Ok(Provenance(sources))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_facts_are_refused_and_missing_ones_are_unrecorded() {
        let provenance: Provenance =
            serde_json::from_str(r#"{"change.approvals": {"kind": "ticket", "detail": "CHG-1"}}"#)
                .unwrap();
        assert_eq!(provenance.kind_of("change.approvals"), SourceKind::Ticket);
        assert_eq!(
            provenance.kind_of("change.deployer_groups"),
            SourceKind::Unrecorded
        );
        let error = serde_json::from_str::<Provenance>(r#"{"change.approval": {"kind": "ci"}}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown fact `change.approval`"), "{error}");
        let error = serde_json::from_str::<Provenance>(r#"{"change.author": {"kind": "magic"}}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown variant `magic`"), "{error}");
    }

    #[test]
    fn signature_meanings_have_a_source_of_their_own() {
        let provenance: Provenance = serde_json::from_str(
            r#"{"change.approvals[*].meaning": {"kind": "ticket", "detail": "sysapproval_approver"},
                "change.approvals": {"kind": "ticket"}}"#,
        )
        .unwrap();
        assert_eq!(
            provenance.kind_of("change.approvals[*].meaning"),
            SourceKind::Ticket
        );
        let order: Vec<&str> = provenance.iter().map(|(field, _)| field).collect();
        assert_eq!(order, ["change.approvals", "change.approvals[*].meaning"]);
        let error = serde_json::from_str::<Provenance>(
            r#"{"change.approvals[0].meaning": {"kind": "ticket"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("unknown fact `change.approvals[0].meaning`"),
            "{error}"
        );
    }

    #[test]
    fn kinds_spell_as_serde_does() {
        for kind in SourceKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::String(kind.as_str().to_owned())
            );
        }
    }
}
