//! The PostgreSQL decision log against a real server: the machine's (a database of each test's
//! own) or, for the tests that stop the server, a temporary one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use crate::common::mark;
use std::collections::BTreeSet;
use std::sync::Arc;

use tollgate_decision_log::{AuditError, AuditLog, LogStore, Problem};
use tollgate_decision_log_postgres::PostgresLog;
use tollgate_test_support::postgres::{Database, Server};

fn log(url: &str) -> AuditLog {
    AuditLog::from_store(Arc::new(PostgresLog::open(url).unwrap()))
}

#[test]
fn records_are_appended_in_one_chain_that_verifies_like_a_file_log() {
    let server = Server::shared_or_private();
    let database = Database::create(&server);
    let log = log(&database.url());

    let first = log.append(&mark("a")).unwrap();
    let batch = log.append_all(&[mark("b"), mark("c")]).unwrap();
    assert_eq!(first.seq, 0);
    assert_eq!(batch.iter().map(|a| a.seq).collect::<Vec<_>>(), [1, 2]);
    assert!(log.exists().unwrap());

    let verification = log.verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    assert_eq!(verification.size(), 3);

    // The same lines in a file make the same log: one hashing, one Merkle tree.
    let dir = tempfile::tempdir().unwrap();
    let file = AuditLog::new(dir.path().join("audit.log"));
    file.import_lines(&log.read_lines().unwrap()).unwrap();
    let copy = file.verify(None).unwrap();
    assert!(copy.is_intact());
    assert_eq!(copy.root, verification.root);

    // And back into another database: an import needs an empty log.
    let other = Database::create(&server);
    let imported = self::log(&other.url());
    imported.import_lines(&file.read_lines().unwrap()).unwrap();
    assert_eq!(imported.verify(None).unwrap().root, verification.root);
    let refused = imported
        .import_lines(&file.read_lines().unwrap())
        .unwrap_err();
    assert!(
        refused.to_string().contains("already holds records"),
        "{refused}"
    );
}

#[test]
fn a_new_database_read_first_is_migrated_and_reads_as_an_empty_intact_log() {
    let server = Server::shared_or_private();
    let database = Database::create(&server);
    let log = log(&database.url());
    // `audit verify` on a new database: the read migrates, the log exists and is empty.
    assert!(log.exists().unwrap(), "a migrated database is a log");
    let verification = log.verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    assert_eq!(verification.size(), 0);
    assert_eq!(
        database.sql("SELECT version FROM tollgate_schema_migrations ORDER BY version"),
        "1\n2"
    );
    assert_eq!(log.append(&mark("a")).unwrap().seq, 0);
}

#[test]
fn concurrent_writers_in_many_pools_make_one_chain_without_gaps_or_forks() {
    let server = Server::shared_or_private();
    let database = Database::create(&server);
    let url = database.url();
    // Four independent logs (as four gateway processes would hold), eight threads each.
    let logs: Vec<AuditLog> = (0..4).map(|_| log(&url)).collect();
    let threads: Vec<_> = (0..32)
        .map(|thread| {
            let log = logs[thread % logs.len()].clone();
            std::thread::spawn(move || {
                (0..10)
                    .map(|n| log.append(&mark(&format!("{thread}-{n}"))).unwrap().seq)
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let seqs: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let unique: BTreeSet<u64> = seqs.iter().copied().collect();
    assert_eq!(
        unique.len(),
        320,
        "every acknowledged append has its own number"
    );
    assert_eq!(
        unique.into_iter().collect::<Vec<_>>(),
        (0..320).collect::<Vec<_>>()
    );
    let verification = logs[0].verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    assert_eq!(verification.size(), 320);
}

#[test]
fn the_table_refuses_updates_and_deletes_and_the_writer_role_may_only_insert() {
    let server = Server::shared_or_private();
    let database = Database::create(&server);
    let log = log(&database.url());
    log.append_all(&[mark("a"), mark("b")]).unwrap();

    for statement in [
        "UPDATE tollgate_recorder SET line = line WHERE seq = 0",
        "DELETE FROM tollgate_recorder WHERE seq = 1",
        "TRUNCATE tollgate_recorder",
    ] {
        let refused = std::process::Command::new("psql")
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
            ])
            .args([
                "-p",
                &server.port().to_string(),
                "-d",
                database.name(),
                "-c",
                statement,
            ])
            .output()
            .unwrap();
        assert!(!refused.status.success(), "{statement} must be refused");
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("append-only"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
    assert_eq!(
        database.sql(
            "SELECT string_agg(privilege_type, ',' ORDER BY privilege_type) FROM information_schema.role_table_grants \
             WHERE grantee = 'tollgate_writer' AND table_name = 'tollgate_recorder'"
        ),
        "INSERT,SELECT"
    );
    assert_eq!(
        database.sql("SELECT version FROM tollgate_schema_migrations ORDER BY version"),
        "1\n2"
    );
    assert!(log.verify(None).unwrap().is_intact());
}

#[test]
fn a_row_changed_or_deleted_by_a_superuser_is_detected() {
    let server = Server::shared_or_private();
    let database = Database::create(&server);
    let log = log(&database.url());
    log.append_all(&[mark("a"), mark("b"), mark("c"), mark("d")])
        .unwrap();

    // A superuser can switch the triggers off; verification still sees what was done.
    database.sql(
        "SET session_replication_role = replica; \
         UPDATE tollgate_recorder SET line = replace(convert_from(line, 'UTF8'), 'CHG-1', 'CHG-2')::bytea WHERE seq = 1",
    );
    let verification = log.verify(None).unwrap();
    assert!(!verification.is_intact());
    assert!(
        verification
            .problems
            .iter()
            .any(|p| matches!(p, Problem::Modified { seq: Some(1), .. })),
        "{:?}",
        verification.problems
    );

    let other = Database::create(&server);
    let second = self::log(&other.url());
    second
        .append_all(&[mark("a"), mark("b"), mark("c"), mark("d")])
        .unwrap();
    other
        .sql("SET session_replication_role = replica; DELETE FROM tollgate_recorder WHERE seq = 2");
    let verification = second.verify(None).unwrap();
    assert!(
        verification.problems.iter().any(|p| matches!(
            p,
            Problem::Deleted {
                from_seq: 2,
                to_seq: 2
            }
        )),
        "{:?}",
        verification.problems
    );
}

#[test]
fn an_unreachable_database_fails_every_append_and_service_resumes_when_it_returns() {
    let server = Server::private();
    let database = Database::create(&server);
    let store = PostgresLog::open(&database.url()).unwrap();
    assert_eq!(store.migrate().unwrap(), vec![1, 2]);
    assert_eq!(
        store.migrate().unwrap(),
        Vec::<i32>::new(),
        "migrations run once"
    );
    let log = AuditLog::from_store(Arc::new(store));
    log.append(&mark("before")).unwrap();

    server.stop();
    let error = log.append(&mark("while-down")).unwrap_err();
    assert!(matches!(error, AuditError::Database { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains(&format!("127.0.0.1:{}", server.port()))
            || error.to_string().contains(database.name()),
        "the error names the database: {error}"
    );
    assert!(log.read_lines().is_err());

    server.start();
    // The pool's broken connections are replaced, and a reconnection waits for its backoff
    // (10 s at most): appends fail until then and resume by themselves.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while log.append(&mark("after")).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "appends resume once the database is back"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let verification = log.verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    let ids: Vec<String> = verification
        .records
        .iter()
        .map(|r| r.record.id().to_owned())
        .collect();
    assert!(!ids.contains(&"while-down".to_owned()), "{ids:?}");
    assert_eq!(ids.first().map(String::as_str), Some("before"));
}

#[test]
fn a_bad_url_is_refused_and_the_password_is_never_shown() {
    let error = PostgresLog::open("postgres://tollgate:s3cret@127.0.0.1:1/db?sslmode=bogus")
        .unwrap_err()
        .to_string();
    assert!(!error.contains("s3cret"), "{error}");
    assert!(error.contains("tollgate:***@127.0.0.1:1/db"), "{error}");

    let unreachable = PostgresLog::open("postgres://tollgate:s3cret@127.0.0.1:1/db").unwrap();
    assert_eq!(
        unreachable.location(),
        "postgres://tollgate:***@127.0.0.1:1/db"
    );
    let error = AuditLog::from_store(Arc::new(unreachable))
        .append(&mark("x"))
        .unwrap_err()
        .to_string();
    assert!(!error.contains("s3cret"), "{error}");
}
