//! `tollgate policies [--export DIR] [--format text|json|opa-wasm|opa-bundle]`: the listing, and the
//! export of the built-in policies as components or for Open Policy Agent.
//!
//! `opa-wasm` writes `DIR/<policy>.wasm`, one OPA Wasm ABI 1.3 module per policy. `opa-bundle`
//! writes `DIR/bundle.tar.gz`, a standard OPA bundle: `/.manifest` (`roots: ["tollgate"]`, every
//! entrypoint mapped to its module), `/data.json` (`data.tollgate.<policy>.settings` = the default
//! settings) and `/tollgate/<policy>/policy.wasm`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::anyhow;
use clap::ValueEnum;
use serde::Serialize;
use tollgate_engine::PolicySource;

use crate::common::{CacheArgs, Failure, OutputFormat, emit, pretty, write_output};

/// What `tollgate policies` prints or exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PoliciesFormat {
    /// The listing as text (`--export` writes the components).
    Text,
    /// The listing as JSON (`--export` writes the components).
    Json,
    /// `--export` writes each policy as an OPA Wasm module, `DIR/<policy>.wasm`.
    OpaWasm,
    /// `--export` writes an OPA bundle with every policy, `DIR/bundle.tar.gz`.
    OpaBundle,
}

/// Runs `tollgate policies`.
pub(crate) fn run(
    format: PoliciesFormat,
    export: Option<&Path>,
    cache: &CacheArgs,
) -> Result<u8, Failure> {
    let listing = match format {
        PoliciesFormat::Text => OutputFormat::Text,
        PoliciesFormat::Json => OutputFormat::Json,
        PoliciesFormat::OpaWasm | PoliciesFormat::OpaBundle => {
            let dir = export.ok_or_else(|| {
                Failure::Invalid(anyhow!(
                    "`--format opa-wasm` and `--format opa-bundle` need `--export DIR`"
                ))
            })?;
            tollgate_durable::create_dir_all(dir, tollgate_durable::Access::Shared)
                .map_err(|e| Failure::Invalid(anyhow!("cannot create `{}`: {e}", dir.display())))?;
            let written = if format == PoliciesFormat::OpaWasm {
                export_modules(dir)?
            } else {
                vec![export_bundle(dir)?]
            };
            let mut text = String::new();
            for (path, size) in written {
                text.push_str(&format!("wrote {} ({size} bytes)\n", path.display()));
            }
            emit(&text);
            return Ok(tollgate_pipeline::exit::APPROVED);
        }
    };
    if let Some(dir) = export {
        export_builtin(dir)?;
    }
    policies(listing, cache)
}

/// Writes `DIR/<policy>.wasm` for every built-in policy.
fn export_modules(dir: &Path) -> Result<Vec<(std::path::PathBuf, usize)>, Failure> {
    tollgate_engine::opa_modules()
        .iter()
        .map(|module| {
            let path = dir.join(format!("{}.wasm", module.name));
            write_output(&path, module.bytes)?;
            Ok((path, module.bytes.len()))
        })
        .collect()
}

/// Writes `DIR/bundle.tar.gz`.
fn export_bundle(dir: &Path) -> Result<(std::path::PathBuf, usize), Failure> {
    let bytes = tollgate_runtime::builtin_bundle().map_err(|e| Failure::Internal(e.into()))?;
    let path = dir.join("bundle.tar.gz");
    write_output(&path, &bytes)?;
    Ok((path, bytes.len()))
}

#[derive(Serialize)]
struct PackSummary<'a> {
    id: &'a str,
    framework: &'a str,
    version: &'a str,
    digest: &'a str,
    controls: usize,
    description: &'a str,
}

/// Writes each built-in component to `dir` as `<name>.wasm`, each file durably and whole.
fn export_builtin(dir: &std::path::Path) -> Result<(), Failure> {
    tollgate_durable::create_dir_all(dir, tollgate_durable::Access::Shared)
        .map_err(|e| Failure::Invalid(anyhow!("cannot create `{}`: {e}", dir.display())))?;
    for pack in tollgate_engine::builtin_packs() {
        write_output(&dir.join(format!("{}.wasm", pack.name)), pack.bytes)?;
    }
    Ok(())
}

/// Lists the built-in packs.
fn policies(format: OutputFormat, cache: &CacheArgs) -> Result<u8, Failure> {
    let engine = cache.engine()?;
    let loaded = tollgate_engine::builtin_packs()
        .iter()
        .map(|pack| tollgate_runtime::load(&engine, PolicySource::Builtin(pack)))
        .collect::<Result<Vec<_>, _>>()?;
    let summaries: Vec<PackSummary<'_>> = loaded
        .iter()
        .map(|p| PackSummary {
            id: &p.metadata().id,
            framework: &p.metadata().framework,
            version: &p.metadata().version,
            digest: p.digest(),
            controls: p.metadata().controls.len(),
            description: &p.metadata().description,
        })
        .collect();
    let text = match format {
        OutputFormat::Json => pretty(&summaries)?,
        OutputFormat::Text => {
            // The framework column is as wide as its longest name (`FDA 21 CFR Part 11`).
            let width = summaries
                .iter()
                .map(|s| s.framework.len())
                .fold(10, usize::max);
            let mut out = format!(
                "{:<8} {:<width$} {:<9} {:>8}  {}\n",
                "ID", "FRAMEWORK", "VERSION", "CONTROLS", "DIGEST"
            );
            for s in &summaries {
                let _ = writeln!(
                    out,
                    "{:<8} {:<width$} {:<9} {:>8}  {}",
                    s.id, s.framework, s.version, s.controls, s.digest
                );
            }
            out
        }
    };
    emit(&text);
    Ok(tollgate_pipeline::exit::APPROVED)
}
