//! Precompiling the built-in packs for the machine the build runs on, with the configuration the
//! engine uses at run time (`src/tunables.rs`, included here), so that the host loads them without
//! compiling. The host checks at load time that the code fits the running machine and engine
//! (wasmtime refuses it otherwise) and then compiles instead, so a binary copied elsewhere still
//! works.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;

#[allow(
    dead_code,
    reason = "the host's module; the build uses only its configuration"
)]
#[path = "../src/tunables.rs"]
mod tunables;

/// Precompiles components for the host engine's configuration with default limits.
pub struct Precompiler {
    engine: Engine,
    /// What besides a component's bytes its compiled form depends on.
    configuration: String,
}

impl Precompiler {
    /// A precompiler when the build targets the machine it runs on; `None` when cross-compiling
    /// (code compiled here would not run there).
    pub fn for_this_machine(manifest_dir: &Path) -> Result<Option<Self>, String> {
        let tunables = manifest_dir.join("src/tunables.rs");
        println!("cargo:rerun-if-changed={}", tunables.display());
        if std::env::var("HOST").ok() != std::env::var("TARGET").ok() {
            return Ok(None);
        }
        let limits = tunables::Limits::default();
        let engine = Engine::new(&tunables::config(&limits, tunables::pooling(&limits)))
            .map_err(|e| format!("could not create the engine to precompile with: {e:#}"))?;
        // Wasmtime's version and every setting that shapes the compiled code.
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let configuration = format!("{:016x}", hasher.finish());
        Ok(Some(Self {
            engine,
            configuration,
        }))
    }

    /// Writes the compiled form of the component at `component` beside it (`.cwasm`) and returns
    /// its path. An earlier compilation of the same bytes with the same configuration is kept.
    pub fn precompile(&self, component: &Path) -> Result<PathBuf, String> {
        let bytes = fs::read(component)
            .map_err(|e| format!("could not read `{}`: {e}", component.display()))?;
        let compiled = component.with_extension("cwasm");
        let stamp = component.with_extension("cwasm.source");
        let key = hex(&Sha256::new()
            .chain_update(&bytes)
            .chain_update(self.configuration.as_bytes())
            .finalize());
        if compiled.exists() && fs::read_to_string(&stamp).is_ok_and(|s| s == key) {
            return Ok(compiled);
        }
        let code = self
            .engine
            .precompile_component(&bytes)
            .map_err(|e| format!("could not precompile `{}`: {e:#}", component.display()))?;
        fs::write(&compiled, code)
            .and_then(|()| fs::write(&stamp, key))
            .map_err(|e| format!("could not write `{}`: {e}", compiled.display()))?;
        Ok(compiled)
    }
}

/// The SHA-256 of a file, in hex.
pub fn sha256_hex(path: &Path) -> Result<String, String> {
    let bytes = fs::read(path).map_err(|e| format!("could not read `{}`: {e}", path.display()))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
