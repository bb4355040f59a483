//! `tollgate inspect`: a policy component's metadata, catalogue, digest, size, imports and
//! exports, or an OPA Wasm module's ABI version, entrypoints, built-ins, imports and exports.

use std::fmt::Write as _;

use std::path::Path;

use anyhow::anyhow;
use serde::Serialize;
use tollgate_decision::PolicyMetadata;
use tollgate_engine::{ItemInfo, OpaInfo};
use tollgate_pipeline::exit;

use crate::common::{CacheArgs, Failure, OutputFormat, emit, pretty};

#[derive(Serialize)]
struct Inspection<'a> {
    #[serde(flatten)]
    metadata: &'a PolicyMetadata,
    digest: &'a str,
    size: usize,
    imports: &'a [ItemInfo],
    exports: &'a [ItemInfo],
}

/// Prints one policy's metadata, catalogue, digest, size, imports and exports.
pub(crate) fn inspect(
    policy: &str,
    format: OutputFormat,
    cache: &CacheArgs,
) -> Result<u8, Failure> {
    if let Some(result) = inspect_if_opa(policy, format) {
        return result;
    }
    let source = tollgate_runtime::policy_source(policy)?;
    let engine = cache.engine()?;
    let loaded = tollgate_runtime::load(&engine, source)?;
    let inspection = Inspection {
        metadata: loaded.metadata(),
        digest: loaded.digest(),
        size: loaded.size(),
        imports: loaded.imports(),
        exports: loaded.exports(),
    };
    let text = match format {
        OutputFormat::Json => pretty(&inspection)?,
        OutputFormat::Text => inspection_text(&inspection),
    };
    emit(&text);
    Ok(exit::APPROVED)
}

fn inspection_text(inspection: &Inspection<'_>) -> String {
    let meta = inspection.metadata;
    let mut out = String::new();
    let _ = writeln!(out, "Policy:      {} ({})", meta.id, meta.framework);
    let _ = writeln!(out, "Version:     {}", meta.version);
    let _ = writeln!(out, "Description: {}", meta.description);
    let _ = writeln!(out, "Digest:      {}", inspection.digest);
    let _ = writeln!(out, "Size:        {} bytes", inspection.size);
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

/// The first bytes of a core WebAssembly module (a component has another version field).
const CORE_MODULE_PREAMBLE: &[u8] = b"\0asm\x01\0\0\0";

/// Inspects `policy` when it names a file holding a core WebAssembly module; `None` otherwise
/// (a built-in name or a component: the component inspection applies).
fn inspect_if_opa(policy: &str, format: OutputFormat) -> Option<Result<u8, Failure>> {
    let path = Path::new(policy);
    let bytes = std::fs::read(path).ok()?;
    bytes
        .starts_with(CORE_MODULE_PREAMBLE)
        .then(|| inspect_opa(path, &bytes, format))
}

#[derive(Serialize)]
struct OpaInspection<'a> {
    kind: &'static str,
    abi_version: String,
    size: usize,
    #[serde(flatten)]
    info: &'a OpaInfo,
}

fn inspect_opa(path: &Path, bytes: &[u8], format: OutputFormat) -> Result<u8, Failure> {
    let info = tollgate_engine::inspect_opa(bytes).map_err(|e| {
        Failure::Policy(anyhow!(
            "`{}` is a WebAssembly module but {e}",
            path.display()
        ))
    })?;
    let inspection = OpaInspection {
        kind: "opa-wasm",
        abi_version: format!("{}.{}", info.abi_version, info.abi_minor_version),
        size: bytes.len(),
        info: &info,
    };
    let text = match format {
        OutputFormat::Json => pretty(&inspection)?,
        OutputFormat::Text => opa_text(path, &inspection),
    };
    emit(&text);
    Ok(exit::APPROVED)
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
