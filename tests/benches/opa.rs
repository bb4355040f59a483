//! A decision through OPA's Node SDK (`@open-policy-agent/opa-wasm`, the OPA Wasm modules) against
//! the same decision through the components in Tollgate's wasmtime host, measured in one run, and
//! the ratio SDK/component. Needs `bash tests/engines/setup` (Node and the SDK).
//!
//! `cargo bench -p tollgate-conformance --bench opa`

use std::error::Error;
use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use tollgate_conformance::{POLICIES, workspace_root};
use tollgate_engine::{Limits, PolicyEngine, PolicySource, builtin_pack, opa_module};
use tollgate_manifest::{Format, Manifest, Timestamp};

const MANIFEST: &str = "examples/manifests/schema-and-security-three-approvers.yaml";
const NOW: &str = "2026-06-01T00:00:00Z";
const ITERATIONS: u32 = 2_000;

fn main() -> Result<(), Box<dyn Error>> {
    let root = workspace_root();
    let text = std::fs::read_to_string(root.join(MANIFEST))?;
    let manifest = Manifest::from_text(&text, Format::Yaml)?;
    let now = Timestamp::parse(NOW)?;
    let engine = PolicyEngine::new(Limits::default(), None)?;
    let components = POLICIES
        .iter()
        .map(|name| {
            let pack = builtin_pack(name).ok_or("unknown pack")?;
            engine
                .load(PolicySource::Builtin(pack))
                .map_err(Box::<dyn Error>::from)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let component = || {
        for policy in &components {
            black_box(policy.evaluate(black_box(&manifest), "", now).ok());
        }
    };

    let dir = tempfile_dir()?;
    for name in POLICIES {
        let module = opa_module(name).ok_or("no OPA module")?;
        std::fs::write(dir.join(format!("{name}.wasm")), module.bytes)?;
    }
    std::fs::write(dir.join("manifest.json"), serde_json::to_vec(&manifest)?)?;

    // Component, SDK, component: the baseline brackets the SDK's run.
    (0..50).for_each(|_| component());
    let start = Instant::now();
    (0..ITERATIONS / 2).for_each(|_| component());
    let first = start.elapsed();
    let output = Command::new("node")
        .arg(root.join("tests/engines/opa-bench.mjs"))
        .arg(&dir)
        .arg(NOW)
        .arg(ITERATIONS.to_string())
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "node tests/engines/opa-bench.mjs failed (run tests/engines/setup): {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let rust_sdk_us = rust_sdk(&manifest)?;
    let start = Instant::now();
    (0..ITERATIONS / 2).for_each(|_| component());
    let component_us = (first + start.elapsed()).as_secs_f64() * 1e6 / f64::from(ITERATIONS);
    let sdk_us: f64 = String::from_utf8(output.stdout)?.trim().parse()?;
    println!(
        "decide 3 policies: component in Tollgate's host (fresh instance per call) {component_us:.1} µs, \
         @open-policy-agent/opa-wasm (one loaded instance, setData + evaluate) {sdk_us:.1} µs, \
         ratio SDK/component {:.2}x; Rust opa-wasm crate (one loaded instance, evaluate) \
         {rust_sdk_us:.1} µs, ratio {:.2}x",
        sdk_us / component_us,
        rust_sdk_us / component_us
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Mean microseconds of one decision of all three policies through the Rust OPA SDK (`opa-wasm`
/// on wasmtime, async as the crate requires): one instance per policy, loaded with its data once.
fn rust_sdk(manifest: &Manifest) -> Result<f64, Box<dyn Error>> {
    use opa_wasm::wasmtime::{Config, Engine, Module, Store};
    let engine = Engine::new(&Config::new())?;
    let tokio = tokio::runtime::Builder::new_current_thread().build()?;
    let input = serde_json::to_value(manifest)?;
    tokio.block_on(async {
        let mut loaded = Vec::new();
        for name in POLICIES {
            let module = opa_module(name).ok_or("no OPA module")?;
            let module = Module::new(&engine, module.bytes)?;
            let mut store = Store::new(&engine, ());
            let runtime = opa_wasm::Runtime::new(&mut store, &module).await?;
            let data = serde_json::json!({"tollgate": {"now": NOW, name: {"settings": null}}});
            let policy = runtime.with_data(&mut store, &data).await?;
            loaded.push((format!("tollgate/{name}/decision"), store, policy));
        }
        let mut decide = async || -> Result<(), Box<dyn Error>> {
            for (entrypoint, store, policy) in &mut loaded {
                let result: serde_json::Value =
                    policy.evaluate(&mut *store, entrypoint, &input).await?;
                black_box(result);
            }
            Ok(())
        };
        for _ in 0..50 {
            decide().await?;
        }
        let start = Instant::now();
        for _ in 0..ITERATIONS {
            decide().await?;
        }
        Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(ITERATIONS))
    })
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("tollgate-opa-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
