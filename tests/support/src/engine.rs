//! The wasmtime host for tests: one engine per test binary, fixture components, manifests.

#![allow(
    clippy::panic,
    clippy::expect_used,
    reason = "test support: a failure to set up must stop the test loudly"
)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tollgate_engine::{Limits, LoadedPolicy, PolicyEngine, PolicySource};
use tollgate_manifest::{Format, Manifest, Timestamp};

/// One engine with default limits for the whole test binary, whose compiled-component cache is
/// `cache_dir` (the first call's: a binary passes the same directory every time).
pub fn engine(cache_dir: impl FnOnce() -> PathBuf) -> &'static PolicyEngine {
    static ENGINE: OnceLock<PolicyEngine> = OnceLock::new();
    ENGINE.get_or_init(|| PolicyEngine::new(Limits::default(), Some(cache_dir())).expect("engine"))
}

/// Loads a component file with `engine`.
pub fn load(engine: &PolicyEngine, path: &str) -> LoadedPolicy {
    engine
        .load(PolicySource::File(path.into()))
        .unwrap_or_else(|e| panic!("loading {path}: {e}"))
}

/// The manifest in the file at `path` (YAML or JSON, by its extension and text).
pub fn manifest_file(path: &Path) -> Manifest {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    Manifest::from_text(&text, Format::detect(Some(path), &text)).expect("valid manifest")
}

/// A fixed evaluation time after every approval in the test manifests.
pub fn now() -> Timestamp {
    Timestamp::parse("2026-05-21T00:00:00Z").expect("timestamp")
}
