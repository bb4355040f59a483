//! Golden-case conformance for Tollgate policies.
//!
//! Each policy keeps case files in `policies/<name>/tests/cases/*.yaml`: a manifest, settings, an
//! evaluation time and the expected decision. Every runner (native crate, component in the host,
//! and later Extism and the browser) evaluates the same files and must meet the same expectations;
//! runners must also agree with each other on the whole decision.

use std::path::{Path, PathBuf};

use tollgate_rules::BuiltinPolicy;

pub use tollgate_cases::{Case, CaseError, Expectation, case_files_in, check};

/// Names of the built-in policies, which are also their directory names under `policies/`.
pub const POLICIES: [&str; tollgate_builtin_packs::NAMES.len()] = tollgate_builtin_packs::NAMES;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// Every case file of a policy, sorted by name.
pub fn case_files(policy: &str) -> Result<Vec<PathBuf>, CaseError> {
    case_files_in(
        &workspace_root()
            .join("policies")
            .join(policy)
            .join("tests")
            .join("cases"),
    )
}

/// The native implementation of a built-in policy.
pub fn native_policy(name: &str) -> Option<Box<BuiltinPolicy>> {
    tollgate_builtin_packs::policy(name)
}
