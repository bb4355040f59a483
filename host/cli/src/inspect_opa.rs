//! `tollgate inspect` on an OPA Wasm module (a core module, not a component): its ABI version,
//! entrypoints, the built-ins it asks the host for, imports and exports.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::anyhow;
use serde::Serialize;
use tollgate_engine::OpaInfo;
use tollgate_pipeline::exit;

use crate::{Failure, OutputFormat, render};

/// The first bytes of a core WebAssembly module (a component has another version field).
const CORE_MODULE_PREAMBLE: &[u8] = b"\0asm\x01\0\0\0";

/// Inspects `policy` when it names a file holding a core WebAssembly module; `None` otherwise
/// (a built-in name or a component: the component inspection applies).
pub(crate) fn inspect_if_opa(policy: &str, format: OutputFormat) -> Option<Result<u8, Failure>> {
    let path = Path::new(policy);
    let bytes = std::fs::read(path).ok()?;
    bytes
        .starts_with(CORE_MODULE_PREAMBLE)
        .then(|| inspect(path, &bytes, format))
}

#[derive(Serialize)]
struct Inspection<'a> {
    kind: &'static str,
    abi_version: String,
    size: usize,
    #[serde(flatten)]
    info: &'a OpaInfo,
}

fn inspect(path: &Path, bytes: &[u8], format: OutputFormat) -> Result<u8, Failure> {
    let info = tollgate_engine::inspect_opa(bytes).map_err(|e| {
        Failure::Policy(anyhow!(
            "`{}` is a WebAssembly module but {e}",
            path.display()
        ))
    })?;
    let inspection = Inspection {
        kind: "opa-wasm",
        abi_version: format!("{}.{}", info.abi_version, info.abi_minor_version),
        size: bytes.len(),
        info: &info,
    };
    let text = match format {
        OutputFormat::Json => serde_json::to_string_pretty(&inspection)
            .map(|text| text + "\n")
            .map_err(|e| Failure::Internal(e.into()))?,
        OutputFormat::Text => text(path, &inspection),
    };
    render::emit(&text);
    Ok(exit::APPROVED)
}

fn text(path: &Path, inspection: &Inspection<'_>) -> String {
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
