//! Hostile policy components: each limit stops its fixture, and the result is a failure of the
//! right kind, never a decision.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::time::Duration;

use crate::common::{engine, fixture, fixtures, manifest, now};
use tollgate_engine::{HostError, PolicyFailure, PolicySource, Resource};

#[test]
fn an_infinite_loop_times_out() {
    let policy = fixture(fixtures::SPIN);
    assert_eq!(policy.metadata().id, "spin");
    let failure = policy.evaluate(&manifest(), "", now()).unwrap_err();
    assert_eq!(
        failure,
        PolicyFailure::Timeout {
            deadline: Duration::from_millis(100)
        }
    );
    assert_eq!(failure.to_string(), "timed out after 100 ms");
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    // A generous deadline: filling 64 MiB on a loaded CI machine must not turn into a timeout.
    let limits = tollgate_engine::Limits {
        deadline: Duration::from_secs(30),
        ..tollgate_engine::Limits::default()
    };
    let engine =
        tollgate_engine::PolicyEngine::new(limits, Some(crate::common::shared_cache_dir()))
            .expect("engine");
    let policy = engine
        .load(PolicySource::File(fixtures::MEMORY_BOMB.into()))
        .expect("loads");
    let failure = policy.evaluate(&manifest(), "", now()).unwrap_err();
    let PolicyFailure::ResourceLimit { resource, detail } = &failure else {
        panic!("expected a memory limit, got {failure:?}");
    };
    assert_eq!(*resource, Resource::Memory);
    assert!(detail.contains("67108864-byte limit"), "{detail}");
}

#[test]
fn a_panic_is_a_trap() {
    let policy = fixture(fixtures::TRAP);
    let failure = policy.evaluate(&manifest(), "", now()).unwrap_err();
    let PolicyFailure::Trap { message } = &failure else {
        panic!("expected a trap, got {failure:?}");
    };
    assert!(message.contains("unreachable"), "{message}");
}

#[test]
fn unbounded_recursion_hits_the_stack_limit() {
    let policy = fixture(fixtures::STACK_OVERFLOW);
    let failure = policy.evaluate(&manifest(), "", now()).unwrap_err();
    assert!(
        matches!(
            failure,
            PolicyFailure::ResourceLimit {
                resource: Resource::Stack,
                ..
            }
        ),
        "expected a stack overflow, got {failure:?}"
    );
}

#[test]
fn a_decision_under_another_policy_id_breaks_the_contract() {
    let policy = fixture(fixtures::IMPOSTOR);
    let decision = policy.evaluate(&manifest(), "", now()).unwrap();
    let failure =
        tollgate_pipeline::contract::check_decision(policy.metadata(), &decision).unwrap_err();
    let PolicyFailure::Malformed { reason } = &failure else {
        panic!("expected a malformed result, got {failure:?}");
    };
    assert!(
        reason.contains("`sox`") && reason.contains("`impostor`"),
        "{reason}"
    );
}

#[test]
fn a_policy_stays_usable_after_a_failure() {
    // Every call gets a fresh store, so one failure does not poison the next call.
    let policy = fixture(fixtures::TRAP);
    assert!(policy.evaluate(&manifest(), "", now()).is_err());
    assert_eq!(policy.metadata().id, "trap");
    policy
        .validate_settings("")
        .expect("settings are still validated");
}

#[test]
fn misbehaving_only_in_evaluate_leaves_metadata_and_settings_working() {
    for path in [
        fixtures::SPIN,
        fixtures::MEMORY_BOMB,
        fixtures::TRAP,
        fixtures::STACK_OVERFLOW,
    ] {
        let policy = fixture(path);
        assert_eq!(policy.metadata().framework, "HOSTILE");
        policy.validate_settings("").expect("default settings");
        assert!(policy.digest().starts_with("sha256:"));
    }
}

/// A component that imports a host function.
const IMPORTS_A_FUNCTION: &str = r#"
(component
  (import "host-log" (func (param "message" string)))
)
"#;

/// A component that imports a WASI-like interface.
const IMPORTS_WASI: &str = r#"
(component
  (import "wasi:cli/environment@0.2.0" (instance
    (export "get-arguments" (func (result (list string))))
  ))
)
"#;

fn load_wat(name: &str, wat: &str) -> Result<tollgate_engine::LoadedPolicy, HostError> {
    let bytes = wat::parse_str(wat).expect("valid WAT");
    engine().load(PolicySource::Bytes {
        name: name.into(),
        bytes,
    })
}

#[test]
fn a_component_importing_a_function_is_refused() {
    let error = load_wat("importer", IMPORTS_A_FUNCTION).unwrap_err();
    let HostError::Imports { name, imports } = &error else {
        panic!("expected an import error, got {error:?}");
    };
    assert_eq!(name, "importer");
    assert_eq!(imports, &["host-log"]);
    assert!(error.to_string().contains("imports `host-log`"), "{error}");
}

#[test]
fn a_component_importing_wasi_is_refused() {
    let error = load_wat("wasi", IMPORTS_WASI).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("imports `wasi:cli/environment@0.2.0`"),
        "{error}"
    );
}

/// A tracing engine (`tollgate test --trace`) links WASI, closed, for a pack's debug build: the
/// WASI import is satisfied (what remains is the missing policy exports), and any other import is
/// still refused with its name.
#[test]
fn only_a_tracing_engine_links_wasi_and_nothing_else() {
    let mut tracing = tollgate_engine::PolicyEngine::new(tollgate_engine::Limits::default(), None)
        .expect("an engine");
    tracing.set_trace(true);
    let load = |name: &str, wat: &str| {
        tracing.load(PolicySource::Bytes {
            name: name.into(),
            bytes: wat::parse_str(wat).expect("valid WAT"),
        })
    };
    let error = load("wasi", IMPORTS_WASI).unwrap_err();
    assert!(matches!(error, HostError::World { .. }), "{error:?}");
    let error = load("importer", IMPORTS_A_FUNCTION).unwrap_err();
    assert!(
        matches!(&error, HostError::Imports { imports, .. } if imports == &["host-log"]),
        "{error:?}"
    );
}

#[test]
fn a_component_without_the_policy_exports_is_refused() {
    let error = load_wat("empty", "(component)").unwrap_err();
    assert!(matches!(error, HostError::World { .. }), "{error:?}");
}

#[test]
fn bytes_that_are_not_a_component_are_refused() {
    let error = engine()
        .load(PolicySource::Bytes {
            name: "junk".into(),
            bytes: b"not wasm at all".to_vec(),
        })
        .unwrap_err();
    assert!(matches!(error, HostError::NotComponent { .. }), "{error:?}");
    assert!(!error.to_string().contains("0x"), "plain words: {error}");
    let core = wat::parse_str("(module)").expect("valid WAT");
    let error = engine()
        .load(PolicySource::Bytes {
            name: "core".into(),
            bytes: core,
        })
        .unwrap_err();
    assert!(matches!(error, HostError::NotComponent { .. }), "{error:?}");
    assert!(
        error.to_string().contains("core WebAssembly module"),
        "{error}"
    );
}

#[test]
fn a_policy_outliving_its_engine_still_times_out() {
    let limits = tollgate_engine::Limits {
        deadline: Duration::from_millis(20),
        ..tollgate_engine::Limits::default()
    };
    let engine =
        tollgate_engine::PolicyEngine::new(limits, Some(crate::common::shared_cache_dir()))
            .expect("engine");
    let policy = engine
        .load(PolicySource::File(fixtures::SPIN.into()))
        .expect("loads");
    drop(engine);
    assert_eq!(
        policy.evaluate(&manifest(), "", now()).unwrap_err(),
        PolicyFailure::Timeout {
            deadline: Duration::from_millis(20)
        }
    );
}

#[test]
fn reused_instances_keep_every_limit_and_are_dropped_after_a_failure() {
    for (path, kind) in [
        (fixtures::SPIN, "timeout"),
        (fixtures::TRAP, "trap"),
        (fixtures::STACK_OVERFLOW, "resource_limit"),
    ] {
        let mut policy = fixture(path);
        policy.set_isolation(tollgate_engine::Isolation::Reused);
        for round in 0..3 {
            let failure = policy.evaluate(&manifest(), "", now()).unwrap_err();
            assert_eq!(failure.kind(), kind, "{path}, call {round}: {failure:?}");
        }
        policy
            .validate_settings("")
            .expect("a fresh instance after the failures");
    }
}

#[test]
fn a_fresh_instance_keeps_nothing_of_the_call_before() {
    let summaries = |policy: &tollgate_engine::LoadedPolicy| -> Vec<String> {
        (0..3)
            .map(|_| policy.evaluate(&manifest(), "", now()).unwrap().summary)
            .collect()
    };
    let mut policy = fixture(fixtures::KEEPSAKE);
    // Its static memory as the module declares it, at every call (the reset restores written data
    // pages from the module's image and zeroes the rest).
    assert_eq!(
        summaries(&policy),
        ["calls before this one: 0, marker: 0x5eed"; 3]
    );
    // The fixture can remember: a reused instance shows it.
    policy.set_isolation(tollgate_engine::Isolation::Reused);
    assert_eq!(
        summaries(&policy),
        [
            "calls before this one: 0, marker: 0x5eed",
            "calls before this one: 1, marker: 0x5eee",
            "calls before this one: 2, marker: 0x5eef",
        ]
    );
}
