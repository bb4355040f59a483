//! The gathered facts: a JSON tree of manifest fields, each with the source that set it last.

use serde_json::{Value, json};
use tollgate_manifest::{FACT_FIELDS, FactSource, MANIFEST_VERSION, SourceKind};

use super::output::FieldSource;

/// A source of `kind`, with a detail when there is one.
pub(super) fn source(kind: SourceKind, detail: impl Into<String>) -> FactSource {
    let detail = detail.into();
    FactSource::new(kind, (!detail.is_empty()).then_some(detail))
}

/// Collects fields into a JSON tree and records their sources.
pub(super) struct Facts {
    pub(super) root: Value,
    pub(super) provenance: Vec<FieldSource>,
}

impl Facts {
    pub(super) fn new() -> Self {
        Self {
            root: json!({ "version": MANIFEST_VERSION, "change": {}, "evidence": {} }),
            provenance: Vec::new(),
        }
    }

    /// Sets `section.key` (one level deep) and records the source.
    pub(super) fn set(&mut self, section: &str, key: &str, value: Value, source: FactSource) {
        if let Some(Value::Object(map)) = self.root.get_mut(section) {
            map.insert(key.to_owned(), value);
        }
        let field = format!("{section}.{key}");
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
}

/// Orders provenance like the manifest's fields.
pub(super) fn field_rank(field: &str) -> usize {
    FACT_FIELDS
        .iter()
        .position(|f| *f == field)
        .unwrap_or(FACT_FIELDS.len())
}

impl Facts {
    /// The provenance as the manifest records it.
    pub(super) fn provenance_value(&self) -> Value {
        let sources: serde_json::Map<String, Value> = self
            .provenance
            .iter()
            .map(|s| {
                (
                    s.field.clone(),
                    serde_json::to_value(&s.source).unwrap_or(Value::Null),
                )
            })
            .collect();
        Value::Object(sources)
    }
}
