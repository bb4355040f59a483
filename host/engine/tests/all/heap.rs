//! The policies' heap (a bump heap, `tollgate_bindings_heap`) under load: the largest manifest the
//! hosts accept is decided within the default memory limit, and a reused instance's heap returns
//! to its base after every call, so that no number of calls exhausts a small memory limit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside test functions fail loudly too"
)]

use std::time::Duration;

use crate::common::{manifest, now};
use tollgate_engine::{Isolation, Limits, PolicyEngine, PolicySource, builtin_packs};
use tollgate_manifest::{Approval, MAX_DOCUMENT_BYTES, Manifest, TestSuite};

/// The test manifest grown with approvals and test suites until its JSON text is just under the
/// document limit every host enforces.
fn largest_manifest() -> Manifest {
    let mut manifest = manifest();
    let template = manifest.change.approvals[0].clone();
    let approval = |index: usize| Approval {
        by: format!("approver-{index:05}@bank.example"),
        ..template.clone()
    };
    let suite = |index: usize| TestSuite {
        suite: format!("suite-{index:05}"),
        passed: 1,
        failed: 0,
    };
    let base = serde_json::to_string(&manifest).unwrap().len();
    // Each pair adds its two values and their two separating commas.
    let pair = serde_json::to_string(&approval(0)).unwrap().len()
        + serde_json::to_string(&suite(0)).unwrap().len()
        + 2;
    let count = (MAX_DOCUMENT_BYTES - base - 1_000) / pair;
    manifest.change.approvals.extend((1..=count).map(approval));
    manifest.evidence.tests.extend((1..=count).map(suite));
    let text = serde_json::to_string(&manifest).unwrap();
    assert!(
        (MAX_DOCUMENT_BYTES * 9 / 10..=MAX_DOCUMENT_BYTES).contains(&text.len()),
        "{}",
        text.len()
    );
    Manifest::from_json(&text).expect("the hosts accept it")
}

#[test]
fn the_largest_accepted_manifest_is_decided_within_the_default_memory_limit() {
    let manifest = largest_manifest();
    // Default limits but the deadline: in a debug test build, lowering thousands of approvals and
    // comparing the approvers with each other take longer than the default 100 ms (the release
    // binary decides 5,600 approvals in 35-56 ms per pack); memory is what this tests.
    let limits = Limits {
        deadline: Duration::from_secs(60),
        ..Limits::default()
    };
    let engine = PolicyEngine::new(limits, None).unwrap();
    for pack in builtin_packs() {
        for isolation in [Isolation::Fresh, Isolation::Reused] {
            let mut policy = engine.load(PolicySource::Builtin(pack)).unwrap();
            policy.set_isolation(isolation);
            for call in 0..2 {
                let decision = policy
                    .evaluate(&manifest, "", now())
                    .unwrap_or_else(|e| panic!("{} ({isolation:?}, call {call}): {e}", pack.name));
                assert_eq!(decision.policy_id, pack.name);
            }
        }
    }
}

#[test]
fn a_reused_instance_returns_its_heap_after_every_call() {
    // Room for the module's data and stack and one call's heap, not for a heap that keeps growing.
    let limits = Limits {
        memory_bytes: 1 << 20,
        ..Limits::default()
    };
    let engine = PolicyEngine::new(limits, None).unwrap();
    let manifest = manifest();
    for pack in builtin_packs() {
        let mut policy = engine.load(PolicySource::Builtin(pack)).unwrap();
        policy.set_isolation(Isolation::Reused);
        for call in 0..3_000 {
            policy
                .evaluate(&manifest, "", now())
                .unwrap_or_else(|e| panic!("{}, call {call}: {e}", pack.name));
            policy.validate_settings("{}").unwrap();
        }
    }
}
