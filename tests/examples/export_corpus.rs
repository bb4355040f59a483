//! Exports the golden corpus for the runners outside Rust (browser, jco, Python wasmtime, Extism):
//! the built-in policy components as files, and every golden case with the decision **the host
//! reached through the component** (which must also equal the native crate's, or nothing is
//! written).
//!
//! ```sh
//! cargo run -p tollgate-conformance --example export_corpus -- target/engines
//! ```
//!
//! Writes `DIR/components/<policy>.wasm` and `DIR/corpus.json`:
//! `{"policies": [{"id", "component", "metadata"}], "cases": [{"policy", "name", "description",
//! "now", "settings", "settings_json", "manifest", "manifest_normalized", "expected"}]}` where
//! `expected` is `{"decision": ...}` or `{"error": {"kind", "message"}}`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;
use tollgate_conformance::{Case, POLICIES, case_files, native_policy};
use tollgate_engine::{Limits, PolicyEngine, PolicyFailure, PolicySource, builtin_pack};

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/engines"), PathBuf::from);
    match export(&dir) {
        Ok(count) => {
            println!(
                "exported {count} golden cases and {} components to {}",
                POLICIES.len(),
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn export(dir: &Path) -> Result<usize, String> {
    let components = dir.join("components");
    std::fs::create_dir_all(&components)
        .map_err(|e| format!("cannot create `{}`: {e}", components.display()))?;
    let engine = PolicyEngine::new(Limits::default(), None).map_err(|e| e.to_string())?;
    let mut policies = Vec::new();
    let mut cases = Vec::new();
    for name in POLICIES {
        let pack = builtin_pack(name).ok_or(format!("no built-in pack `{name}`"))?;
        let file = components.join(format!("{name}.wasm"));
        write(&file, pack.bytes)?;
        let loaded = engine
            .load(PolicySource::Builtin(pack))
            .map_err(|e| format!("loading `{name}`: {e}"))?;
        let native = native_policy(name).ok_or(format!("no native policy `{name}`"))?;
        policies.push(json!({
            "id": name,
            "component": format!("components/{name}.wasm"),
            "metadata": loaded.metadata(),
        }));
        for path in case_files(name).map_err(|e| e.to_string())? {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let case = Case::load(&path).map_err(|e| e.to_string())?;
            let manifest = case
                .manifest()
                .map_err(|e| format!("{name}::{stem}: {e}"))?;
            let settings = case.settings_json();
            let host = match loaded.evaluate(&manifest, &settings, case.now) {
                Ok(decision) => Ok(decision),
                Err(PolicyFailure::Eval(error)) => Err(error),
                Err(failure) => return Err(format!("{name}::{stem}: component failed: {failure}")),
            };
            if host
                != native.decide(
                    &manifest,
                    &settings,
                    &tollgate_rules::EvaluationContext { now: case.now },
                )
            {
                return Err(format!(
                    "{name}::{stem}: the component and the native crate disagree"
                ));
            }
            let expected = match &host {
                Ok(decision) => json!({ "decision": decision }),
                Err(error) => json!({ "error": error }),
            };
            cases.push(json!({
                "policy": name,
                "name": stem,
                "description": case.description,
                "now": case.now,
                "settings": case.settings,
                "settings_json": settings,
                "manifest": case.manifest,
                "manifest_normalized": manifest,
                "expected": expected,
            }));
        }
    }
    let count = cases.len();
    let corpus = json!({ "policies": policies, "cases": cases });
    let text = serde_json::to_string_pretty(&corpus).map_err(|e| e.to_string())?;
    write(&dir.join("corpus.json"), text.as_bytes())?;
    Ok(count)
}

/// Writes a file whole: into a temporary file first, then renamed, so a reader never sees half.
fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| format!("cannot write `{}`: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    Ok(())
}
