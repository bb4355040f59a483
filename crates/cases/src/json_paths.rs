//! The field path of a JSON decoding error, recovered from the text at the error's place (what
//! the policy modules report), agrees with the path `serde_path_to_error` tracks while decoding,
//! for every field of every golden case's manifest and settings (and of the default settings),
//! broken in every way a user can break it: a wrong type, a missing field, an unknown field, an
//! invalid value. The hand-written manifest decoder gives what serde's derived one gives, on those
//! breakages and on malformed text.

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

fn settings_documents() -> Vec<Value> {
    let mut documents = vec![serde_json::to_value(Settings::default()).unwrap()];
    documents.extend(golden_cases().into_iter().filter_map(|c| c.settings));
    documents
}

/// The settings as serde's derived decoders read them (the reference of the hand-written
/// decoder), then validated: the settings, or the error's field (the path `serde_path_to_error`
/// tracks) and message.
fn settings_by_serde(text: &str) -> Result<Settings, (String, String)> {
    let settings: Settings = decode_json(text).map_err(|error| {
        let field = tracked_path::<Settings>(text).flatten();
        let message = match error {
            tollgate_manifest::DocumentError::Invalid { message, .. } => message,
            other => other.to_string(),
        };
        (field.unwrap_or_else(|| ".".into()), message)
    })?;
    settings
        .validate()
        .map_err(|error| (error.field, error.message))?;
    Ok(settings)
}

/// The hand-written settings decoder agrees with serde's derived one on every breakage of every
/// field: the same settings, or an error with the same field path and message. It refuses what
/// serde accepts or words badly: a struct written as the list of its field values, and a unit
/// variant that is not a string (serde: `expected value`, or the key of a one-key object).
#[test]
fn settings_errors_equal_serdes_paths_and_messages_for_every_breakage_of_every_field() {
    let mut seen = BTreeSet::new();
    let (mut agreed, mut refused_lists, mut reworded_variants) = (0, 0, 0);
    for document in settings_documents() {
        let mut all = Vec::new();
        places(&document, String::new(), String::new(), &mut all);
        for (pointer, shape) in all {
            if !seen.insert(shape) {
                continue;
            }
            for broken in breakages(&document, &pointer) {
                let replaced = broken.pointer(&pointer);
                for text in [
                    serde_json::to_string_pretty(&broken).unwrap(),
                    serde_json::to_string(&broken).unwrap(),
                ] {
                    let ours = Settings::from_json(&text).map_err(|e| (e.field, e.message));
                    let theirs = settings_by_serde(&text);
                    if ours == theirs {
                        agreed += 1;
                        continue;
                    }
                    match (&ours, &theirs) {
                        // serde took the list as the struct's field values, or failed in it.
                        (Err((at, message)), _)
                            if message.starts_with("invalid type: a list, expected struct ")
                                && theirs.as_ref().err().is_none_or(|(their_at, _)| {
                                    their_at.starts_with(at.as_str()) || at == "."
                                }) =>
                        {
                            refused_lists += 1;
                        }
                        (Err((at, message)), Err((their_at, _)))
                            if at == their_at
                                && !matches!(replaced, Some(Value::String(_)))
                                && message.contains("expected one of `") =>
                        {
                            reworded_variants += 1;
                        }
                        _ => panic!(
                            "broken at {pointer}:\n{text}\nours: {ours:?}\nserde: {theirs:?}"
                        ),
                    }
                }
            }
        }
    }
    assert!(agreed > 1000, "only {agreed} breakages agreed");
    // Both exceptions occur, and nothing else differs.
    assert!(
        refused_lists > 0 && reworded_variants > 0,
        "{refused_lists} {reworded_variants}"
    );
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

/// Decodes `text` with the hand-written manifest decoder and with serde's derived one, and
/// requires the same manifest or the same error (message, line, column, path).
fn assert_decoders_agree(text: &str) {
    let ours = Manifest::from_json(text);
    let theirs = decode_json::<Manifest>(text);
    assert_eq!(ours, theirs, "\n{text}");
}

/// Texts of the golden manifests: pretty and compact.
fn manifest_texts(document: &Value) -> [String; 2] {
    [
        serde_json::to_string_pretty(document).unwrap(),
        serde_json::to_string(document).unwrap(),
    ]
}

/// The hand-written manifest decoder (`Manifest::from_json`, what the policy modules link) gives
/// exactly what serde's derived decoders give (`decode_json::<Manifest>`, the reference): the
/// same manifest, or the same error with the same message, line, column and field path, for each
/// golden manifest, every breakage of every field of every golden manifest, malformed text (every
/// prefix of a manifest, every character replaced), data errors followed by malformed text, and
/// hand-picked texts.
#[test]
fn manifest_decoder_equals_serdes_for_every_breakage_and_malformed_text() {
    let manifests: Vec<Value> = golden_cases().into_iter().map(|c| c.manifest).collect();
    let mut seen = BTreeSet::new();
    let mut compared = 0;
    let mut broken_texts = Vec::new();
    for document in &manifests {
        for text in manifest_texts(document) {
            assert_decoders_agree(&text);
            compared += 1;
        }
        let mut all = Vec::new();
        places(document, String::new(), String::new(), &mut all);
        for (pointer, shape) in all {
            if !seen.insert(shape) {
                continue;
            }
            for broken in breakages(document, &pointer) {
                for text in manifest_texts(&broken) {
                    assert_decoders_agree(&text);
                    compared += 1;
                    if compared % 61 == 0 {
                        broken_texts.push(text);
                    }
                }
            }
        }
    }
    assert!(compared > 1000, "only {compared} texts compared");

    // Malformed text: every prefix and every character replaced, of a few manifests; a data
    // error followed by malformed text (serde meets the data error first).
    let mut malformed = 0;
    for (index, text) in manifest_texts(&manifests[0])
        .into_iter()
        .chain(manifest_texts(&manifests[manifests.len() / 2]))
        .enumerate()
    {
        for (end, _) in text.char_indices() {
            assert_decoders_agree(&text[..end]);
            if index % 2 == 0 {
                continue;
            }
            for replacement in ["x", "}", "]", ",", "\"", "1", "{", "[", "\\"] {
                let mut changed = text.clone();
                changed.replace_range(end..end + 1, replacement);
                assert_decoders_agree(&changed);
                malformed += 1;
            }
        }
    }
    for text in &broken_texts {
        for (end, _) in text.char_indices().step_by(5) {
            assert_decoders_agree(&text[..end]);
            assert_decoders_agree(&format!("{}x{}", &text[..end], &text[end..]));
            malformed += 2;
        }
        assert_decoders_agree(&format!("{text} {{}}"));
        assert_decoders_agree(&format!("{text}]"));
    }
    assert!(
        malformed > 10_000,
        "only {malformed} malformed texts compared"
    );

    let golden = serde_json::to_string(&manifests[0]).unwrap();
    let with = |key: &str, value: &str| {
        let mut document = manifests[0].clone();
        document[key] = json!("@@");
        serde_json::to_string(&document)
            .unwrap()
            .replace("\"@@\"", value)
    };
    let deep = "[".repeat(120) + &"]".repeat(120);
    let too_deep = "[".repeat(130) + &"]".repeat(130);
    for text in [
        String::new(),
        " ".into(),
        "[]".into(),
        "{}".into(),
        "null".into(),
        "\"version\"".into(),
        "1".into(),
        "\u{feff}{}".into(),
        format!("\u{feff}{golden}"),
        "{\"change\": {\"id\": \"C-1\",,}}".into(),
        format!("{golden} {{}}"),
        golden.replacen("{", "{\"version\": 1, ", 1),
        golden.replacen("\"change\":{", "\"change\":{\"id\": \"x\", ", 1),
        with(
            "extensions",
            r#"{"acme": {"a": [1, -2, 1.5e-3, "\ud83d\ude00\u00e9", null, true, {"b": {}}], "a": 7, "c": 1e300}}"#,
        ),
        with("extensions", &format!(r#"{{"acme": {{"deep": {deep}}}}}"#)),
        with(
            "extensions",
            &format!(r#"{{"acme": {{"deep": {too_deep}}}}}"#),
        ),
        with(
            "extensions",
            r#"{"acme": {"n": 18446744073709551616, "m": -9223372036854775809, "k": 123456789012345678901234567890}}"#,
        ),
        with("extensions", r#"{"acme": 1}"#),
        with("extensions", r#"[]"#),
        with(
            "provenance",
            r#"{"change.id": {"kind": "git"}, "change.id": {"kind": "ci"}}"#,
        ),
        with(
            "provenance",
            r#"{"change.id": {"kind": "git"}, "change.id": {"kind": "ci"}, "change.title": {"kind": "ci"}}"#,
        ),
        with("provenance", r#"{"change.idx": {"kind": "git"}}"#),
        with("provenance", r#"{"change.id": {"kind": {"git": null}}}"#),
        with(
            "provenance",
            r#"{"change.id": {"kind": {"git": null, "ci": null}}}"#,
        ),
        with("provenance", r#"{"change.id": {"kind": {"gitx": null}}}"#),
        with("provenance", r#"{"change.id": {"kind": {"git": 1}}}"#),
        with("provenance", r#"{"change.id": ["ticket", "CHG-1"]}"#),
        with("provenance", r#"{"change.id": ["ticket", "CHG-1", 3]}"#),
        with("version", "18446744073709551616"),
        with("version", "-1"),
        with("version", "1.0"),
        with("version", "1e2"),
        with("version", "4294967297"),
        with("version", r#""\ud83d\ude00 at line 3""#),
        with("change", r#"["C-1", "t", null, null, "draft"]"#),
        with(
            "change",
            r#"["C-1", "t", null, null, "approved", null, false, null, null, "a", "d", [], [], "production", [], [], false, false, 4294967296]"#,
        ),
        with(
            "evidence",
            r#"[[], null, true, false, {}, null, false, [], false, false, null, 5]"#,
        ),
        with(
            "evidence",
            r#"{"tests": [{"suite": "unit", "passed": 1, "failed": 0, "suite": "x"}]}"#,
        ),
        with(
            "evidence",
            r#"{"encryption": {"key_rotated_days_ago": 1e3}}"#,
        ),
        with(
            "evidence",
            r#"{"encryption": {"key_rotated_days_ago": 12345678901234567890}}"#,
        ),
        with("evidence", r#"{"rollback_plan": {"strategy": "Canary"}}"#),
        with("version", "2x"),
        with("version", "2 x"),
        with("version", "1e999"),
        with("version", "-1e999"),
        with("version", "1e2147483648"),
        with("version", "01"),
        with("version", "-"),
        with("version", "1."),
        with("version", "tru"),
        with("version", "\"\\uzz\""),
        with("version", "\"\\ud800x\""),
        with("version", "\"\\ud800\\x\""),
        with("version", "\"\\udc00\""),
        with("version", "\"\\ud800\\u0041\""),
        with("version", "\"\\ud83d\\ude00\""),
        with("version", "\"\t\""),
        with("version", "[[[[[[[[[[1"),
        with("extensions", r#"{"acme": {"a": 1e999}}"#),
        with(
            "extensions",
            r#"{"acme": {"a": "\ud83d\ude00"}, "acme": {"b": 2}}"#,
        ),
        with("evidence", r#"{"rollback_plan": {"strategy": nul}}"#),
        with("evidence", r#"{"rollback_plan": {"strategy": -1}}"#),
        with(
            "evidence",
            r#"{"rollback_plan": {"strategy": {"canary" x}}}"#,
        ),
        with(
            "evidence",
            r#"{"rollback_plan": {"strategy": {"canary": null x}}}"#,
        ),
        with("evidence", r#"{"rollback_plan": {"strategy": {}}}"#),
        with("evidence", r#"{"rollback_plan": {"strategy": { 1}}}"#),
        with("evidence", r#"{"rollback_plan": {"bogus" 1}}"#),
        with("evidence", r#"{"rollback_plan": {"bogus":}}"#),
        with("evidence", r#"{"rollback_plan": [true, null, false, 1]}"#),
        with("evidence", r#"{"rollback_plan": [true, null, false,]}"#),
        with("evidence", r#"{"rollback_plan": [true, null, false}"#),
        with("evidence", r#"{"rollback_plan": [true, null, false"#),
        with("evidence", r#"{"rollback_plan": [true]}"#),
        with(
            "evidence",
            r#"{"rollback_plan": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]}"#,
        ),
        with(
            "evidence",
            &format!(r#"{{"audit_logging": {}}}"#, "[".repeat(200)),
        ),
        with(
            "provenance",
            r#"{"change.id": {"kind": "git"}, "change.id": {"kind": "ci"} x"#,
        ),
        with(
            "provenance",
            r#"{"change.id": {"kind": "git"}, "change.id": {"kind": "ci"}"#,
        ),
        "{\"version\": 1, \"version\": 1}".into(),
        "{\"version\": 2} {}".into(),
        "{\"version\": 1} x".into(),
        "{\"version\": 1,\n\"change\": {\"id\": \"\u{e9}\u{e9}\", \"title\": 5}}".into(),
        "{\"version\": 1,\n\"change\": {\"id\": \"\u{e9}\u{e9}\", \"title\": \"\u{e9}\n".into(),
    ] {
        assert_decoders_agree(&text);
    }
    let at_the_limit = with(
        "extensions",
        &format!(
            r#"{{"acme": {{"deep": {}}}}}"#,
            "[".repeat(125) + &"]".repeat(125)
        ),
    );
    let error = Manifest::from_json(&at_the_limit).unwrap_err().to_string();
    assert!(error.contains("recursion limit exceeded"), "{error}");
    let large = format!("{{\"version\": 1, \"pad\": \"{}\"}}", "a".repeat(1 << 20));
    assert_decoders_agree(&large);
    assert!(matches!(
        Manifest::from_json(&large),
        Err(tollgate_manifest::DocumentError::TooLarge { .. })
    ));
    eprintln!("{compared} documents and {malformed} malformed texts compared");
}
