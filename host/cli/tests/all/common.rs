//! Helpers shared by the host's integration tests.

#![allow(dead_code, reason = "each test module uses a different subset")]

use std::path::PathBuf;

use tollgate_engine::{LoadedPolicy, PolicyEngine};
use tollgate_manifest::{Manifest, Timestamp};

/// Paths of the hostile fixture components, built by the engine's build script.
#[allow(unused_imports, reason = "not every test module uses the fixtures")]
pub use tollgate_engine::fixtures;

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

/// One engine with default limits, shared by the tests of the binary.
pub fn engine() -> &'static PolicyEngine {
    tollgate_test_support::engine::engine(shared_cache_dir)
}

/// Loads a fixture component with the shared engine.
pub fn fixture(path: &str) -> LoadedPolicy {
    tollgate_test_support::engine::load(engine(), path)
}

/// The manifest of `tests/data/business-logic.yaml`.
pub fn manifest() -> Manifest {
    tollgate_test_support::engine::manifest_file(&data("business-logic.yaml"))
}

/// A fixed evaluation time after every approval in the test manifests.
pub fn now() -> Timestamp {
    tollgate_test_support::engine::now()
}
