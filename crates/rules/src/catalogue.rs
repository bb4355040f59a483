//! A policy's control catalogue as a static table: the single source of its [`PolicyMetadata`],
//! and therefore of the references [`crate::DecisionBuilder`] attaches to findings; and the
//! parser of the control table in a policy's README, which the policy crates test against it.

use tollgate_decision::{Control, ExtensionSchema, PolicyMetadata, RegulatoryReference};

/// A policy's identity and controls, in evaluation and report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Catalogue {
    /// Stable policy id, for example `sox`.
    pub id: &'static str,
    /// Framework name, for example `SOX`.
    pub framework: &'static str,
    /// Policy version (the policy crate's `CARGO_PKG_VERSION`).
    pub version: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// Every control the policy evaluates.
    pub controls: &'static [ControlEntry],
    /// JSON Schema of the policy's own settings (JSON text), if it declares one; see
    /// [`PolicyMetadata::settings_schema`].
    pub settings_schema: Option<&'static str>,
    /// The manifest extension namespaces the policy reads.
    pub extensions: &'static [ExtensionEntry],
}

/// A manifest extension namespace a [`Catalogue`]'s policy reads, with its JSON Schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionEntry {
    /// Namespace: the manifest's `extensions.<namespace>` object.
    pub namespace: &'static str,
    /// What the namespace holds, in one line.
    pub description: &'static str,
    /// JSON Schema (draft 2020-12) of the namespace's object, as JSON text.
    pub schema: &'static str,
}

/// One control of a [`Catalogue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlEntry {
    /// Control id, for example `SOX-CC-05`.
    pub id: &'static str,
    /// Short title.
    pub title: &'static str,
    /// What the control requires.
    pub description: &'static str,
    /// Regulatory references it evidences.
    pub references: &'static [ReferenceEntry],
    /// Rule ids its findings can carry.
    pub rules: &'static [&'static str],
    /// Manifest facts it relies on (their sources are weighed, see [`crate::trust`]).
    pub relies_on: &'static [&'static str],
}

/// A regulatory reference of a [`ControlEntry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceEntry {
    /// The framework or text, for example `PCI DSS v4.0`.
    pub source: &'static str,
    /// The section, for example `6.5.1`.
    pub section: &'static str,
}

impl ReferenceEntry {
    /// A reference to `section` of `source`.
    pub const fn new(source: &'static str, section: &'static str) -> Self {
        Self { source, section }
    }

    /// The reference as decisions carry it.
    pub fn to_reference(&self) -> RegulatoryReference {
        RegulatoryReference::new(self.source, self.section)
    }
}

impl Catalogue {
    /// The control with this id.
    pub fn control(&self, id: &str) -> Option<&'static ControlEntry> {
        let controls: &'static [ControlEntry] = self.controls;
        controls.iter().find(|c| c.id == id)
    }

    /// The policy metadata: identity and every control, in catalogue order.
    pub fn metadata(&self) -> PolicyMetadata {
        PolicyMetadata {
            id: self.id.into(),
            framework: self.framework.into(),
            version: self.version.into(),
            description: self.description.into(),
            controls: self.controls.iter().map(ControlEntry::to_control).collect(),
            settings_schema: self.settings_schema.map(str::to_owned),
            extensions: self
                .extensions
                .iter()
                .map(|e| ExtensionSchema {
                    namespace: e.namespace.into(),
                    description: e.description.into(),
                    schema: e.schema.into(),
                })
                .collect(),
        }
    }
}

impl ControlEntry {
    /// The control's regulatory references as decisions carry them.
    pub fn regulatory_references(&self) -> Vec<RegulatoryReference> {
        self.references
            .iter()
            .map(ReferenceEntry::to_reference)
            .collect()
    }

    /// The control as metadata carries it.
    pub fn to_control(&self) -> Control {
        Control {
            id: self.id.into(),
            title: self.title.into(),
            description: self.description.into(),
            references: self.regulatory_references(),
            rules: self.rules.iter().map(|r| (*r).to_owned()).collect(),
            relies_on: self.relies_on.iter().map(|f| (*f).to_owned()).collect(),
        }
    }
}

/// A control as a README's control table documents it: id, title and references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentedControl {
    /// Control id.
    pub id: String,
    /// Short title.
    pub title: String,
    /// Regulatory references, in order.
    pub references: Vec<RegulatoryReference>,
}

impl DocumentedControl {
    /// What a README should document for each control of `metadata`, in order.
    pub fn from_metadata(metadata: &PolicyMetadata) -> Vec<Self> {
        metadata
            .controls
            .iter()
            .map(|c| Self {
                id: c.id.clone(),
                title: c.title.clone(),
                references: c.references.clone(),
            })
            .collect()
    }
}

/// The header cells a README control table starts with.
const TABLE_HEADER: [&str; 3] = ["Control id", "Title", "Regulatory references"];

/// Why a README's control table could not be read ([`readme_control_table`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// No table starts with the expected columns.
    #[error("no table with the columns {}", TABLE_HEADER.join(" | "))]
    NoTable,
    /// The header is not followed by a separator row (the line found, if any).
    #[error("expected the table's separator row, found {0:?}")]
    Separator(Option<String>),
    /// A row has fewer than three cells.
    #[error("row with fewer than three cells: {0}")]
    ShortRow(String),
    /// A control id is not written in backticks.
    #[error("control id not in backticks: {0}")]
    Id(String),
    /// A reference is not written `Source: section`.
    #[error("reference without `Source: section`: {0}")]
    Reference(String),
    /// The table has a header but no rows.
    #[error("the control table has no rows")]
    NoRows,
}

/// Parses the control table of a policy README: the Markdown table whose first three columns are
/// `Control id | Title | Regulatory references`. An id is written in backticks; references are
/// `Source: section, section; Source: section` (a comma inside parentheses belongs to the
/// section).
pub fn readme_control_table(markdown: &str) -> Result<Vec<DocumentedControl>, TableError> {
    let mut lines = markdown.lines().map(str::trim);
    lines
        .by_ref()
        .find(|line| cells(line).get(..3) == Some(&TABLE_HEADER[..]))
        .ok_or(TableError::NoTable)?;
    match lines.next() {
        Some(line) if line.starts_with("|-") || line.starts_with("| -") => {}
        other => return Err(TableError::Separator(other.map(str::to_owned))),
    }
    let mut controls = Vec::new();
    for line in lines.take_while(|line| line.starts_with('|')) {
        let row = cells(line);
        let [id, title, references, ..] = row.as_slice() else {
            return Err(TableError::ShortRow(line.to_owned()));
        };
        let id = id
            .strip_prefix('`')
            .and_then(|id| id.strip_suffix('`'))
            .ok_or_else(|| TableError::Id((*id).to_owned()))?;
        controls.push(DocumentedControl {
            id: id.to_owned(),
            title: (*title).to_owned(),
            references: parse_references(references)?,
        });
    }
    if controls.is_empty() {
        return Err(TableError::NoRows);
    }
    Ok(controls)
}

/// The trimmed cells of a Markdown table row (empty for a line that is not a row).
fn cells(line: &str) -> Vec<&str> {
    let Some(inner) = line.strip_prefix('|') else {
        return Vec::new();
    };
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(str::trim).collect()
}

/// Parses `Source: section, section; Source: section`.
fn parse_references(cell: &str) -> Result<Vec<RegulatoryReference>, TableError> {
    let mut references = Vec::new();
    for group in cell.split("; ") {
        let (source, sections) = group
            .split_once(": ")
            .ok_or_else(|| TableError::Reference(group.to_owned()))?;
        for section in split_outside_parentheses(sections) {
            references.push(RegulatoryReference::new(source.trim(), section.trim()));
        }
    }
    Ok(references)
}

/// Splits on `", "` except inside parentheses.
fn split_outside_parentheses(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0_u32;
    let mut start = 0;
    for (index, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 && text[index + 1..].starts_with(' ') => {
                parts.push(&text[start..index]);
                start = index + 2;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = "# P\n\n| Control id | Title | Regulatory references | What |\n\
        |---|---|---|---|\n\
        | `A-1` | First | COBIT 2019: BAI06.01, BAI07; PCAOB AS 2201: .B29 (changes, access) | x |\n\
        | `A-2` | Second | 45 CFR: 164.312(b) | y |\n\nAfter.\n";

    #[test]
    fn parses_ids_titles_and_references() {
        let controls = readme_control_table(README).unwrap();
        assert_eq!(
            controls,
            [
                DocumentedControl {
                    id: "A-1".into(),
                    title: "First".into(),
                    references: vec![
                        RegulatoryReference::new("COBIT 2019", "BAI06.01"),
                        RegulatoryReference::new("COBIT 2019", "BAI07"),
                        RegulatoryReference::new("PCAOB AS 2201", ".B29 (changes, access)"),
                    ],
                },
                DocumentedControl {
                    id: "A-2".into(),
                    title: "Second".into(),
                    references: vec![RegulatoryReference::new("45 CFR", "164.312(b)")],
                },
            ]
        );
    }

    #[test]
    fn rejects_a_readme_without_the_table() {
        assert!(readme_control_table("| Control | Title | Reference |\n|---|---|---|\n").is_err());
        let no_source = README.replace("45 CFR: ", "45 CFR ");
        assert!(readme_control_table(&no_source).is_err());
    }

    #[test]
    fn catalogue_metadata_keeps_order_and_references() {
        const CATALOGUE: Catalogue = Catalogue {
            id: "p",
            framework: "P",
            version: "1.0.0",
            description: "d",
            controls: &[ControlEntry {
                id: "A-1",
                title: "First",
                description: "d1",
                references: &[ReferenceEntry::new("S", "1"), ReferenceEntry::new("S", "2")],
                rules: &["a-rule"],
                relies_on: &["change.approvals"],
            }],
            settings_schema: None,
            extensions: &[],
        };
        let metadata = CATALOGUE.metadata();
        assert_eq!(metadata.id, "p");
        assert_eq!(metadata.controls.len(), 1);
        assert_eq!(
            metadata.controls[0].references,
            [
                RegulatoryReference::new("S", "1"),
                RegulatoryReference::new("S", "2")
            ]
        );
        assert_eq!(
            DocumentedControl::from_metadata(&metadata)[0].title,
            "First"
        );
    }
}
