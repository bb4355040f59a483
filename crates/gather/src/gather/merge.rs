//! Merging the hand-written partial manifest over the gathered facts (hand-written values win).

use serde_json::{Map, Value};

use tollgate_manifest::SourceKind;

use super::facts::{Facts, source};
use crate::GatherError;

/// Merges the hand-written manifest over the gathered facts. Mappings merge key by key (an
/// extension namespace too, so that several files can each add facts to one namespace); any other
/// value (including lists) replaces the gathered one.
pub(super) fn merge_hand_written(
    facts: &mut Facts,
    written: &Map<String, Value>,
    origin: &str,
    notes: &mut Vec<String>,
) -> Result<(), GatherError> {
    for (key, value) in written {
        match (key.as_str(), value) {
            ("change" | "evidence", Value::Object(fields)) => {
                for (field, value) in fields {
                    let path = format!("{key}.{field}");
                    if let Some(gathered) = facts.get(key, field)
                        && gathered != value
                    {
                        let source = facts
                            .provenance
                            .iter()
                            .find(|s| s.field == path)
                            .map(|s| s.source.to_string())
                            .unwrap_or_default();
                        notes.push(format!(
                            "hand-written `{path}` replaces the value gathered from {source}"
                        ));
                    }
                    let merged = match (facts.get(key, field), value) {
                        (Some(Value::Object(gathered)), Value::Object(written)) => {
                            let mut merged = gathered.clone();
                            for (k, v) in written {
                                merged.insert(k.clone(), v.clone());
                            }
                            Value::Object(merged)
                        }
                        _ => value.clone(),
                    };
                    facts.set(key, field, merged, source(SourceKind::HandWritten, origin));
                }
            }
            ("extensions", Value::Object(namespaces)) => merge_extensions(facts, namespaces),
            ("version", value) => facts.root["version"] = value.clone(),
            // Where facts came from is what the gathering observed; a file cannot vouch for itself.
            ("provenance", _) => {
                return Err(GatherError::Field {
                    what: "partial manifest",
                    path: origin.to_owned(),
                    field: "provenance",
                    message:
                        "is recorded by `tollgate manifest` and cannot be merged in; remove it"
                            .to_owned(),
                });
            }
            // Anything else (a misspelt section, a non-mapping section) is left to the manifest
            // validation, which names the field.
            (_, value) => {
                if let Value::Object(root) = &mut facts.root {
                    root.insert(key.clone(), value.clone());
                }
            }
        }
    }
    Ok(())
}

/// Merges extension namespaces over those already merged: a namespace's facts key by key.
fn merge_extensions(facts: &mut Facts, namespaces: &Map<String, Value>) {
    let Value::Object(root) = &mut facts.root else {
        return;
    };
    let merged = root
        .entry("extensions")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(merged) = merged else {
        *merged = Value::Object(namespaces.clone());
        return;
    };
    for (namespace, written) in namespaces {
        match (merged.get_mut(namespace), written) {
            (Some(Value::Object(earlier)), Value::Object(written)) => {
                for (key, value) in written {
                    earlier.insert(key.clone(), value.clone());
                }
            }
            _ => {
                merged.insert(namespace.clone(), written.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn hand_written_values_win_and_are_noted() {
        let mut facts = Facts::new();
        facts.set(
            "change",
            "title",
            json!("from git"),
            source(SourceKind::Git, ""),
        );
        facts.set(
            "evidence",
            "security_scan",
            json!({"completed": true, "high": 2}),
            source(SourceKind::Scanner, "s"),
        );
        let written: Map<String, Value> = serde_json::from_str(
            r#"{"change": {"title": "by hand"}, "evidence": {"security_scan": {"high": 0}}}"#,
        )
        .unwrap();
        let mut notes = Vec::new();
        merge_hand_written(&mut facts, &written, "evidence.yaml", &mut notes).unwrap();
        assert_eq!(facts.get("change", "title"), Some(&json!("by hand")));
        assert_eq!(
            facts.get("evidence", "security_scan"),
            Some(&json!({"completed": true, "high": 0}))
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("change.title") && n.contains("git"))
        );
        assert!(facts.provenance.iter().any(|s| s.field == "change.title"
            && s.source.kind == SourceKind::HandWritten
            && s.source.detail.as_deref() == Some("evidence.yaml")));
        // Two files add facts to one extension namespace; the later one wins key by key.
        let first: Map<String, Value> = serde_json::from_str(
            r#"{"extensions": {"fda": {"gamp_category": 4, "training": []}, "acme": {"tier": 1}}}"#,
        )
        .unwrap();
        let second: Map<String, Value> =
            serde_json::from_str(r#"{"extensions": {"fda": {"training": [{"person": "bob"}]}}}"#)
                .unwrap();
        merge_hand_written(&mut facts, &first, "validation.yaml", &mut notes).unwrap();
        merge_hand_written(&mut facts, &second, "training.json", &mut notes).unwrap();
        assert_eq!(
            facts.root["extensions"],
            json!({"fda": {"gamp_category": 4, "training": [{"person": "bob"}]}, "acme": {"tier": 1}})
        );
        let provenance: Map<String, Value> =
            serde_json::from_str(r#"{"provenance": {"change.title": {"kind": "ci"}}}"#).unwrap();
        let error = merge_hand_written(&mut facts, &provenance, "evidence.yaml", &mut notes)
            .unwrap_err()
            .to_string();
        assert!(error.contains("provenance"), "{error}");
    }
}
