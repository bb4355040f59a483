//! Field locations in a manifest's text: `change.approvals[0].by` to a line and column, so that a
//! finding can point at the field it is about. Works for YAML (block and flow style) and JSON.

use std::collections::HashMap;

use yaml_rust2::Event;
use yaml_rust2::parser::{MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A line and column, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// The positions of the fields of one document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldMap {
    positions: HashMap<String, Position>,
}

impl FieldMap {
    /// Maps the fields of a YAML or JSON text. A text that does not parse maps nothing.
    pub fn new(text: &str) -> Self {
        let mut receiver = Receiver::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut receiver, false).is_err() {
            return Self::default();
        }
        Self {
            positions: receiver.positions,
        }
    }

    /// The position of a field (of the key, for mapping entries), or of its nearest ancestor that
    /// is present (a missing field is reported where its parent is).
    pub fn locate(&self, path: &str) -> Option<Position> {
        let mut path = path;
        loop {
            if let Some(position) = self.positions.get(path) {
                return Some(*position);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, index: usize },
}

#[derive(Default)]
struct Receiver {
    stack: Vec<Frame>,
    positions: HashMap<String, Position>,
}

fn position(mark: Marker) -> Position {
    Position {
        line: mark.line(),
        column: mark.col() + 1,
    }
}

impl Receiver {
    /// The path of the node about to be read, or `None` when the next scalar is a mapping key.
    fn child_path(&self) -> Option<String> {
        match self.stack.last() {
            None => Some(String::new()),
            Some(Frame::Map { key: None, .. }) => None,
            Some(Frame::Map {
                path,
                key: Some(key),
            }) => Some(if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            }),
            Some(Frame::Seq { path, index }) => Some(format!("{path}[{index}]")),
        }
    }

    /// Moves the parent past the node just read.
    fn advance(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }

    fn record(&mut self, path: &str, mark: Marker) {
        if !path.is_empty() {
            self.positions
                .entry(path.to_owned())
                .or_insert_with(|| position(mark));
        }
    }
}

impl MarkedEventReceiver for Receiver {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(value, ..) => match self.child_path() {
                None => {
                    // A mapping key: the field is located at its key.
                    if let Some(Frame::Map { path, key }) = self.stack.last_mut() {
                        let field = if path.is_empty() {
                            value.clone()
                        } else {
                            format!("{path}.{value}")
                        };
                        *key = Some(value);
                        self.positions
                            .entry(field)
                            .or_insert_with(|| position(mark));
                    }
                }
                Some(path) => {
                    self.record(&path, mark);
                    self.advance();
                }
            },
            Event::Alias(_) => {
                if let Some(path) = self.child_path() {
                    self.record(&path, mark);
                    self.advance();
                } else if let Some(Frame::Map { key, .. }) = self.stack.last_mut() {
                    *key = Some(String::from("*alias"));
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let path = self.child_path().unwrap_or_else(|| "?".to_owned());
                self.record(&path, mark);
                self.stack
                    .push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Map { path, key: None }
                    } else {
                        Frame::Seq { path, index: 0 }
                    });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.advance();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "version: 1
change:
  id: CHG-1
  approvals:
    - { by: bob, role: TECHNICAL_LEAD, at: 2026-05-20T09:12:00Z }
    - by: carol
      role: SECURITY_OFFICER
evidence:
  tests: []
";

    #[test]
    fn locates_block_and_flow_fields() {
        let map = FieldMap::new(YAML);
        let line = |path: &str| map.locate(path).map(|p| p.line);
        assert_eq!(line("version"), Some(1));
        assert_eq!(line("change.id"), Some(3));
        assert_eq!(line("change.approvals[0].by"), Some(5));
        assert_eq!(line("change.approvals[1].role"), Some(7));
        assert_eq!(line("evidence.tests"), Some(9));
        assert_eq!(map.locate("change.id").map(|p| p.column), Some(3));
    }

    #[test]
    fn missing_fields_fall_back_to_their_parent() {
        let map = FieldMap::new(YAML);
        assert_eq!(
            map.locate("evidence.rollback_plan.documented")
                .map(|p| p.line),
            Some(8)
        );
        assert_eq!(
            map.locate("change.approvals[5].by").map(|p| p.line),
            Some(4)
        );
        assert_eq!(map.locate("nothing"), None);
    }

    #[test]
    fn locates_json_fields() {
        let map = FieldMap::new(
            "{\n  \"change\": {\n    \"id\": \"x\",\n    \"approvals\": [\n      {\"by\": \"b\"}\n    ]\n  }\n}",
        );
        assert_eq!(
            map.locate("change.approvals[0].by").map(|p| p.line),
            Some(5)
        );
    }

    #[test]
    fn unparsable_text_maps_nothing() {
        assert_eq!(FieldMap::new("a: [").locate("a"), None);
    }
}
