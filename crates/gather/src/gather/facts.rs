//! The gathered facts: a JSON tree of manifest fields, each with the source that set it last.

use serde_json::{Value, json};
use tollgate_manifest::MANIFEST_VERSION;

use super::output::FieldSource;

/// Collects fields into a JSON tree and records their sources.
pub(super) struct Facts {
    pub(super) root: Value,
    pub(super) provenance: Vec<FieldSource>,
}

impl Facts {
    pub(super) fn new() -> Self {
        Self {
            root: json!({ "version": MANIFEST_VERSION, "change": {}, "evidence": {} }),
            provenance: vec![FieldSource {
                field: "version".to_owned(),
                source: "tollgate".to_owned(),
            }],
        }
    }

    /// Sets `section.key` (one level deep) and records the source.
    pub(super) fn set(
        &mut self,
        section: &str,
        key: &str,
        value: Value,
        source: impl Into<String>,
    ) {
        if let Some(Value::Object(map)) = self.root.get_mut(section) {
            map.insert(key.to_owned(), value);
        }
        let field = format!("{section}.{key}");
        let source = source.into();
        match self.provenance.iter_mut().find(|s| s.field == field) {
            Some(existing) => existing.source = source,
            None => self.provenance.push(FieldSource { field, source }),
        }
    }

    pub(super) fn has(&self, section: &str, key: &str) -> bool {
        self.root.get(section).and_then(|s| s.get(key)).is_some()
    }

    pub(super) fn get(&self, section: &str, key: &str) -> Option<&Value> {
        self.root.get(section).and_then(|s| s.get(key))
    }

    pub(super) fn set_version_source(&mut self) {
        if let Some(source) = self.provenance.iter_mut().find(|s| s.field == "version") {
            source.source = "hand-written".to_owned();
        }
    }
}

/// Orders provenance like the manifest's fields.
pub(super) fn field_rank(field: &str) -> (usize, usize) {
    const ORDER: &[&str] = &[
        "version",
        "change.id",
        "change.title",
        "change.reason",
        "change.security_impact",
        "change.ticket_status",
        "change.emergency",
        "change.commit",
        "change.pipeline_id",
        "change.author",
        "change.deployer",
        "change.deployer_groups",
        "change.approvals",
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
    ];
    let top = ORDER
        .iter()
        .position(|f| field == *f || field.starts_with(&format!("{f}.")))
        .unwrap_or(ORDER.len());
    (top, field.len())
}
