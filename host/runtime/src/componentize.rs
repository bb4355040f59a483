//! `tollgate policy componentize`: a core WebAssembly module built for `wasm32-unknown-unknown`
//! with the policy SDK (wit-bindgen's `component-type` section names the `tollgate:policy` world)
//! made a component with `wit-component`, as the engine's build script does for the built-in
//! packs. A Rust author then needs only rustup's wasm32 target and the `tollgate` CLI.

use crate::RuntimeError;

/// The first bytes of every WebAssembly binary (`\0asm`).
const MAGIC: &[u8] = b"\0asm";
/// The version field of a core module (a component's is `0d 00 01 00`).
const CORE_VERSION: &[u8] = &[1, 0, 0, 0];

/// The component of a core policy module. The module must carry the component-type section
/// wit-bindgen writes (the policy SDK's `export_policy!`); the result is validated.
pub fn componentize(module: &[u8]) -> Result<Vec<u8>, RuntimeError> {
    if module.get(..4) != Some(MAGIC) {
        return Err(RuntimeError::Componentize(
            "not a WebAssembly module (no `\\0asm` header)".into(),
        ));
    }
    if module.get(4..8) != Some(CORE_VERSION) {
        return Err(RuntimeError::Componentize(
            "already a component, not a core module: load it as it is".into(),
        ));
    }
    wit_component::ComponentEncoder::default()
        .module(module)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|e| RuntimeError::Componentize(format!("{e:#}")))
}
