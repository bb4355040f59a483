//! A small JSON reader for documents decoded by hand: it keeps where each value starts, and its
//! errors name the field path and use serde_json's words, so that a hand-written decoder (the
//! built-in policies' settings) reports what a serde-derived one would, without serde's per-type
//! code or float formatting in a policy module.

use crate::document::{Format, Location, invalid};
use crate::{DocumentError, MAX_DOCUMENT_BYTES};

/// Deepest nesting accepted, as serde_json's.
const RECURSION_LIMIT: usize = 128;

/// A JSON value and the byte offset where it starts in its document.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonNode {
    /// Byte offset of the value's first character.
    pub offset: usize,
    /// The value.
    pub value: JsonValue,
}

/// The value of a [`JsonNode`].
#[derive(Debug, Clone, PartialEq)]
pub enum JsonValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it.
    Number(JsonNumber),
    /// A string, unescaped.
    String(String),
    /// A list.
    Array(Vec<JsonNode>),
    /// An object's members in document order (duplicate keys kept).
    Object(Vec<(String, JsonNode)>),
}

/// A JSON number: an integer when it is written as one and fits, otherwise a float.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonNumber {
    /// A non-negative integer.
    Unsigned(u64),
    /// A negative integer.
    Negative(i64),
    /// Any other number, with its text as written (for messages).
    Float(f64, String),
}

/// A JSON document parsed into [`JsonNode`]s, with the text kept for error locations.
#[derive(Debug)]
pub struct LocatedJson<'t> {
    text: &'t str,
    /// The document's value.
    pub root: JsonNode,
}

impl<'t> LocatedJson<'t> {
    /// Parses a JSON document (at most [`MAX_DOCUMENT_BYTES`]).
    pub fn parse(text: &'t str) -> Result<Self, DocumentError> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(DocumentError::TooLarge {
                size: text.len(),
                limit: MAX_DOCUMENT_BYTES,
            });
        }
        let mut parser = Parser {
            text: text.as_bytes(),
            at: 0,
            path: Vec::new(),
        };
        let result = parser.value(0).and_then(|root| {
            parser.whitespace();
            if parser.at < text.len() {
                parser.path.clear();
                Err(parser.fail("trailing characters"))
            } else {
                Ok(root)
            }
        });
        match result {
            Ok(root) => Ok(Self { text, root }),
            Err(SyntaxError { at, path, message }) => Err(invalid(
                Format::Json,
                path,
                Some(location(text, at)),
                message,
            )),
        }
    }

    /// A decoding error at `node`: `path` is its field path (`risk.production`, empty at the top).
    pub fn error(&self, node: &JsonNode, path: &str, message: &str) -> DocumentError {
        invalid(
            Format::Json,
            (!path.is_empty()).then(|| path.to_owned()),
            Some(location(self.text, node.offset)),
            message,
        )
    }

    /// `invalid type: …, expected {expected}` at `node`.
    pub fn wrong_type(&self, node: &JsonNode, path: &str, expected: &str) -> DocumentError {
        let mut message = String::from("invalid type: ");
        message.push_str(&node.describe());
        message.push_str(", expected ");
        message.push_str(expected);
        self.error(node, path, &message)
    }
}

impl JsonNode {
    /// How serde names the value in `invalid type` messages (a string's text is left out).
    pub fn describe(&self) -> String {
        match &self.value {
            JsonValue::Null => "null".into(),
            JsonValue::Bool(value) => format!("boolean `{value}`"),
            JsonValue::Number(JsonNumber::Unsigned(n)) => format!("integer `{n}`"),
            JsonValue::Number(JsonNumber::Negative(n)) => format!("integer `{n}`"),
            JsonValue::Number(JsonNumber::Float(_, text)) => format!("floating point `{text}`"),
            JsonValue::String(_) => "a string".into(),
            JsonValue::Array(_) => "sequence".into(),
            JsonValue::Object(_) => "map".into(),
        }
    }
}

/// The path of a member `key` of the value at `path`.
pub fn member_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The path of item `index` of the list at `path`.
pub fn item_path(path: &str, index: usize) -> String {
    format!("{path}[{index}]")
}

/// serde's words for what was expected among `names`: `` `a` ``, `` `a` or `b` ``, or
/// `` one of `a`, `b`, `c` ``.
pub fn one_of(names: &[&str]) -> String {
    match names {
        [] => "nothing".into(),
        [only] => format!("`{only}`"),
        [a, b] => format!("`{a}` or `{b}`"),
        _ => {
            let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
            format!("one of {}", quoted.join(", "))
        }
    }
}

fn location(text: &str, offset: usize) -> Location {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

struct SyntaxError {
    at: usize,
    path: Option<String>,
    message: &'static str,
}

/// A path segment while parsing: a member key or a list index.
enum Segment {
    Key(String),
    Index(usize),
}

struct Parser<'t> {
    text: &'t [u8],
    at: usize,
    path: Vec<Segment>,
}

impl Parser<'_> {
    fn fail(&self, message: &'static str) -> SyntaxError {
        let mut path = String::new();
        for segment in &self.path {
            match segment {
                Segment::Key(key) => path = member_path(&path, key),
                Segment::Index(index) => path = item_path(&path, *index),
            }
        }
        SyntaxError {
            at: self.at,
            path: (!path.is_empty()).then_some(path),
            message,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<JsonNode, SyntaxError> {
        self.whitespace();
        let offset = self.at;
        let value = match self.peek() {
            None => return Err(self.fail("EOF while parsing a value")),
            Some(b'n') => self.word(b"null", JsonValue::Null)?,
            Some(b't') => self.word(b"true", JsonValue::Bool(true))?,
            Some(b'f') => self.word(b"false", JsonValue::Bool(false))?,
            Some(b'-' | b'0'..=b'9') => JsonValue::Number(self.number()?),
            Some(b'"') => JsonValue::String(self.string()?),
            Some(b'[') => {
                if depth >= RECURSION_LIMIT {
                    return Err(self.fail("recursion limit exceeded"));
                }
                self.at += 1;
                JsonValue::Array(self.array(depth + 1)?)
            }
            Some(b'{') => {
                if depth >= RECURSION_LIMIT {
                    return Err(self.fail("recursion limit exceeded"));
                }
                self.at += 1;
                JsonValue::Object(self.object(depth + 1)?)
            }
            Some(_) => return Err(self.fail("expected value")),
        };
        Ok(JsonNode { offset, value })
    }

    fn word(&mut self, word: &[u8], value: JsonValue) -> Result<JsonValue, SyntaxError> {
        for &expected in word {
            match self.peek() {
                None => return Err(self.fail("EOF while parsing a value")),
                Some(byte) if byte == expected => self.at += 1,
                Some(_) => return Err(self.fail("expected ident")),
            }
        }
        Ok(value)
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<JsonNumber, SyntaxError> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.fail("invalid number"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            None => return Err(self.fail("EOF while parsing a value")),
            Some(_) => return Err(self.fail("invalid number")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.fail(if self.peek().is_none() {
                    "EOF while parsing a value"
                } else {
                    "invalid number"
                }));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.fail(if self.peek().is_none() {
                    "EOF while parsing a value"
                } else {
                    "invalid number"
                }));
            }
        }
        let text = String::from_utf8_lossy(&self.text[start..self.at]).into_owned();
        if integer {
            let digits = text.trim_start_matches('-');
            if let Ok(magnitude) = digits.parse::<u64>() {
                if !negative {
                    return Ok(JsonNumber::Unsigned(magnitude));
                }
                // As serde_json: `-0` is a float, other negatives that fit are integers.
                if magnitude > 0
                    && let Some(value) = 0i64.checked_sub_unsigned(magnitude)
                {
                    return Ok(JsonNumber::Negative(value));
                }
            }
        }
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(JsonNumber::Float(value, text)),
            _ => {
                self.at = start;
                Err(self.fail("number out of range"))
            }
        }
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.fail("EOF while parsing a string"));
            };
            match byte {
                b'"' => {
                    self.at += 1;
                    // Only whole characters and valid escapes were copied.
                    return String::from_utf8(out)
                        .map_err(|_| self.fail("invalid unicode code point"));
                }
                b'\\' => {
                    self.at += 1;
                    self.escape(&mut out)?;
                }
                0x00..=0x1f => {
                    return Err(self
                        .fail("control character (\\u0000-\\u001F) found while parsing a string"));
                }
                _ => {
                    out.push(byte);
                    self.at += 1;
                }
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), SyntaxError> {
        let Some(byte) = self.peek() else {
            return Err(self.fail("EOF while parsing a string"));
        };
        self.at += 1;
        let simple = match byte {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xD800..=0xDBFF => {
                        if self.text.get(self.at..self.at + 2) != Some(b"\\u") {
                            return Err(self.fail("unexpected end of hex escape"));
                        }
                        self.at += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.fail("lone leading surrogate in hex escape"));
                        }
                        0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
                    }
                    // serde_json's words for a trailing surrogate alone.
                    0xDC00..=0xDFFF => {
                        return Err(self.fail("lone leading surrogate in hex escape"));
                    }
                    other => u32::from(other),
                };
                let character =
                    char::from_u32(code).ok_or_else(|| self.fail("invalid unicode code point"))?;
                let mut buffer = [0; 4];
                out.extend_from_slice(character.encode_utf8(&mut buffer).as_bytes());
                return Ok(());
            }
            _ => {
                self.at -= 1;
                return Err(self.fail("invalid escape"));
            }
        };
        out.push(simple);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16, SyntaxError> {
        let mut unit = 0u16;
        for _ in 0..4 {
            let digit = match self.peek() {
                None => return Err(self.fail("EOF while parsing a string")),
                Some(byte @ b'0'..=b'9') => byte - b'0',
                Some(byte @ b'a'..=b'f') => byte - b'a' + 10,
                Some(byte @ b'A'..=b'F') => byte - b'A' + 10,
                Some(_) => return Err(self.fail("invalid escape")),
            };
            self.at += 1;
            unit = unit * 16 + u16::from(digit);
        }
        Ok(unit)
    }

    fn array(&mut self, depth: usize) -> Result<Vec<JsonNode>, SyntaxError> {
        let mut items = Vec::new();
        self.whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(items);
        }
        loop {
            self.path.push(Segment::Index(items.len()));
            let item = self.value(depth)?;
            self.path.pop();
            items.push(item);
            self.whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.whitespace();
                    if self.peek() == Some(b']') {
                        return Err(self.fail("trailing comma"));
                    }
                }
                Some(b']') => {
                    self.at += 1;
                    return Ok(items);
                }
                Some(_) => return Err(self.fail("expected `,` or `]`")),
                None => return Err(self.fail("EOF while parsing a list")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Vec<(String, JsonNode)>, SyntaxError> {
        let mut members = Vec::new();
        self.whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(members);
        }
        loop {
            match self.peek() {
                Some(b'"') => {}
                Some(_) => return Err(self.fail("key must be a string")),
                None => return Err(self.fail("EOF while parsing an object")),
            }
            let key = self.string()?;
            self.whitespace();
            match self.peek() {
                Some(b':') => self.at += 1,
                Some(_) => return Err(self.fail("expected `:`")),
                None => return Err(self.fail("EOF while parsing an object")),
            }
            self.path.push(Segment::Key(key.clone()));
            let value = self.value(depth)?;
            self.path.pop();
            members.push((key, value));
            self.whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.whitespace();
                    if self.peek() == Some(b'}') {
                        return Err(self.fail("trailing comma"));
                    }
                }
                Some(b'}') => {
                    self.at += 1;
                    return Ok(members);
                }
                Some(_) => return Err(self.fail("expected `,` or `}`")),
                None => return Err(self.fail("EOF while parsing an object")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax(text: &str) -> (Option<String>, String) {
        match LocatedJson::parse(text).unwrap_err() {
            DocumentError::Invalid { path, message, .. } => (path, message),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn values_keep_their_offsets_and_numbers_their_kind() {
        let doc = LocatedJson::parse(r#" {"a": [1, -2, 1.5, "x\u00e9\ud83d\ude00", null, true]}"#)
            .unwrap();
        let JsonValue::Object(members) = &doc.root.value else {
            panic!("{doc:?}")
        };
        assert_eq!(doc.root.offset, 1);
        let JsonValue::Array(items) = &members[0].1.value else {
            panic!("{doc:?}")
        };
        assert_eq!(items[0].value, JsonValue::Number(JsonNumber::Unsigned(1)));
        assert_eq!(items[1].value, JsonValue::Number(JsonNumber::Negative(-2)));
        assert_eq!(
            items[2].value,
            JsonValue::Number(JsonNumber::Float(1.5, "1.5".into()))
        );
        assert_eq!(items[3].value, JsonValue::String("xé😀".into()));
        assert_eq!(items[3].offset, 20);
    }

    #[test]
    fn numbers_read_as_serde_json_reads_them() {
        for text in [
            "0",
            "-0",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1e3",
            "2.5E-3",
            "0.1",
            "123456789.123456789e-5",
        ] {
            let ours = match LocatedJson::parse(text).unwrap().root.value {
                JsonValue::Number(JsonNumber::Unsigned(n)) => serde_json::Value::from(n),
                JsonValue::Number(JsonNumber::Negative(n)) => serde_json::Value::from(n),
                JsonValue::Number(JsonNumber::Float(f, _)) => serde_json::Value::from(f),
                other => panic!("{other:?}"),
            };
            let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn syntax_errors_use_serde_json_words_and_name_the_place() {
        for (text, path, message) in [
            (r#"{"a": [1,]}"#, Some("a"), "trailing comma"),
            (r#"{"a": {"b": tru}}"#, Some("a.b"), "expected ident"),
            (r#"{"a": 01}"#, Some("a"), "invalid number"),
            (r#"{"a": 1e999}"#, Some("a"), "number out of range"),
            (r#"{"a" 1}"#, None, "expected `:`"),
            (r#"{"a": [1 2]}"#, Some("a"), "expected `,` or `]`"),
            (r#"{"a": "\q"}"#, Some("a"), "invalid escape"),
            (
                r#"{"a": "\ud800x"}"#,
                Some("a"),
                "unexpected end of hex escape",
            ),
            (
                r#"{"a": "\udc00"}"#,
                Some("a"),
                "lone leading surrogate in hex escape",
            ),
            (
                r#"{"a": "\ud800\u0041"}"#,
                Some("a"),
                "lone leading surrogate in hex escape",
            ),
            (
                "{\"a\": \"\t\"}",
                Some("a"),
                "control character (\\u0000-\\u001F) found while parsing a string",
            ),
            (r#"{"a": 1} {}"#, None, "trailing characters"),
            (
                r#"{"a": [{"b": 1"#,
                Some("a[0]"),
                "EOF while parsing an object",
            ),
            ("{1: 2}", None, "key must be a string"),
        ] {
            let (got_path, got_message) = syntax(text);
            assert_eq!(got_path.as_deref(), path, "{text}");
            assert_eq!(got_message, message, "{text}");
            let theirs = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
            assert!(theirs.to_string().starts_with(message), "{text}: {theirs}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(syntax(&deep).1, "recursion limit exceeded");
    }

    #[test]
    fn serde_words_for_alternatives() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b"]), "`a` or `b`");
        assert_eq!(one_of(&["a", "b", "c"]), "one of `a`, `b`, `c`");
    }
}
