//! Property tests: every single-byte modification, deletion, insertion, reorder or truncation of a
//! log is detected, and consistency proofs hold between every pair of tree sizes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use crate::common::mark;
use proptest::prelude::*;
use tollgate_decision_log::log::split_lines;
use tollgate_decision_log::merkle::{self, Hash, leaf_hash};
use tollgate_decision_log::verify::verify;
use tollgate_decision_log::{AuditLog, Checkpoint};

/// Builds a log of `n` records and returns its bytes and a checkpoint of it.
fn build(n: usize, padding: usize) -> (Vec<u8>, Checkpoint) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::new(&path);
    for i in 0..n {
        log.append(&mark(&format!("r{i}"), padding + i % 3))
            .unwrap();
    }
    let verification = log.verify(None).unwrap();
    assert!(verification.is_intact());
    let checkpoint = Checkpoint {
        origin: "test/audit".into(),
        size: verification.size(),
        root: verification.root,
    };
    (std::fs::read(&path).unwrap(), checkpoint)
}

fn lines_of(bytes: &[u8]) -> Vec<Vec<u8>> {
    split_lines(bytes).into_iter().map(|l| l.bytes).collect()
}

fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in lines {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    bytes
}

/// Whether verification of `bytes` against `checkpoint` reports a problem (a torn tail alone is
/// not one, but then the checkpoint no longer matches).
fn detected(bytes: &[u8], checkpoint: &Checkpoint) -> bool {
    let lines = split_lines(bytes);
    !verify(&lines, Some(checkpoint)).is_intact()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_single_byte_modification_is_detected(
        n in 1usize..8,
        position in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let (mut bytes, checkpoint) = build(n, 4);
        let at = position.index(bytes.len());
        prop_assume!(bytes[at] != byte);
        bytes[at] = byte;
        prop_assert!(detected(&bytes, &checkpoint));
    }

    #[test]
    fn any_single_byte_modification_is_detected_without_a_checkpoint_unless_in_the_last_line(
        n in 2usize..8,
        position in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let (mut bytes, _) = build(n, 4);
        let last = split_lines(&bytes).last().unwrap().offset as usize;
        let at = position.index(last);
        prop_assume!(bytes[at] != byte);
        bytes[at] = byte;
        let verification = verify(&split_lines(&bytes), None);
        prop_assert!(!verification.is_intact());
    }

    #[test]
    fn deleting_any_record_is_detected_and_named(n in 1usize..10, which in any::<prop::sample::Index>()) {
        let (bytes, checkpoint) = build(n, 2);
        let mut lines = lines_of(&bytes);
        let k = which.index(lines.len());
        lines.remove(k);
        let tampered = join(&lines);
        prop_assert!(detected(&tampered, &checkpoint));
        if k + 1 < n {
            let problems = verify(&split_lines(&tampered), None).problems;
            let named = problems.iter().any(|p| matches!(p,
                tollgate_decision_log::Problem::Deleted { from_seq, to_seq } if *from_seq == k as u64 && *to_seq == k as u64));
            prop_assert!(named, "{:?}", problems);
        }
    }

    #[test]
    fn inserting_a_record_anywhere_is_detected(
        n in 1usize..10,
        source in any::<prop::sample::Index>(),
        target in any::<prop::sample::Index>(),
    ) {
        let (bytes, checkpoint) = build(n, 2);
        let mut lines = lines_of(&bytes);
        let copy = lines[source.index(lines.len())].clone();
        let at = target.index(lines.len() + 1);
        lines.insert(at, copy);
        prop_assert!(detected(&join(&lines), &checkpoint));
        let problems = verify(&split_lines(&join(&lines)), None).problems;
        prop_assert!(!problems.is_empty());
    }

    #[test]
    fn reordering_any_two_records_is_detected(
        n in 2usize..10,
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        let (bytes, checkpoint) = build(n, 2);
        let mut lines = lines_of(&bytes);
        let (i, j) = (a.index(n), b.index(n));
        prop_assume!(i != j);
        lines.swap(i, j);
        prop_assert!(detected(&join(&lines), &checkpoint));
        let problems = verify(&split_lines(&join(&lines)), None).problems;
        prop_assert!(!problems.is_empty());
    }

    /// Cutting the log anywhere inside a record is detected. Cutting only the final newline
    /// loses no record: every record still verifies, hash-chained and under the checkpoint.
    #[test]
    fn truncation_at_any_byte_is_detected(n in 1usize..8, cut in any::<prop::sample::Index>()) {
        let (bytes, checkpoint) = build(n, 2);
        let at = cut.index(bytes.len());
        if at == bytes.len() - 1 {
            let verification = verify(&split_lines(&bytes[..at]), Some(&checkpoint));
            prop_assert_eq!(verification.records.len(), n);
            prop_assert!(verification.is_intact());
        } else {
            prop_assert!(detected(&bytes[..at], &checkpoint));
        }
    }

    #[test]
    fn inclusion_proofs_hold_for_every_leaf(n in 1usize..70) {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(format!("leaf {i}").as_bytes())).collect();
        let root = merkle::root(&leaves);
        for (i, leaf) in leaves.iter().enumerate() {
            let proof = merkle::inclusion_proof(&leaves, i).unwrap();
            prop_assert!(merkle::verify_inclusion(leaf, i as u64, n as u64, &proof, &root));
        }
    }
}

#[test]
fn consistency_proofs_hold_between_every_pair_of_sizes() {
    let leaves: Vec<Hash> = (0..64)
        .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
        .collect();
    let roots: Vec<Hash> = (0..=leaves.len())
        .map(|n| merkle::root(&leaves[..n]))
        .collect();
    for new in 0..=leaves.len() {
        for old in 0..=new {
            let proof = merkle::consistency_proof(&leaves[..new], old).unwrap();
            assert!(
                merkle::verify_consistency(
                    old as u64,
                    new as u64,
                    &roots[old],
                    &roots[new],
                    &proof
                ),
                "{old} -> {new}"
            );
            if old > 0 && old < new {
                // A wrong old root, a wrong new root or a damaged proof is rejected.
                let other = leaf_hash(b"other");
                assert!(!merkle::verify_consistency(
                    old as u64,
                    new as u64,
                    &other,
                    &roots[new],
                    &proof
                ));
                assert!(!merkle::verify_consistency(
                    old as u64,
                    new as u64,
                    &roots[old],
                    &other,
                    &proof
                ));
                let mut damaged = proof.clone();
                damaged[0] = other;
                assert!(!merkle::verify_consistency(
                    old as u64,
                    new as u64,
                    &roots[old],
                    &roots[new],
                    &damaged
                ));
                // A log that rewrote a record before `old` cannot prove consistency.
                let mut rewritten = leaves[..new].to_vec();
                rewritten[old - 1] = other;
                let forged = merkle::consistency_proof(&rewritten, old).unwrap();
                assert!(!merkle::verify_consistency(
                    old as u64,
                    new as u64,
                    &roots[old],
                    &merkle::root(&rewritten),
                    &forged
                ));
            }
        }
    }
}
