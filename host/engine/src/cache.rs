//! On-disk cache of compiled components, keyed by the component's digest and the engine's
//! compatibility hash.
//!
//! Each entry is a `.cwasm` file plus a `.cwasm.sha256` file holding the checksum of its bytes. An
//! entry is used only when the checksum matches and wasmtime accepts it for this engine; anything
//! else is recompiled and overwritten. Entries are written durably and whole (`tollgate-durable`).
//!
//! The cache is capped ([`DEFAULT_CACHE_MAX_BYTES`] unless set): after each write, the least
//! recently used entries (a hit touches its entry's modification time) are removed until the cache
//! fits, never the entry just written. Eviction only saves space: a failure is a warning.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use tollgate_durable::Access;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Environment variable naming the cache directory.
pub const CACHE_DIR_ENV: &str = "TOLLGATE_CACHE_DIR";

/// The default cache directory: `$TOLLGATE_CACHE_DIR`, else `$XDG_CACHE_HOME/tollgate`, else
/// `$HOME/.cache/tollgate`; `None` when none of them is set.
pub fn default_cache_dir() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var(CACHE_DIR_ENV)
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("tollgate")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("tollgate")))
}

/// The default cap of the compiled-component cache: 512 MiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 512 << 20;

/// The cache of one engine.
pub(crate) struct Cache {
    dir: PathBuf,
    engine_key: String,
    max_bytes: u64,
}

impl Cache {
    pub(crate) fn new(dir: PathBuf, engine: &Engine) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
            max_bytes: DEFAULT_CACHE_MAX_BYTES,
        }
    }

    pub(crate) fn set_max_bytes(&mut self, bytes: u64) {
        self.max_bytes = bytes;
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the entry for a component whose sha256 is `digest_hex`.
    pub(crate) fn entry(&self, digest_hex: &str) -> PathBuf {
        self.dir
            .join(format!("{digest_hex}-{}.cwasm", self.engine_key))
    }

    fn checksum_path(entry: &Path) -> PathBuf {
        let mut name = entry.as_os_str().to_owned();
        name.push(".sha256");
        PathBuf::from(name)
    }

    /// Loads a cached compilation, or `None` if there is none or it cannot be trusted.
    pub(crate) fn load(&self, engine: &Engine, digest_hex: &str) -> Option<Component> {
        let entry = self.entry(digest_hex);
        let expected = fs::read_to_string(Self::checksum_path(&entry)).ok()?;
        let bytes = fs::read(&entry).ok()?;
        if hex::encode(Sha256::digest(&bytes)) != expected.trim() {
            return None;
        }
        drop(bytes);
        let component = deserialize(engine, &entry).ok()?;
        // Recently used: the last to be evicted. A failure only makes it older.
        let _ = fs::File::options()
            .write(true)
            .open(&entry)
            .and_then(|file| file.set_modified(SystemTime::now()));
        Some(component)
    }

    /// Stores a compilation, then evicts what no longer fits. Failures are ignored, or reported
    /// as a warning when evicting: the cache only saves time.
    pub(crate) fn store(&self, component: &Component, digest_hex: &str) {
        if self.try_store(component, digest_hex).is_ok() {
            for warning in self.evict(&self.entry(digest_hex)) {
                eprintln!("warning: compiled-policy cache: {warning}");
            }
        }
    }

    /// Removes the least recently used entries (oldest modification time first) until the
    /// entries take at most the cap, never `keep`. Returns what could not be done.
    pub(crate) fn evict(&self, keep: &Path) -> Vec<String> {
        let mut warnings = Vec::new();
        let listing = match fs::read_dir(&self.dir) {
            Ok(listing) => listing,
            Err(e) => {
                warnings.push(format!("cannot list `{}`: {e}", self.dir.display()));
                return warnings;
            }
        };
        // (last use, bytes of the entry and its checksum, path)
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        for item in listing.flatten() {
            let path = item.path();
            if path.extension().is_none_or(|e| e != "cwasm") {
                continue;
            }
            // Another process may have removed it meanwhile: then it takes no space.
            let Ok(meta) = item.metadata() else { continue };
            let checksum = fs::metadata(Self::checksum_path(&path)).map_or(0, |m| m.len());
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            entries.push((used, meta.len() + checksum, path));
        }
        let mut total: u64 = entries.iter().map(|(_, bytes, _)| bytes).sum();
        entries.sort();
        for (_, bytes, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if path == keep {
                continue;
            }
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    warnings.push(format!("cannot evict `{}`: {e}", path.display()));
                    continue;
                }
            }
            let _ = fs::remove_file(Self::checksum_path(&path));
            total = total.saturating_sub(bytes);
        }
        warnings
    }

    fn try_store(&self, component: &Component, digest_hex: &str) -> std::io::Result<()> {
        let bytes = component.serialize().map_err(std::io::Error::other)?;
        tollgate_durable::create_dir_all(&self.dir, Access::Private)?;
        let entry = self.entry(digest_hex);
        tollgate_durable::write(&entry, &bytes, Access::Private)?;
        let checksum = hex::encode(Sha256::digest(&bytes));
        tollgate_durable::write(
            &Self::checksum_path(&entry),
            checksum.as_bytes(),
            Access::Private,
        )
    }
}

#[expect(
    unsafe_code,
    reason = "the file was written by `Component::serialize` of a compatible engine and its checksum was verified just before"
)]
fn deserialize(engine: &Engine, entry: &Path) -> wasmtime::Result<Component> {
    // SAFETY: `deserialize_file` runs the file's machine code; the entry's checksum matched the one
    // recorded when this host serialized it, and wasmtime itself checks the engine compatibility.
    unsafe { Component::deserialize_file(engine, entry) }
}

/// The built-in pack's code precompiled by the build, if it fits this engine and machine (wasmtime
/// checks its version, configuration and the CPU features the code uses); `None` otherwise, and the
/// component is compiled instead. The code runs where the binary holds it when the engine publishes
/// code in place (`code_alignment`), the bytes are aligned for it and no other module of the process
/// runs from them; otherwise it is copied.
#[expect(
    unsafe_code,
    reason = "the bytes are the build's own `Engine::precompile_component` output, embedded in this binary"
)]
pub(crate) fn embedded(
    engine: &Engine,
    precompiled: &'static [u8],
    code_alignment: Option<usize>,
) -> Option<Component> {
    if precompiled.is_empty() {
        return None;
    }
    // SAFETY: the bytes were produced by `precompile_component` in this crate's build script with
    // this engine's configuration and are part of the running binary (as trusted as its own code);
    // wasmtime refuses them if they do not match this engine or machine. In place, they are
    // `'static` and never modified, as `deserialize_raw` requires: read-only data of the binary,
    // which wasmtime does not write (a precompiled image carries no relocations) and the engine's
    // code memory only ever makes read+execute while published and read-only again once
    // unpublished, never writable (`crate::code_memory`).
    unsafe {
        if crate::code_memory::claim_in_place(code_alignment, precompiled) {
            Component::deserialize_raw(engine, std::ptr::NonNull::from(precompiled))
        } else {
            Component::deserialize(engine, precompiled)
        }
    }
    .ok()
}
