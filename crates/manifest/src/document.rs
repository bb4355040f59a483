//! Decoding YAML or JSON documents into typed values, with errors that name the field path and the
//! line and column where decoding failed.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::json_path::{Subject, path_at};

/// Largest document accepted, in bytes. Bigger inputs are rejected before parsing.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// The syntax of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML 1.2 (a superset of JSON).
    Yaml,
    /// JSON.
    Json,
}

impl Format {
    /// Picks the format from a file extension (`.json` is JSON, anything else YAML), falling back
    /// to the content: a document whose first non-blank character is `{` is JSON.
    pub fn detect(path: Option<&Path>, text: &str) -> Self {
        match path.and_then(Path::extension).and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Self::Json,
            Some(ext) if ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml") => {
                Self::Yaml
            }
            _ if text.trim_start().starts_with('{') => Self::Json,
            _ => Self::Yaml,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Yaml => "YAML",
            Self::Json => "JSON",
        })
    }
}

/// A line and column in a document, both starting at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Why a document could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// The document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("document is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Size of the document.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The document is malformed or does not match the expected shape.
    #[error("{}", describe(*format, path.as_deref(), *location, message))]
    Invalid {
        /// Syntax of the document.
        format: Format,
        /// Field path where decoding failed (`change.approvals[0].at`), if known.
        path: Option<String>,
        /// Where in the text decoding failed, if known.
        location: Option<Location>,
        /// What is wrong.
        message: String,
    },
}

impl DocumentError {
    /// The field path where decoding failed, if known.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::Invalid { path, .. } => path.as_deref(),
            Self::TooLarge { .. } => None,
        }
    }

    /// Where in the text decoding failed, if known.
    pub fn location(&self) -> Option<Location> {
        match self {
            Self::Invalid { location, .. } => *location,
            Self::TooLarge { .. } => None,
        }
    }
}

fn describe(
    format: Format,
    path: Option<&str>,
    location: Option<Location>,
    message: &str,
) -> String {
    let mut text = format!("invalid {format}");
    if let Some(path) = path {
        text.push_str(&format!(" at `{path}`"));
    }
    if let Some(Location { line, column }) = location {
        text.push_str(&format!(" (line {line}, column {column})"));
    }
    text.push_str(": ");
    text.push_str(message);
    text
}

/// Decodes a document of the given format into `T`.
pub fn decode<T: DeserializeOwned>(text: &str, format: Format) -> Result<T, DocumentError> {
    match format {
        Format::Json => decode_json(text),
        Format::Yaml => decode_yaml(text),
    }
}

/// Decodes a JSON document into `T`. Policy modules call this rather than [`decode`], so that no
/// YAML decoder is linked into them.
pub fn decode_json<T: DeserializeOwned>(text: &str) -> Result<T, DocumentError> {
    within_limit(text)?;
    let mut de = serde_json::Deserializer::from_str(text);
    T::deserialize(&mut de)
        .and_then(|value| de.end().map(|()| value))
        .map_err(|error| json_error(text, &error))
}

/// Decodes a YAML document into `T`.
fn decode_yaml<T: DeserializeOwned>(text: &str) -> Result<T, DocumentError> {
    within_limit(text)?;
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = (path != "." && !path.is_empty()).then_some(path);
        let inner = e.into_inner();
        let location = inner.location().map(|l| Location {
            line: l.line(),
            column: l.column(),
        });
        invalid(Format::Yaml, path, location, &inner.to_string())
    })
}

fn within_limit(text: &str) -> Result<(), DocumentError> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge {
            size: text.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(())
}

/// A JSON decoding error with the field path at its place (recovered from the text at its place).
fn json_error(text: &str, error: &serde_json::Error) -> DocumentError {
    let message = error.to_string();
    let (location, path) = if error.line() > 0 {
        let subject = Subject::of_message(&message);
        (
            Some(Location {
                line: error.line(),
                column: error.column(),
            }),
            path_at(text, error.line(), error.column(), subject),
        )
    } else {
        (None, None)
    };
    invalid(Format::Json, path, location, &message)
}

pub(crate) fn invalid(
    format: Format,
    path: Option<String>,
    location: Option<Location>,
    raw: &str,
) -> DocumentError {
    // Both parsers append " at line L column C" to their messages; the location is kept separately.
    let mut message = raw.find(" at line ").map_or(raw, |index| &raw[..index]);
    // serde_yaml_ng prefixes messages with its own rendering of the path; the path is kept separately.
    if let (Some(path), Some((prefix, rest))) = (&path, message.split_once(": "))
        && !prefix.contains(' ')
        && path.starts_with(prefix)
    {
        message = rest;
    }
    let message = crate::mask_secrets(&plain_words(&elide_wrong_strings(message)));
    DocumentError::Invalid {
        format,
        path,
        location,
        message,
    }
}

/// Drops the quoted text from `invalid type: string "…"`: a string where another type belongs is
/// not shown (at the top of a document it is the whole document, for example a dotenv file or
/// `/etc/passwd`); its field path and line say where it is.
fn elide_wrong_strings(message: &str) -> String {
    const WRONG: &str = "invalid type: string \"";
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(WRONG) {
        out.push_str(&rest[..start]);
        out.push_str("invalid type: a string");
        let quoted = &rest[start + WRONG.len()..];
        let mut escaped = false;
        let end = quoted.char_indices().find_map(|(i, c)| match c {
            '\\' if !escaped => {
                escaped = true;
                None
            }
            '"' if !escaped => Some(i + 1),
            _ => {
                escaped = false;
                None
            }
        });
        rest = end.map_or("", |end| &quoted[end..]);
    }
    out.push_str(rest);
    out
}

/// Rewrites the type names of deserializer messages in words a user reads: `expected u32`
/// becomes `expected a whole number (0 or more)`, `a sequence` a list, `a map` a mapping.
pub fn plain_words(message: &str) -> String {
    const WORDS: [(&str, &str); 15] = [
        (
            "expected struct Manifest",
            "expected a change manifest (a mapping with `version` and `change`)",
        ),
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number (0 or more)"),
        ("expected u32", "expected a whole number (0 or more)"),
        ("expected u64", "expected a whole number (0 or more)"),
        ("expected usize", "expected a whole number (0 or more)"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected `true` or `false`"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a mapping"),
        ("invalid type: sequence", "invalid type: a list"),
        ("invalid type: map", "invalid type: a mapping"),
    ];
    let mut text = message.to_owned();
    for (from, to) in WORDS {
        text = text.replace(from, to);
    }
    text
}
