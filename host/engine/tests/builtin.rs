//! The built-in packs embedded in the binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

mod common;

use common::{engine, manifest, now};
use tollgate_engine::{PolicySource, builtin_pack, builtin_packs};

#[test]
fn the_three_frameworks_are_embedded() {
    let names: Vec<&str> = builtin_packs().iter().map(|p| p.name).collect();
    assert_eq!(names, ["sox", "hipaa", "pci"]);
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
