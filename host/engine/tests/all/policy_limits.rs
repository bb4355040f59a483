//! A policy's own deadline and memory limit ([`PolicyLimits`]), set on the engine by policy id or
//! on a loaded policy, override the engine's; out-of-bounds limits are refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::common::{fixture, fixtures, manifest, now, shared_cache_dir};
use tollgate_engine::{
    HostError, Limits, PolicyEngine, PolicyFailure, PolicyLimits, PolicySource, Resource,
};

fn engine_with(id: &str, limits: PolicyLimits) -> PolicyEngine {
    let mut engine =
        PolicyEngine::new(Limits::default(), Some(shared_cache_dir())).expect("engine");
    engine
        .set_policy_limits(BTreeMap::from([(id.to_owned(), limits)]))
        .expect("limits within bounds");
    engine
}

#[test]
fn a_configured_deadline_stops_a_spinning_policy_on_time() {
    let engine = engine_with(
        "spin",
        PolicyLimits {
            deadline: Some(Duration::from_millis(20)),
            ..PolicyLimits::default()
        },
    );
    let policy = engine
        .load(PolicySource::File(fixtures::SPIN.into()))
        .expect("loads");
    assert_eq!(policy.deadline(), Duration::from_millis(20));
    let started = Instant::now();
    let failure = policy.evaluate(&manifest(), "", now()).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        failure,
        PolicyFailure::Timeout {
            deadline: Duration::from_millis(20)
        }
    );
    eprintln!("spin stopped after {elapsed:?} at a 20 ms deadline");
    assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(90), "{elapsed:?}");
}

#[test]
fn limits_of_another_policy_leave_a_policy_at_the_engines() {
    let engine = engine_with(
        "acme-governance",
        PolicyLimits {
            deadline: Some(Duration::from_millis(400)),
            memory_bytes: Some(256 << 20),
        },
    );
    let policy = engine
        .load(PolicySource::File(fixtures::SPIN.into()))
        .expect("loads");
    assert_eq!(policy.deadline(), Duration::from_millis(100));
    assert_eq!(policy.memory_limit(), 64 << 20);
}

#[test]
fn a_configured_lower_memory_limit_stops_a_memory_bomb_there() {
    let mut engine = PolicyEngine::new(
        Limits {
            // Filling memory on a loaded machine must not turn into a timeout.
            deadline: Duration::from_secs(30),
            ..Limits::default()
        },
        Some(shared_cache_dir()),
    )
    .expect("engine");
    engine
        .set_policy_limits(BTreeMap::from([(
            "memory-bomb".to_owned(),
            PolicyLimits {
                memory_bytes: Some(16 << 20),
                ..PolicyLimits::default()
            },
        )]))
        .expect("limits within bounds");
    let policy = engine
        .load(PolicySource::File(fixtures::MEMORY_BOMB.into()))
        .expect("loads");
    let failure = policy.evaluate(&manifest(), "", now()).unwrap_err();
    let PolicyFailure::ResourceLimit { resource, detail } = &failure else {
        panic!("expected a memory limit, got {failure:?}");
    };
    assert_eq!(*resource, Resource::Memory);
    assert!(detail.contains("16777216-byte limit"), "{detail}");
}

#[test]
fn a_higher_memory_limit_than_the_engines_fits_the_pool() {
    let mut policy = fixture(fixtures::MEMORY_BOMB);
    policy
        .set_limits(PolicyLimits {
            deadline: Some(Duration::from_secs(10)),
            memory_bytes: Some(256 << 20),
        })
        .expect("within bounds");
    assert_eq!(policy.memory_limit(), 256 << 20);
    let failure = policy.evaluate(&manifest(), "", now()).unwrap_err();
    let PolicyFailure::ResourceLimit { resource, detail } = &failure else {
        panic!("expected a memory limit, got {failure:?}");
    };
    assert_eq!(*resource, Resource::Memory);
    assert!(detail.contains("268435456-byte limit"), "{detail}");
}

#[test]
fn out_of_bounds_limits_are_refused_naming_the_policy() {
    let mut engine = PolicyEngine::new(Limits::default(), None).expect("engine");
    let error = engine
        .set_policy_limits(BTreeMap::from([(
            "slow".to_owned(),
            PolicyLimits {
                deadline: Some(Duration::from_secs(60)),
                ..PolicyLimits::default()
            },
        )]))
        .unwrap_err();
    assert!(matches!(error, HostError::Limits { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the limits of policy `slow` are out of bounds: a deadline of 60000 ms is outside 1 to 10000 ms"
    );
    let mut policy = fixture(fixtures::SPIN);
    let error = policy
        .set_limits(PolicyLimits {
            memory_bytes: Some(2 << 30),
            ..PolicyLimits::default()
        })
        .unwrap_err();
    assert!(
        error.to_string().contains("outside 1 MiB to 1024 MiB"),
        "{error}"
    );
    assert_eq!(policy.deadline(), Duration::from_millis(100), "unchanged");
}
