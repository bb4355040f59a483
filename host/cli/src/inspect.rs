//! `tollgate inspect`: a policy component's metadata, catalogue, digest, size, imports and
//! exports, or an OPA Wasm module's ABI version, entrypoints, built-ins, imports and exports.

use std::path::Path;

use anyhow::anyhow;
use tollgate_pipeline::exit;

use crate::common::{CacheArgs, Failure, OutputFormat, emit, pretty};

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
    let inspection = tollgate_runtime::Inspection {
        metadata: loaded.metadata(),
        digest: loaded.digest(),
        size: loaded.size(),
        imports: loaded.imports(),
        exports: loaded.exports(),
    };
    let text = match format {
        OutputFormat::Json => pretty(&inspection)?,
        OutputFormat::Text => inspection.text(),
    };
    emit(&text);
    Ok(exit::APPROVED)
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

fn inspect_opa(path: &Path, bytes: &[u8], format: OutputFormat) -> Result<u8, Failure> {
    let info = tollgate_engine::inspect_opa(bytes).map_err(|e| {
        Failure::Policy(anyhow!(
            "`{}` is a WebAssembly module but {}",
            path.display(),
            tollgate_engine::ErrorChain(&e)
        ))
    })?;
    let inspection = tollgate_runtime::OpaInspection {
        kind: "opa-wasm",
        abi_version: format!("{}.{}", info.abi_version, info.abi_minor_version),
        size: bytes.len(),
        info: &info,
    };
    let text = match format {
        OutputFormat::Json => pretty(&inspection)?,
        OutputFormat::Text => inspection.text(path),
    };
    emit(&text);
    Ok(exit::APPROVED)
}
