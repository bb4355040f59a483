//! Appending, reading and verifying a log file; torn tails; failing closed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::io::Write;

use crate::common::mark;
use tollgate_decision_log::verify::Problem;
use tollgate_decision_log::{AuditError, AuditLog, Checkpoint, Record, SigningKey};

#[test]
fn appends_are_chained_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir.path().join("audit.log"));
    for i in 0..5 {
        let appended = log.append(&mark(&format!("r{i}"), 10)).unwrap();
        assert_eq!(appended.seq, i);
        assert!(appended.recovered.is_none());
    }
    let verification = log.verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    assert_eq!(verification.size(), 5);
    assert!(verification.torn_tail.is_none());
    let ids: Vec<&str> = verification.records.iter().map(|r| r.record.id()).collect();
    assert_eq!(ids, ["r0", "r1", "r2", "r3", "r4"]);
    let text = std::fs::read_to_string(log.location()).unwrap();
    assert_eq!(text.lines().count(), 5);
    for line in text.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["v"], 1);
    }
}

#[test]
fn a_torn_tail_is_reported_never_read_as_a_record_and_set_aside_by_the_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::new(&path);
    log.append(&mark("r0", 10)).unwrap();
    log.append(&mark("r1", 10)).unwrap();
    let whole = std::fs::read(&path).unwrap();
    // A crash in the middle of writing a third record: every prefix of it is torn.
    let third = {
        let other = tempfile::tempdir().unwrap();
        let scratch = AuditLog::new(other.path().join("audit.log"));
        scratch.append(&mark("r0", 10)).unwrap();
        scratch.append(&mark("r1", 10)).unwrap();
        scratch.append(&mark("r2", 10)).unwrap();
        let bytes = std::fs::read(scratch.location()).unwrap();
        bytes[whole.len()..].to_vec()
    };
    for cut in [1, third.len() / 2, third.len() - 2] {
        std::fs::write(&path, [&whole[..], &third[..cut]].concat()).unwrap();
        let verification = log.verify(None).unwrap();
        assert!(
            verification.is_intact(),
            "cut {cut}: {:?}",
            verification.problems
        );
        assert_eq!(verification.size(), 2, "cut {cut}");
        let torn = verification.torn_tail.expect("torn tail reported");
        assert_eq!(torn.offset, whole.len() as u64);
    }
    // A whole line without its newline is a record.
    std::fs::write(&path, [&whole[..], &third[..third.len() - 1]].concat()).unwrap();
    assert_eq!(log.verify(None).unwrap().size(), 3);

    // The next append closes the torn bytes, names them in a recovery record, and goes on.
    std::fs::write(&path, [&whole[..], &third[..40]].concat()).unwrap();
    let appended = log.append(&mark("r3", 10)).unwrap();
    let recovery = appended.recovered.expect("recovered");
    assert_eq!(recovery.offset, whole.len() as u64);
    assert_eq!(recovery.length, 41);
    assert_eq!(appended.seq, 3);
    let verification = log.verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    assert!(verification.torn_tail.is_none());
    assert_eq!(verification.recovered.len(), 1);
    let kinds: Vec<&str> = verification
        .records
        .iter()
        .map(|r| r.record.kind())
        .collect();
    assert_eq!(kinds, ["mark", "mark", "recovery", "mark"]);
}

#[test]
fn an_unterminated_whole_record_is_completed_by_the_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::new(&path);
    log.append(&mark("r0", 10)).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    let appended = log.append(&mark("r1", 10)).unwrap();
    assert_eq!(appended.seq, 1);
    assert!(appended.recovered.is_none());
    let verification = log.verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    assert_eq!(verification.size(), 2);
}

#[test]
fn damage_before_the_tail_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::new(&path);
    for i in 0..4 {
        log.append(&mark(&format!("r{i}"), 10)).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // A changed byte in record 1.
    let changed = text.replacen("\"r1\"", "\"R1\"", 1);
    std::fs::write(&path, &changed).unwrap();
    let problems = log.verify(None).unwrap().problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(matches!(
        problems[0],
        Problem::Modified {
            line: 2,
            seq: Some(1),
            ..
        }
    ));
    assert!(
        problems[0]
            .to_string()
            .contains("line 2 (seq 1) was modified")
    );

    // Record 2 deleted.
    let deleted = [lines[0], lines[1], lines[3]].join("\n") + "\n";
    std::fs::write(&path, deleted).unwrap();
    let problems = log.verify(None).unwrap().problems;
    assert_eq!(
        problems,
        [Problem::Deleted {
            from_seq: 2,
            to_seq: 2
        }]
    );

    // Records 1 and 2 swapped.
    let swapped = [lines[0], lines[2], lines[1], lines[3]].join("\n") + "\n";
    std::fs::write(&path, swapped).unwrap();
    let problems = log.verify(None).unwrap().problems;
    assert_eq!(problems, [Problem::Reordered { line: 2, seq: 2 }]);

    // Record 1 copied after record 2.
    let inserted = [lines[0], lines[1], lines[2], lines[1], lines[3]].join("\n") + "\n";
    std::fs::write(&path, inserted).unwrap();
    let problems = log.verify(None).unwrap().problems;
    assert_eq!(problems, [Problem::Inserted { line: 4, seq: 1 }]);

    // The last record removed: the tail state tells, and so does a checkpoint.
    std::fs::write(&path, &text).unwrap();
    let key = SigningKey::from_seed("test", [1; 32]).unwrap();
    let full = log.verify(None).unwrap();
    let note = key.sign(&Checkpoint {
        origin: "test/audit".into(),
        size: full.size(),
        root: full.root,
    });
    let checkpoint = key.verifier().verify(&note).unwrap();
    let truncated = lines[..3].join("\n") + "\n";
    std::fs::write(&path, truncated).unwrap();
    let lost = Problem::TruncatedAcknowledged {
        acknowledged: 4,
        last_seq: 3,
        log_size: 3,
    };
    assert_eq!(
        log.verify(None).unwrap().problems,
        std::slice::from_ref(&lost)
    );
    let problems = log.verify(Some(&checkpoint)).unwrap().problems;
    assert_eq!(
        problems,
        [
            Problem::Truncated {
                checkpoint_size: 4,
                log_size: 3
            },
            lost
        ]
    );
    // Without the tail state (truncated too), only a checkpoint can tell.
    std::fs::remove_file(tollgate_decision_log::tail::path_for(&path)).unwrap();
    assert!(log.verify(None).unwrap().is_intact());
}

#[test]
fn a_large_log_decoded_on_several_threads_keeps_its_order_and_names_every_damaged_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::new(&path);
    let records: Vec<Record> = (0..1500).map(|i| mark(&format!("r{i}"), 10)).collect();
    log.append_all(&records).unwrap();
    let intact = log.verify(None).unwrap();
    assert!(intact.is_intact(), "{:?}", intact.problems);
    let ids: Vec<String> = intact
        .records
        .iter()
        .map(|r| r.record.id().to_owned())
        .collect();
    let expected: Vec<String> = (0..1500).map(|i| format!("r{i}")).collect();
    assert_eq!(ids, expected);
    assert!(
        intact
            .records
            .iter()
            .enumerate()
            .all(|(i, r)| r.seq == i as u64)
    );

    // One changed byte near the start, the middle and the end: three problems, in line order.
    let text = std::fs::read_to_string(&path).unwrap();
    let damaged = ["\"r3\"", "\"r777\"", "\"r1498\""]
        .iter()
        .fold(text, |text, id| text.replacen(id, &id.to_uppercase(), 1));
    std::fs::write(&path, damaged).unwrap();
    let lines: Vec<u64> = log
        .verify(None)
        .unwrap()
        .problems
        .iter()
        .map(|p| match p {
            Problem::Modified { line, .. } => *line,
            other => panic!("unexpected problem {other:?}"),
        })
        .collect();
    assert_eq!(lines, [4, 778, 1499]);
}

#[test]
fn a_later_log_is_provably_consistent_with_an_earlier_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir.path().join("audit.log"));
    for i in 0..3 {
        log.append(&mark(&format!("r{i}"), 1)).unwrap();
    }
    let then = log.verify(None).unwrap();
    let checkpoint = Checkpoint {
        origin: "o".into(),
        size: then.size(),
        root: then.root,
    };
    for i in 3..10 {
        log.append(&mark(&format!("r{i}"), 1)).unwrap();
    }
    let now = log.verify(Some(&checkpoint)).unwrap();
    assert!(now.is_intact());
    let check = now.checkpoint.unwrap();
    assert!(check.consistent);
    assert!(!check.consistency_proof.is_empty());
}

#[test]
fn a_missing_directory_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir.path().join("missing").join("audit.log"));
    let error = log.append(&mark("r0", 1)).unwrap_err();
    assert!(
        matches!(error, AuditError::MissingDirectory { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("does not exist"));
}

#[test]
fn a_full_disk_fails_closed() {
    // Writes to /dev/full fail with ENOSPC, as on a full disk.
    let log = AuditLog::new("/dev/full");
    let error = log.append(&mark("r0", 1)).unwrap_err();
    assert!(matches!(error, AuditError::Write { .. }), "{error}");
    assert!(error.to_string().contains("No space left"), "{error}");
}

#[test]
fn a_path_that_cannot_be_opened_fails_closed() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir.path());
    let error = log.append(&mark("r0", 1)).unwrap_err();
    assert!(matches!(error, AuditError::Open { .. }), "{error}");
}

#[test]
fn damage_before_the_tail_stops_appends() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::new(&path);
    log.append(&mark("r0", 10)).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    let too_much = usize::try_from(tollgate_decision_log::log::MAX_TORN_BYTES).unwrap() + 1;
    file.write_all(&vec![b'x'; too_much]).unwrap();
    drop(file);
    let error = log.append(&mark("r1", 1)).unwrap_err();
    assert!(matches!(error, AuditError::Corrupt { .. }), "{error}");
}

#[test]
fn records_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir.path().join("audit.log"));
    let record = mark("r0", 3);
    log.append(&record).unwrap();
    let verification = log.verify(None).unwrap();
    assert_eq!(verification.records[0].record, record);
    assert!(matches!(verification.records[0].record, Record::Mark(_)));
}

#[test]
fn an_intact_record_of_another_format_still_counts_but_is_reported_unreadable() {
    use tollgate_decision_log::merkle::{Hash, leaf_hash};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::new(&path);
    log.append(&mark("r0", 1)).unwrap();
    let first = std::fs::read_to_string(&path).unwrap();
    let prev = leaf_hash(first.trim_end().as_bytes());
    let prefix = format!(
        "{{\"v\":1,\"seq\":1,\"prev\":\"{prev}\",\"record\":{{\"type\":\"future\",\"id\":\"f1\"}}"
    );
    let line = format!(
        "{prefix},\"sum\":\"{}\"}}\n",
        Hash::digest(prefix.as_bytes())
    );
    std::fs::write(&path, first + &line).unwrap();
    let appended = log.append(&mark("r2", 1)).unwrap();
    assert_eq!(appended.seq, 2);
    let verification = log.verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    assert_eq!(verification.size(), 3);
    let future = &verification.records[1].record;
    assert_eq!(future.kind(), "unreadable");
    assert_eq!(future.id(), "f1");
    assert_eq!(future.to_json()["type"], "future");
}

#[test]
fn a_damaged_last_record_set_aside_by_the_next_append_is_still_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::new(&path);
    log.append(&mark("r0", 10)).unwrap();
    log.append(&mark("r1", 10)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"r1\"", "\"R1\"", 1)).unwrap();
    // The append goes on (no denial of service) but names the damaged line...
    let appended = log.append(&mark("r2", 10)).unwrap();
    assert!(appended.recovered.is_some());
    // ...and verification reports it.
    let problems = log.verify(None).unwrap().problems;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(matches!(
        problems[0],
        Problem::Modified {
            line: 2,
            seq: Some(1),
            ..
        }
    ));
    assert!(
        problems[0]
            .to_string()
            .contains("not an interrupted append")
    );
}

#[test]
fn a_group_of_records_is_appended_in_order_with_one_write_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir.path().join("audit.log"));
    log.append(&crate::common::mark("first", 0)).unwrap();
    let group: Vec<_> = (0..5)
        .map(|i| crate::common::mark(&format!("g{i}"), i * 10))
        .collect();
    let appended = log.append_all(&group).unwrap();
    let seqs: Vec<u64> = appended.iter().map(|a| a.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    log.append(&crate::common::mark("last", 0)).unwrap();
    let verification = log.verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    let ids: Vec<&str> = verification.records.iter().map(|r| r.record.id()).collect();
    assert_eq!(ids, ["first", "g0", "g1", "g2", "g3", "g4", "last"]);
}
