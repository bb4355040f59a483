//! The module's OPA values: JSON documents (`input`, `data`, paths, built-in results) and
//! pre-rendered results, with the parsing, dumping and path patching the ABI asks for.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use tollgate_decision::{write_json_f64, write_json_string};
use tollgate_manifest::{JsonNumber, JsonValue, LocatedJson};

/// A JSON document as the module keeps it: serde_json's `Value` without serde_json (objects sorted
/// by key, a repeated key replacing the earlier one), read with the manifest's JSON reader and
/// written as `serde_json::to_string` writes a `Value`.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it.
    Number(JsonNumber),
    /// A string.
    String(String),
    /// A list.
    Array(Vec<Json>),
    /// An object, sorted by key.
    Object(BTreeMap<String, Json>),
}

impl Json {
    /// Parses JSON text (`None` when it is not one JSON document).
    pub fn parse(text: &str) -> Option<Self> {
        LocatedJson::parse(text)
            .ok()
            .map(|document| Self::from_value(document.root.value))
    }

    fn from_value(value: JsonValue) -> Self {
        match value {
            JsonValue::Null => Self::Null,
            JsonValue::Bool(b) => Self::Bool(b),
            JsonValue::Number(n) => Self::Number(n),
            JsonValue::String(s) => Self::String(s),
            JsonValue::Array(items) => Self::Array(
                items
                    .into_iter()
                    .map(|node| Self::from_value(node.value))
                    .collect(),
            ),
            JsonValue::Object(members) => Self::Object(
                members
                    .into_iter()
                    .map(|(key, node)| (key, Self::from_value(node.value)))
                    .collect(),
            ),
        }
    }

    /// The member `key` of an object (`None` for anything else).
    pub fn get(&self, key: &str) -> Option<&Self> {
        match self {
            Self::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// The compact JSON text, as serde_json writes it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(true) => out.push_str("true"),
            Self::Bool(false) => out.push_str("false"),
            Self::Number(JsonNumber::Unsigned(n)) => {
                let _ = core::fmt::Write::write_fmt(out, format_args!("{n}"));
            }
            Self::Number(JsonNumber::Negative(n)) => {
                let _ = core::fmt::Write::write_fmt(out, format_args!("{n}"));
            }
            Self::Number(JsonNumber::Float(f, _)) => write_json_f64(out, *f),
            Self::String(text) => write_json_string(out, text),
            Self::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Self::Object(map) => {
                out.push('{');
                for (index, (key, item)) in map.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write_json_string(out, key);
                    out.push(':');
                    item.write(out);
                }
                out.push('}');
            }
        }
    }
}

impl core::fmt::Display for Json {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// An OPA value as the module stores it behind a `value_addr`.
#[derive(Debug, Clone, PartialEq)]
pub enum OpaValue {
    /// A parsed JSON document.
    Json(Json),
    /// A result already rendered as JSON text (keeps the key order of the serialized type).
    Text(String),
}

/// `opa_add_path` / `opa_remove_path` status codes.
pub mod code {
    /// Done.
    pub const OK: i32 = 0;
    /// An internal error.
    pub const INTERNAL: i32 = 1;
    /// The base or an intermediate value is not an object.
    pub const INVALID_TYPE: i32 = 2;
    /// The path is not a non-empty array of strings, or (remove) leads nowhere.
    pub const INVALID_PATH: i32 = 3;
}

impl OpaValue {
    /// Parses JSON bytes as `opa_json_parse` receives them: trailing NULs (some hosts count the
    /// terminator in the length) and surrounding blanks are ignored. `None` when not JSON.
    pub fn parse_json(bytes: &[u8]) -> Option<Self> {
        let end = bytes
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |last| last + 1);
        let text = core::str::from_utf8(&bytes[..end]).ok()?;
        Json::parse(text).map(Self::Json)
    }

    /// Parses Rego value text as `opa_value_parse` receives it: JSON, or the empty set `set()`
    /// (read as an empty array, as JSON shows sets). `None` otherwise.
    pub fn parse_value(bytes: &[u8]) -> Option<Self> {
        Self::parse_json(bytes).or_else(|| {
            let text = core::str::from_utf8(bytes).ok()?;
            (text.trim_matches(|c: char| c == '\0' || c.is_whitespace()) == "set()")
                .then(|| Self::Json(Json::Array(Vec::new())))
        })
    }

    /// The JSON text of the value (also its Rego value text: the module has no sets).
    pub fn dump(&self) -> String {
        match self {
            Self::Json(value) => value.to_text(),
            Self::Text(text) => text.clone(),
        }
    }

    /// The value as a JSON document (a rendered result is parsed back).
    pub fn to_json(&self) -> Option<Json> {
        match self {
            Self::Json(value) => Some(value.clone()),
            Self::Text(text) => Json::parse(text),
        }
    }

    /// Sets `value` at `path` (an array of strings) below this object, creating intermediate
    /// objects; returns a [`code`].
    pub fn add_path(&mut self, path: &OpaValue, value: Json) -> i32 {
        let Some(keys) = keys(path) else {
            return code::INVALID_PATH;
        };
        let Some((last, parents)) = keys.split_last() else {
            return code::INVALID_PATH;
        };
        let Some(mut node) = self.json_mut() else {
            return code::INTERNAL;
        };
        for key in parents {
            let Json::Object(map) = node else {
                return code::INVALID_TYPE;
            };
            node = map
                .entry(String::from(*key))
                .or_insert_with(|| Json::Object(BTreeMap::new()));
        }
        let Json::Object(map) = node else {
            return code::INVALID_TYPE;
        };
        map.insert(String::from(*last), value);
        code::OK
    }

    /// Removes the value at `path` (an array of strings) below this object; returns a [`code`].
    pub fn remove_path(&mut self, path: &OpaValue) -> i32 {
        let Some(keys) = keys(path) else {
            return code::INVALID_PATH;
        };
        let Some((last, parents)) = keys.split_last() else {
            return code::INVALID_PATH;
        };
        let Some(mut node) = self.json_mut() else {
            return code::INTERNAL;
        };
        for key in parents {
            let Json::Object(map) = node else {
                return code::INVALID_TYPE;
            };
            let Some(next) = map.get_mut(*key) else {
                return code::INVALID_PATH;
            };
            node = next;
        }
        let Json::Object(map) = node else {
            return code::INVALID_TYPE;
        };
        if map.remove(*last).is_some() {
            code::OK
        } else {
            code::INVALID_PATH
        }
    }

    /// The JSON document, parsing a rendered result in place first.
    fn json_mut(&mut self) -> Option<&mut Json> {
        if let Self::Text(text) = self {
            *self = Self::Json(Json::parse(text)?);
        }
        match self {
            Self::Json(value) => Some(value),
            Self::Text(_) => None,
        }
    }
}

/// The keys of a path value: an array of strings.
fn keys(path: &OpaValue) -> Option<Vec<&str>> {
    let OpaValue::Json(Json::Array(items)) = path else {
        return None;
    };
    items
        .iter()
        .map(|item| match item {
            Json::String(key) => Some(key.as_str()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// The document of a JSON text.
    fn json(text: &str) -> Json {
        Json::parse(text).unwrap()
    }

    #[test]
    fn json_parse_tolerates_a_trailing_nul_and_rejects_garbage() {
        assert_eq!(
            OpaValue::parse_json(b"{\"a\": 1}\0"),
            Some(OpaValue::Json(json(r#"{"a": 1}"#)))
        );
        assert_eq!(OpaValue::parse_json(b"{\"a\": "), None);
        assert_eq!(OpaValue::parse_json(b""), None);
        assert_eq!(
            OpaValue::parse_value(b"set()"),
            Some(OpaValue::Json(json("[]")))
        );
        assert_eq!(
            OpaValue::parse_value(b"{\"a\": [1]}"),
            Some(OpaValue::Json(json(r#"{"a": [1]}"#)))
        );
    }

    #[test]
    fn add_and_remove_paths_patch_the_document() {
        let mut data = OpaValue::Json(json("{}"));
        let path = OpaValue::Json(json(r#"["tollgate", "sox", "settings"]"#));
        assert_eq!(data.add_path(&path, json(r#"{"x": 1}"#)), code::OK);
        assert_eq!(
            data,
            OpaValue::Json(json(r#"{"tollgate": {"sox": {"settings": {"x": 1}}}}"#))
        );
        assert_eq!(data.remove_path(&path), code::OK);
        assert_eq!(data, OpaValue::Json(json(r#"{"tollgate": {"sox": {}}}"#)));
        assert_eq!(data.remove_path(&path), code::INVALID_PATH);
        assert_eq!(
            data.add_path(&OpaValue::Json(json("[]")), json("1")),
            code::INVALID_PATH
        );
        assert_eq!(
            data.add_path(&OpaValue::Json(json(r#"["tollgate", 1]"#)), json("1")),
            code::INVALID_PATH
        );
        let mut scalar = OpaValue::Json(json("3"));
        assert_eq!(
            scalar.add_path(&OpaValue::Json(json(r#"["a"]"#)), json("1")),
            code::INVALID_TYPE
        );
    }

    #[test]
    fn a_rendered_result_dumps_as_rendered() {
        let text = OpaValue::Text(String::from(r#"{"z":1,"a":2}"#));
        assert_eq!(text.dump(), r#"{"z":1,"a":2}"#);
        assert_eq!(text.to_json(), Some(json(r#"{"a": 2, "z": 1}"#)));
    }

    #[test]
    fn documents_are_written_as_serde_json_writes_values() {
        for text in [
            r#"{"z": [1, -2, 1.5, 1e16, 0.1, -0.0, 18446744073709551615, 18446744073709551616],
                "a": {"b": null, "a": true, "c": false}, "s": "q\"\\\n\u0001é😀\u2028", "a": 2}"#,
            "[]",
            "{}",
            r#""x""#,
            "12",
        ] {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(json(text).to_text(), value.to_string(), "{text}");
        }
    }
}
