//! Decoding a [`Manifest`] from JSON by hand, over [`LocatedJson`]: the same manifest, or the same
//! error (message, line, column and field path), as serde's derived decoders reading with
//! serde_json (`crates/cases` compares them on every breakage of every field), without their
//! per-type code in every policy module.
//!
//! serde_json decodes while it reads, so an error in the data comes before a syntax error later in
//! the text. When the text is malformed, the part before the syntax error is closed into a
//! document and decoded: its first error is reported if serde would meet it first, otherwise the
//! syntax error.

use std::collections::BTreeMap;

use crate::document::{Format, Location, invalid};
use crate::json_path::{Subject, path_at};
use crate::located_json::{JsonNode, JsonNumber, JsonValue, LocatedJson, one_of};
use crate::model::{
    Approval, AuditTrail, Change, ChangeCategory, DataClass, DataStore, DataStoreKind, Encryption,
    Evidence, Extensions, Infrastructure, InfrastructureResource, MANIFEST_VERSION, Manifest,
    ResourceAction, RollbackPlan, RollbackStrategy, SecurityScan, SensitiveDataFinding,
    SensitiveDataKind, SignatureMeaning, TestSuite, TicketStatus, TrackingTags,
};
use crate::provenance::{FACT_FIELDS, FactSource, Provenance, SourceKind};
use crate::timestamp::Timestamp;
use crate::{DocumentError, MAX_DOCUMENT_BYTES};

/// An error as serde_json raises it: the index its line and column are computed from, and its
/// message without the place.
#[derive(Debug, Clone)]
struct Fail {
    index: usize,
    message: String,
}

impl Fail {
    fn new(index: usize, message: impl Into<String>) -> Self {
        Self {
            index,
            message: message.into(),
        }
    }
}

type R<T> = Result<T, Fail>;

/// Decodes a manifest from JSON text, with the errors `decode_json::<Manifest>` reports.
pub(crate) fn decode_manifest_json(text: &str) -> Result<Manifest, DocumentError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge {
            size: text.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let result = match LocatedJson::parse(text) {
        Ok(document) => Decoder {
            text,
            read: text,
            cut: None,
            cut_value: None,
        }
        .manifest(&document.root),
        Err(error) => truncated(text, &error),
    };
    result.map_err(|fail| document_error(text, fail))
}

/// Decodes the well-formed part before a syntax error, which is reported unless serde would meet
/// an error of the data first.
fn truncated(text: &str, error: &DocumentError) -> R<Manifest> {
    let syntax = syntax_fail(text, error);
    let Some((repaired, cut, cut_value)) = repair(text, syntax.1) else {
        return Err(syntax.0);
    };
    let Ok(document) = LocatedJson::parse(&repaired) else {
        return Err(syntax.0);
    };
    let decoder = Decoder {
        text,
        read: &repaired,
        cut: Some((cut, syntax.0.clone())),
        cut_value: cut_value.then_some(cut),
    };
    decoder.manifest(&document.root)?;
    Err(syntax.0)
}

/// The reader's syntax error at serde_json's place, and the byte offset where the reader stopped.
fn syntax_fail(text: &str, error: &DocumentError) -> (Fail, usize) {
    let DocumentError::Invalid {
        location: Some(Location { line, column }),
        message,
        ..
    } = error
    else {
        return (Fail::new(0, error.to_string()), 0);
    };
    let line_start = if *line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(index, _)| index + 1)
    };
    let stop = text[line_start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(offset, _)| line_start + offset);
    let bytes = text.as_bytes();
    let len = bytes.len();
    // After `[` serde_json first looks for the end of the list, after `,` in a map for a key.
    let last = bytes[..stop]
        .iter()
        .rev()
        .find(|byte| !byte.is_ascii_whitespace());
    // serde_json reads a `\u` escape's four digits at once.
    let hex_start = (stop.saturating_sub(3)..=stop).find(|start| {
        bytes[*start..stop].iter().all(u8::is_ascii_hexdigit)
            && start.checked_sub(2).and_then(|at| bytes.get(at..*start)) == Some(&b"\\u"[..])
    });
    let (index, message) = match (message.as_str(), last) {
        ("number out of range", _) => (number_end(bytes, stop).unwrap_or(stop), message.as_str()),
        ("EOF while parsing a value", Some(b'[')) => (len, "EOF while parsing a list"),
        ("EOF while parsing an object", Some(b',')) => (len, "EOF while parsing a value"),
        ("invalid escape", _) if hex_start.is_some() => match hex_start {
            Some(start) if start + 4 <= len => (start + 4, "invalid escape"),
            _ => (len, "EOF while parsing a string"),
        },
        ("lone leading surrogate in hex escape", _) => (stop, message.as_str()),
        // serde_json refuses the 128th open bracket, the reader the 129th.
        ("recursion limit exceeded", _) => (innermost_open(bytes, stop) + 1, message.as_str()),
        ("unexpected end of hex escape", _) => match bytes.get(stop..) {
            Some([] | [b'\\']) => (len, "EOF while parsing a string"),
            Some([b'\\', _, ..]) => (stop + 2, message.as_str()),
            _ => ((stop + 1).min(len), message.as_str()),
        },
        _ => ((stop + 1).min(len), message.as_str()),
    };
    let message = message.to_owned();
    (Fail::new(index, message), stop)
}

/// The JSON before `stop` closed into a document: the values that end before it, `null` for a
/// member whose key was read and for a value cut off (at its place), and the brackets still
/// open. Returns it, where the kept text ends (everything from there on was added) and whether
/// a value was cut off there; `None` if no value began.
fn repair(text: &str, stop: usize) -> Option<(String, usize, bool)> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        /// Just after an opening bracket.
        Opened,
        /// Before a value (or a key in an object), after a comma.
        Before,
        /// After a key.
        Key,
        /// After a key and its colon.
        Colon,
        /// After a value.
        After,
    }
    let all = text.as_bytes();
    let bytes = &all[..stop];
    let mut open: Vec<u8> = Vec::new();
    let mut state = State::Before;
    let mut kept = 0;
    let mut cut_value = None;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let in_object = open.last() == Some(&b'}');
        let value_place = match state {
            State::Opened | State::Before => !in_object,
            State::Colon => true,
            State::Key | State::After => false,
        };
        match byte {
            b' ' | b'\t' | b'\n' | b'\r' => at += 1,
            b'{' | b'[' if value_place || open.is_empty() && kept == 0 => {
                open.push(if byte == b'{' { b'}' } else { b']' });
                state = State::Opened;
                at += 1;
                kept = at;
            }
            b'}' | b']' if matches!(state, State::Opened | State::After) => {
                open.pop();
                state = State::After;
                at += 1;
                kept = at;
            }
            b',' if state == State::After && !open.is_empty() => {
                state = State::Before;
                at += 1;
            }
            b':' if state == State::Key => {
                state = State::Colon;
                at += 1;
            }
            b'"' if matches!(state, State::Opened | State::Before) && in_object => {
                let Some(end) = string_end(bytes, at) else {
                    break;
                };
                state = State::Key;
                at = end;
                kept = at;
            }
            _ if value_place => {
                // A string, literal or number, read on in the whole text as serde_json does.
                let literal = [&b"null"[..], b"true", b"false"]
                    .into_iter()
                    .find(|word| all[at..].starts_with(word));
                let end = match (byte, literal) {
                    (b'"', _) => string_end(bytes, at),
                    (_, Some(word)) => Some(at + word.len()),
                    _ => number_end(all, at),
                };
                match end {
                    Some(end) if end <= stop => {
                        state = State::After;
                        at = end;
                        kept = at;
                    }
                    _ => {
                        if !matches!(byte, b'}' | b']' | b',' | b':') {
                            cut_value = Some(at);
                        }
                        break;
                    }
                }
            }
            _ => break,
        }
    }
    let mut repaired = String::with_capacity(stop + open.len() + 5);
    let cut = match cut_value {
        Some(at) => {
            repaired.push_str(&text[..at]);
            repaired.push_str("null");
            at
        }
        None if kept == 0 => return None,
        None => {
            repaired.push_str(&text[..kept]);
            if matches!(state, State::Key | State::Colon) {
                repaired.push_str(":null");
            }
            kept
        }
    };
    while let Some(close) = open.pop() {
        repaired.push(char::from(close));
    }
    Some((repaired, cut, cut_value.is_some()))
}

fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start + 1;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => return Some(at + 1),
            b'\\' => at += 2,
            _ => at += 1,
        }
    }
    None
}

/// Where the innermost bracket still open at `stop` is (0 if none).
fn innermost_open(bytes: &[u8], stop: usize) -> usize {
    let mut open = Vec::new();
    let mut at = 0;
    while let Some(&byte) = bytes[..stop].get(at) {
        match byte {
            b'"' => {
                at = string_end(&bytes[..stop], at).unwrap_or(stop);
                continue;
            }
            b'[' | b'{' => open.push(at),
            b']' | b'}' => {
                open.pop();
            }
            _ => {}
        }
        at += 1;
    }
    open.pop().unwrap_or(0)
}

/// The end of the number at `start` by JSON's grammar (serde_json reads no further), or `None`
/// if no number is written there.
fn number_end(bytes: &[u8], start: usize) -> Option<usize> {
    let digits = |at: &mut usize| {
        let first = *at;
        while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at > first
    };
    let mut at = start + usize::from(bytes.get(start) == Some(&b'-'));
    match bytes.get(at) {
        Some(b'0') => {
            at += 1;
            if bytes.get(at).is_some_and(u8::is_ascii_digit) {
                return None;
            }
        }
        Some(b'1'..=b'9') => {
            digits(&mut at);
        }
        _ => return None,
    }
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        if !digits(&mut at) {
            return None;
        }
    }
    if let Some(b'e' | b'E') = bytes.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = bytes.get(at) {
            at += 1;
        }
        if !digits(&mut at) {
            return None;
        }
    }
    Some(at)
}

/// The error serde_json reports for `fail`: its line and column (a byte count) computed from
/// the index as serde_json does, and the field path at that place.
fn document_error(text: &str, fail: Fail) -> DocumentError {
    let index = fail.index.min(text.len());
    let before = &text.as_bytes()[..index];
    let line_start = before
        .iter()
        .rposition(|byte| *byte == b'\n')
        .map_or(0, |i| i + 1);
    let line = 1 + before[..line_start].iter().filter(|b| **b == b'\n').count();
    let column = index - line_start;
    let message = format!("{} at line {line} column {column}", fail.message);
    let path = path_at(text, line, column, Subject::of_message(&message));
    invalid(
        Format::Json,
        path,
        Some(Location { line, column }),
        &message,
    )
}

/// serde's rendering of a float in messages (serde_json's): the shortest digits that read back,
/// positional from 1e-5 to below 1e16 (with `.0` when whole), otherwise `1.5e+20` / `1e-7`.
fn float_text(value: f64) -> String {
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::from(sign);
    if (-5..=15).contains(&exponent) {
        if exponent < 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n(
                '0',
                exponent.unsigned_abs() as usize - 1,
            ));
            out.push_str(&digits);
        } else {
            let whole = exponent as usize + 1;
            if digits.len() <= whole {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', whole - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..whole]);
                out.push('.');
                out.push_str(&digits[whole..]);
            }
        }
    } else {
        out.push_str(mantissa);
        out.push('e');
        if exponent >= 0 {
            out.push('+');
        }
        out.push_str(&exponent.to_string());
    }
    out
}

/// Members of a struct in declaration order, each with whether it is required.
type Fields = &'static [(&'static str, bool)];

const MANIFEST: Fields = &[
    ("version", true),
    ("change", true),
    ("evidence", false),
    ("provenance", false),
    ("extensions", false),
];
const CHANGE: Fields = &[
    ("id", true),
    ("title", true),
    ("reason", false),
    ("security_impact", false),
    ("ticket_status", true),
    ("submitted_at", false),
    ("emergency", false),
    ("commit", false),
    ("pipeline_id", false),
    ("author", true),
    ("deployer", true),
    ("deployer_groups", false),
    ("approvals", false),
    ("environment", true),
    ("data_classes", false),
    ("categories", false),
    ("includes_schema_changes", false),
    ("touches_security_components", false),
    ("lines_changed", false),
    ("historical_failure_rate", false),
];
const APPROVAL: Fields = &[
    ("by", true),
    ("role", true),
    ("at", true),
    ("meaning", false),
];
const EVIDENCE: Fields = &[
    ("tests", false),
    ("security_scan", false),
    ("compliance_checks_passed", false),
    ("backup_verified", false),
    ("rollback_plan", false),
    ("encryption", false),
    ("audit_logging", false),
    ("sensitive_data_findings", false),
    ("test_data_removed", false),
    ("breach_notification_procedure", false),
    ("infrastructure", false),
];
const INFRASTRUCTURE: Fields = &[("resources", false)];
const RESOURCE: Fields = &[
    ("address", true),
    ("resource_type", true),
    ("action", true),
    ("tracking_tags", false),
    ("audit_trail", false),
    ("data_store", false),
];
const TRACKING_TAGS: Fields = &[
    ("change_ticket", false),
    ("git_commit_sha", false),
    ("approval_reference", false),
    ("compliance_framework", false),
];
const AUDIT_TRAIL: Fields = &[
    ("logging", false),
    ("multi_region", false),
    ("log_file_validation", false),
    ("kms_encrypted", false),
];
const DATA_STORE: Fields = &[("kind", true), ("encrypted", false), ("public", false)];
const TEST_SUITE: Fields = &[("suite", true), ("passed", true), ("failed", true)];
const SECURITY_SCAN: Fields = &[
    ("completed", true),
    ("critical", false),
    ("high", false),
    ("medium", false),
    ("low", false),
];
const ROLLBACK_PLAN: Fields = &[
    ("documented", false),
    ("strategy", false),
    ("tested", false),
];
const ENCRYPTION: Fields = &[
    ("at_rest", false),
    ("in_transit", false),
    ("key_rotated_days_ago", false),
];
const FINDING: Fields = &[("kind", true), ("location", true)];
const FACT_SOURCE: Fields = &[("kind", true), ("detail", false)];

const TICKET_STATUSES: &[(&str, TicketStatus)] = &[
    ("draft", TicketStatus::Draft),
    ("submitted", TicketStatus::Submitted),
    ("approved", TicketStatus::Approved),
    ("rejected", TicketStatus::Rejected),
];
const DATA_CLASSES: &[(&str, DataClass)] = &[
    ("phi", DataClass::Phi),
    ("cardholder_data", DataClass::CardholderData),
    ("financial_reporting", DataClass::FinancialReporting),
    ("pii", DataClass::Pii),
    ("gxp", DataClass::Gxp),
];
const MEANINGS: &[(&str, SignatureMeaning)] = &[
    ("review", SignatureMeaning::Review),
    ("approval", SignatureMeaning::Approval),
    ("responsibility", SignatureMeaning::Responsibility),
    ("authorship", SignatureMeaning::Authorship),
];
const ACTIONS: &[(&str, ResourceAction)] = &[
    ("create", ResourceAction::Create),
    ("update", ResourceAction::Update),
    ("replace", ResourceAction::Replace),
    ("delete", ResourceAction::Delete),
];

struct Decoder<'a> {
    /// The document as given (places of errors, and what serde reads after a value).
    text: &'a str,
    /// The text the nodes were read from: `text`, or its part before a syntax error closed.
    read: &'a str,
    /// Where the kept part ends, and the syntax error serde meets from there on.
    cut: Option<(usize, Fail)>,
    /// Where a value was cut off by the syntax error (serde reads an enum's first character).
    cut_value: Option<usize>,
}

impl Decoder<'_> {
    /// The syntax error, if `node` was added after the kept part.
    fn reached(&self, node: &JsonNode) -> R<()> {
        match &self.cut {
            Some((cut, fail)) if node.offset >= *cut => Err(fail.clone()),
            _ => Ok(()),
        }
    }

    /// The syntax error after the kept part (an empty message if the text has none).
    fn syntax(&self) -> Fail {
        self.cut
            .as_ref()
            .map_or_else(|| Fail::new(0, String::new()), |(_, fail)| fail.clone())
    }

    /// The index after `node`; the syntax error if its end was added after the kept part.
    fn end(&self, node: &JsonNode) -> R<usize> {
        let end = value_end(self.read.as_bytes(), node);
        match &self.cut {
            Some((cut, fail)) if end > *cut => Err(fail.clone()),
            _ => Ok(end),
        }
    }

    /// The first index from `at` that is not whitespace, in the text as given.
    fn skip_whitespace(&self, mut at: usize) -> usize {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.text.as_bytes().get(at) {
            at += 1;
        }
        at
    }

    /// The index after the key of the member whose value is `value`.
    fn key_end(&self, value: &JsonNode) -> usize {
        let bytes = self.read.as_bytes();
        let mut at = value.offset;
        let mut colon = false;
        while at > 0 {
            match bytes.get(at - 1) {
                Some(b' ' | b'\t' | b'\n' | b'\r') => at -= 1,
                Some(b':') if !colon => {
                    colon = true;
                    at -= 1;
                }
                _ => break,
            }
        }
        at
    }

    /// serde's `invalid type` at `node`: after a scalar, at a bracket.
    fn wrong_type(&self, node: &JsonNode, expected: &str) -> Fail {
        let (index, unexpected) = match &node.value {
            JsonValue::Null => (None, "null".to_owned()),
            JsonValue::Bool(value) => (None, format!("boolean `{value}`")),
            JsonValue::Number(JsonNumber::Unsigned(n)) => (None, format!("integer `{n}`")),
            JsonValue::Number(JsonNumber::Negative(n)) => (None, format!("integer `{n}`")),
            JsonValue::Number(JsonNumber::Float(value, _)) => {
                (None, format!("floating point `{}`", float_text(*value)))
            }
            JsonValue::String(text) => (None, format!("string {text:?}")),
            JsonValue::Array(_) => (Some(node.offset), "sequence".to_owned()),
            JsonValue::Object(_) => (Some(node.offset), "map".to_owned()),
        };
        let index = index.unwrap_or_else(|| value_end(self.read.as_bytes(), node));
        Fail::new(
            index,
            format!("invalid type: {unexpected}, expected {expected}"),
        )
    }

    /// A check of a scalar failed: the error is placed after it.
    fn after(&self, node: &JsonNode, message: impl Into<String>) -> Fail {
        Fail::new(value_end(self.read.as_bytes(), node), message)
    }

    /// Decodes the struct `name` at `node` (a map, or a list of its members' values), calling
    /// `decode` with the index of each member found; refuses unknown, repeated and missing
    /// required members, as serde's derived decoder with `deny_unknown_fields` does.
    fn fields(
        &self,
        node: &JsonNode,
        name: &str,
        fields: Fields,
        decode: &mut dyn FnMut(usize, &JsonNode) -> R<()>,
    ) -> R<()> {
        self.reached(node)?;
        match &node.value {
            JsonValue::Object(members) => {
                let mut seen = vec![false; fields.len()];
                for (key, value) in members {
                    let at_key = self.skip_whitespace(self.key_end(value));
                    let Some(index) = fields.iter().position(|(field, _)| field == key) else {
                        let names: Vec<&str> = fields.iter().map(|(field, _)| *field).collect();
                        let message = format!("unknown field `{key}`, expected {}", one_of(&names));
                        return Err(Fail::new(at_key, message));
                    };
                    if seen[index] {
                        return Err(Fail::new(at_key, format!("duplicate field `{key}`")));
                    }
                    seen[index] = true;
                    decode(index, value)?;
                }
                let missing = fields
                    .iter()
                    .zip(&seen)
                    .find(|((_, required), seen)| *required && !**seen);
                if let Some(((field, _), _)) = missing {
                    let end = self.end(node)?;
                    return Err(Fail::new(end, format!("missing field `{field}`")));
                }
                Ok(())
            }
            JsonValue::Array(items) => {
                let mut after = None;
                for (index, (_, required)) in fields.iter().enumerate() {
                    if let Some(item) = items.get(index) {
                        decode(index, item)?;
                        after = Some(item);
                        continue;
                    }
                    let end = self.end(node)?;
                    if *required {
                        let message = format!(
                            "invalid length {index}, expected struct {name} with {} elements",
                            fields.len()
                        );
                        return Err(Fail::new(end, message));
                    }
                    after = None;
                }
                match after {
                    Some(last) => self.end_seq(value_end(self.read.as_bytes(), last)),
                    None => Ok(()),
                }
            }
            _ => Err(self.wrong_type(node, &format!("struct {name}"))),
        }
    }

    /// serde_json's end of a list after its last value read, at `at`.
    fn end_seq(&self, at: usize) -> R<()> {
        let bytes = self.text.as_bytes();
        let at = self.skip_whitespace(at);
        let peek = |at: usize| (at + 1).min(bytes.len());
        match bytes.get(at) {
            Some(b']') => Ok(()),
            Some(b',') => {
                let next = self.skip_whitespace(at + 1);
                let message = if bytes.get(next) == Some(&b']') {
                    "trailing comma"
                } else {
                    "trailing characters"
                };
                Err(Fail::new(peek(next), message))
            }
            Some(_) => Err(Fail::new(peek(at), "trailing characters")),
            None => Err(Fail::new(peek(at), "EOF while parsing a list")),
        }
    }

    /// The unit variant named at `node` (a string, or a map of one key to `null`).
    fn variant<T: Copy>(&self, node: &JsonNode, all: &[(&str, T)]) -> R<T> {
        if self.cut_value == Some(node.offset)
            && !matches!(self.text.as_bytes().get(node.offset), Some(b'"' | b'{'))
        {
            return Err(Fail::new(node.offset + 1, "expected value"));
        }
        self.reached(node)?;
        let names: Vec<&str> = all.iter().map(|(name, _)| *name).collect();
        let find = |text: &str, index: usize| {
            all.iter()
                .find(|(name, _)| *name == text)
                .map(|(_, variant)| *variant)
                .ok_or_else(|| {
                    let message = format!("unknown variant `{text}`, expected {}", one_of(&names));
                    Fail::new(index, message)
                })
        };
        match &node.value {
            JsonValue::String(text) => find(text, value_end(self.read.as_bytes(), node)),
            JsonValue::Object(members) => {
                let Some((key, value)) = members.first() else {
                    let next = self.skip_whitespace(node.offset + 1);
                    let message = match self.text.as_bytes().get(next) {
                        Some(b'}') => "expected value",
                        Some(b'"') => return Err(self.syntax()),
                        Some(_) => "key must be a string",
                        None => "EOF while parsing an object",
                    };
                    return Err(Fail::new((next + 1).min(self.text.len()), message));
                };
                let variant = find(key, self.key_end(value))?;
                self.reached(value)?;
                if value.value != JsonValue::Null {
                    return Err(self.wrong_type(value, "unit"));
                }
                let next = self.skip_whitespace(value_end(self.read.as_bytes(), value));
                match self.text.as_bytes().get(next) {
                    Some(b'}') => Ok(variant),
                    Some(_) => Err(Fail::new(next, "expected value")),
                    None => Err(Fail::new(next, "EOF while parsing an object")),
                }
            }
            _ => Err(Fail::new(node.offset + 1, "expected value")),
        }
    }

    fn option<T>(&self, node: &JsonNode, decode: impl FnOnce(&JsonNode) -> R<T>) -> R<Option<T>> {
        if self.cut_value == Some(node.offset)
            && self.text.as_bytes().get(node.offset) != Some(&b'n')
        {
            return decode(node).map(Some);
        }
        self.reached(node)?;
        match node.value {
            JsonValue::Null => Ok(None),
            _ => decode(node).map(Some),
        }
    }

    fn list<T>(&self, node: &JsonNode, item: impl Fn(&JsonNode) -> R<T>) -> R<Vec<T>> {
        self.reached(node)?;
        let JsonValue::Array(items) = &node.value else {
            return Err(self.wrong_type(node, "a sequence"));
        };
        items.iter().map(item).collect()
    }

    fn boolean(&self, node: &JsonNode) -> R<bool> {
        self.reached(node)?;
        match node.value {
            JsonValue::Bool(value) => Ok(value),
            _ => Err(self.wrong_type(node, "a boolean")),
        }
    }

    fn count(&self, node: &JsonNode) -> R<u32> {
        self.reached(node)?;
        let out_of_range = |n: &dyn std::fmt::Display| {
            self.after(node, format!("invalid value: integer `{n}`, expected u32"))
        };
        match &node.value {
            JsonValue::Number(JsonNumber::Unsigned(n)) => {
                u32::try_from(*n).map_err(|_| out_of_range(n))
            }
            JsonValue::Number(JsonNumber::Negative(n)) => Err(out_of_range(n)),
            _ => Err(self.wrong_type(node, "u32")),
        }
    }

    fn string(&self, node: &JsonNode) -> R<String> {
        self.reached(node)?;
        match &node.value {
            JsonValue::String(text) => Ok(text.clone()),
            _ => Err(self.wrong_type(node, "a string")),
        }
    }

    fn non_empty(&self, node: &JsonNode) -> R<String> {
        self.reached(node)?;
        match &node.value {
            JsonValue::String(text) if text.trim().is_empty() => {
                Err(self.after(node, "must not be empty"))
            }
            JsonValue::String(text) => Ok(text.clone()),
            _ => Err(self.wrong_type(node, "a non-empty string")),
        }
    }

    fn timestamp(&self, node: &JsonNode) -> R<Timestamp> {
        self.reached(node)?;
        match &node.value {
            JsonValue::String(text) => {
                Timestamp::parse(text).map_err(|error| self.after(node, error.to_string()))
            }
            _ => Err(self.wrong_type(node, "an RFC 3339 timestamp")),
        }
    }

    fn version(&self, node: &JsonNode) -> R<u32> {
        self.reached(node)?;
        match &node.value {
            JsonValue::Number(JsonNumber::Unsigned(n)) if *n == u64::from(MANIFEST_VERSION) => {
                Ok(MANIFEST_VERSION)
            }
            JsonValue::Number(JsonNumber::Unsigned(n)) => Err(self.after(
                node,
                format!("unsupported manifest version {n}, expected {MANIFEST_VERSION}"),
            )),
            JsonValue::Number(_) => Err(self.after(
                node,
                format!("invalid type: expected the integer {MANIFEST_VERSION}"),
            )),
            _ => Err(self.wrong_type(node, "manifest version 1")),
        }
    }

    #[expect(
        clippy::cast_precision_loss,
        reason = "as serde's f64, integers beyond 2^53 round"
    )]
    fn failure_rate(&self, node: &JsonNode) -> R<f64> {
        self.reached(node)?;
        let rate = match &node.value {
            JsonValue::Number(JsonNumber::Unsigned(n)) => *n as f64,
            JsonValue::Number(JsonNumber::Negative(n)) => *n as f64,
            JsonValue::Number(JsonNumber::Float(value, _)) => *value,
            _ => return Err(self.wrong_type(node, "a number between 0 and 1")),
        };
        if (0.0..=1.0).contains(&rate) {
            Ok(rate)
        } else {
            Err(self.after(node, format!("{rate} is outside 0..=1")))
        }
    }

    fn manifest(&self, node: &JsonNode) -> R<Manifest> {
        let mut manifest = Manifest {
            version: MANIFEST_VERSION,
            change: placeholder_change(),
            evidence: Evidence::default(),
            provenance: Provenance::default(),
            extensions: Extensions::new(),
        };
        self.fields(node, "Manifest", MANIFEST, &mut |field, value| {
            match field {
                0 => manifest.version = self.version(value)?,
                1 => manifest.change = self.change(value)?,
                2 => manifest.evidence = self.evidence(value)?,
                3 => manifest.provenance = self.provenance(value)?,
                _ => manifest.extensions = self.extensions(value)?,
            }
            Ok(())
        })?;
        if let Some((_, fail)) = &self.cut {
            return Err(fail.clone());
        }
        Ok(manifest)
    }

    fn change(&self, node: &JsonNode) -> R<Change> {
        let mut change = placeholder_change();
        self.fields(node, "Change", CHANGE, &mut |field, value| {
            let c = &mut change;
            match field {
                0 => c.id = self.non_empty(value)?,
                1 => c.title = self.non_empty(value)?,
                2 => c.reason = self.option(value, |v| self.string(v))?,
                3 => c.security_impact = self.option(value, |v| self.string(v))?,
                4 => c.ticket_status = self.variant(value, TICKET_STATUSES)?,
                5 => c.submitted_at = self.option(value, |v| self.timestamp(v))?,
                6 => c.emergency = self.boolean(value)?,
                7 => c.commit = self.option(value, |v| self.string(v))?,
                8 => c.pipeline_id = self.option(value, |v| self.string(v))?,
                9 => c.author = self.non_empty(value)?,
                10 => c.deployer = self.non_empty(value)?,
                11 => c.deployer_groups = self.list(value, |v| self.string(v))?,
                12 => c.approvals = self.list(value, |v| self.approval(v))?,
                13 => c.environment = self.non_empty(value)?,
                14 => c.data_classes = self.list(value, |v| self.variant(v, DATA_CLASSES))?,
                15 => {
                    c.categories = self.list(value, |v| {
                        let all = ChangeCategory::ALL.map(|category| (category.as_str(), category));
                        self.variant(v, &all)
                    })?;
                }
                16 => c.includes_schema_changes = self.boolean(value)?,
                17 => c.touches_security_components = self.boolean(value)?,
                18 => c.lines_changed = self.count(value)?,
                _ => c.historical_failure_rate = self.failure_rate(value)?,
            }
            Ok(())
        })?;
        Ok(change)
    }

    fn approval(&self, node: &JsonNode) -> R<Approval> {
        let mut approval = Approval {
            by: String::new(),
            role: String::new(),
            at: Timestamp {
                seconds: 0,
                nanoseconds: 0,
            },
            meaning: None,
        };
        self.fields(node, "Approval", APPROVAL, &mut |field, value| {
            match field {
                0 => approval.by = self.non_empty(value)?,
                1 => approval.role = self.non_empty(value)?,
                2 => approval.at = self.timestamp(value)?,
                _ => approval.meaning = self.option(value, |v| self.variant(v, MEANINGS))?,
            }
            Ok(())
        })?;
        Ok(approval)
    }

    fn evidence(&self, node: &JsonNode) -> R<Evidence> {
        let mut evidence = Evidence::default();
        self.fields(node, "Evidence", EVIDENCE, &mut |field, value| {
            let e = &mut evidence;
            match field {
                0 => e.tests = self.list(value, |v| self.test_suite(v))?,
                1 => e.security_scan = self.option(value, |v| self.security_scan(v))?,
                2 => e.compliance_checks_passed = self.boolean(value)?,
                3 => e.backup_verified = self.boolean(value)?,
                4 => e.rollback_plan = self.rollback_plan(value)?,
                5 => e.encryption = self.option(value, |v| self.encryption(v))?,
                6 => e.audit_logging = self.boolean(value)?,
                7 => e.sensitive_data_findings = self.list(value, |v| self.finding(v))?,
                8 => e.test_data_removed = self.boolean(value)?,
                9 => e.breach_notification_procedure = self.boolean(value)?,
                _ => e.infrastructure = self.option(value, |v| self.infrastructure(v))?,
            }
            Ok(())
        })?;
        Ok(evidence)
    }

    fn test_suite(&self, node: &JsonNode) -> R<TestSuite> {
        let mut suite = TestSuite {
            suite: String::new(),
            passed: 0,
            failed: 0,
        };
        self.fields(node, "TestSuite", TEST_SUITE, &mut |field, value| {
            match field {
                0 => suite.suite = self.non_empty(value)?,
                1 => suite.passed = self.count(value)?,
                _ => suite.failed = self.count(value)?,
            }
            Ok(())
        })?;
        Ok(suite)
    }

    fn security_scan(&self, node: &JsonNode) -> R<SecurityScan> {
        let mut scan = SecurityScan {
            completed: false,
            critical: 0,
            high: 0,
            medium: 0,
            low: 0,
        };
        self.fields(node, "SecurityScan", SECURITY_SCAN, &mut |field, value| {
            match field {
                0 => scan.completed = self.boolean(value)?,
                1 => scan.critical = self.count(value)?,
                2 => scan.high = self.count(value)?,
                3 => scan.medium = self.count(value)?,
                _ => scan.low = self.count(value)?,
            }
            Ok(())
        })?;
        Ok(scan)
    }

    fn rollback_plan(&self, node: &JsonNode) -> R<RollbackPlan> {
        let mut plan = RollbackPlan::default();
        self.fields(node, "RollbackPlan", ROLLBACK_PLAN, &mut |field, value| {
            match field {
                0 => plan.documented = self.boolean(value)?,
                1 => {
                    plan.strategy = self.option(value, |v| {
                        let all = [
                            RollbackStrategy::BlueGreen,
                            RollbackStrategy::Canary,
                            RollbackStrategy::RedeployPrevious,
                            RollbackStrategy::FeatureFlag,
                            RollbackStrategy::RestoreBackup,
                            RollbackStrategy::Other,
                        ]
                        .map(|strategy| (strategy.as_str(), strategy));
                        self.variant(v, &all)
                    })?;
                }
                _ => plan.tested = self.boolean(value)?,
            }
            Ok(())
        })?;
        Ok(plan)
    }

    fn encryption(&self, node: &JsonNode) -> R<Encryption> {
        let mut encryption = Encryption::default();
        self.fields(node, "Encryption", ENCRYPTION, &mut |field, value| {
            match field {
                0 => encryption.at_rest = self.boolean(value)?,
                1 => encryption.in_transit = self.boolean(value)?,
                _ => encryption.key_rotated_days_ago = self.option(value, |v| self.count(v))?,
            }
            Ok(())
        })?;
        Ok(encryption)
    }

    fn finding(&self, node: &JsonNode) -> R<SensitiveDataFinding> {
        let mut finding = SensitiveDataFinding {
            kind: SensitiveDataKind::Pan,
            location: String::new(),
        };
        self.fields(
            node,
            "SensitiveDataFinding",
            FINDING,
            &mut |field, value| {
                match field {
                    0 => {
                        let all = [
                            SensitiveDataKind::Pan,
                            SensitiveDataKind::Ssn,
                            SensitiveDataKind::MedicalRecordNumber,
                            SensitiveDataKind::HealthPlanId,
                            SensitiveDataKind::PhiOther,
                        ]
                        .map(|kind| (kind.as_str(), kind));
                        finding.kind = self.variant(value, &all)?;
                    }
                    _ => finding.location = self.non_empty(value)?,
                }
                Ok(())
            },
        )?;
        Ok(finding)
    }

    fn infrastructure(&self, node: &JsonNode) -> R<Infrastructure> {
        let mut infrastructure = Infrastructure::default();
        self.fields(node, "Infrastructure", INFRASTRUCTURE, &mut |_, value| {
            infrastructure.resources = self.list(value, |v| self.resource(v))?;
            Ok(())
        })?;
        Ok(infrastructure)
    }

    fn resource(&self, node: &JsonNode) -> R<InfrastructureResource> {
        let mut resource = InfrastructureResource {
            address: String::new(),
            resource_type: String::new(),
            action: ResourceAction::Create,
            tracking_tags: None,
            audit_trail: None,
            data_store: None,
        };
        self.fields(
            node,
            "InfrastructureResource",
            RESOURCE,
            &mut |field, value| {
                let r = &mut resource;
                match field {
                    0 => r.address = self.non_empty(value)?,
                    1 => r.resource_type = self.non_empty(value)?,
                    2 => r.action = self.variant(value, ACTIONS)?,
                    3 => r.tracking_tags = self.option(value, |v| self.tracking_tags(v))?,
                    4 => r.audit_trail = self.option(value, |v| self.audit_trail(v))?,
                    _ => r.data_store = self.option(value, |v| self.data_store(v))?,
                }
                Ok(())
            },
        )?;
        Ok(resource)
    }

    fn tracking_tags(&self, node: &JsonNode) -> R<TrackingTags> {
        let mut tags = TrackingTags::default();
        self.fields(node, "TrackingTags", TRACKING_TAGS, &mut |field, value| {
            let tag = self.option(value, |v| self.string(v))?;
            match field {
                0 => tags.change_ticket = tag,
                1 => tags.git_commit_sha = tag,
                2 => tags.approval_reference = tag,
                _ => tags.compliance_framework = tag,
            }
            Ok(())
        })?;
        Ok(tags)
    }

    fn audit_trail(&self, node: &JsonNode) -> R<AuditTrail> {
        let mut trail = AuditTrail::default();
        self.fields(node, "AuditTrail", AUDIT_TRAIL, &mut |field, value| {
            let on = self.boolean(value)?;
            match field {
                0 => trail.logging = on,
                1 => trail.multi_region = on,
                2 => trail.log_file_validation = on,
                _ => trail.kms_encrypted = on,
            }
            Ok(())
        })?;
        Ok(trail)
    }

    fn data_store(&self, node: &JsonNode) -> R<DataStore> {
        let mut store = DataStore {
            kind: DataStoreKind::Bucket,
            encrypted: false,
            public: false,
        };
        self.fields(node, "DataStore", DATA_STORE, &mut |field, value| {
            match field {
                0 => {
                    let all = [
                        DataStoreKind::Bucket,
                        DataStoreKind::Database,
                        DataStoreKind::Volume,
                        DataStoreKind::FileSystem,
                    ]
                    .map(|kind| (kind.as_str(), kind));
                    store.kind = self.variant(value, &all)?;
                }
                1 => store.encrypted = self.boolean(value)?,
                _ => store.public = self.boolean(value)?,
            }
            Ok(())
        })?;
        Ok(store)
    }

    /// The members of the map at `node` (serde's `deserialize_map`), or `invalid type`.
    fn members<'n>(&self, node: &'n JsonNode, expected: &str) -> R<&'n [(String, JsonNode)]> {
        self.reached(node)?;
        match &node.value {
            JsonValue::Object(members) => Ok(members),
            _ => Err(self.wrong_type(node, expected)),
        }
    }

    fn provenance(&self, node: &JsonNode) -> R<Provenance> {
        let members = self.members(node, "a mapping from manifest field to its source")?;
        let mut sources = BTreeMap::new();
        for (field, value) in members {
            if !FACT_FIELDS.contains(&field.as_str()) {
                let message = format!(
                    "unknown fact `{field}`, expected one of {}",
                    FACT_FIELDS.join(", ")
                );
                return Err(Fail::new(
                    self.skip_whitespace(self.key_end(value)),
                    message,
                ));
            }
            let source = self.fact_source(value)?;
            if sources.insert(field.clone(), source).is_some() {
                // serde_json's end of the map reads past a closing bracket.
                let next = self.skip_whitespace(value_end(self.read.as_bytes(), value));
                let index = next + usize::from(self.text.as_bytes().get(next) == Some(&b'}'));
                return Err(Fail::new(index, format!("`{field}` is given twice")));
            }
        }
        Ok(Provenance(sources))
    }

    fn fact_source(&self, node: &JsonNode) -> R<FactSource> {
        let mut source = FactSource::new(SourceKind::Unrecorded, None);
        self.fields(node, "FactSource", FACT_SOURCE, &mut |field, value| {
            match field {
                0 => {
                    let all = SourceKind::ALL.map(|kind| (kind.as_str(), kind));
                    source.kind = self.variant(value, &all)?;
                }
                _ => source.detail = self.option(value, |v| self.string(v))?,
            }
            Ok(())
        })?;
        Ok(source)
    }

    fn extensions(&self, node: &JsonNode) -> R<Extensions> {
        let mut extensions = Extensions::new();
        for (namespace, value) in self.members(node, "a map")? {
            let mut facts = serde_json::Map::new();
            for (name, fact) in self.members(value, "a map")? {
                self.reached(fact)?;
                // serde_json refuses to open a 128th container (the reader a 129th).
                if let Some(offset) = too_deep(fact, 3) {
                    return Err(Fail::new(offset + 1, "recursion limit exceeded"));
                }
                self.end(fact)?;
                // A repeated key replaces the earlier one, as in serde's maps.
                facts.insert(name.clone(), json_value(&fact.value));
            }
            extensions.insert(namespace.clone(), facts);
        }
        Ok(extensions)
    }
}

/// A change with its required members unset (the decoder refuses a change without them).
fn placeholder_change() -> Change {
    Change {
        id: String::new(),
        title: String::new(),
        reason: None,
        security_impact: None,
        ticket_status: TicketStatus::Draft,
        submitted_at: None,
        emergency: false,
        commit: None,
        pipeline_id: None,
        author: String::new(),
        deployer: String::new(),
        deployer_groups: Vec::new(),
        approvals: Vec::new(),
        environment: String::new(),
        data_classes: Vec::new(),
        categories: Vec::new(),
        includes_schema_changes: false,
        touches_security_components: false,
        lines_changed: 0,
        historical_failure_rate: 0.0,
    }
}

/// Where the first container at depth 128 in `node` starts, `node` being inside `depth`
/// containers.
fn too_deep(node: &JsonNode, depth: usize) -> Option<usize> {
    let children: Box<dyn Iterator<Item = &JsonNode>> = match &node.value {
        JsonValue::Array(items) => Box::new(items.iter()),
        JsonValue::Object(members) => Box::new(members.iter().map(|(_, value)| value)),
        _ => return None,
    };
    if depth + 1 >= 128 {
        return Some(node.offset);
    }
    children
        .into_iter()
        .find_map(|child| too_deep(child, depth + 1))
}

/// serde_json's value of a node.
fn json_value(value: &JsonValue) -> serde_json::Value {
    use serde_json::Value;
    match value {
        JsonValue::Null => Value::Null,
        JsonValue::Bool(b) => Value::Bool(*b),
        JsonValue::Number(JsonNumber::Unsigned(n)) => Value::from(*n),
        JsonValue::Number(JsonNumber::Negative(n)) => Value::from(*n),
        JsonValue::Number(JsonNumber::Float(f, _)) => Value::from(*f),
        JsonValue::String(text) => Value::String(text.clone()),
        JsonValue::Array(items) => {
            Value::Array(items.iter().map(|n| json_value(&n.value)).collect())
        }
        JsonValue::Object(members) => Value::Object(
            members
                .iter()
                .map(|(key, node)| (key.clone(), json_value(&node.value)))
                .collect(),
        ),
    }
}

/// The index after the value at `node` in `bytes`, the text it was read from.
fn value_end(bytes: &[u8], node: &JsonNode) -> usize {
    let start = node.offset;
    match &node.value {
        JsonValue::Null | JsonValue::Bool(true) => start + 4,
        JsonValue::Bool(false) => start + 5,
        JsonValue::Number(_) => number_end(bytes, start).unwrap_or(start),
        JsonValue::String(_) => string_end(bytes, start).unwrap_or(bytes.len()),
        JsonValue::Array(_) | JsonValue::Object(_) => {
            let mut depth = 0usize;
            let mut at = start;
            while let Some(&byte) = bytes.get(at) {
                match byte {
                    b'"' => {
                        at = string_end(bytes, at).unwrap_or(bytes.len());
                        continue;
                    }
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            return at + 1;
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            bytes.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_serde_json_prints_them() {
        for value in [
            1.5,
            0.05,
            1.0,
            -7.0,
            1e15,
            1e16,
            123456.789,
            1e-5,
            1e-6,
            1.5e-7,
            1e300,
            -2.5e20,
            0.1,
            0.0,
            -0.0,
            5e-324,
            1.7976931348623157e308,
        ] {
            let theirs = serde_json::to_string(&value).unwrap_or_default();
            assert_eq!(float_text(value), theirs, "{value:e}");
        }
    }
}
