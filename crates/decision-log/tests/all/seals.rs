//! Seals on a file log: a record written without a writer key (a well-formed, correctly framed and
//! chained line) is reported unsealed, even against a signed checkpoint; bad seals are reported;
//! logs without seals still verify when no writers are configured.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::Path;

use crate::common::mark;
use tollgate_decision_log::verify::Problem;
use tollgate_decision_log::{
    AuditLog, Checkpoint, Record, Sealer, SigningKey, Verification, Writers, append_sealed, frame,
};

fn writer_key() -> SigningKey {
    SigningKey::from_seed("gateway-1", [11; 32]).unwrap()
}

fn sealer() -> Sealer {
    Sealer::new(writer_key())
}

fn writers(seals_from: Option<u64>) -> Writers {
    Writers {
        keys: vec![writer_key().verifier()],
        seals_from,
    }
}

/// A log of two sealed appends (three records, two seals).
fn sealed_log(dir: &Path) -> AuditLog {
    let log = AuditLog::new(dir.join("audit.log"));
    append_sealed(&log, Some(&sealer()), &[mark("a", 1), mark("b", 1)]).unwrap();
    append_sealed(&log, Some(&sealer()), &[mark("c", 1)]).unwrap();
    log
}

/// Rewrites every line of a file log from its records after `change`, with correct sequence
/// numbers, chain links and checksums: what an account with write access to the file can do.
fn rewrite(log: &AuditLog, change: impl Fn(&mut Vec<Record>)) {
    let mut records: Vec<Record> = log
        .read_lines()
        .unwrap()
        .iter()
        .map(|line| frame::decode(&line.bytes).unwrap().record)
        .collect();
    change(&mut records);
    let mut text = Vec::new();
    let mut prev = tollgate_decision_log::Hash::ZERO;
    for (seq, record) in records.iter().enumerate() {
        let line = frame::encode(seq as u64, &prev, record).unwrap();
        prev = tollgate_decision_log::merkle::leaf_hash(&line);
        text.extend_from_slice(&line);
        text.push(b'\n');
    }
    std::fs::write(log.location(), text).unwrap();
}

fn checked(
    log: &AuditLog,
    checkpoint: Option<&Checkpoint>,
    seals_from: Option<u64>,
) -> Verification {
    log.verify_sealed(checkpoint, Some(&writers(seals_from)))
        .unwrap()
}

/// The seal problems (a rewrite of the file may also trip other checks, such as the tail state).
fn seal_problems(verification: &Verification) -> Vec<Problem> {
    verification
        .problems
        .iter()
        .filter(|p| {
            matches!(
                p,
                Problem::Unsealed { .. }
                    | Problem::BadSeal { .. }
                    | Problem::UnsealedBeforeSeals { .. }
            )
        })
        .cloned()
        .collect()
}

#[test]
fn sealed_appends_verify_with_their_writer() {
    let dir = tempfile::tempdir().unwrap();
    let log = sealed_log(dir.path());
    let verification = checked(&log, None, None);
    assert!(verification.is_intact(), "{:?}", verification.problems);
    assert_eq!(verification.size(), 5);
    let seals = verification.seals.unwrap();
    assert_eq!((seals.seals, seals.sealed), (2, 3));
    let kinds: Vec<&str> = verification
        .records
        .iter()
        .map(|r| r.record.kind())
        .collect();
    assert_eq!(kinds, ["mark", "mark", "seal", "mark", "seal"]);
}

#[test]
fn a_forged_record_is_unsealed_even_against_a_signed_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let log = sealed_log(dir.path());
    // Someone who can write the log but holds no writer key appends a well-formed record: the
    // log's own append frames and chains it correctly.
    log.append(&mark("CHG-FORGED-approved", 1)).unwrap();
    append_sealed(&log, Some(&sealer()), &[mark("d", 1)]).unwrap();
    let plain = log.verify(None).unwrap();
    assert!(
        plain.is_intact(),
        "without writers the forgery passes: {:?}",
        plain.problems
    );

    let key = SigningKey::from_seed("checkpoints", [5; 32]).unwrap();
    let note = key.sign(&Checkpoint {
        origin: "example.com/audit".into(),
        size: plain.size(),
        root: plain.root,
    });
    let checkpoint = key.verifier().verify(&note).unwrap();
    let verification = checked(&log, Some(&checkpoint), None);
    assert!(verification.checkpoint.as_ref().unwrap().consistent);
    assert_eq!(
        verification.problems,
        [Problem::Unsealed {
            line: 6,
            seq: 5,
            id: "CHG-FORGED-approved".into()
        }]
    );
    assert!(verification.problems[0].to_string().contains("forged"));
}

#[test]
fn a_forged_record_with_a_seal_of_another_key_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = sealed_log(dir.path());
    let stranger = Sealer::new(SigningKey::from_seed("gateway-1", [12; 32]).unwrap());
    append_sealed(&log, Some(&stranger), &[mark("forged", 1)]).unwrap();
    let verification = checked(&log, None, None);
    let problems = &verification.problems;
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        matches!(&problems[0], Problem::Unsealed { seq: 5, id, .. } if id == "forged"),
        "{problems:?}"
    );
    assert!(
        matches!(&problems[1], Problem::BadSeal { seq: 6, detail, .. } if detail.contains("not a configured writer")),
        "{problems:?}"
    );
}

#[test]
fn a_record_changed_after_its_seal_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = sealed_log(dir.path());
    rewrite(&log, |records| {
        let Record::Mark(m) = &mut records[1] else {
            panic!("not a mark")
        };
        m.change_id = "CHG-FORGED".into();
    });
    let verification = checked(&log, None, None);
    assert_eq!(
        seal_problems(&verification).len(),
        1,
        "{:?}",
        seal_problems(&verification)
    );
    assert!(
        matches!(&seal_problems(&verification)[0], Problem::BadSeal { seq: 2, detail, .. }
            if detail.contains("record `b` at line 2 (seq 1)") && detail.contains("changed after it was sealed")),
        "{:?}",
        seal_problems(&verification)
    );
}

#[test]
fn a_tampered_seal_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let log = sealed_log(dir.path());
    rewrite(&log, |records| {
        let Record::Seal(seal) = &mut records[4] else {
            panic!("not a seal")
        };
        seal.covers[0].id = "other".into();
    });
    let verification = checked(&log, None, None);
    let problems = &seal_problems(&verification);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        matches!(&problems[0], Problem::Unsealed { seq: 3, .. }),
        "{problems:?}"
    );
    assert!(
        matches!(&problems[1], Problem::BadSeal { seq: 4, detail, .. } if detail.contains("does not verify")),
        "{problems:?}"
    );
}

#[test]
fn a_replayed_record_and_seal_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = sealed_log(dir.path());
    rewrite(&log, |records| {
        let copied = records[3..5].to_vec();
        records.extend(copied);
    });
    let verification = checked(&log, None, None);
    let problems = &seal_problems(&verification);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        matches!(&problems[0], Problem::Unsealed { seq: 5, id, .. } if id == "c"),
        "{problems:?}"
    );
    assert!(
        matches!(&problems[1], Problem::BadSeal { seq: 6, detail, .. } if detail.contains("replayed")),
        "{problems:?}"
    );
}

#[test]
fn logs_from_before_seals_verify_without_writers_and_are_adopted_with_seals_from() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir.path().join("audit.log"));
    log.append_all(&[mark("old-1", 1), mark("old-2", 1)])
        .unwrap();
    assert!(log.verify(None).unwrap().is_intact());

    // Writers configured on a log that holds no seal yet: one problem for all of it.
    let verification = checked(&log, None, None);
    assert_eq!(
        verification.problems,
        [Problem::UnsealedBeforeSeals {
            records: 2,
            from_seq: 0,
            to_seq: 1,
            first_seal_seq: None
        }]
    );

    append_sealed(&log, Some(&sealer()), &[mark("new", 1)]).unwrap();
    let verification = checked(&log, None, None);
    assert_eq!(
        verification.problems,
        [Problem::UnsealedBeforeSeals {
            records: 2,
            from_seq: 0,
            to_seq: 1,
            first_seal_seq: Some(3)
        }]
    );
    assert!(verification.problems[0].to_string().contains("seals_from"));

    // Adopted: records before seq 2 predate seals.
    let verification = checked(&log, None, Some(2));
    assert!(verification.is_intact(), "{:?}", verification.problems);
    assert_eq!(verification.seals.unwrap().before_seals, 2);
    // A forged record after the adoption point is still reported, even before the first seal.
    let verification = checked(&log, None, Some(1));
    assert!(
        matches!(
            &verification.problems[..],
            [Problem::Unsealed { seq: 1, .. }]
        ),
        "{:?}",
        verification.problems
    );
}
