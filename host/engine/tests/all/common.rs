//! Helpers shared by the host's integration tests.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::PathBuf;
use std::sync::OnceLock;

use tollgate_engine::{Limits, LoadedPolicy, PolicyEngine, PolicySource};
use tollgate_manifest::{Format, Manifest, Timestamp};

/// Paths of the hostile fixture components, built by the host's build script.
pub mod fixtures {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}

/// A test data file.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name)
}

/// A compiled-component cache shared by the tests, so that reruns do not recompile.
pub fn shared_cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tollgate-test-cache")
}

/// One engine with default limits, shared by the tests of a binary.
pub fn engine() -> &'static PolicyEngine {
    static ENGINE: OnceLock<PolicyEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        PolicyEngine::new(Limits::default(), Some(shared_cache_dir())).expect("engine")
    })
}

/// Loads a fixture component with the shared engine.
pub fn fixture(path: &str) -> LoadedPolicy {
    engine()
        .load(PolicySource::File(path.into()))
        .unwrap_or_else(|e| panic!("loading {path}: {e}"))
}

/// The manifest of `tests/data/business-logic.yaml`.
pub fn manifest() -> Manifest {
    let path = data("business-logic.yaml");
    let text = std::fs::read_to_string(&path).expect("manifest");
    Manifest::from_text(&text, Format::detect(Some(&path), &text)).expect("valid manifest")
}

/// A fixed evaluation time after every approval in the test manifests.
pub fn now() -> Timestamp {
    Timestamp::parse("2026-05-21T00:00:00Z").expect("timestamp")
}
