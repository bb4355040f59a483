//! The field path of a JSON decoding error, recovered from the text at the error's place (what
//! the policy modules report), agrees with the path `serde_path_to_error` tracks while decoding,
//! for every field of every golden case's manifest and settings (and of the default settings),
//! broken in every way a user can break it: a wrong type, a missing field, an unknown field, an
//! invalid value.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tollgate_manifest::{Manifest, decode_json};
use tollgate_rules::Settings;

use crate::{Case, case_files_in};

fn golden_cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let files: Vec<PathBuf> = ["sox", "hipaa", "pci", "fda"]
        .iter()
        .flat_map(|policy| case_files_in(&root.join(policy).join("tests/cases")).unwrap())
        .collect();
    assert!(files.len() > 100, "golden cases not found: {}", files.len());
    files.iter().map(|file| Case::load(file).unwrap()).collect()
}

/// Every place in `value`: (JSON pointer, shape of its path with indices left out).
fn places(value: &Value, pointer: String, shape: String, out: &mut Vec<(String, String)>) {
    out.push((pointer.clone(), shape.clone()));
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                places(
                    child,
                    format!("{pointer}/{escaped}"),
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

/// The document broken in each way at one place.
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
        json!([[]]),
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

/// The path `serde_path_to_error` reports (`None` at the top), if decoding fails.
fn tracked_path<T: DeserializeOwned>(text: &str) -> Option<Option<String>> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, T>(&mut de)
        .err()
        .map(|error| Some(error.path().to_string()).filter(|path| path != "."))
}

/// Breaks every place of each document once per shape and compares the recovered path (from
/// `recovered`, `Err` only for a decoding error) with the tracked one; returns how many compared.
fn compare<T: DeserializeOwned>(
    documents: &[Value],
    recovered: impl Fn(&str) -> Result<(), Option<String>>,
) -> usize {
    let mut seen = BTreeSet::new();
    let mut compared = 0;
    for document in documents {
        let mut all = Vec::new();
        places(document, String::new(), String::new(), &mut all);
        for (pointer, shape) in all {
            if !seen.insert(shape) {
                continue;
            }
            for broken in breakages(document, &pointer) {
                for text in [
                    serde_json::to_string_pretty(&broken).unwrap(),
                    serde_json::to_string(&broken).unwrap(),
                ] {
                    let Some(expected) = tracked_path::<T>(&text) else {
                        continue;
                    };
                    let actual = recovered(&text).expect_err(&text);
                    assert_eq!(actual, expected, "broken at {pointer}:\n{text}");
                    compared += 1;
                }
            }
        }
    }
    compared
}

#[test]
fn manifest_error_paths_equal_tracked_paths_for_every_breakage_of_every_field() {
    let manifests: Vec<Value> = golden_cases().into_iter().map(|c| c.manifest).collect();
    let compared = compare::<Manifest>(&manifests, |text| {
        decode_json::<Manifest>(text)
            .map(drop)
            .map_err(|error| error.path().map(str::to_owned))
    });
    assert!(compared > 1000, "only {compared} errors compared");
}

#[test]
fn settings_error_paths_equal_tracked_paths_for_every_breakage_of_every_field() {
    let mut documents = vec![serde_json::to_value(Settings::default()).unwrap()];
    documents.extend(golden_cases().into_iter().filter_map(|c| c.settings));
    let compared = compare::<Settings>(&documents, |text| {
        Settings::from_json(text)
            .map(drop)
            .map_err(|error| Some(error.field).filter(|field| field != "."))
    });
    assert!(compared > 300, "only {compared} errors compared");
}

#[test]
fn syntax_errors_and_trailing_text_keep_their_place() {
    let error = decode_json::<Manifest>("{\"change\": {\"id\": \"C-1\",,}}").unwrap_err();
    assert_eq!(error.path(), Some("change"), "{error}");
    assert_eq!(error.location().map(|l| l.column), Some(25), "{error}");
    let text = serde_json::to_string(&golden_cases()[0].manifest).unwrap() + " {}";
    let error = decode_json::<Manifest>(&text).unwrap_err();
    assert_eq!(error.path(), None, "{error}");
    assert!(error.to_string().contains("trailing characters"), "{error}");
}
