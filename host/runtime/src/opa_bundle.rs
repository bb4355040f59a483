//! The built-in policies as an OPA bundle: a gzipped tar with `/.manifest` (`roots:
//! ["tollgate"]`, every entrypoint mapped to its module), `/data.json`
//! (`data.tollgate.<policy>.settings` = the default settings) and `/tollgate/<policy>/policy.wasm`.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use tollgate_engine::OpaModule;

use crate::RuntimeError;

/// The entrypoints of every module, after `tollgate/<policy>/`.
pub const ENTRYPOINTS: [&str; 3] = ["decision", "allow", "deny"];

/// The bundle of the built-in OPA modules with the default settings.
pub fn builtin_bundle() -> Result<Vec<u8>, RuntimeError> {
    let defaults = tollgate_rules::Settings::from_json("").map_err(|e| {
        RuntimeError::Bundle(std::io::Error::other(format!("the default settings: {e}")))
    })?;
    let settings = serde_json::to_value(defaults).map_err(|e| {
        RuntimeError::Bundle(std::io::Error::other(format!("the default settings: {e}")))
    })?;
    bundle(tollgate_engine::opa_modules(), &settings).map_err(RuntimeError::Bundle)
}

/// The `.manifest` of the bundle.
pub fn manifest(modules: &[OpaModule]) -> Value {
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
pub fn bundle(modules: &[OpaModule], default_settings: &Value) -> std::io::Result<Vec<u8>> {
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
                "/tollgate/pci/policy.wasm",
                "/tollgate/fda/policy.wasm"
            ]
        );
        let manifest: Value = serde_json::from_slice(&entries[0].1).unwrap();
        assert_eq!(manifest["roots"], json!(["tollgate"]));
        assert_eq!(
            manifest["wasm"][0],
            json!({"entrypoint": "tollgate/sox/decision", "module": "/tollgate/sox/policy.wasm"})
        );
        assert_eq!(manifest["wasm"].as_array().unwrap().len(), 12);
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
