//! The field path of a JSON decoding error, recovered from the text at the error's place, agrees
//! with the path `serde_path_to_error` tracks while decoding, for every field of every golden
//! case's manifest broken in every way a user can break it: a wrong type, a missing field, an
//! unknown field, an invalid value.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Map, Value, json};
use tollgate_manifest::{Manifest, decode_json};

/// The golden cases' manifests, as JSON values.
fn golden_manifests() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let mut files: Vec<_> = ["sox", "hipaa", "pci"]
        .iter()
        .flat_map(|policy| {
            std::fs::read_dir(root.join(policy).join("tests/cases"))
                .unwrap()
                .map(|entry| entry.unwrap().path())
        })
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() > 100, "golden cases not found: {}", files.len());
    files
        .iter()
        .map(|file| {
            let case: Value =
                serde_yaml_ng::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
            case["manifest"].clone()
        })
        .collect()
}

/// Every place in `value`: (JSON pointer, shape of the path with indices removed).
fn places(value: &Value, pointer: String, shape: String, out: &mut Vec<(String, String)>) {
    out.push((pointer.clone(), shape.clone()));
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                places(
                    child,
                    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1")),
                    format!("{shape}.{key}"),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                places(
                    child,
                    format!("{pointer}/{index}"),
                    format!("{shape}[]"),
                    out,
                );
            }
        }
        _ => {}
    }
}

/// The same document broken in each way at one place.
fn breakages(document: &Value, pointer: &str) -> Vec<Value> {
    let mut broken = Vec::new();
    for replacement in [
        json!("not-a-valid-value"),
        json!(""),
        json!(-7),
        json!(1.5),
        json!(true),
        json!(null),
        json!([]),
        json!([1]),
        json!({}),
        json!({"unexpected": 1}),
    ] {
        let mut copy = document.clone();
        if let Some(slot) = copy.pointer_mut(pointer) {
            *slot = replacement;
            broken.push(copy);
        }
    }
    if let Some((parent, key)) = pointer.rsplit_once('/') {
        let mut copy = document.clone();
        if let Some(Value::Object(map)) = copy.pointer_mut(parent) {
            map.remove(key);
            broken.push(copy);
        }
    }
    let mut copy = document.clone();
    if let Some(Value::Object(map)) = copy.pointer_mut(pointer) {
        map.insert("unexpected_field".into(), json!(1));
        broken.push(copy);
    }
    broken
}

/// The path `serde_path_to_error` reports, if decoding fails.
fn tracked_path(text: &str) -> Option<Option<String>> {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, Manifest>(&mut de) {
        Ok(_) => None,
        Err(error) => {
            let path = error.path().to_string();
            Some((path != ".").then_some(path))
        }
    }
}

#[test]
fn recovered_paths_equal_tracked_paths_for_every_breakage_of_every_field() {
    let mut seen = BTreeSet::new();
    let mut compared = 0;
    for manifest in golden_manifests() {
        let mut all = Vec::new();
        places(&manifest, String::new(), String::new(), &mut all);
        for (pointer, shape) in all {
            if !seen.insert(shape) {
                continue;
            }
            for broken in breakages(&manifest, &pointer) {
                for text in [
                    serde_json::to_string_pretty(&broken).unwrap(),
                    serde_json::to_string(&broken).unwrap(),
                ] {
                    let Some(expected) = tracked_path(&text) else {
                        assert!(decode_json::<Manifest>(&text).is_ok(), "{text}");
                        continue;
                    };
                    let error = decode_json::<Manifest>(&text).unwrap_err();
                    assert_eq!(
                        error.path(),
                        expected.as_deref(),
                        "at {pointer}: {error}\n{text}"
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 1000, "only {compared} errors compared");
}

#[test]
fn syntax_errors_and_trailing_text_keep_their_place() {
    let error = decode_json::<Manifest>("{\"change\": {\"id\": \"C-1\",,}}").unwrap_err();
    assert_eq!(error.path(), Some("change"), "{error}");
    assert_eq!(error.location().map(|l| l.line), Some(1));
    let mut valid: Map<String, Value> =
        serde_json::from_value(golden_manifests()[0].clone()).unwrap();
    valid.remove("unexpected_field");
    let text = serde_json::to_string(&valid).unwrap() + " {}";
    let error = decode_json::<Manifest>(&text).unwrap_err();
    assert_eq!(error.path(), None, "{error}");
    assert!(error.to_string().contains("trailing characters"), "{error}");
}
