//! Evaluates a realistic manifest with the three built-in policies natively and through the
//! components in the wasmtime host, in one run, and prints the component/native ratio.
//!
//! `cargo bench -p tollgate-conformance --bench evaluate`

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use tollgate_conformance::{POLICIES, native_policy, workspace_root};
use tollgate_engine::{Limits, PolicyEngine, PolicySource, builtin_pack};
use tollgate_manifest::{Format, Manifest, Timestamp};
use tollgate_rules::EvaluationContext;

const MANIFEST: &str = "examples/manifests/schema-and-security-three-approvers.yaml";

fn main() -> Result<(), Box<dyn Error>> {
    let text = std::fs::read_to_string(workspace_root().join(MANIFEST))?;
    let manifest = Manifest::from_text(&text, Format::Yaml)?;
    let now = Timestamp::parse("2026-06-01T00:00:00Z")?;
    let context = EvaluationContext { now };

    let natives = POLICIES
        .iter()
        .map(|name| native_policy(name).ok_or("unknown policy"))
        .collect::<Result<Vec<_>, _>>()?;
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

    let native = || {
        for policy in &natives {
            black_box(policy.decide(black_box(&manifest), "", &context).ok());
        }
    };
    let component = || {
        for policy in &components {
            black_box(policy.evaluate(black_box(&manifest), "", now).ok());
        }
    };

    let mut criterion = Criterion::default().configure_from_args();
    {
        let mut group = criterion.benchmark_group("evaluate-3-policies");
        group.bench_function("native", |b| b.iter(native));
        group.bench_function("component", |b| b.iter(component));
        group.finish();
    }
    criterion.final_summary();

    // The ratio, from a baseline measured in this same run (interleaved to share machine noise).
    let mut native_time = Duration::ZERO;
    let mut component_time = Duration::ZERO;
    let rounds = 20;
    let per_round = 200;
    for _ in 0..rounds {
        let start = Instant::now();
        (0..per_round).for_each(|_| native());
        native_time += start.elapsed();
        let start = Instant::now();
        (0..per_round).for_each(|_| component());
        component_time += start.elapsed();
    }
    let iterations = f64::from(rounds * per_round);
    let native_us = native_time.as_secs_f64() * 1e6 / iterations;
    let component_us = component_time.as_secs_f64() * 1e6 / iterations;
    println!(
        "evaluate 3 policies: native {native_us:.1} µs, component (fresh instance per call) {component_us:.1} µs, ratio component/native {:.1}x",
        component_us / native_us
    );
    Ok(())
}
