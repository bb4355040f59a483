//! Every golden case of every policy through the compiled component in the wasmtime host. The
//! component's decision must meet the case's expectation and equal the native crate's decision.
//!
//! The SOX cases also run through SOX components built for earlier contracts. The one built for
//! `tollgate:policy@0.3.0` (`host/engine/tests/data/sox-policy-0.3.0.wasm`) must decide exactly as
//! the current pack does (the host leaves out of its manifests what 0.3.0 cannot express: the `gxp`
//! data class, signature meanings). The one built for `tollgate:policy@0.2.0`
//! (`host/engine/tests/data/sox-policy-0.2.0.wasm`) must too: the host fills in what 0.3.0
//! components leave to it (finding references) and maps what 0.2.0 always carries (risk,
//! routing). The one built for
//! `0.1.0` must decide as the current pack does on everything 0.1.0 can say, the statuses it lacks
//! (`pending`, `not_assessed`) reading as `compliant`, as they did.

use std::sync::Arc;

use libtest_mimic::{Failed, Trial};
use tollgate_conformance::{Case, POLICIES, case_files, check, native_policy, workspace_root};

use crate::test_cache_dir;
use tollgate_decision::{ControlStatus, Decision, EvalError};
use tollgate_engine::{
    Contract, Limits, LoadedPolicy, PolicyEngine, PolicyFailure, PolicySource, builtin_pack,
};

/// One trial per golden case of every policy through its component, and per SOX case through the
/// 0.3.0, 0.2.0 and 0.1.0 components, named `golden_component::<policy>::<case>` and
/// `golden_component::sox@0.3.0::<case>`.
pub fn trials() -> Result<Vec<Trial>, Box<dyn std::error::Error>> {
    let engine = PolicyEngine::new(Limits::default(), Some(test_cache_dir()))?;
    let mut trials = Vec::new();
    for policy_name in POLICIES {
        let pack = builtin_pack(policy_name).ok_or(format!("no built-in pack `{policy_name}`"))?;
        let component: Arc<LoadedPolicy> = Arc::new(engine.load(PolicySource::Builtin(pack))?);
        let files = case_files(policy_name)?;
        for file in files {
            let name = format!(
                "golden_component::{policy_name}::{}",
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
    for (version, contract, same_as_today) in [
        ("0.3.0", Contract::V0_3, as_is as Comparable),
        ("0.2.0", Contract::V0_2, as_is),
        ("0.1.0", Contract::V0_1, as_0_1),
    ] {
        trials.extend(earlier_contract_trials(
            &engine,
            version,
            contract,
            same_as_today,
        )?);
    }
    Ok(trials)
}

/// A decision as compared with today's pack.
type Comparable = fn(Result<Decision, EvalError>) -> Result<Decision, EvalError>;

/// One trial per SOX case through the SOX component built for contract `version`.
fn earlier_contract_trials(
    engine: &PolicyEngine,
    version: &str,
    contract: Contract,
    comparable: Comparable,
) -> Result<Vec<Trial>, Box<dyn std::error::Error>> {
    let old = engine.load(PolicySource::File(
        workspace_root().join(format!("host/engine/tests/data/sox-policy-{version}.wasm")),
    ))?;
    if old.contract() != contract {
        return Err(format!("the {version} fixture did not bind as {version}").into());
    }
    let old = Arc::new(old);
    let mut trials = Vec::new();
    for file in case_files("sox")? {
        let name = format!(
            "golden_component::sox@{version}::{}",
            file.file_stem().unwrap_or_default().to_string_lossy()
        );
        let old = Arc::clone(&old);
        trials.push(Trial::test(name, move || {
            let case = Case::load(&file).map_err(|e| Failed::from(e.to_string()))?;
            let manifest = case.manifest()?;
            let settings = case.settings_json();
            let native = native_policy("sox").ok_or("unknown policy")?.decide(
                &manifest,
                &settings,
                &tollgate_rules::EvaluationContext { now: case.now },
            );
            let result = match old.evaluate(&manifest, &settings, case.now) {
                Ok(decision) => Ok(decision),
                Err(PolicyFailure::Eval(error)) => Err(error),
                Err(failure) => return Err(format!("component failed: {failure}").into()),
            };
            same(&comparable(native), &comparable(result))
        }));
    }
    Ok(trials)
}

/// A decision unchanged: the 0.3.0 and 0.2.0 components must decide exactly as today's pack.
fn as_is(result: Result<Decision, EvalError>) -> Result<Decision, EvalError> {
    result
}

/// What a decision says in `tollgate:policy@0.1.0` terms: `pending` and `not_assessed` controls
/// read as `compliant`; the evidence statements and the summary, which count them, are left out.
/// An invalid setting is compared by the field it names: the messages' help text has grown since
/// (the time zones a window accepts are now the whole tz database).
fn as_0_1(result: Result<Decision, EvalError>) -> Result<Decision, EvalError> {
    let result = result.map_err(|error| match error {
        EvalError::InvalidSettings(message) => EvalError::InvalidSettings(
            message
                .split_once("`: ")
                .map_or(message.clone(), |(field, _)| format!("{field}`")),
        ),
        other => other,
    });
    result.map(|mut decision| {
        for control in &mut decision.controls {
            if matches!(
                control.status,
                ControlStatus::Pending | ControlStatus::NotAssessed
            ) {
                control.status = ControlStatus::Compliant;
            }
            control.evidence.clear();
        }
        decision.summary.clear();
        decision
    })
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
