//! What the decision log costs: a durable append (write + fdatasync, under the lock), verifying a
//! log of 10,000 records, the Merkle work behind checkpoints, and start-up, marks and lookups on
//! a small log and a large one.
//!
//! `cargo bench -p tollgate-decision-log --bench log`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark set-up"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use tollgate_decision_log::merkle::{self, Hash, leaf_hash};
use tollgate_decision_log::{AuditLog, Lookup, MarkRecord, MarkStatus, Origin, Record};
use tollgate_manifest::Timestamp;

/// A record of about the size of a decision record (8 KB).
fn record(i: usize) -> Record {
    Record::Mark(MarkRecord {
        id: format!("record-{i}"),
        recorded_at: Timestamp::parse("2026-05-20T09:00:00Z").unwrap(),
        origin: Origin {
            actor: "bench".into(),
            actor_source: "TOLLGATE_ACTOR".into(),
            ci: "local".into(),
            pipeline_id: None,
            host: "bench".into(),
            pid: 1,
        },
        decision_id: format!("decision-{i}"),
        change_id: "CHG-1".into(),
        status: MarkStatus::Deployed,
        at: None,
        note: Some("x".repeat(8 * 1024)),
        direct_production_change: false,
    })
}

fn log(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let appends = AuditLog::new(dir.path().join("append.log"));
    let mut i = 0;
    c.bench_function("append 8 KB record (durable)", |b| {
        b.iter(|| {
            i += 1;
            appends.append(&record(i)).unwrap()
        });
    });

    let big = AuditLog::new(dir.path().join("big.log"));
    for i in 0..10_000 {
        big.append(&record(i)).unwrap();
    }
    let mut group = c.benchmark_group("verify");
    group.sample_size(10);
    group.bench_function("10,000 records (80 MB)", |b| {
        b.iter(|| assert!(big.verify(None).unwrap().is_intact()));
    });
    group.finish();

    let leaves: Vec<Hash> = (0..100_000u32)
        .map(|i| leaf_hash(&i.to_be_bytes()))
        .collect();
    c.bench_function("merkle root of 100,000 leaves", |b| {
        b.iter(|| merkle::root(&leaves));
    });
    c.bench_function("consistency proof 60,000 -> 100,000", |b| {
        b.iter(|| merkle::consistency_proof(&leaves, 60_000).unwrap());
    });
}

/// A log of `records` 8 KB records, one direct production change among them, its tail state and
/// index built.
fn filled(dir: &std::path::Path, name: &str, records: usize) -> AuditLog {
    let log = AuditLog::new(dir.join(name));
    let batch: Vec<Record> = (0..1000).map(record).collect();
    for _ in 0..records / 1000 {
        log.append_all(&batch).unwrap();
    }
    let mut direct = record(0);
    if let Record::Mark(mark) = &mut direct {
        mark.direct_production_change = true;
        mark.id = "direct".into();
    }
    log.append(&direct).unwrap();
    log.lookup(Lookup::Id("direct")).unwrap().unwrap();
    log
}

/// Start-up (the gateway's count of direct production changes) and a mark (find the change's
/// deployment, append) on a log of 1,000 records and on one of 100,000 (800 MB): the ratio of
/// the two is what grows with the log.
fn large_log(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let small = filled(dir.path(), "small.log", 1_000);
    let large = filled(dir.path(), "large.log", 100_000);
    let mut group = c.benchmark_group("log length");
    group.sample_size(20);
    for (name, log) in [("1,000 records", &small), ("100,000 records", &large)] {
        group.bench_function(format!("start-up: direct changes, {name}"), |b| {
            b.iter(|| assert_eq!(log.direct_changes().unwrap(), 1));
        });
        group.bench_function(format!("mark: lookup + durable append, {name}"), |b| {
            b.iter(|| {
                let found = log.lookup(Lookup::Id("record-7")).unwrap().unwrap();
                log.append(&record(found.seq as usize)).unwrap()
            });
        });
        group.bench_function(format!("lookup by id, {name}"), |b| {
            b.iter(|| log.lookup(Lookup::Id("record-500")).unwrap().unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, log, large_log);
criterion_main!(benches);
