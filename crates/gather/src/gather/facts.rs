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

    /// Sets `section.key` (one level deep) and records the source. Approvals also record the
    /// source of their signature meanings ([`MEANINGS`]) when one states a meaning, and drop it
    /// when none does (a list set later replaces the earlier one whole).
    pub(super) fn set(&mut self, section: &str, key: &str, value: Value, source: FactSource) {
        let field = format!("{section}.{key}");
        if field == "change.approvals" {
            if states_meaning(&value) {
                self.record(MEANINGS.to_owned(), source.clone());
            } else {
                self.provenance.retain(|s| s.field != MEANINGS);
            }
        }
        if let Some(Value::Object(map)) = self.root.get_mut(section) {
            map.insert(key.to_owned(), value);
        }
        self.record(field, source);
    }

    /// Records (or replaces) the source of `field`.
    fn record(&mut self, field: String, source: FactSource) {
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

/// The provenance fact of the approvals' signature meanings.
pub(super) const MEANINGS: &str = "change.approvals[*].meaning";

/// Whether a list of approvals (JSON) states the meaning of any signature.
fn states_meaning(approvals: &Value) -> bool {
    approvals.as_array().is_some_and(|approvals| {
        approvals
            .iter()
            .any(|a| a.get("meaning").is_some_and(|m| !m.is_null()))
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvals_that_state_a_meaning_record_its_source_and_others_drop_it() {
        let mut facts = Facts::new();
        let ticket = source(SourceKind::Ticket, "servicenow CHG0030001");
        facts.set(
            "change",
            "approvals",
            json!([{"by": "bob", "role": "QA", "at": "2026-05-20T09:12:00Z", "meaning": "review"}]),
            ticket.clone(),
        );
        let of = |facts: &Facts, field: &str| {
            facts
                .provenance
                .iter()
                .find(|s| s.field == field)
                .map(|s| s.source.clone())
        };
        assert_eq!(of(&facts, MEANINGS), Some(ticket.clone()));
        assert_eq!(of(&facts, "change.approvals"), Some(ticket));
        assert!(field_rank(MEANINGS) == field_rank("change.approvals") + 1);
        facts.set(
            "change",
            "approvals",
            json!([{"by": "bob", "role": "QA", "at": "2026-05-20T09:12:00Z", "meaning": null}]),
            source(SourceKind::HandWritten, "evidence.yaml"),
        );
        assert_eq!(of(&facts, MEANINGS), None);
        assert_eq!(
            of(&facts, "change.approvals").map(|s| s.kind),
            Some(SourceKind::HandWritten)
        );
    }
}
