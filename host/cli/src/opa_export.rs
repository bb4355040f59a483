//! `tollgate policies [--export DIR] [--format text|json|opa-wasm|opa-bundle]`: the listing, and the
//! export of the built-in policies as components or for Open Policy Agent.
//!
//! `opa-wasm` writes `DIR/<policy>.wasm`, one OPA Wasm ABI 1.3 module per policy. `opa-bundle`
//! writes `DIR/bundle.tar.gz`, a standard OPA bundle: `/.manifest` (`roots: ["tollgate"]`, every
//! entrypoint mapped to its module), `/data.json` (`data.tollgate.<policy>.settings` = the default
//! settings) and `/tollgate/<policy>/policy.wasm`.

use std::io::Write as _;
use std::path::Path;

use anyhow::anyhow;
use clap::ValueEnum;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use tollgate_engine::OpaModule;

use crate::{CacheArgs, Failure, OutputFormat, inspect, render};

/// The entrypoints of every module, after `tollgate/<policy>/`.
pub(crate) const ENTRYPOINTS: [&str; 3] = ["decision", "allow", "deny"];

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
            create_dir(dir)?;
            let written = if format == PoliciesFormat::OpaWasm {
                export_modules(dir)?
            } else {
                vec![export_bundle(dir)?]
            };
            let mut text = String::new();
            for (path, size) in written {
                text.push_str(&format!("wrote {} ({size} bytes)\n", path.display()));
            }
            render::emit(&text);
            return Ok(tollgate_pipeline::exit::APPROVED);
        }
    };
    if let Some(dir) = export {
        inspect::export_builtin(dir)?;
    }
    inspect::policies(listing, cache)
}

fn create_dir(dir: &Path) -> Result<(), Failure> {
    tollgate_durable::create_dir_all(dir, tollgate_durable::Access::Shared)
        .map_err(|e| Failure::Invalid(anyhow!("cannot create `{}`: {e}", dir.display())))
}

/// Writes `DIR/<policy>.wasm` for every built-in policy.
fn export_modules(dir: &Path) -> Result<Vec<(std::path::PathBuf, usize)>, Failure> {
    tollgate_engine::opa_modules()
        .iter()
        .map(|module| {
            let path = dir.join(format!("{}.wasm", module.name));
            crate::write_output(&path, module.bytes)?;
            Ok((path, module.bytes.len()))
        })
        .collect()
}

/// Writes `DIR/bundle.tar.gz`.
fn export_bundle(dir: &Path) -> Result<(std::path::PathBuf, usize), Failure> {
    let defaults = tollgate_rules::Settings::from_json("")
        .map_err(|e| Failure::Internal(anyhow!("the default settings: {e}")))?;
    let settings = serde_json::to_value(defaults)
        .map_err(|e| Failure::Internal(anyhow!("the default settings: {e}")))?;
    let bytes = bundle(tollgate_engine::opa_modules(), &settings)
        .map_err(|e| Failure::Internal(anyhow!("cannot build the OPA bundle: {e}")))?;
    let path = dir.join("bundle.tar.gz");
    crate::write_output(&path, &bytes)?;
    Ok((path, bytes.len()))
}

/// The `.manifest` of the bundle.
pub(crate) fn manifest(modules: &[OpaModule]) -> Value {
    let wasm: Vec<Value> = modules
        .iter()
        .flat_map(|module| {
            ENTRYPOINTS.iter().map(move |entrypoint| {
                json!({
                    "entrypoint": format!("tollgate/{}/{entrypoint}", module.name),
                    "module": format!("/tollgate/{}/policy.wasm", module.name),
                })
            })
        })
        .collect();
    json!({
        "revision": format!("tollgate-{}", env!("CARGO_PKG_VERSION")),
        "roots": ["tollgate"],
        "wasm": wasm,
        "metadata": {
            "tollgate_version": env!("CARGO_PKG_VERSION"),
            "policies": modules.iter().map(|m| m.name).collect::<Vec<_>>(),
        },
    })
}

/// The bundle's bytes: a gzipped tar with `/.manifest`, `/data.json` and the modules, entries in
/// a fixed order with fixed times, so that the same build gives the same bytes.
pub(crate) fn bundle(modules: &[OpaModule], default_settings: &Value) -> std::io::Result<Vec<u8>> {
    let data = json!({
        "tollgate": modules
            .iter()
            .map(|m| (m.name.to_owned(), json!({ "settings": default_settings })))
            .collect::<serde_json::Map<String, Value>>(),
    });
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::best()));
    let manifest = serde_json::to_vec_pretty(&manifest(modules)).map_err(std::io::Error::other)?;
    append(&mut tar, "/.manifest", &manifest)?;
    let data = serde_json::to_vec_pretty(&data).map_err(std::io::Error::other)?;
    append(&mut tar, "/data.json", &data)?;
    for module in modules {
        append(
            &mut tar,
            &format!("/tollgate/{}/policy.wasm", module.name),
            module.bytes,
        )?;
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}

/// Appends a file under its absolute name, as `opa build` writes them (the `tar` crate's path
/// setters refuse absolute names, so the name field is written directly).
fn append(
    tar: &mut tar::Builder<GzEncoder<Vec<u8>>>,
    name: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    let mut header = tar::Header::new_ustar();
    let field = &mut header
        .as_ustar_mut()
        .ok_or_else(|| std::io::Error::other("not ustar"))?
        .name;
    if name.len() > field.len() {
        return Err(std::io::Error::other(format!("name `{name}` is too long")));
    }
    field[..name.len()].copy_from_slice(name.as_bytes());
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    tar.append(&header, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn the_bundle_holds_manifest_data_and_one_module_per_policy() {
        let settings = json!({"x": 1});
        let bytes = bundle(tollgate_engine::opa_modules(), &settings).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut entries = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            entries.push((name, content));
        }
        let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "/.manifest",
                "/data.json",
                "/tollgate/sox/policy.wasm",
                "/tollgate/hipaa/policy.wasm",
                "/tollgate/pci/policy.wasm"
            ]
        );
        let manifest: Value = serde_json::from_slice(&entries[0].1).unwrap();
        assert_eq!(manifest["roots"], json!(["tollgate"]));
        assert_eq!(
            manifest["wasm"][0],
            json!({"entrypoint": "tollgate/sox/decision", "module": "/tollgate/sox/policy.wasm"})
        );
        assert_eq!(manifest["wasm"].as_array().unwrap().len(), 9);
        let data: Value = serde_json::from_slice(&entries[1].1).unwrap();
        assert_eq!(data["tollgate"]["pci"]["settings"], settings);
        assert_eq!(
            entries[2].1,
            tollgate_engine::opa_module("sox").unwrap().bytes
        );
        assert_eq!(
            bundle(tollgate_engine::opa_modules(), &settings).unwrap(),
            bytes
        );
    }
}
