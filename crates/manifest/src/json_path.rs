//! The field path at a place in JSON text.
//!
//! `serde_json` reports where decoding failed as a line and column but not which field was being
//! decoded. Tracking the path while decoding (`serde_path_to_error`) wraps every visitor of every
//! type, which doubles the decoding code: too much for the policy modules, where JSON decoding is
//! most of the size. The path is instead recovered after the fact, only when decoding failed, by
//! reading the text up to the error's place: the keys and indices of the containers still open
//! there are the path. Tests check it agrees with `serde_path_to_error` on every error kind the
//! manifest and settings produce.

/// What an error at a place is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    /// The value being read at that place (a wrong type, an invalid value, a bad key).
    Value,
    /// The innermost container open there, found incomplete when it closed (a missing field, a
    /// list of the wrong length): its own path, not its last member's.
    Container,
    /// A key not allowed in a struct: the path names it. (Any other error raised just after a key,
    /// such as an unknown variant or a value the mapping's own check refuses, names the mapping.)
    UnknownField,
    /// A value found wrong after its opening bracket was read (`expected value`): an array just
    /// opened there is that value, not a list whose first element is wrong.
    Opened,
}

impl Subject {
    /// Tells a container-level error from a value-level one by serde's wording of it.
    pub(crate) fn of_message(message: &str) -> Self {
        if message.starts_with("missing field") || message.starts_with("invalid length") {
            Self::Container
        } else if message.starts_with("unknown field") {
            Self::UnknownField
        } else if message.starts_with("expected value") {
            Self::Opened
        } else {
            Self::Value
        }
    }
}

/// One open container.
enum Frame {
    /// An object, with the key last read in it (an unknown field's error names the key too) and
    /// whether the `:` after it was read.
    Object { key: Option<String>, colon: bool },
    /// An array, with the index of the element being read, once something of it was read.
    Array { index: usize, started: bool },
}

/// The path (`change.approvals[0].at`) of the field at `line` and `column` (serde_json's: the line
/// from 1, the column a byte count within the line) of `text`, or `None` at the top level.
pub(crate) fn path_at(text: &str, line: usize, column: usize, subject: Subject) -> Option<String> {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(index, _)| index + 1)
    };
    let end = (line_start + column).min(text.len());
    let prefix = &text.as_bytes()[..end];
    let mut frames = open_frames(prefix);
    // A container error is reported either before the container's closing bracket (still open:
    // drop its last member) or just after it (closed: the open frames already end at it).
    let just_closed = prefix
        .iter()
        .rev()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| matches!(byte, b'}' | b']'));
    match subject {
        Subject::Container if !just_closed => {
            frames.pop();
        }
        Subject::Opened => {
            if let Some(Frame::Array { started: false, .. }) = frames.last() {
                frames.pop();
            }
        }
        _ => {}
    }
    if subject != Subject::UnknownField
        && let Some(Frame::Object {
            key: key @ Some(_),
            colon: false,
        }) = frames.last_mut()
    {
        *key = None;
    }
    // Otherwise an array whose next element has not begun is reading that element.
    if let Some(Frame::Array { started, .. }) = frames.last_mut() {
        *started = true;
    }
    render(&frames)
}

/// The containers open at the end of `prefix`, a prefix of a JSON document.
fn open_frames(prefix: &[u8]) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut at = 0;
    while let Some(&byte) = prefix.get(at) {
        at += 1;
        if let Some(Frame::Array { started, .. }) = frames.last_mut()
            && !matches!(byte, b',' | b']')
            && !byte.is_ascii_whitespace()
        {
            *started = true;
        }
        match byte {
            b'{' => frames.push(Frame::Object {
                key: None,
                colon: false,
            }),
            b':' => {
                if let Some(Frame::Object { colon, .. }) = frames.last_mut() {
                    *colon = true;
                }
            }
            b'[' => frames.push(Frame::Array {
                index: 0,
                started: false,
            }),
            b'}' | b']' => {
                frames.pop();
            }
            b',' => match frames.last_mut() {
                Some(Frame::Object { key, colon }) => {
                    *key = None;
                    *colon = false;
                }
                Some(Frame::Array { index, started }) => {
                    *index += 1;
                    *started = false;
                }
                None => {}
            },
            b'"' => {
                let (text, next) = string(prefix, at);
                at = next;
                if let Some(Frame::Object {
                    key: key @ None, ..
                }) = frames.last_mut()
                {
                    *key = Some(text);
                }
            }
            _ => {}
        }
    }
    frames
}

/// Reads a string whose opening quote ends before `start`: its text (escapes resolved as far as a
/// path needs) and the index after its closing quote (or the end of a cut-off prefix).
fn string(bytes: &[u8], start: usize) -> (String, usize) {
    let mut text = Vec::new();
    let mut at = start;
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        match byte {
            b'"' => break,
            b'\\' => {
                let Some(&escaped) = bytes.get(at) else { break };
                at += 1;
                match escaped {
                    b'n' => text.push(b'\n'),
                    b't' => text.push(b'\t'),
                    b'r' => text.push(b'\r'),
                    b'b' => text.push(0x08),
                    b'f' => text.push(0x0c),
                    b'u' => {
                        let code = bytes
                            .get(at..at + 4)
                            .and_then(|hex| std::str::from_utf8(hex).ok())
                            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                            .and_then(char::from_u32)
                            .unwrap_or(char::REPLACEMENT_CHARACTER);
                        at = (at + 4).min(bytes.len());
                        let mut buffer = [0; 4];
                        text.extend_from_slice(code.encode_utf8(&mut buffer).as_bytes());
                    }
                    other => text.push(other),
                }
            }
            other => text.push(other),
        }
    }
    (String::from_utf8_lossy(&text).into_owned(), at)
}

/// Writes frames as a path the way `serde_path_to_error` does: keys joined by `.`, indices as `[i]`.
fn render(frames: &[Frame]) -> Option<String> {
    let mut path = String::new();
    for frame in frames {
        match frame {
            Frame::Object { key: Some(key), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object { key: None, .. } | Frame::Array { started: false, .. } => break,
            Frame::Array {
                index,
                started: true,
            } => {
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
            }
        }
    }
    (!path.is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_end(prefix: &str, subject: Subject) -> Option<String> {
        let line = prefix.matches('\n').count() + 1;
        let column = prefix.len() - prefix.rfind('\n').map_or(0, |i| i + 1);
        path_at(prefix, line, column, subject)
    }

    #[test]
    fn keys_count_once_their_value_began_unless_they_are_unknown() {
        assert_eq!(
            at_end(r#"{"a": {"b""#, Subject::UnknownField).as_deref(),
            Some("a.b")
        );
        assert_eq!(
            at_end(r#"{"a": {"b""#, Subject::Value).as_deref(),
            Some("a")
        );
        assert_eq!(
            at_end(r#"{"a": {"b": 1, "#, Subject::Value).as_deref(),
            Some("a")
        );
        assert_eq!(
            at_end(r#"{"a": {"b": 1"#, Subject::Value).as_deref(),
            Some("a.b")
        );
        assert_eq!(
            at_end(r#"{"a": {"b": 1"#, Subject::Container).as_deref(),
            Some("a")
        );
        assert_eq!(at_end(r#"{"a": 1}"#, Subject::Value), None);
    }

    #[test]
    fn indices_and_escaped_keys() {
        assert_eq!(
            at_end("{\"x\": [1,\n {\"q\\\"\\u00e9\": \"v\"", Subject::Value).as_deref(),
            Some("x[1].q\"é")
        );
        assert_eq!(
            at_end(r#"{"x": [1, 2"#, Subject::Container).as_deref(),
            Some("x")
        );
        assert_eq!(
            at_end(r#"{"x": "a,b]}{"#, Subject::Value).as_deref(),
            Some("x")
        );
    }
}
