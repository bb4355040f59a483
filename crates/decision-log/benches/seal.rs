//! What seals cost: signing the seal of a group commit, a durable sealed append next to an
//! unsealed one, and verifying 10,000 sealed records with and without the seal check.
//!
//! `cargo bench -p tollgate-decision-log --bench seal`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "benchmark set-up"
)]

use criterion::{Criterion, criterion_group, criterion_main};
use tollgate_decision_log::{
    AuditLog, MarkRecord, MarkStatus, Origin, Record, Sealer, SigningKey, Writers, append_sealed,
};
use tollgate_manifest::Timestamp;

/// A record of about the size of a decision record (8 KB).
fn record(i: usize) -> Record {
    Record::Mark(MarkRecord {
        id: format!("record-{i}"),
        recorded_at: Timestamp::parse("2026-05-20T09:00:00Z").unwrap(),
        origin: Origin::current(None),
        decision_id: format!("decision-{i}"),
        change_id: "CHG-1".into(),
        status: MarkStatus::Deployed,
        at: None,
        note: Some("x".repeat(8 * 1024)),
        direct_production_change: false,
    })
}

fn key() -> SigningKey {
    SigningKey::from_seed("gateway-1", [1; 32]).unwrap()
}

fn seal(c: &mut Criterion) {
    let sealer = Sealer::new(key());
    let one = [record(0)];
    let batch: Vec<Record> = (0..64).map(record).collect();
    c.bench_function("seal of 1 record (8 KB)", |b| {
        b.iter(|| sealer.seal(&one).unwrap());
    });
    c.bench_function("seal of a 64-record group commit", |b| {
        b.iter(|| sealer.seal(&batch).unwrap());
    });

    let dir = tempfile::tempdir().unwrap();
    let plain = AuditLog::new(dir.path().join("plain.log"));
    let sealed = AuditLog::new(dir.path().join("sealed.log"));
    let mut i = 0;
    c.bench_function("append 8 KB record (durable, unsealed)", |b| {
        b.iter(|| {
            i += 1;
            append_sealed(&plain, None, &[record(i)]).unwrap()
        });
    });
    c.bench_function("append 8 KB record (durable, sealed)", |b| {
        b.iter(|| {
            i += 1;
            append_sealed(&sealed, Some(&sealer), &[record(i)]).unwrap()
        });
    });

    let big = AuditLog::new(dir.path().join("big.log"));
    for chunk in 0..10_000 / 50 {
        let records: Vec<Record> = (0..50).map(|j| record(chunk * 50 + j)).collect();
        append_sealed(&big, Some(&sealer), &records).unwrap();
    }
    let writers = Writers {
        keys: vec![key().verifier()],
        seals_from: None,
    };
    let mut group = c.benchmark_group("verify 10,000 records in seals of 50");
    group.sample_size(10);
    group.bench_function("without writers", |b| {
        b.iter(|| assert!(big.verify(None).unwrap().is_intact()));
    });
    group.bench_function("with the seal check", |b| {
        b.iter(|| assert!(big.verify_sealed(None, Some(&writers)).unwrap().is_intact()));
    });
    group.finish();
}

criterion_group!(benches, seal);
criterion_main!(benches);
