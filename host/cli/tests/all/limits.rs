//! `policies.limits` and `policies.cache` of `.tollgate/config.yaml`: a policy's own deadline and
//! memory limit by id, applied by `eval`; unknown keys and limits out of bounds are errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::Path;

use assert_cmd::Command;
use predicates::str::contains;

use crate::common::{data, fixtures, shared_cache_dir};

/// `tollgate eval` of a fixture in a project whose configuration is `config`.
fn eval_in_project(config: &str, fixture: &str) -> (tempfile::TempDir, Command) {
    let project = tempfile::tempdir().expect("tempdir");
    let state = project.path().join(".tollgate");
    std::fs::create_dir(&state).expect("state dir");
    std::fs::write(state.join("config.yaml"), config).expect("config");
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .current_dir(project.path())
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env(
            "TOLLGATE_AUDIT_LOG",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-limits-audit.log"),
        )
        .env("NO_COLOR", "1")
        .arg("eval")
        .arg(data("business-logic.yaml"))
        .args(["--now", "2026-05-21T00:00:00Z", "--policy", fixture]);
    (project, command)
}

#[test]
fn a_configured_deadline_applies_to_its_policy() {
    let (_project, mut command) = eval_in_project(
        "policies:\n  limits:\n    spin: {deadline_ms: 20, memory_mib: 32}\n",
        fixtures::SPIN,
    );
    command
        .assert()
        .code(5)
        .stderr(contains("policy `spin` failed: timed out after 20 ms"));
}

#[test]
fn limits_of_other_policies_leave_it_at_the_defaults() {
    let (_project, mut command) = eval_in_project(
        "policies:\n  cache:\n    max_mib: 512\n  limits:\n    acme-governance: {deadline_ms: 400}\n",
        fixtures::SPIN,
    );
    command
        .assert()
        .code(5)
        .stderr(contains("policy `spin` failed: timed out after 100 ms"));
}

#[test]
fn an_unknown_key_names_the_key_and_the_file() {
    let (_project, mut command) = eval_in_project(
        "policies:\n  limits:\n    spin: {deadline: 20}\n",
        fixtures::SPIN,
    );
    command
        .assert()
        .code(2)
        .stderr(contains("config.yaml"))
        .stderr(contains("unknown field `deadline`"));
}

#[test]
fn a_limit_out_of_bounds_is_refused() {
    let (_project, mut command) = eval_in_project(
        "policies:\n  limits:\n    spin: {memory_mib: 4096}\n",
        fixtures::SPIN,
    );
    command
        .assert()
        .code(2)
        .stderr(contains("`memory_mib` must be 1 to 1024, not 4096"));
}
