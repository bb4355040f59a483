//! The Tollgate change manifest: one change, who made and approved it, and its evidence.
//!
//! Manifests are read from YAML or JSON with [`Manifest::from_text`]. Unknown fields, wrong types and
//! missing required fields are rejected with an error naming the field path and the line.

mod approval_time;
mod document;
mod identity;
mod json_path;
mod located_json;
mod manifest_json;
mod model;
mod provenance;
mod secrets;
mod timestamp;

pub use approval_time::{approval_time_seconds, seconds_between};
pub use document::{
    DocumentError, Format, Location, MAX_DOCUMENT_BYTES, decode, decode_json, plain_words,
};
pub use identity::{
    IdentityAliases, IdentityMatch, canonical_identity, compare_identities, same_identity,
};
pub use located_json::{
    JsonNode, JsonNumber, JsonValue, LocatedJson, item_path, member_path, one_of, parse_json_object,
};
pub use model::*;
pub use provenance::{FACT_FIELDS, FactSource, Provenance, SourceKind};
pub use secrets::{MASKED, has_secrets, is_secret_name, mask_secrets};
pub use timestamp::{Timestamp, TimestampError};

/// The committed JSON Schema of the manifest format; see [`Manifest::json_schema`].
const JSON_SCHEMA: &str = include_str!("../schema/manifest.schema.json");

impl Manifest {
    /// Parses a manifest from YAML or JSON text, with serde's derived decoders: what hosts call
    /// (in JSON about four times faster than [`Manifest::from_json`], with the same results).
    pub fn from_text(text: &str, format: Format) -> Result<Self, DocumentError> {
        decode(text, format)
    }

    /// Parses a manifest from JSON text by hand, over the located JSON reader: the same manifest
    /// or error as [`Manifest::from_text`] (`crates/cases` compares them on every breakage), for
    /// policy modules, which then link neither a YAML decoder nor serde's per-type code.
    pub fn from_json(text: &str) -> Result<Self, DocumentError> {
        manifest_json::decode_manifest_json(text)
    }

    /// The JSON Schema of the manifest format, as pretty-printed JSON: the committed
    /// `schema/manifest.schema.json`, which a test proves equal to
    /// [`Manifest::generate_json_schema`] (so that no schema generator is linked by its callers).
    pub fn json_schema() -> String {
        JSON_SCHEMA.to_owned()
    }

    /// Generates the JSON Schema of the manifest format from the model, as pretty-printed JSON.
    pub fn generate_json_schema() -> String {
        let schema = schemars::schema_for!(Manifest);
        serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
    }
}
