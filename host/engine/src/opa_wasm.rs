//! The built-in policies as OPA Wasm ABI 1.3 modules (`policy.wasm`), built from the same policy
//! crates as the components by the build script (`policies/*/opa`), for `tollgate policies
//! --export --format opa-wasm|opa-bundle`; and [`inspect_opa`], which reads an OPA module's ABI
//! version, entrypoints and built-ins the way OPA's SDKs do (the engine never evaluates with them:
//! OPA and its SDKs do).

use std::collections::BTreeMap;

use serde::Serialize;
use wasmtime::{Engine, Instance, Linker, Memory, MemoryType, Module, Store};

/// A built-in policy as an OPA Wasm module.
#[derive(Debug)]
pub struct OpaModule {
    /// Policy name (`sox`, `hipaa`, `pci`), the middle segment of its entrypoints.
    pub name: &'static str,
    /// The module's bytes.
    pub bytes: &'static [u8],
}

mod built {
    use super::OpaModule;
    include!(concat!(env!("OUT_DIR"), "/opa.rs"));
}

/// The built-in policies as OPA modules, in the order of the built-in packs.
pub fn opa_modules() -> &'static [OpaModule] {
    built::OPA_MODULES
}

/// Looks up a built-in policy's OPA module by name.
pub fn opa_module(name: &str) -> Option<&'static OpaModule> {
    opa_modules().iter().find(|m| m.name == name)
}

/// What an OPA Wasm module reports about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpaInfo {
    /// `opa_wasm_abi_version`.
    pub abi_version: i32,
    /// `opa_wasm_abi_minor_version`.
    pub abi_minor_version: i32,
    /// Entrypoint names and their ids, from the `entrypoints` export.
    pub entrypoints: BTreeMap<String, i64>,
    /// Built-ins the module asks the host for, with their ids.
    pub builtins: BTreeMap<String, i64>,
    /// Imports, as `module.name`.
    pub imports: Vec<String>,
    /// Export names.
    pub exports: Vec<String>,
}

/// Why a module could not be read as an OPA Wasm module.
#[derive(Debug, thiserror::Error)]
pub enum OpaError {
    /// A step of instantiating the module or calling one of its exports failed.
    #[error("not a usable OPA Wasm module: {step}")]
    Wasm {
        /// The step: `invalid module`, `memory`, `memory import`, `imports`, `instantiation`, or
        /// the export called (`` `entrypoints` ``, `` `builtins` ``).
        step: String,
        /// What wasmtime reported.
        #[source]
        error: wasmtime::Error,
    },
    /// An ABI version global is missing or not an `i32`.
    #[error("not a usable OPA Wasm module: no i32 global `{0}`")]
    MissingGlobal(&'static str),
    /// An export returned an address that is not one.
    #[error("not a usable OPA Wasm module: `{export}` returned an address outside memory")]
    Address {
        /// The export called.
        export: String,
        /// Why the address is unusable, when it is not even an offset.
        #[source]
        error: Option<std::num::TryFromIntError>,
    },
    /// An export's value is not a JSON object of ids.
    #[error("not a usable OPA Wasm module: `{export}` is not a JSON object of ids")]
    Json {
        /// The export called.
        export: String,
        /// The parse error.
        #[source]
        error: serde_json::Error,
    },
}

/// Instantiates an OPA Wasm module as OPA's SDKs do (imported memory of two pages, other imports
/// trapping) and reads its ABI version, entrypoints and built-ins.
pub fn inspect_opa(bytes: &[u8]) -> Result<OpaInfo, OpaError> {
    fn fail(step: &'static str) -> impl Fn(wasmtime::Error) -> OpaError {
        move |error| OpaError::Wasm {
            step: step.to_owned(),
            error,
        }
    }
    let engine = Engine::default();
    let module = Module::new(&engine, bytes).map_err(fail("invalid module"))?;
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(2, None)).map_err(fail("memory"))?;
    let mut linker = Linker::new(&engine);
    linker
        .define(&store, "env", "memory", memory)
        .map_err(fail("memory import"))?;
    linker
        .define_unknown_imports_as_traps(&module)
        .map_err(fail("imports"))?;
    let instance = linker
        .instantiate(&mut store, &module)
        .map_err(fail("instantiation"))?;
    let global = |store: &mut Store<()>, name: &'static str| {
        instance
            .get_global(&mut *store, name)
            .and_then(|g| g.get(&mut *store).i32())
            .ok_or(OpaError::MissingGlobal(name))
    };
    let abi_version = global(&mut store, "opa_wasm_abi_version")?;
    let abi_minor_version = global(&mut store, "opa_wasm_abi_minor_version")?;
    let entrypoints = dump_export(&mut store, &instance, memory, "entrypoints")?;
    let builtins = dump_export(&mut store, &instance, memory, "builtins")?;
    Ok(OpaInfo {
        abi_version,
        abi_minor_version,
        entrypoints,
        builtins,
        imports: module
            .imports()
            .map(|i| format!("{}.{}", i.module(), i.name()))
            .collect(),
        exports: module.exports().map(|e| e.name().to_owned()).collect(),
    })
}

/// Calls a `() -> value_addr` export, dumps the value with `opa_json_dump` and parses it.
fn dump_export(
    store: &mut Store<()>,
    instance: &Instance,
    memory: Memory,
    name: &str,
) -> Result<BTreeMap<String, i64>, OpaError> {
    let fail = |error| OpaError::Wasm {
        step: format!("`{name}`"),
        error,
    };
    let export = instance
        .get_typed_func::<(), i32>(&mut *store, name)
        .map_err(fail)?;
    let dump = instance
        .get_typed_func::<i32, i32>(&mut *store, "opa_json_dump")
        .map_err(fail)?;
    let value = export.call(&mut *store, ()).map_err(fail)?;
    let text = dump.call(&mut *store, value).map_err(fail)?;
    let data = memory.data(&*store);
    let address = |error| OpaError::Address {
        export: name.to_owned(),
        error,
    };
    let start = usize::try_from(text).map_err(|e| address(Some(e)))?;
    let bytes = data
        .get(start..)
        .and_then(|rest| rest.split(|&b| b == 0).next())
        .ok_or_else(|| address(None))?;
    serde_json::from_slice(bytes).map_err(|error| OpaError::Json {
        export: name.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ceiling of a module's size. The goal is 100 KB; the modules are about 395 KB today (the
    /// located errors of `serde_path_to_error` and `serde_json` are two thirds of the code; jiff's
    /// POSIX time-zone rules for deployment windows and the infrastructure-plan checks added about
    /// 100 KB), so this guards against growth until they shrink.
    const SIZE_CEILING: usize = 420 * 1024;

    #[test]
    fn every_builtin_pack_has_an_opa_module_below_the_size_ceiling() {
        for pack in crate::builtin_packs() {
            let module = opa_module(pack.name).unwrap();
            assert!(
                module.bytes.starts_with(b"\0asm\x01\0\0\0"),
                "{}",
                pack.name
            );
            assert!(
                module.bytes.len() <= SIZE_CEILING,
                "{}: {} bytes",
                pack.name,
                module.bytes.len()
            );
        }
    }

    #[test]
    fn an_opa_module_reports_abi_1_3_and_its_entrypoints() {
        let info = inspect_opa(opa_module("sox").unwrap().bytes).unwrap();
        assert_eq!((info.abi_version, info.abi_minor_version), (1, 3));
        let names: Vec<&str> = info.entrypoints.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "tollgate/sox/allow",
                "tollgate/sox/decision",
                "tollgate/sox/deny"
            ]
        );
        assert_eq!(info.entrypoints["tollgate/sox/decision"], 0);
        assert_eq!(info.builtins.keys().collect::<Vec<_>>(), ["time.now_ns"]);
        assert!(
            info.imports.contains(&"env.memory".to_owned()),
            "{:?}",
            info.imports
        );
        assert!(info.exports.contains(&"opa_eval".to_owned()));
    }

    #[test]
    fn a_component_is_not_an_opa_module() {
        let pack = crate::builtin_pack("sox").unwrap();
        let error = inspect_opa(pack.bytes).unwrap_err();
        assert!(
            matches!(&error, OpaError::Wasm { step, .. } if step == "invalid module"),
            "{error:?}"
        );
        assert!(std::error::Error::source(&error).is_some());
    }
}
