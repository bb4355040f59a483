//! `tollgate new policy` and `tollgate policy componentize`: a Rust project generated from scratch
//! builds with the workspace's policy SDK (its own cargo target directory, no outer RUSTFLAGS),
//! passes its golden cases with `tollgate test`, and inspects, signs, verifies and evaluates as a
//! signed component; names, directories and modules that cannot work are refused with the reason.
//! The JavaScript and Python projects need npm and PyPI: `tests/engines/test_scaffold.py`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use crate::common::shared_cache_dir;
use assert_cmd::Command;

/// Environment of the outer build that must not reach the nested one (as the engine's build
/// script scrubs it): flags and wrappers for the host target, coverage, the outer target dir.
const SCRUBBED: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTDOCFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_BUILD_TARGET",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
    "CARGO_LLVM_COV",
    "CARGO_LLVM_COV_TARGET_DIR",
    "LLVM_PROFILE_FILE",
];

fn tollgate(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .current_dir(dir)
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env_remove("TOLLGATE_AUDIT_LOG")
        .env("NO_COLOR", "1");
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    tollgate(dir).args(args).output().unwrap()
}

fn succeeds(dir: &Path, args: &[&str]) -> String {
    let output = run(dir, args);
    assert!(
        output.status.success(),
        "{args:?}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Exit 2 with `expected` in the message.
fn refused(dir: &Path, args: &[&str], expected: &str) {
    let output = run(dir, args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
}

fn sdk_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/policy-sdk")
        .canonicalize()
        .unwrap()
}

#[test]
fn a_new_rust_policy_builds_passes_its_cases_and_loads_signed() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("acme-approval");
    let sdk = sdk_path();
    let created = succeeds(
        tmp.path(),
        &[
            "new",
            "policy",
            "acme-approval",
            "--lang",
            "rust",
            "--sdk-path",
            sdk.to_str().unwrap(),
        ],
    );
    assert!(
        created.contains("created policy `acme-approval`"),
        "{created}"
    );
    let cargo_toml = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    assert!(
        cargo_toml.contains(&format!("path = \"{}\"", sdk.display())),
        "{cargo_toml}"
    );
    for file in [
        ".gitignore",
        "README.md",
        "wit/tollgate.wit",
        "settings.yaml",
    ] {
        assert!(project.join(file).is_file(), "{file}");
    }

    let started = Instant::now();
    let mut build = std::process::Command::new(project.join("build"));
    build
        .current_dir(&project)
        .env("TOLLGATE", env!("CARGO_BIN_EXE_tollgate"))
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env("CARGO_TARGET_DIR", tmp.path().join("target"));
    for name in SCRUBBED {
        build.env_remove(name);
    }
    let built = build.output().unwrap();
    assert!(
        built.status.success(),
        "./build: {}\n{}",
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr)
    );
    eprintln!(
        "scaffold: the Rust project built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let stdout = String::from_utf8_lossy(&built.stdout);
    assert!(
        stdout.contains("policy `acme-approval` 0.1.0 (tollgate:policy@0.4.0)"),
        "{stdout}"
    );

    let wasm = "dist/acme-approval.wasm";
    let tested = succeeds(&project, &["test", "tests/cases", "--policy", wasm]);
    assert!(tested.contains("2 tests, 2 passed, 0 failed"), "{tested}");
    let inspected = succeeds(&project, &["inspect", wasm]);
    for expected in ["acme-approval", "CC-01", "AICPA TSC 2017"] {
        assert!(inspected.contains(expected), "{expected}: {inspected}");
    }
    succeeds(&project, &["policy", "keygen", "--name", "acme"]);
    succeeds(&project, &["policy", "sign", wasm, "--key", "acme.key"]);
    let verified = succeeds(
        &project,
        &["policy", "verify", wasm, "--trusted-key", "acme.pub"],
    );
    assert!(verified.contains("trusted"), "{verified}");
    let evaluated = succeeds(
        &project,
        &[
            "eval",
            "manifests/change.yaml",
            "--policy",
            wasm,
            "--settings",
            "settings.yaml",
            "--trusted-key",
            "acme.pub",
            "--require-signed",
            "--dry-run",
            "--format",
            "json",
        ],
    );
    assert!(
        evaluated.contains("\"outcome\": \"approved\""),
        "{evaluated}"
    );
}

#[test]
fn names_directories_and_modules_that_cannot_work_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    refused(
        dir,
        &["new", "policy", "Acme", "--lang", "rust"],
        "invalid policy name `Acme`: `A` is not allowed",
    );
    refused(
        dir,
        &["new", "policy", "sox", "--lang", "js"],
        "the id of a built-in policy",
    );
    refused(
        dir,
        &["new", "policy", "acme", "--lang", "rust", "--sdk-path", "."],
        "is not the policy SDK",
    );
    succeeds(dir, &["new", "policy", "acme", "--lang", "python"]);
    assert!(dir.join("acme/app.py").is_file());
    refused(
        dir,
        &["new", "policy", "acme", "--lang", "js"],
        "exists and is not empty",
    );
    std::fs::write(dir.join("core.wasm"), b"not wasm").unwrap();
    refused(
        dir,
        &["policy", "componentize", "core.wasm", "-o", "out.wasm"],
        "not a WebAssembly module",
    );
    assert!(!dir.join("out.wasm").exists());
}
