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

/// Parses a JSON object (an extension's facts) into serde_json's map, with the values serde_json
/// would read, without linking serde_json's reader.
pub fn parse_json_object(
    text: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, DocumentError> {
    let document = LocatedJson::parse(text)?;
    match document.root.value {
        JsonValue::Object(members) => Ok(object_value(members)),
        _ => Err(document.wrong_type(&document.root, "", "a map")),
    }
}

fn object_value(members: Vec<(String, JsonNode)>) -> serde_json::Map<String, serde_json::Value> {
    // A repeated key replaces the earlier one, as in serde_json.
    members
        .into_iter()
        .map(|(key, node)| (key, serde_value(node.value)))
        .collect()
}

fn serde_value(value: JsonValue) -> serde_json::Value {
    use serde_json::Value;
    match value {
        JsonValue::Null => Value::Null,
        JsonValue::Bool(b) => Value::Bool(b),
        JsonValue::Number(JsonNumber::Unsigned(n)) => Value::from(n),
        JsonValue::Number(JsonNumber::Negative(n)) => Value::from(n),
        JsonValue::Number(JsonNumber::Float(f, _)) => Value::from(f),
        JsonValue::String(text) => Value::String(text),
        JsonValue::Array(items) => {
            Value::Array(items.into_iter().map(|n| serde_value(n.value)).collect())
        }
        JsonValue::Object(members) => Value::Object(object_value(members)),
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

    /// Reads a number as serde_json does without its `float_roundtrip` feature (as the policy
    /// modules' serde_json did): an integer while it fits in 64 bits, otherwise the decimal
    /// significand's first 19 or 20 digits scaled by one power of ten. That is exact up to 15
    /// significant digits and 10^±22, and within a few units in the last place beyond, without
    /// core's correctly rounding parser and its 10 KB of tables.
    fn number(&mut self) -> Result<JsonNumber, SyntaxError> {
        let start = self.at;
        let positive = self.peek() != Some(b'-');
        if !positive {
            self.at += 1;
        }
        let mut significand: u64 = match self.peek() {
            None => return Err(self.fail("EOF while parsing a value")),
            Some(b'0') => {
                self.at += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.fail("invalid number"));
                }
                0
            }
            Some(digit @ b'1'..=b'9') => {
                self.at += 1;
                u64::from(digit - b'0')
            }
            Some(_) => return Err(self.fail("invalid number")),
        };
        // Integer digits beyond what a u64 holds only scale the significand.
        let mut exponent: i32 = 0;
        let mut integer = true;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            self.at += 1;
            match grow(significand, digit) {
                Some(grown) if integer => significand = grown,
                _ => {
                    integer = false;
                    exponent = exponent.saturating_add(1);
                }
            }
        }
        if self.peek() == Some(b'.') {
            integer = false;
            self.at += 1;
            let mut fraction_digits = 0;
            let mut overflowed = false;
            while let Some(digit @ b'0'..=b'9') = self.peek() {
                self.at += 1;
                fraction_digits += 1;
                match grow(significand, digit) {
                    Some(grown) if !overflowed => {
                        significand = grown;
                        exponent = exponent.saturating_sub(1);
                    }
                    _ => overflowed = true,
                }
            }
            if fraction_digits == 0 {
                return Err(self.missing_digit());
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.at += 1;
            let positive_exponent = match self.peek() {
                Some(b'-') => {
                    self.at += 1;
                    false
                }
                Some(b'+') => {
                    self.at += 1;
                    true
                }
                _ => true,
            };
            let mut written: i32 = 0;
            let mut digits = 0;
            let mut too_large = false;
            while let Some(digit @ b'0'..=b'9') = self.peek() {
                self.at += 1;
                digits += 1;
                match written
                    .checked_mul(10)
                    .and_then(|w| w.checked_add(i32::from(digit - b'0')))
                {
                    Some(grown) => written = grown,
                    None => too_large = true,
                }
            }
            if digits == 0 {
                return Err(self.missing_digit());
            }
            if too_large {
                // As serde_json: an exponent beyond i32 is out of range upwards, zero downwards.
                if significand != 0 && positive_exponent {
                    self.at = start;
                    return Err(self.fail("number out of range"));
                }
                let zero = if positive { 0.0 } else { -0.0 };
                return Ok(self.float(zero, start));
            }
            exponent = if positive_exponent {
                exponent.saturating_add(written)
            } else {
                exponent.saturating_sub(written)
            };
        }
        if integer {
            if positive {
                return Ok(JsonNumber::Unsigned(significand));
            }
            // As serde_json: `-0` and negatives below i64::MIN are floats.
            if let Some(value) = 0i64.checked_sub_unsigned(significand)
                && value < 0
            {
                return Ok(JsonNumber::Negative(value));
            }
        }
        let Some(value) = from_parts(significand, exponent) else {
            self.at = start;
            return Err(self.fail("number out of range"));
        };
        Ok(self.float(if positive { value } else { -value }, start))
    }

    /// No digit where a fraction or an exponent needs one.
    fn missing_digit(&self) -> SyntaxError {
        self.fail(if self.peek().is_none() {
            "EOF while parsing a value"
        } else {
            "invalid number"
        })
    }

    fn float(&self, value: f64, start: usize) -> JsonNumber {
        let text = String::from_utf8_lossy(&self.text[start..self.at]).into_owned();
        JsonNumber::Float(value, text)
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

    /// After a list item or an object member: `true` at the closing `close`, `false` after a
    /// comma that another item follows.
    fn closed(
        &mut self,
        close: u8,
        expected: &'static str,
        eof: &'static str,
    ) -> Result<bool, SyntaxError> {
        self.whitespace();
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                self.whitespace();
                if self.peek() == Some(close) {
                    return Err(self.fail("trailing comma"));
                }
                Ok(false)
            }
            Some(byte) if byte == close => {
                self.at += 1;
                Ok(true)
            }
            Some(_) => Err(self.fail(expected)),
            None => Err(self.fail(eof)),
        }
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
            if self.closed(b']', "expected `,` or `]`", "EOF while parsing a list")? {
                return Ok(items);
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
            if self.closed(b'}', "expected `,` or `}`", "EOF while parsing an object")? {
                return Ok(members);
            }
        }
    }
}

/// `significand * 10 + digit`, if it fits in a u64.
fn grow(significand: u64, digit: u8) -> Option<u64> {
    significand
        .checked_mul(10)
        .and_then(|s| s.checked_add(u64::from(digit - b'0')))
}

/// `significand * 10^exponent` as serde_json computes it: one multiplication or division by a
/// power of ten (two below 1e-308); `None` when it overflows.
#[expect(
    clippy::cast_precision_loss,
    reason = "as serde_json, the significand rounds to the nearest f64 first"
)]
fn from_parts(significand: u64, mut exponent: i32) -> Option<f64> {
    let mut value = significand as f64;
    loop {
        match POW10.get(exponent.unsigned_abs() as usize) {
            Some(&power) => {
                if exponent >= 0 {
                    value *= power;
                    if value.is_infinite() {
                        return None;
                    }
                } else {
                    value /= power;
                }
                return Some(value);
            }
            None => {
                if value == 0.0 {
                    return Some(value);
                }
                if exponent >= 0 {
                    return None;
                }
                value /= 1e308;
                exponent += 308;
            }
        }
    }
}

/// 1e0 to 1e308, each the nearest f64.
static POW10: [f64; 309] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32,
    1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39, 1e40, 1e41, 1e42, 1e43, 1e44, 1e45, 1e46, 1e47, 1e48,
    1e49, 1e50, 1e51, 1e52, 1e53, 1e54, 1e55, 1e56, 1e57, 1e58, 1e59, 1e60, 1e61, 1e62, 1e63, 1e64,
    1e65, 1e66, 1e67, 1e68, 1e69, 1e70, 1e71, 1e72, 1e73, 1e74, 1e75, 1e76, 1e77, 1e78, 1e79, 1e80,
    1e81, 1e82, 1e83, 1e84, 1e85, 1e86, 1e87, 1e88, 1e89, 1e90, 1e91, 1e92, 1e93, 1e94, 1e95, 1e96,
    1e97, 1e98, 1e99, 1e100, 1e101, 1e102, 1e103, 1e104, 1e105, 1e106, 1e107, 1e108, 1e109, 1e110,
    1e111, 1e112, 1e113, 1e114, 1e115, 1e116, 1e117, 1e118, 1e119, 1e120, 1e121, 1e122, 1e123,
    1e124, 1e125, 1e126, 1e127, 1e128, 1e129, 1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136,
    1e137, 1e138, 1e139, 1e140, 1e141, 1e142, 1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149,
    1e150, 1e151, 1e152, 1e153, 1e154, 1e155, 1e156, 1e157, 1e158, 1e159, 1e160, 1e161, 1e162,
    1e163, 1e164, 1e165, 1e166, 1e167, 1e168, 1e169, 1e170, 1e171, 1e172, 1e173, 1e174, 1e175,
    1e176, 1e177, 1e178, 1e179, 1e180, 1e181, 1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188,
    1e189, 1e190, 1e191, 1e192, 1e193, 1e194, 1e195, 1e196, 1e197, 1e198, 1e199, 1e200, 1e201,
    1e202, 1e203, 1e204, 1e205, 1e206, 1e207, 1e208, 1e209, 1e210, 1e211, 1e212, 1e213, 1e214,
    1e215, 1e216, 1e217, 1e218, 1e219, 1e220, 1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227,
    1e228, 1e229, 1e230, 1e231, 1e232, 1e233, 1e234, 1e235, 1e236, 1e237, 1e238, 1e239, 1e240,
    1e241, 1e242, 1e243, 1e244, 1e245, 1e246, 1e247, 1e248, 1e249, 1e250, 1e251, 1e252, 1e253,
    1e254, 1e255, 1e256, 1e257, 1e258, 1e259, 1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266,
    1e267, 1e268, 1e269, 1e270, 1e271, 1e272, 1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279,
    1e280, 1e281, 1e282, 1e283, 1e284, 1e285, 1e286, 1e287, 1e288, 1e289, 1e290, 1e291, 1e292,
    1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299, 1e300, 1e301, 1e302, 1e303, 1e304, 1e305,
    1e306, 1e307, 1e308,
];

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

    /// Whether the number is in the range where one multiplication or division by a power of ten
    /// is exact (Clinger's fast path): at most 15 significant digits, 10^±22.
    fn exactly_scaled(text: &str) -> bool {
        let (mantissa, written) = text.split_once(['e', 'E']).map_or((text, 0), |(m, e)| {
            (m, e.parse::<i64>().unwrap_or(i64::MAX))
        });
        let digits = mantissa
            .trim_start_matches('-')
            .trim_start_matches(['0', '.'])
            .chars()
            .filter(char::is_ascii_digit)
            .count() as i64;
        digits <= 15 && written.saturating_abs().saturating_add(digits) <= 22
    }

    /// Distance in units in the last place.
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b {
            return 0;
        }
        assert_eq!(a.is_sign_negative(), b.is_sign_negative(), "{a} {b}");
        a.to_bits().abs_diff(b.to_bits())
    }

    /// Reads `text` as serde_json reads it: integers the same; floats with serde_json's default
    /// algorithm (the one the policy modules link), which is exact in the fast path and within a
    /// few units in the last place of the correctly rounded value elsewhere (the workspace's
    /// serde_json may round correctly: another crate turns on its `float_roundtrip`).
    fn assert_reads_like_serde_json(text: &str) {
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        let ours = LocatedJson::parse(text);
        let (Ok(theirs), Ok(ours)) = (&theirs, &ours) else {
            assert_eq!(
                theirs.is_err(),
                ours.is_err(),
                "{text}: {theirs:?} {ours:?}"
            );
            return;
        };
        match &ours.root.value {
            JsonValue::Number(JsonNumber::Unsigned(n)) => {
                assert_eq!(theirs, &serde_json::Value::from(*n), "{text}");
            }
            JsonValue::Number(JsonNumber::Negative(n)) => {
                assert_eq!(theirs, &serde_json::Value::from(*n), "{text}");
            }
            JsonValue::Number(JsonNumber::Float(ours, written)) => {
                assert_eq!(written, text);
                assert!(theirs.is_f64(), "{text}: {theirs}");
                let exact: f64 = text.parse().unwrap();
                if exactly_scaled(text) {
                    assert_eq!(ours.to_bits(), exact.to_bits(), "{text}");
                } else {
                    assert!(ulps(*ours, exact) <= 4, "{text}: {ours} {exact}");
                }
                let theirs = theirs.as_f64().unwrap();
                assert!(ulps(*ours, theirs) <= 4, "{text}: {ours} {theirs}");
            }
            other => panic!("{other:?}"),
        }
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
            "0.30000000000000004",
            "2.2250738585072014e-308",
            "4.9e-324",
            "1e-400",
            "-1e-400",
            "1.7976931348623157e308",
            "123456789012345678901234567890",
            "1234567890123456789012.5e-3",
            "0.1234567890123456789012345",
            "0e99999999999",
            "-0.0",
            "9007199254740993",
            "3.14159265358979323846264338327950288",
        ] {
            assert_reads_like_serde_json(text);
        }
    }

    #[test]
    fn generated_numbers_read_as_serde_json_reads_them() {
        // A fixed linear congruential sequence: integers, decimals and exponents of every length.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |bound: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % bound
        };
        for _ in 0..20_000 {
            let mut text = String::new();
            if next(2) == 0 {
                text.push('-');
            }
            let digits = 1 + next(30);
            text.push(char::from(b'1' + next(9) as u8));
            for _ in 1..digits {
                text.push(char::from(b'0' + next(10) as u8));
            }
            if next(2) == 0 {
                text.push('.');
                for _ in 0..1 + next(25) {
                    text.push(char::from(b'0' + next(10) as u8));
                }
            }
            if next(2) == 0 {
                text.push_str(["e", "E-", "e+", "e-"][next(4) as usize]);
                text.push_str(&next(330).to_string());
            }
            assert_reads_like_serde_json(&text);
        }
    }

    #[test]
    fn syntax_errors_use_serde_json_words_and_name_the_place() {
        for (text, path, message) in [
            (r#"{"a": [1,]}"#, Some("a"), "trailing comma"),
            (r#"{"a": {"b": tru}}"#, Some("a.b"), "expected ident"),
            (r#"{"a": 01}"#, Some("a"), "invalid number"),
            (r#"{"a": 1e999}"#, Some("a"), "number out of range"),
            (r#"{"a": 1e2147483648}"#, Some("a"), "number out of range"),
            (r#"{"a": 1.}"#, Some("a"), "invalid number"),
            (r#"{"a": -}"#, Some("a"), "invalid number"),
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
    fn objects_convert_to_the_values_serde_json_reads() {
        let text =
            r#"{"a": [1, -2, 2.5e-3, "x\u00e9", null, true, {"b": {}}], "a": 7, "c": 1e300}"#;
        let theirs: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).unwrap();
        assert_eq!(parse_json_object(text).unwrap(), theirs);
        let error = parse_json_object("[1]").unwrap_err();
        assert!(error.to_string().contains("expected a mapping"), "{error}");
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
