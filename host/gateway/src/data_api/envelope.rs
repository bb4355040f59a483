//! The `{"input": ...}` envelope of a Data API body, read without decoding the input, so that
//! the input's exact bytes are what is admitted (and digested).

use std::collections::BTreeSet;
use std::ops::Range;

use serde::de::{DeserializeOwned, IgnoredAny};

/// Why a body is not one JSON object with distinct keys.
#[derive(Debug, thiserror::Error)]
pub(super) enum EnvelopeError {
    /// Not an object.
    #[error("the request body must be an object `{{\"input\": ...}}`")]
    NotObject,
    /// No key where one must be.
    #[error("expected a key at byte {0}")]
    Key(usize),
    /// No `:` after a key.
    #[error("expected `:` at byte {0}")]
    Colon(usize),
    /// No `,` or `}` after a member.
    #[error("expected `,` or `}}` at byte {0}")]
    Separator(usize),
    /// A key given twice.
    #[error("duplicate key at byte {0}")]
    Duplicate(usize),
    /// Text after the object.
    #[error("trailing characters at byte {0}")]
    Trailing(usize),
    /// A key or value that is not JSON.
    #[error("at byte {at}: {source}")]
    Json {
        /// Where the value starts.
        at: usize,
        /// What JSON said.
        source: serde_json::Error,
    },
    /// The text ends before the value.
    #[error("unexpected end at byte {0}")]
    End(usize),
}

/// The byte range of the `input` member's value in `text`, `None` without one. An error says
/// why the text is not one JSON object with distinct keys.
pub(super) fn input_member(text: &str) -> Result<Option<Range<usize>>, EnvelopeError> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return Err(EnvelopeError::NotObject);
    }
    at = skip_space(bytes, at + 1);
    let mut keys = BTreeSet::new();
    let mut input = None;
    if bytes.get(at) == Some(&b'}') {
        at += 1;
    } else {
        loop {
            if bytes.get(at) != Some(&b'"') {
                return Err(EnvelopeError::Key(at));
            }
            let (key, end) = one::<String>(text, at)?;
            at = skip_space(bytes, end);
            if bytes.get(at) != Some(&b':') {
                return Err(EnvelopeError::Colon(at));
            }
            let start = skip_space(bytes, at + 1);
            let (IgnoredAny, end) = one::<IgnoredAny>(text, start)?;
            if key == "input" {
                input = Some(start..end);
            }
            if !keys.insert(key) {
                return Err(EnvelopeError::Duplicate(start.saturating_sub(1)));
            }
            at = skip_space(bytes, end);
            match bytes.get(at) {
                Some(b',') => at = skip_space(bytes, at + 1),
                Some(b'}') => {
                    at += 1;
                    break;
                }
                _ => return Err(EnvelopeError::Separator(at)),
            }
        }
    }
    if skip_space(bytes, at) != bytes.len() {
        return Err(EnvelopeError::Trailing(at));
    }
    Ok(input)
}

/// One JSON value of `text` starting at byte `at`, and the byte after it.
fn one<T: DeserializeOwned>(text: &str, at: usize) -> Result<(T, usize), EnvelopeError> {
    let rest = text.get(at..).unwrap_or_default();
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
    match values.next() {
        Some(Ok(value)) => Ok((value, at + values.byte_offset())),
        Some(Err(source)) => Err(EnvelopeError::Json { at, source }),
        None => Err(EnvelopeError::End(at)),
    }
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| b" \t\r\n".contains(b)) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::input_member;

    #[test]
    fn the_input_is_the_exact_text_of_its_member() {
        let text = " {\"x\": [1, {\"a\": 2}], \"input\" : {\"b\" :  1e400 } }\n";
        let range = input_member(text).unwrap().unwrap();
        assert_eq!(&text[range], "{\"b\" :  1e400 }");
        assert_eq!(input_member("{}").unwrap(), None);
        assert_eq!(input_member("{\"other\": 1}").unwrap(), None);
    }

    #[test]
    fn repeated_keys_and_malformed_bodies_are_refused() {
        for body in [
            "{\"input\": {}, \"input\": {}}",
            "{\"\\u0069nput\": {}, \"input\": {}}",
            "{\"a\": 1, \"a\": 2}",
            "[{\"input\": {}}]",
            "{\"input\": {}",
            "{\"input\": {}} {}",
            "{\"input\": {]}",
            "{input: 1}",
            "null",
        ] {
            assert!(input_member(body).is_err(), "{body}");
        }
    }
}
