//! `tollgate policies` and `tollgate inspect`.

use std::fmt::Write as _;

use anyhow::anyhow;
use serde::Serialize;
use tollgate_decision::PolicyMetadata;
use tollgate_engine::{ItemInfo, LoadedPolicy, PolicyEngine, PolicySource};
use tollgate_pipeline::exit;

use crate::{CacheArgs, Failure, OutputFormat, policy_source, render};

fn load(engine: &PolicyEngine, source: PolicySource) -> Result<LoadedPolicy, Failure> {
    let name = source.name();
    engine
        .load(source)
        .map_err(|e| Failure::Policy(anyhow!("policy `{name}` could not be loaded: {e}")))
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
pub(crate) fn export_builtin(dir: &std::path::Path) -> Result<(), Failure> {
    tollgate_durable::create_dir_all(dir, tollgate_durable::Access::Shared)
        .map_err(|e| Failure::Invalid(anyhow!("cannot create `{}`: {e}", dir.display())))?;
    for pack in tollgate_engine::builtin_packs() {
        crate::write_output(&dir.join(format!("{}.wasm", pack.name)), pack.bytes)?;
    }
    Ok(())
}

/// Lists the built-in packs.
pub(crate) fn policies(format: OutputFormat, cache: &CacheArgs) -> Result<u8, Failure> {
    let engine = cache.engine()?;
    let loaded = tollgate_engine::builtin_packs()
        .iter()
        .map(|pack| load(&engine, PolicySource::Builtin(pack)))
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
        OutputFormat::Json => to_json(&summaries)?,
        OutputFormat::Text => {
            let mut out = format!(
                "{:<8} {:<10} {:<9} {:>8}  {}\n",
                "ID", "FRAMEWORK", "VERSION", "CONTROLS", "DIGEST"
            );
            for s in &summaries {
                let _ = writeln!(
                    out,
                    "{:<8} {:<10} {:<9} {:>8}  {}",
                    s.id, s.framework, s.version, s.controls, s.digest
                );
            }
            out
        }
    };
    render::emit(&text);
    Ok(exit::APPROVED)
}

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
    if let Some(result) = crate::inspect_opa::inspect_if_opa(policy, format) {
        return result;
    }
    let source = policy_source(policy)?;
    let engine = cache.engine()?;
    let loaded = load(&engine, source)?;
    let inspection = Inspection {
        metadata: loaded.metadata(),
        digest: loaded.digest(),
        size: loaded.size(),
        imports: loaded.imports(),
        exports: loaded.exports(),
    };
    let text = match format {
        OutputFormat::Json => to_json(&inspection)?,
        OutputFormat::Text => inspection_text(&inspection),
    };
    render::emit(&text);
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

fn to_json<T: Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map(|text| text + "\n")
        .map_err(|e| Failure::Internal(e.into()))
}
