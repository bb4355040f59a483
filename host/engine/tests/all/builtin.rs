//! The built-in packs embedded in the binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use crate::common::{engine, manifest, now};
use tollgate_engine::{PolicySource, builtin_pack, builtin_packs};

#[test]
fn the_four_frameworks_are_embedded() {
    let names: Vec<&str> = builtin_packs().iter().map(|p| p.name).collect();
    assert_eq!(names, ["sox", "hipaa", "pci", "fda"]);
    assert!(builtin_pack("sox").is_some());
    assert!(builtin_pack("gdpr").is_none());
}

#[test]
fn each_pack_loads_and_decides_as_itself() {
    for pack in builtin_packs() {
        let policy = engine()
            .load(PolicySource::Builtin(pack))
            .unwrap_or_else(|e| panic!("{}: {e}", pack.name));
        assert_eq!(policy.metadata().id, pack.name);
        assert!(!policy.metadata().controls.is_empty());
        assert_eq!(policy.size(), pack.bytes.len());
        assert!(policy.imports().iter().all(|i| i.kind == "instance"));
        policy
            .validate_settings("")
            .expect("default settings are valid");
        policy
            .validate_settings("{}")
            .expect("empty settings are valid");
        let decision = policy
            .evaluate(&manifest(), "", now())
            .unwrap_or_else(|e| panic!("{}: {e}", pack.name));
        assert_eq!(decision.policy_id, pack.name);
        assert_eq!(decision.framework, policy.metadata().framework);
    }
}

#[test]
fn invalid_settings_are_an_eval_error() {
    let policy = engine()
        .load(PolicySource::Builtin(builtin_pack("sox").expect("sox")))
        .expect("loads");
    let failure = policy
        .validate_settings(r#"{"no_such_setting": 1}"#)
        .unwrap_err();
    assert!(failure.is_invalid_settings(), "{failure:?}");
    let failure = policy
        .evaluate(&manifest(), r#"{"no_such_setting": 1}"#, now())
        .unwrap_err();
    assert!(failure.is_invalid_settings(), "{failure:?}");
}

#[test]
fn reused_instances_decide_as_fresh_ones() {
    for pack in builtin_packs() {
        let fresh = engine().load(PolicySource::Builtin(pack)).expect("loads");
        let mut reused = engine().load(PolicySource::Builtin(pack)).expect("loads");
        reused.set_isolation(tollgate_engine::Isolation::Reused);
        assert_eq!(reused.isolation(), tollgate_engine::Isolation::Reused);
        let expected = fresh.evaluate(&manifest(), "", now()).expect("decides");
        for _ in 0..3 {
            assert_eq!(
                reused.evaluate(&manifest(), "", now()).expect("decides"),
                expected
            );
            assert!(
                reused
                    .evaluate(&manifest(), r#"{"no_such_setting": 1}"#, now())
                    .unwrap_err()
                    .is_invalid_settings()
            );
        }
    }
}

#[test]
fn packs_load_precompiled_by_the_build_and_decide_as_when_compiled_here() {
    for pack in builtin_packs() {
        assert!(
            !pack.precompiled.is_empty(),
            "{}: a native build embeds the precompiled code",
            pack.name
        );
        // Page-aligned, so the engine runs the code where the binary holds it instead of copying.
        assert_eq!(
            pack.precompiled.as_ptr() as usize % 4096,
            0,
            "{}: the precompiled code starts on a page",
            pack.name
        );
        assert_eq!(
            format!("sha256:{}", pack.sha256),
            tollgate_pipeline::sha256_digest(pack.bytes),
            "the build's digest of {}",
            pack.name
        );
        let precompiled = engine().load(PolicySource::Builtin(pack)).expect("loads");
        assert!(precompiled.loaded_precompiled(), "{}", pack.name);
        assert!(!precompiled.loaded_from_cache());
        let compiled_here = engine()
            .load(PolicySource::Bytes {
                name: pack.name.into(),
                bytes: pack.bytes.to_vec(),
            })
            .expect("compiles");
        assert!(!compiled_here.loaded_precompiled());
        assert_eq!(precompiled.metadata(), compiled_here.metadata());
        assert_eq!(precompiled.digest(), compiled_here.digest());
        assert_eq!(
            precompiled.evaluate(&manifest(), "", now()).unwrap(),
            compiled_here.evaluate(&manifest(), "", now()).unwrap()
        );
    }
}

#[test]
fn precompiled_code_that_does_not_fit_is_compiled_instead() {
    let sox = builtin_pack("sox").expect("sox");
    // Code of another wasmtime or machine is refused by wasmtime's checks just like this.
    let mut damaged = sox.precompiled.to_vec();
    damaged.truncate(damaged.len() / 2);
    let pack = Box::leak(Box::new(tollgate_engine::BuiltinPack {
        name: sox.name,
        bytes: sox.bytes,
        sha256: sox.sha256,
        precompiled: Box::leak(damaged.into_boxed_slice()),
    }));
    let policy = engine()
        .load(PolicySource::Builtin(pack))
        .expect("compiles");
    assert!(!policy.loaded_precompiled());
    let decision = policy.evaluate(&manifest(), "", now()).expect("decides");
    assert_eq!(decision.policy_id, "sox");
}
