//! The stable property campaign on the fuzz harnesses: every seed, every kept crash
//! (`fuzz/regressions/TARGET/`), and random mutations of the seeds (byte flips, insertions,
//! deletions, truncations, splices of two seeds). A few seconds in all; `just fuzz` runs the same
//! harnesses under libFuzzer for as long as asked.

#![allow(clippy::unwrap_used, reason = "tests")]

use proptest::prelude::*;

use crate::{TARGETS, regressions, run, seeds};

/// How a seed is changed.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Truncate(usize),
    Splice(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(s, a, b)| Mutation::Splice(s, a, b)),
    ]
}

fn mutate(seeds: &[Vec<u8>], pick: usize, mutations: &[Mutation]) -> Vec<u8> {
    let mut data = seeds[pick % seeds.len()].clone();
    for m in mutations {
        let len = data.len().max(1);
        match *m {
            Mutation::Flip(i, b) => {
                if !data.is_empty() {
                    let i = i % data.len();
                    data[i] ^= b | 1;
                }
            }
            Mutation::Insert(i, b) => data.insert(i % (data.len() + 1), b),
            Mutation::Delete(i, n) => {
                let start = i % len;
                let end = (start + n).min(data.len());
                if start < end {
                    data.drain(start..end);
                }
            }
            Mutation::Truncate(i) => data.truncate(i % len),
            Mutation::Splice(s, a, b) => {
                let other = &seeds[s % seeds.len()];
                let a = a % len;
                let b = b % (other.len() + 1);
                data.truncate(a);
                data.extend_from_slice(&other[b..]);
            }
        }
    }
    data
}

fn campaign(target: &str, cases: u32) {
    let seeds = seeds(target);
    assert!(!seeds.is_empty(), "target `{target}` has seeds");
    for seed in &seeds {
        assert!(run(target, seed));
    }
    for (name, bytes) in regressions(target) {
        eprintln!("{target}: regression {name}");
        assert!(run(target, &bytes));
    }
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (any::<usize>(), proptest::collection::vec(mutation(), 1..8));
    runner
        .run(&strategy, |(pick, mutations)| {
            let data = mutate(&seeds, pick, &mutations);
            run(target, &data);
            Ok(())
        })
        .unwrap();
}

macro_rules! campaigns {
    ($($name:ident: $cases:expr,)*) => {$(
        #[test]
        fn $name() {
            campaign(stringify!($name), $cases);
        }
    )*};
}

campaigns! {
    manifest: 512,
    waivers: 512,
    settings: 128,
    ticket: 512,
    junit: 512,
    sarif: 512,
    audit_log: 512,
    gateway: 128,
    policy: 256,
}

#[test]
fn every_target_has_a_campaign_and_a_fuzz_target() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/fuzz_targets");
    for target in TARGETS {
        assert!(
            std::path::Path::new(dir)
                .join(format!("{target}.rs"))
                .exists(),
            "fuzz/fuzz_targets/{target}.rs"
        );
    }
    assert!(!run("no-such-target", b""));
}
