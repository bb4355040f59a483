//! Builds the policy components embedded in the `tollgate` binary, and the hostile fixtures used by
//! its tests.
//!
//! One nested `cargo build` compiles the policy crates and the fixture crates for
//! `wasm32-unknown-unknown` with the `policy` profile and their `component` feature, in its own target
//! directory (`target/policy-build`) so it never waits on the outer build's lock. Each core module
//! is then made a component with `wit-component`, written to `OUT_DIR`, and listed in
//! `OUT_DIR/builtin.rs` (the embedded packs) and `OUT_DIR/fixtures.rs` (paths of the fixtures).
//!
//! On a native build (the build machine is the target), each pack is also precompiled with the
//! engine's own configuration (`src/tunables.rs`, see [`precompile`]) and embedded beside its
//! component, so that a first run compiles nothing.
//!
//! A second nested build makes the same policies OPA Wasm ABI 1.3 modules (`policies/*/opa`, in
//! `target/opa-build`: other link arguments, so another target directory): linked to import a
//! two-page memory, optimised for size, then given the `opa_wasm_abi_version` globals (see
//! [`opa`]) and listed in `OUT_DIR/opa.rs`.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use wit_component::ComponentEncoder;

#[path = "build/opa.rs"]
mod opa;

#[path = "build/precompile.rs"]
mod precompile;

use precompile::Precompiler;

const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "policy";

/// Built-in packs: (name, package).
const POLICIES: &[(&str, &str)] = &[
    ("sox", "tollgate-policy-sox"),
    ("hipaa", "tollgate-policy-hipaa"),
    ("pci", "tollgate-policy-pci"),
    ("fda", "tollgate-policy-fda"),
];

/// Hostile fixtures for the host's tests: (constant name, package).
const FIXTURES: &[(&str, &str)] = &[
    ("SPIN", "tollgate-hostile-spin"),
    ("MEMORY_BOMB", "tollgate-hostile-memory-bomb"),
    ("TRAP", "tollgate-hostile-trap"),
    ("STACK_OVERFLOW", "tollgate-hostile-stack-overflow"),
    ("IMPOSTOR", "tollgate-hostile-impostor"),
    ("KEEPSAKE", "tollgate-hostile-keepsake"),
];

/// Environment that must not leak from the outer build into the nested one: flags and wrappers
/// meant for the host target (clippy, coverage, sccache) and the outer target selection.
const SCRUBBED_ENV: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    GUEST_RUSTFLAGS_VAR,
    "CARGO_LLVM_COV",
    "CARGO_LLVM_COV_TARGET_DIR",
    "LLVM_PROFILE_FILE",
    "CLIPPY_ARGS",
    "CLIPPY_CONF_DIR",
];

/// Target-specific flags of the nested build.
const GUEST_RUSTFLAGS_VAR: &str = "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS";

/// Environment of the nested component build.
///
/// A 128 KiB shadow stack instead of rustc's 1 MiB default. Policies need a few KiB of stack; a
/// smaller stack keeps each instance's touched linear memory within the pages the host keeps
/// resident between instantiations, which makes a fresh instance much cheaper. The stack sits
/// below the data, so an overflow traps out of bounds instead of corrupting memory.
///
/// `opt-level` 2 instead of the profile's `"s"`: measured with `tollgate bench`, a decision of the
/// three packs is 25% faster in a reused instance and 14% faster in a fresh one, for 4.5% more
/// bytes (level 3 is no faster and larger still). The OPA modules keep their own setting.
const COMPONENT_BUILD_ENV: &[(&str, &str)] = &[
    (GUEST_RUSTFLAGS_VAR, "-Clink-arg=-zstack-size=131072"),
    ("CARGO_PROFILE_POLICY_OPT_LEVEL", "2"),
];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: failed to build the policy components\n\n{message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(var("OUT_DIR")?);
    let workspace = manifest_dir
        .ancestors()
        .nth(2)
        .ok_or("the engine crate is not two levels below the workspace")?
        .to_path_buf();
    for watched in [
        "wit",
        "crates",
        "policies",
        "tests/hostile",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }

    let target_dir = workspace.join("target").join("policy-build");
    let packages: Vec<&str> = POLICIES
        .iter()
        .chain(FIXTURES)
        .map(|(_, package)| *package)
        .collect();
    cargo_build(
        &workspace,
        &target_dir,
        &packages,
        true,
        COMPONENT_BUILD_ENV,
    )?;

    let artifacts = target_dir.join(TARGET).join(PROFILE);
    let precompiler = Precompiler::for_this_machine(&manifest_dir)?;
    let mut builtin = String::from("pub(super) static BUILTIN_PACKS: &[BuiltinPack] = &[\n");
    for (name, package) in POLICIES {
        let path = componentize(&artifacts, &out_dir, package)?;
        let sha256 = precompile::sha256_hex(&path)?;
        let precompiled = match &precompiler {
            Some(precompiler) => {
                let compiled = precompiler.precompile(&path)?;
                format!("&PageAligned(*include_bytes!({compiled:?})).0")
            }
            None => "&[]".to_owned(),
        };
        let _ = writeln!(
            builtin,
            "    BuiltinPack {{ name: {name:?}, bytes: include_bytes!({path:?}), sha256: {sha256:?}, precompiled: {precompiled} }},"
        );
    }
    builtin.push_str("];\n");
    write(&out_dir.join("builtin.rs"), &builtin)?;

    let mut fixtures = String::new();
    for (constant, package) in FIXTURES {
        let path = componentize(&artifacts, &out_dir, package)?;
        let _ = writeln!(
            fixtures,
            "/// Path of the `{package}` component.\npub const {constant}: &str = {path:?};"
        );
    }
    write(&out_dir.join("fixtures.rs"), &fixtures)?;

    let opa_target_dir = workspace.join("target").join("opa-build");
    let opa_packages: Vec<String> = POLICIES
        .iter()
        .map(|(name, _)| format!("tollgate-opa-{name}"))
        .collect();
    let opa_packages: Vec<&str> = opa_packages.iter().map(String::as_str).collect();
    cargo_build(
        &workspace,
        &opa_target_dir,
        &opa_packages,
        false,
        opa::BUILD_ENV,
    )?;
    let opa_artifacts = opa_target_dir.join(TARGET).join(PROFILE);
    let mut modules = String::from("pub(super) static OPA_MODULES: &[OpaModule] = &[\n");
    for ((name, _), package) in POLICIES.iter().zip(&opa_packages) {
        let file = format!("{}.wasm", package.replace('-', "_"));
        let linked_path = opa_artifacts.join(&file);
        let linked = fs::read(&linked_path)
            .map_err(|e| format!("could not read `{}`: {e}", linked_path.display()))?;
        let module = opa::add_abi_globals(&linked)
            .map_err(|e| format!("`{}`: {e}", linked_path.display()))?;
        let path = out_dir.join(&file);
        write_bytes(&path, &module)?;
        let _ = writeln!(
            modules,
            "    OpaModule {{ name: {name:?}, bytes: include_bytes!({path:?}) }},"
        );
    }
    modules.push_str("];\n");
    write(&out_dir.join("opa.rs"), &modules)?;
    Ok(())
}

fn var(name: &str) -> Result<String, String> {
    env::var(name).map_err(|e| format!("`{name}` is not set: {e}"))
}

/// Builds packages for the guest target with the `policy` profile, in the environment `env` (and
/// none of the outer build's flags); `components` turns on each package's `component` feature.
fn cargo_build(
    workspace: &Path,
    target_dir: &Path,
    packages: &[&str],
    components: bool,
    env: &[(&str, &str)],
) -> Result<(), String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--target",
            TARGET,
            "--profile",
            PROFILE,
            "--target-dir",
        ])
        .arg(target_dir);
    for package in packages {
        command.args(["--package", package]);
    }
    // The trap fixture keeps its `name` section (the packs strip theirs), so that the tests see
    // a trap message name the guest's functions, as it does for components built with names.
    if components && packages.contains(&"tollgate-hostile-trap") {
        command.args([
            "--config",
            "profile.policy.package.tollgate-hostile-trap.strip=\"none\"",
        ]);
    }
    if components {
        let features: Vec<String> = packages.iter().map(|p| format!("{p}/component")).collect();
        command.args(["--features", &features.join(",")]);
    }
    for name in SCRUBBED_ENV {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let output = command
        .output()
        .map_err(|e| format!("could not run `{command:?}`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{command:?}` failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

/// Makes the component of a package's core module and writes it to `OUT_DIR/<crate>.wasm`.
fn componentize(artifacts: &Path, out_dir: &Path, package: &str) -> Result<PathBuf, String> {
    let file = format!("{}.wasm", package.replace('-', "_"));
    let core_path = artifacts.join(&file);
    let core = fs::read(&core_path)
        .map_err(|e| format!("could not read `{}`: {e}", core_path.display()))?;
    let component = ComponentEncoder::default()
        .module(&core)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|e| {
            format!(
                "could not make a component of `{}`: {e:#}",
                core_path.display()
            )
        })?;
    let path = out_dir.join(&file);
    write_bytes(&path, &component)?;
    Ok(path)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    write_bytes(path, text.as_bytes())
}

/// Writes a file unless it already holds these bytes, so that an unchanged component does not make
/// the host crate recompile.
fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if fs::read(path).is_ok_and(|existing| existing == bytes) {
        return Ok(());
    }
    fs::write(path, bytes).map_err(|e| format!("could not write `{}`: {e}", path.display()))
}
