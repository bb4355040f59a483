//! The result of a gathering and how it is written: the manifest (with each fact's source in its
//! `provenance`) as YAML or JSON, and the provenance with the masked detections as a separate JSON
//! document.

use serde_json::{Value, json};
use tollgate_manifest::{FactSource, Format, Manifest};

use crate::GatherError;
use crate::detect::Detection;

/// Where one manifest field came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldSource {
    /// Field path, for example `change.author`.
    pub field: String,
    /// Its source, for example `ci (gitlab GITLAB_USER_LOGIN)`.
    #[serde(flatten)]
    pub source: FactSource,
}

/// The gathered manifest, where each field came from, the (masked) detections and notes.
#[derive(Debug, Clone, PartialEq)]
pub struct Gathered {
    /// The manifest, validated.
    pub manifest: Manifest,
    /// Sources of the fields that were set, in field order.
    pub provenance: Vec<FieldSource>,
    /// Sensitive-data detections, with masked values.
    pub detections: Vec<Detection>,
    /// Things a reviewer should know (for example several authors in the change).
    pub notes: Vec<String>,
}

/// Output syntax of [`Gathered::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// YAML, with the notes as leading comments.
    Yaml,
    /// JSON.
    Json,
}

impl Gathered {
    /// Renders the manifest and checks that the text parses back to the same manifest.
    pub fn render(&self, format: OutputFormat) -> Result<String, GatherError> {
        let internal = |e: &dyn std::fmt::Display| GatherError::Internal(e.to_string());
        let text = match format {
            OutputFormat::Yaml => {
                let body = serde_yaml_ng::to_string(&self.manifest).map_err(|e| internal(&e))?;
                let mut text = String::from(
                    "# Change manifest gathered by `tollgate manifest`; `provenance` records where each fact came from.\n",
                );
                for note in &self.notes {
                    text.push_str(&format!("# note: {}\n", note.replace('\n', " ")));
                }
                text + &body
            }
            OutputFormat::Json => {
                serde_json::to_string_pretty(&self.manifest).map_err(|e| internal(&e))? + "\n"
            }
        };
        let format_back = match format {
            OutputFormat::Yaml => Format::Yaml,
            OutputFormat::Json => Format::Json,
        };
        let parsed =
            Manifest::from_text(&text, format_back).map_err(|source| GatherError::Invalid {
                partial: None,
                source,
            })?;
        if parsed != self.manifest {
            return Err(GatherError::Internal(
                "the rendered manifest does not parse back to the gathered one".to_owned(),
            ));
        }
        Ok(text)
    }

    /// The provenance, detections (masked) and notes as a JSON document.
    pub fn provenance_json(&self) -> String {
        let detections: Vec<Value> = self
            .detections
            .iter()
            .map(|d| {
                json!({
                    "kind": d.kind,
                    "location": d.location(),
                    "masked": d.masked,
                })
            })
            .collect();
        let document = json!({
            "fields": self.provenance,
            "sensitive_data": detections,
            "notes": self.notes,
        });
        serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
    }
}
