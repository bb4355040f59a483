//! The module's OPA values: JSON documents (`input`, `data`, paths, built-in results) and
//! pre-rendered results, with the parsing, dumping and path patching the ABI asks for.

use alloc::string::{String, ToString};

use serde_json::Value;

/// An OPA value as the module stores it behind a `value_addr`.
#[derive(Debug, Clone, PartialEq)]
pub enum OpaValue {
    /// A parsed JSON document.
    Json(Value),
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
        serde_json::from_slice(&bytes[..end]).ok().map(Self::Json)
    }

    /// Parses Rego value text as `opa_value_parse` receives it: JSON, or the empty set `set()`
    /// (read as an empty array, as JSON shows sets). `None` otherwise.
    pub fn parse_value(bytes: &[u8]) -> Option<Self> {
        Self::parse_json(bytes).or_else(|| {
            let text = core::str::from_utf8(bytes).ok()?;
            (text.trim_matches(|c: char| c == '\0' || c.is_whitespace()) == "set()")
                .then(|| Self::Json(Value::Array(alloc::vec![])))
        })
    }

    /// The JSON text of the value (also its Rego value text: the module has no sets).
    pub fn dump(&self) -> String {
        match self {
            Self::Json(value) => value.to_string(),
            Self::Text(text) => text.clone(),
        }
    }

    /// The value as a JSON document (a rendered result is parsed back).
    pub fn to_json(&self) -> Option<Value> {
        match self {
            Self::Json(value) => Some(value.clone()),
            Self::Text(text) => serde_json::from_str(text).ok(),
        }
    }

    /// Sets `value` at `path` (an array of strings) below this object, creating intermediate
    /// objects; returns a [`code`].
    pub fn add_path(&mut self, path: &OpaValue, value: Value) -> i32 {
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
            let Value::Object(map) = node else {
                return code::INVALID_TYPE;
            };
            node = map
                .entry(String::from(*key))
                .or_insert_with(|| Value::Object(serde_json::Map::new()));
        }
        let Value::Object(map) = node else {
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
            let Value::Object(map) = node else {
                return code::INVALID_TYPE;
            };
            let Some(next) = map.get_mut(*key) else {
                return code::INVALID_PATH;
            };
            node = next;
        }
        let Value::Object(map) = node else {
            return code::INVALID_TYPE;
        };
        if map.remove(*last).is_some() {
            code::OK
        } else {
            code::INVALID_PATH
        }
    }

    /// The JSON document, parsing a rendered result in place first.
    fn json_mut(&mut self) -> Option<&mut Value> {
        if let Self::Text(text) = self {
            *self = Self::Json(serde_json::from_str(text).ok()?);
        }
        match self {
            Self::Json(value) => Some(value),
            Self::Text(_) => None,
        }
    }
}

/// The keys of a path value: an array of strings.
fn keys(path: &OpaValue) -> Option<alloc::vec::Vec<&str>> {
    let OpaValue::Json(Value::Array(items)) = path else {
        return None;
    };
    items.iter().map(Value::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_parse_tolerates_a_trailing_nul_and_rejects_garbage() {
        assert_eq!(
            OpaValue::parse_json(b"{\"a\": 1}\0"),
            Some(OpaValue::Json(json!({"a": 1})))
        );
        assert_eq!(OpaValue::parse_json(b"{\"a\": "), None);
        assert_eq!(OpaValue::parse_json(b""), None);
        assert_eq!(
            OpaValue::parse_value(b"set()"),
            Some(OpaValue::Json(json!([])))
        );
        assert_eq!(
            OpaValue::parse_value(b"{\"a\": [1]}"),
            Some(OpaValue::Json(json!({"a": [1]})))
        );
    }

    #[test]
    fn add_and_remove_paths_patch_the_document() {
        let mut data = OpaValue::Json(json!({}));
        let path = OpaValue::Json(json!(["tollgate", "sox", "settings"]));
        assert_eq!(data.add_path(&path, json!({"x": 1})), code::OK);
        assert_eq!(
            data,
            OpaValue::Json(json!({"tollgate": {"sox": {"settings": {"x": 1}}}}))
        );
        assert_eq!(data.remove_path(&path), code::OK);
        assert_eq!(data, OpaValue::Json(json!({"tollgate": {"sox": {}}})));
        assert_eq!(data.remove_path(&path), code::INVALID_PATH);
        assert_eq!(
            data.add_path(&OpaValue::Json(json!([])), json!(1)),
            code::INVALID_PATH
        );
        assert_eq!(
            data.add_path(&OpaValue::Json(json!(["tollgate", 1])), json!(1)),
            code::INVALID_PATH
        );
        let mut scalar = OpaValue::Json(json!(3));
        assert_eq!(
            scalar.add_path(&OpaValue::Json(json!(["a"])), json!(1)),
            code::INVALID_TYPE
        );
    }

    #[test]
    fn a_rendered_result_dumps_as_rendered() {
        let text = OpaValue::Text(String::from(r#"{"z":1,"a":2}"#));
        assert_eq!(text.dump(), r#"{"z":1,"a":2}"#);
        assert_eq!(text.to_json(), Some(json!({"a": 2, "z": 1})));
    }
}
