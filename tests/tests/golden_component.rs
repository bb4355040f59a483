//! Every golden case of every policy through the compiled component in the wasmtime host. The
//! component's decision must meet the case's expectation and equal the native crate's decision.

use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use tollgate_conformance::{Case, POLICIES, case_files, check, native_policy};
use tollgate_decision::EvalError;
use tollgate_engine::{
    Limits, LoadedPolicy, PolicyEngine, PolicyFailure, PolicySource, builtin_pack,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Arguments::from_args();
    let engine = PolicyEngine::new(Limits::default(), Some(test_cache_dir()))?;
    let mut trials = Vec::new();
    for policy_name in POLICIES {
        let pack = builtin_pack(policy_name).ok_or(format!("no built-in pack `{policy_name}`"))?;
        let component: Arc<LoadedPolicy> = Arc::new(engine.load(PolicySource::Builtin(pack))?);
        let files = case_files(policy_name)?;
        for file in files {
            let name = format!(
                "{policy_name}::{}",
                file.file_stem().unwrap_or_default().to_string_lossy()
            );
            let component = Arc::clone(&component);
            trials.push(Trial::test(name, move || {
                let case = Case::load(&file).map_err(|e| Failed::from(e.to_string()))?;
                let manifest = case.manifest()?;
                let settings = case.settings_json();
                let result = match component.evaluate(&manifest, &settings, case.now) {
                    Ok(decision) => Ok(decision),
                    Err(PolicyFailure::Eval(error)) => Err(error),
                    Err(failure) => return Err(format!("component failed: {failure}").into()),
                };
                if component.metadata()
                    != &native_policy(policy_name)
                        .ok_or("unknown policy")?
                        .metadata()
                {
                    return Err("component metadata differs from the native crate's".into());
                }
                check(&case, component.metadata(), &result).map_err(Failed::from)?;
                let native = native_policy(policy_name).ok_or("unknown policy")?.decide(
                    &manifest,
                    &settings,
                    &tollgate_rules::EvaluationContext { now: case.now },
                );
                same(&native, &result)
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn same(
    native: &Result<tollgate_decision::Decision, EvalError>,
    component: &Result<tollgate_decision::Decision, EvalError>,
) -> Result<(), Failed> {
    if native == component {
        return Ok(());
    }
    let show = |r: &Result<tollgate_decision::Decision, EvalError>| {
        serde_json::to_string_pretty(&r.as_ref().map_err(ToString::to_string)).unwrap_or_default()
    };
    Err(format!(
        "native and component decisions differ\nnative: {}\ncomponent: {}",
        show(native),
        show(component)
    )
    .into())
}

/// A compile cache shared by the test binaries, so each component is compiled once per build.
fn test_cache_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tollgate-test-cache")
}
