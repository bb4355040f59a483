//! Merging the hand-written partial manifest over the gathered facts (hand-written values win).

use serde_json::{Map, Value};

use super::facts::Facts;
use crate::GatherError;

/// Merges the hand-written manifest over the gathered facts. Mappings merge key by key; any other
/// value (including lists) replaces the gathered one.
pub(super) fn merge_hand_written(
    facts: &mut Facts,
    written: &Map<String, Value>,
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
                            .map(|s| s.source.clone())
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
                    facts.set(key, field, merged, "hand-written");
                }
            }
            ("version", value) => {
                facts.root["version"] = value.clone();
                facts.set_version_source();
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn hand_written_values_win_and_are_noted() {
        let mut facts = Facts::new();
        facts.set("change", "title", json!("from git"), "git");
        facts.set(
            "evidence",
            "security_scan",
            json!({"completed": true, "high": 2}),
            "sarif:s",
        );
        let written: Map<String, Value> = serde_json::from_str(
            r#"{"change": {"title": "by hand"}, "evidence": {"security_scan": {"high": 0}}}"#,
        )
        .unwrap();
        let mut notes = Vec::new();
        merge_hand_written(&mut facts, &written, &mut notes).unwrap();
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
        assert!(
            facts
                .provenance
                .iter()
                .any(|s| s.field == "change.title" && s.source == "hand-written")
        );
    }
}
