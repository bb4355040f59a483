//! Reading a waivers file: the file must be a waivers document of a supported version; each entry is
//! then checked on its own, and a malformed one becomes a [`WaiverProblem`] naming the field and,
//! when known, the line.

use serde::Deserialize;
use serde_json::Value;
use tollgate_manifest::{DocumentError, Format, decode};

use crate::model::{ProblemKind, Waiver, WaiverProblem, WaiverSet};

/// The waivers-file format version this crate reads.
pub const WAIVERS_VERSION: u32 = 1;

/// Why a waivers file could not be read at all. Problems with single waivers are not errors:
/// they are [`WaiverProblem`]s and the other waivers still apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WaiverError {
    /// The file is not a waivers document (syntax error, not a mapping, no `waivers` list).
    #[error("invalid waivers file `{path}`: {source}")]
    Invalid {
        /// The file.
        path: String,
        /// The located error.
        source: DocumentError,
    },
    /// The file's version is not supported.
    #[error(
        "invalid waivers file `{path}`: unsupported `version` {version}, expected {WAIVERS_VERSION}"
    )]
    Version {
        /// The file.
        path: String,
        /// The version found.
        version: String,
    },
}

/// The loose shape: anything in the list, checked entry by entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LooseFile {
    #[serde(default)]
    version: Option<Value>,
    waivers: Vec<Value>,
}

/// The strict shape, decoded only to locate the first malformed entry's line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictFile {
    #[serde(default)]
    #[expect(dead_code, reason = "checked through LooseFile")]
    version: Option<Value>,
    #[expect(dead_code, reason = "decoded only for error locations")]
    waivers: Vec<Waiver>,
}

impl WaiverSet {
    /// Parses a waivers file. `path` names it in errors and selects the format (`.json` is JSON).
    pub fn parse(text: &str, path: &str) -> Result<Self, WaiverError> {
        let format = Format::detect(Some(std::path::Path::new(path)), text);
        let loose: LooseFile = decode(text, format).map_err(|source| WaiverError::Invalid {
            path: path.to_owned(),
            source,
        })?;
        if let Some(version) = &loose.version
            && version.as_u64() != Some(u64::from(WAIVERS_VERSION))
        {
            return Err(WaiverError::Version {
                path: path.to_owned(),
                version: version.to_string(),
            });
        }
        // The strict decode stops at the first malformed waiver, with its line and column.
        let first_error = decode::<StrictFile>(text, format).err();
        let mut set = WaiverSet {
            path: path.to_owned(),
            ..Self::default()
        };
        for (index, entry) in loose.waivers.into_iter().enumerate() {
            let id = entry.get("id").and_then(Value::as_str).map(str::to_owned);
            let prefix = format!("waivers[{index}]");
            let location = first_error.as_ref().and_then(|e| {
                e.path()
                    .filter(|p| *p == prefix || p.starts_with(&format!("{prefix}.")))
                    .and(e.location())
            });
            let malformed = |message: String, field: Option<String>| WaiverProblem {
                waiver: id.clone(),
                index,
                kind: ProblemKind::Malformed,
                message,
                field,
                location,
            };
            match serde_path_to_error::deserialize::<_, Waiver>(entry) {
                Err(error) => {
                    let inner = error.path().to_string();
                    let field = if inner == "." || inner.is_empty() {
                        prefix.clone()
                    } else {
                        format!("{prefix}.{inner}")
                    };
                    let message = format!("`{field}`: {}", error.into_inner());
                    set.problems.push(malformed(message, Some(field)));
                }
                Ok(waiver) if waiver.rule.is_none() && waiver.control.is_none() => {
                    set.problems.push(malformed(
                        format!("`{prefix}`: names neither a `rule` nor a `control`"),
                        Some(prefix.clone()),
                    ));
                }
                Ok(waiver) if set.waivers.iter().any(|w| w.id == waiver.id) => {
                    set.problems.push(malformed(
                        format!(
                            "`{prefix}.id`: `{}` is used by an earlier waiver",
                            waiver.id
                        ),
                        Some(format!("{prefix}.id")),
                    ));
                }
                Ok(waiver) => {
                    set.waivers.push(waiver);
                    set.positions.push(index);
                }
            }
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::FILE;

    #[test]
    fn malformed_entries_are_problems_with_field_and_line() {
        let set = WaiverSet::parse(FILE, "waivers.yaml").unwrap();
        assert_eq!(
            set.waivers
                .iter()
                .map(|w| w.id.as_str())
                .collect::<Vec<_>>(),
            ["WVR-1", "WVR-3", "WVR-4"]
        );
        assert_eq!(set.problems.len(), 2);
        let bad_date = &set.problems[0];
        assert_eq!(bad_date.waiver.as_deref(), Some("WVR-2"));
        assert_eq!(bad_date.field.as_deref(), Some("waivers[1].expires"));
        assert!(
            bad_date.message.contains("2026-13-01"),
            "{}",
            bad_date.message
        );
        assert_eq!(bad_date.location.map(|l| l.line), Some(15));
        let nothing = &set.problems[1];
        assert_eq!(nothing.index, 4);
        assert!(nothing.message.contains("neither"), "{}", nothing.message);
    }

    #[test]
    fn an_unreadable_file_is_an_error() {
        for (text, expected) in [
            ("waivers: [", "invalid YAML"),
            ("- id: x", "invalid YAML"),
            ("waiver: []", "unknown field `waiver`"),
            ("version: 2\nwaivers: []", "unsupported `version`"),
        ] {
            let error = WaiverSet::parse(text, "w.yaml").unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
            assert!(error.contains("w.yaml"), "{error}");
        }
    }

    #[test]
    fn duplicate_ids_are_malformed() {
        let set = WaiverSet::parse(
            "waivers:\n  - {id: W, rule: r, justification: j, ticket: T, approved_by: d, expires: 2026-06-30}\n  - {id: W, rule: s, justification: j, ticket: T, approved_by: d, expires: 2026-06-30}\n",
            "w.yaml",
        )
        .unwrap();
        assert_eq!(set.waivers.len(), 1);
        assert!(set.problems[0].message.contains("earlier waiver"));
    }
}

#[cfg(test)]
mod example {
    #[test]
    fn the_example_waivers_file_is_valid() {
        let text = include_str!("../../../examples/ci/compliance/waivers.yaml");
        let set = super::WaiverSet::parse(text, "waivers.yaml").unwrap();
        assert_eq!(set.waivers.len(), 1);
        assert!(set.problems.is_empty());
    }
}
