//! Every golden case through each policy's OPA Wasm ABI 1.3 module in the Rust OPA SDK (the
//! `opa-wasm` crate, on wasmtime): the `decision` entrypoint must equal the native crate's decision
//! (or abort with the same error), `allow` and `deny` must agree with it, and 10,000 evaluations on
//! one loaded instance must not grow its memory.

use std::sync::Arc;

use libtest_mimic::{Failed, Trial};
use opa_wasm::wasmtime::{Config, Engine, ResourceLimiter};
use serde_json::{Value, json};
use tollgate_conformance::{Case, POLICIES, case_files, native_policy};
use tollgate_decision::{Decision, EvalError, Outcome, Severity};
use tollgate_engine::opa_module;
use tollgate_rules::EvaluationContext;

/// Records the largest linear memory the instance asked for.
#[derive(Default)]
struct MemoryWatch {
    largest: usize,
}

impl ResourceLimiter for MemoryWatch {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> opa_wasm::wasmtime::Result<bool> {
        self.largest = self.largest.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> opa_wasm::wasmtime::Result<bool> {
        Ok(true)
    }
}

/// One trial per golden case of every policy through its OPA module in the SDK, and one memory
/// trial per policy, named `golden_opa_rust::opa-rust <policy>::<case>`.
pub fn trials() -> Result<Vec<Trial>, Box<dyn std::error::Error>> {
    let engine = Engine::new(&Config::new())?;
    let tokio = Arc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
    );
    let mut trials = Vec::new();
    for name in POLICIES {
        let module = opa_module(name).ok_or(format!("no OPA module `{name}`"))?;
        let module = Module::new(&engine, module.bytes).map_err(|e| e.to_string())?;
        for file in case_files(name)? {
            let trial_name = format!(
                "golden_opa_rust::opa-rust {name}::{}",
                file.file_stem().unwrap_or_default().to_string_lossy()
            );
            let (module, tokio) = (module.clone(), Arc::clone(&tokio));
            trials.push(Trial::test(trial_name, move || {
                let case = Case::load(&file).map_err(|e| Failed::from(e.to_string()))?;
                tokio.block_on(golden_case(name, &module, &case))
            }));
        }
        let tokio = Arc::clone(&tokio);
        trials.push(Trial::test(
            format!("golden_opa_rust::opa-rust {name} 10,000 evaluations keep memory flat"),
            move || tokio.block_on(memory_stays_flat(name, &module)),
        ));
    }
    Ok(trials)
}

// embed-opa:start
use opa_wasm::wasmtime::{Module, Store};
use opa_wasm::{DefaultContext, Policy, Runtime};

/// Instantiates a Tollgate OPA module (`sox.wasm`) with the policy's settings (`null`: the
/// defaults) and the evaluation time in `data.tollgate`, as an OPA host loads a policy and its data.
async fn load_opa_policy<T: Send + 'static>(
    store: &mut Store<T>,
    module: &Module,
    id: &str,
    settings: &Value,
    now: &str,
) -> opa_wasm::wasmtime::anyhow::Result<Policy<DefaultContext>> {
    let runtime = Runtime::new(&mut *store, module).await?;
    let data = json!({"tollgate": {"now": now, id: {"settings": settings}}});
    runtime.with_data(store, &data).await
}
// let policy = load_opa_policy(&mut store, &module, "sox", &Value::Null, now).await?;
// let decision: Value = policy.evaluate(&mut store, "tollgate/sox/decision", &manifest).await?;
// An `Err` is an abort (`tollgate: <kind>: <message>`), never an approval.
// embed-opa:end

/// The module instantiated in the SDK with a case's settings and time, in a store that watches
/// its memory.
async fn load(
    name: &str,
    module: &Module,
    case: &Case,
) -> Result<(Store<MemoryWatch>, Policy<DefaultContext>), Failed> {
    let mut store = Store::new(module.engine(), MemoryWatch::default());
    store.limiter(|watch| watch);
    let settings = case.settings.clone().unwrap_or(Value::Null);
    let policy = load_opa_policy(&mut store, module, name, &settings, &case.now.to_string())
        .await
        .map_err(|e| format!("the SDK refused the module or its data: {e:#}"))?;
    Ok((store, policy))
}

async fn golden_case(name: &str, module: &Module, case: &Case) -> Result<(), Failed> {
    let (mut store, policy) = load(name, module, case).await?;
    let store = &mut store;
    let manifest = &case.manifest;
    let native = native_policy(name).ok_or("unknown policy")?;
    let expected = match case.manifest() {
        Ok(parsed) => native.decide(
            &parsed,
            &case.settings_json(),
            &EvaluationContext { now: case.now },
        ),
        Err(message) => Err(EvalError::InvalidManifest(message.to_string())),
    };
    let decision: Result<Value, String> = policy
        .evaluate(&mut *store, &format!("tollgate/{name}/decision"), manifest)
        .await
        .map_err(|e| format!("{e:#}"));
    match (expected, decision) {
        (Ok(want), Ok(got)) => {
            let got: Decision = serde_json::from_value(result(got)?)
                .map_err(|e| format!("the decision does not read as a decision: {e}"))?;
            if got != want {
                return Err(format!(
                    "the SDK's decision differs from the native crate's\nnative: {}\nsdk: {}",
                    serde_json::to_string_pretty(&want).unwrap_or_default(),
                    serde_json::to_string_pretty(&got).unwrap_or_default()
                )
                .into());
            }
            let allow = policy
                .evaluate(&mut *store, &format!("tollgate/{name}/allow"), manifest)
                .await
                .map_err(|e| format!("allow: {e:#}"))?;
            if result(allow)? != json!(want.outcome == Outcome::Approved) {
                return Err("`allow` disagrees with the decision".into());
            }
            let deny = policy
                .evaluate(&mut *store, &format!("tollgate/{name}/deny"), manifest)
                .await
                .map_err(|e| format!("deny: {e:#}"))?;
            let denying: Vec<String> = want
                .findings
                .iter()
                .filter(|f| matches!(f.severity, Severity::High | Severity::Critical))
                .map(|f| format!("{}: {} ({})", f.control_id, f.message, f.rule_id))
                .collect();
            if result(deny)? != json!(denying) {
                return Err("`deny` disagrees with the decision".into());
            }
            Ok(())
        }
        (Err(want), Err(got)) => {
            // The abort carries the policy's own error; a manifest the host could not read is
            // refused by the module's own reading of it, in its words.
            let expected = match want {
                EvalError::InvalidManifest(_) => "tollgate: invalid manifest: ".to_owned(),
                other => format!("tollgate: {other}"),
            };
            if got.contains(&expected) {
                Ok(())
            } else {
                Err(format!("expected an abort with `{expected}`, got: {got}").into())
            }
        }
        (Ok(_), Err(got)) => Err(format!("the SDK failed where the crate decided: {got}").into()),
        (Err(want), Ok(got)) => {
            Err(format!("the SDK answered {got} where the crate failed: {want}").into())
        }
    }
}

/// The single result of a result set `[{"result": v}]`.
fn result(set: Value) -> Result<Value, Failed> {
    match set {
        Value::Array(mut items) if items.len() == 1 => items
            .pop()
            .and_then(|mut item| item.get_mut("result").map(Value::take))
            .ok_or_else(|| "a result set without `result`".into()),
        other => Err(format!("not a single result: {other}").into()),
    }
}

async fn memory_stays_flat(name: &str, module: &Module) -> Result<(), Failed> {
    let case = case_files(name)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|file| Case::load(file).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .find(|case| case.expect.outcome.is_some())
        .ok_or("no case with a decision")?;
    let (mut store, policy) = load(name, module, &case).await?;
    let entrypoint = format!("tollgate/{name}/decision");
    let mut largest = Vec::new();
    for times in [100, 10_000] {
        for _ in 0..times {
            policy
                .evaluate::<_, Value, _>(&mut store, &entrypoint, &case.manifest)
                .await
                .map_err(|e| format!("{e:#}"))?;
        }
        largest.push(store.data().largest);
    }
    if largest[0] != largest[1] {
        return Err(format!(
            "memory grew from {} to {} bytes over 10,000 evaluations",
            largest[0], largest[1]
        )
        .into());
    }
    Ok(())
}
