//! What `tollgate inspect` shows of a policy component (metadata, catalogue, digest, size,
//! imports, exports) or of an OPA Wasm module (ABI version, entrypoints, built-ins, imports,
//! exports), as JSON documents and text.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use tollgate_decision::PolicyMetadata;
use tollgate_engine::{ItemInfo, OpaInfo};

/// A policy component as inspected.
#[derive(Serialize)]
pub struct Inspection<'a> {
    #[serde(flatten)]
    /// `metadata`.
    pub metadata: &'a PolicyMetadata,
    /// `digest`.
    pub digest: &'a str,
    /// `size`.
    pub size: usize,
    /// `imports`.
    pub imports: &'a [ItemInfo],
    /// `exports`.
    pub exports: &'a [ItemInfo],
}

impl Inspection<'_> {
    /// The inspection as text.
    pub fn text(&self) -> String {
        inspection_text(self)
    }
}

/// An OPA Wasm module as inspected.
#[derive(Serialize)]
pub struct OpaInspection<'a> {
    /// `kind`.
    pub kind: &'static str,
    /// `abi_version`.
    pub abi_version: String,
    /// `size`.
    pub size: usize,
    #[serde(flatten)]
    /// `info`.
    pub info: &'a OpaInfo,
}

impl OpaInspection<'_> {
    /// The inspection of the module at `path` as text.
    pub fn text(&self, path: &Path) -> String {
        opa_text(path, self)
    }
}

fn inspection_text(inspection: &Inspection<'_>) -> String {
    let meta = inspection.metadata;
    let mut out = String::new();
    let _ = writeln!(out, "Policy:      {} ({})", meta.id, meta.framework);
    let _ = writeln!(out, "Version:     {}", meta.version);
    let _ = writeln!(out, "Description: {}", meta.description);
    let _ = writeln!(out, "Digest:      {}", inspection.digest);
    let _ = writeln!(out, "Size:        {} bytes", inspection.size);
    let _ = writeln!(out, "Settings:    {}", settings_text(meta));
    if !meta.extensions.is_empty() {
        let _ = writeln!(
            out,
            "\nManifest extensions it reads ({}):",
            meta.extensions.len()
        );
        for extension in &meta.extensions {
            let _ = writeln!(
                out,
                "  extensions.{}  {}",
                extension.namespace, extension.description
            );
        }
    }
    let _ = writeln!(out, "\nControls ({}):", meta.controls.len());
    for control in &meta.controls {
        let _ = writeln!(out, "  {}  {}", control.id, control.title);
        let _ = writeln!(out, "      {}", control.description);
        if !control.rules.is_empty() {
            let _ = writeln!(out, "      rules: {}", control.rules.join(", "));
        }
        if !control.relies_on.is_empty() {
            let _ = writeln!(out, "      relies on: {}", control.relies_on.join(", "));
        }
        for reference in &control.references {
            let _ = writeln!(out, "      - {reference}");
        }
    }
    let _ = writeln!(out, "\nImports ({}):", inspection.imports.len());
    for item in inspection.imports {
        let _ = writeln!(out, "  {item}");
    }
    let _ = writeln!(out, "\nExports ({}):", inspection.exports.len());
    for item in inspection.exports {
        let _ = writeln!(out, "  {item}");
    }
    out
}

/// How the policy takes its settings: its own schema's properties, or the shared settings.
fn settings_text(meta: &PolicyMetadata) -> String {
    let Some(schema) = &meta.settings_schema else {
        return "no schema declared (the policy validates them; it receives the whole `defaults` section)".to_owned();
    };
    let properties: Vec<String> = serde_json::from_str::<serde_json::Value>(schema)
        .ok()
        .and_then(|schema| {
            schema
                .get("properties")
                .and_then(serde_json::Value::as_object)
                .map(|p| p.keys().cloned().collect())
        })
        .unwrap_or_default();
    if properties.is_empty() {
        "its own JSON Schema (no properties)".to_owned()
    } else {
        format!("its own JSON Schema: {}", properties.join(", "))
    }
}

fn opa_text(path: &Path, inspection: &OpaInspection<'_>) -> String {
    let info = inspection.info;
    let mut out = String::new();
    let _ = writeln!(out, "OPA module:  {}", path.display());
    let _ = writeln!(out, "ABI version: {}", inspection.abi_version);
    let _ = writeln!(out, "Size:        {} bytes", inspection.size);
    let mut entrypoints: Vec<_> = info.entrypoints.iter().collect();
    entrypoints.sort_by_key(|(_, id)| **id);
    let _ = writeln!(out, "\nEntrypoints ({}):", entrypoints.len());
    for (name, id) in entrypoints {
        let _ = writeln!(out, "  {id}  {name}");
    }
    let _ = writeln!(out, "\nBuilt-ins ({}):", info.builtins.len());
    for (name, id) in &info.builtins {
        let _ = writeln!(out, "  {id}  {name}");
    }
    let _ = writeln!(out, "\nImports ({}):", info.imports.len());
    for name in &info.imports {
        let _ = writeln!(out, "  {name}");
    }
    let _ = writeln!(out, "\nExports ({}):", info.exports.len());
    for name in &info.exports {
        let _ = writeln!(out, "  {name}");
    }
    out
}
