//! Tollgate's decision log on PostgreSQL (13 or newer), for any number of gateways sharing one
//! log. [`PostgresLog`] is a [`LogStore`]: each row holds one framed line exactly as the file log
//! writes it (sequence number, link to the previous record's leaf hash, checksum), so
//! `tollgate audit verify`, checkpoints, proofs and evidence reports read it unchanged.
//!
//! - Appends are serialised by the database: one transaction takes a transaction-level advisory
//!   lock, reads the last row, inserts the next ones and commits; the answer leaves only after the
//!   commit. The primary key on `seq` refuses a fork even from a writer that skipped the lock.
//! - The schema is versioned and migrated at first use ([`schema`]); the table refuses UPDATE,
//!   DELETE and TRUNCATE for every role through triggers, and the `tollgate_writer` role may only
//!   SELECT and INSERT.
//! - Connections come from a `deadpool-postgres` pool with connect and statement timeouts and TLS
//!   (rustls) with libpq's `sslmode` semantics ([`connect`]); a database that cannot be reached
//!   fails the append (the gateway answers 503, `tollgate eval` exits 6), and new connections
//!   are tried one at a time after an exponential backoff with jitter.

mod connect;
pub mod schema;

use connect::ConnectError;
pub use connect::{CaError, SetupError, UrlError};

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tollgate_decision_log::merkle::{Hash, leaf_hash};
use tollgate_decision_log::{
    Appended, AuditError, Found, LogStore, Lookup, RawLine, Record, frame, redact_url,
};

/// The advisory lock key of appends (`tgappend` in ASCII, as a number).
///
/// Why an advisory lock: SERIALIZABLE would let concurrent appenders run and then abort all but
/// one, so under a hundred concurrent requests most transactions would be retried; a row lock
/// needs a mutable "head" row that the writer role could then rewrite. A transaction-level advisory
/// lock serialises only appenders (readers and `audit verify` run alongside), needs no privilege,
/// and is released by commit, rollback or a lost connection, so a killed gateway never holds it.
const APPEND_LOCK: i64 = 0x7467_6170_7065_6e64;

/// Why a database log cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL is not a PostgreSQL connection URL.
    #[error("invalid database URL `{url}`: {error}")]
    InvalidUrl {
        /// The URL without its password.
        url: String,
        /// What is wrong.
        #[source]
        error: UrlError,
    },
    /// The root certificates (`sslrootcert`, `PGSSLROOTCERT`) cannot be used.
    #[error("cannot use the database root certificates `{path}`: {error}")]
    Ca {
        /// The file.
        path: String,
        /// What is wrong.
        #[source]
        error: CaError,
    },
    /// The pool or its runtime could not be made.
    #[error("cannot prepare the database connections: {0}")]
    Setup(#[source] SetupError),
}

/// Why a database call failed; its text is the detail of [`AuditError::Database`].
#[derive(Debug, thiserror::Error)]
enum DatabaseError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("{}", describe(.0))]
    Sql(#[from] tokio_postgres::Error),
    #[error("cannot prepare the schema: {}", describe_schema(.0))]
    Schema(#[source] schema::SchemaError),
    #[error("cannot encode the record: {0}")]
    Encode(#[source] serde_json::Error),
    #[error("{0}")]
    Number(#[from] std::num::TryFromIntError),
    #[error(transparent)]
    Log(Box<AuditError>),
}

/// A decision log in a PostgreSQL database.
pub struct PostgresLog {
    location: String,
    connections: connect::Connections,
    /// Runs the connections; every call from any thread (async or not) waits on a channel.
    runtime: Option<tokio::runtime::Runtime>,
    schema_ready: Arc<AtomicBool>,
}

impl std::fmt::Debug for PostgresLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresLog")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Drop for PostgresLog {
    fn drop(&mut self) {
        // Dropping a runtime may happen on an async thread (a reloaded gateway): never block.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl PostgresLog {
    /// A log in the database of `url`
    /// (`postgres://user[:password]@host[:port]/db[?sslmode=…&sslrootcert=…]`, with libpq's
    /// `sslmode` semantics, `PGSSLMODE` and `PGSSLROOTCERT` when the URL does not say).
    /// Nothing is connected yet: the first append or read connects and migrates the schema, and
    /// fails while the database cannot be reached (tried again after a backoff).
    pub fn open(url: &str) -> Result<Self, OpenError> {
        let location = redact_url(url);
        let connections = connect::Connections::new(url, &location, |name| std::env::var_os(name))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tollgate-decision-log-postgres")
            .enable_all()
            .build()
            .map_err(|e| OpenError::Setup(SetupError::Runtime(e)))?;
        Ok(Self {
            location,
            connections,
            runtime: Some(runtime),
            schema_ready: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Runs `work` on the log's runtime and waits for it (callable from any thread).
    fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, DatabaseError>> + Send + 'static,
    ) -> Result<T, AuditError> {
        let Some(runtime) = &self.runtime else {
            return Err(self.error("the database connections were shut down"));
        };
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = reply.send(work.await);
        });
        answer
            .recv()
            .map_err(|_| self.error("the database worker stopped"))?
            .map_err(|error| self.error(&error.to_string()))
    }

    fn error(&self, detail: &str) -> AuditError {
        AuditError::Database {
            location: self.location.clone(),
            detail: detail.to_owned(),
        }
    }

    /// A pooled connection, with the schema migrated once per process.
    fn connection(
        &self,
    ) -> impl Future<Output = Result<deadpool_postgres::Object, DatabaseError>> + Send + 'static
    {
        let connection = self.connections.get();
        let ready = Arc::clone(&self.schema_ready);
        async move {
            let mut client = connection.await?;
            if !ready.load(Ordering::Acquire) {
                schema::migrate(&mut client)
                    .await
                    .map_err(DatabaseError::Schema)?;
                ready.store(true, Ordering::Release);
            }
            Ok(client)
        }
    }

    /// Applies pending schema migrations now; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<i32>, AuditError> {
        let connection = self.connections.get();
        let ready = Arc::clone(&self.schema_ready);
        self.run(async move {
            let mut client = connection.await?;
            let applied = schema::migrate(&mut client)
                .await
                .map_err(DatabaseError::Schema)?;
            ready.store(true, Ordering::Release);
            Ok(applied)
        })
    }
}

/// A database error with the server's message, code and detail when it sent them.
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({}): {detail}", db.message(), db.code().code()),
            None => format!("{} ({})", db.message(), db.code().code()),
        },
        None => match std::error::Error::source(error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
    }
}

fn describe_schema(error: &schema::SchemaError) -> String {
    match error {
        schema::SchemaError::Database(e) => describe(e),
        other => other.to_string(),
    }
}

/// Takes the append lock for the rest of the transaction, then reads [`head`].
async fn lock_head(
    transaction: &deadpool_postgres::Transaction<'_>,
) -> Result<(i64, Hash), DatabaseError> {
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])
        .await?;
    head(transaction).await
}

/// Sequence number of the next record and the leaf hash it links to.
async fn head(
    transaction: &deadpool_postgres::Transaction<'_>,
) -> Result<(i64, Hash), DatabaseError> {
    let last = transaction
        .query_opt(
            "SELECT seq, line FROM tollgate_recorder ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .await?;
    Ok(match last {
        Some(row) => {
            let seq: i64 = row.get(0);
            let line: &[u8] = row.get(1);
            (seq + 1, leaf_hash(line))
        }
        None => (0, Hash::ZERO),
    })
}

async fn insert(
    transaction: &deadpool_postgres::Transaction<'_>,
    seqs: &[i64],
    lines: &[Vec<u8>],
) -> Result<(), DatabaseError> {
    let statement = transaction
        .prepare_cached(
            "INSERT INTO tollgate_recorder (seq, line) SELECT * FROM UNNEST($1::bigint[], $2::bytea[])",
        )
        .await
        ?;
    transaction.execute(&statement, &[&seqs, &lines]).await?;
    Ok(())
}

impl LogStore for PostgresLog {
    fn append_all(&self, records: &[Record]) -> Result<Vec<Appended>, AuditError> {
        let records = records.to_vec();
        let connection = self.connection();
        self.run(async move {
            let mut client = connection.await?;
            let transaction = client.transaction().await?;
            let (mut seq, mut prev) = lock_head(&transaction).await?;
            let mut seqs = Vec::with_capacity(records.len());
            let mut lines = Vec::with_capacity(records.len());
            let mut appended = Vec::with_capacity(records.len());
            for record in &records {
                let number = u64::try_from(seq)?;
                let line = frame::encode(number, &prev, record).map_err(DatabaseError::Encode)?;
                let leaf = leaf_hash(&line);
                appended.push(Appended {
                    seq: number,
                    leaf,
                    offset: 0,
                    recovered: None,
                });
                seqs.push(seq);
                lines.push(line);
                prev = leaf;
                seq += 1;
            }
            insert(&transaction, &seqs, &lines).await?;
            transaction.commit().await?;
            Ok(appended)
        })
    }

    fn read_lines(&self) -> Result<Vec<RawLine>, AuditError> {
        let connection = self.connection();
        self.run(async move {
            let client = connection.await?;
            let rows = client
                .query("SELECT line FROM tollgate_recorder ORDER BY seq", &[])
                .await?;
            let mut offset = 0u64;
            let mut lines = Vec::with_capacity(rows.len());
            for (index, row) in rows.iter().enumerate() {
                let bytes: Vec<u8> = row.get(0);
                let line = RawLine {
                    number: index as u64 + 1,
                    offset,
                    bytes,
                    terminated: true,
                };
                offset += line.span();
                lines.push(line);
            }
            Ok(lines)
        })
    }

    /// A database log exists once it is reachable: the first use, a read included, migrates
    /// the schema, so a new database is an empty log (as a file log is once created).
    fn exists(&self) -> Result<bool, AuditError> {
        let connection = self.connection();
        self.run(async move {
            let _client = connection.await?;
            Ok(true)
        })
    }

    fn import_lines(&self, lines: &[RawLine]) -> Result<(), AuditError> {
        let mut seqs = Vec::with_capacity(lines.len());
        for line in lines {
            let entry = frame::decode(&line.bytes)
                .map_err(|e| self.error(&format!("line {} is not a record: {e}", line.number)))?;
            seqs.push(i64::try_from(entry.seq).map_err(|_| {
                self.error(&format!("line {}: sequence number too large", line.number))
            })?);
        }
        let lines: Vec<Vec<u8>> = lines.iter().map(|l| l.bytes.clone()).collect();
        let location = self.location.clone();
        let connection = self.connection();
        self.run(async move {
            let mut client = connection.await?;
            let transaction = client.transaction().await?;
            let (next, _) = lock_head(&transaction).await?;
            if next > 0 {
                return Err(DatabaseError::Log(Box::new(AuditError::NotEmpty {
                    location,
                })));
            }
            for (seqs, lines) in seqs.chunks(1000).zip(lines.chunks(1000)) {
                insert(&transaction, seqs, lines).await?;
            }
            transaction.commit().await?;
            Ok(())
        })
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    /// One indexed query (schema version 2), the row checked as a record of the lookup; a row
    /// that is not falls back to reading every line.
    fn lookup(&self, lookup: Lookup<'_>) -> Result<Option<Found>, AuditError> {
        let (query, parameter) = match lookup {
            Lookup::Seq(seq) => (
                "SELECT seq, line FROM tollgate_recorder WHERE seq = $1::text::bigint",
                seq.to_string(),
            ),
            Lookup::Id(id) => (
                "SELECT seq, line FROM tollgate_recorder WHERE tollgate_record(line) ->> 'id' = $1 ORDER BY seq LIMIT 1",
                id.to_owned(),
            ),
            Lookup::FirstApproved(change) => (
                "SELECT seq, line FROM tollgate_recorder WHERE tollgate_record(line) ->> 'type' = 'decision' AND tollgate_record(line) -> 'change' ->> 'id' = $1 AND tollgate_record(line) ->> 'outcome' = 'approved' ORDER BY seq LIMIT 1",
                change.to_owned(),
            ),
            Lookup::LatestDecision(change) => (
                "SELECT seq, line FROM tollgate_recorder WHERE tollgate_record(line) ->> 'type' = 'decision' AND tollgate_record(line) -> 'change' ->> 'id' = $1 ORDER BY seq DESC LIMIT 1",
                change.to_owned(),
            ),
        };
        let connection = self.connection();
        let row = self.run(async move {
            let client = connection.await?;
            let row = client.query_opt(query, &[&parameter]).await?;
            Ok(row.map(|row| (row.get::<_, i64>(0), row.get::<_, Vec<u8>>(1))))
        })?;
        let Some((seq, line)) = row else {
            return Ok(None);
        };
        match frame::decode(&line) {
            Ok(entry)
                if i64::try_from(entry.seq) == Ok(seq)
                    && lookup.matches(entry.seq, &entry.record) =>
            {
                Ok(Some(Found {
                    seq: entry.seq,
                    offset: 0,
                    leaf: leaf_hash(&line),
                    record: entry.record,
                }))
            }
            _ => scan(&self.read_lines()?, lookup),
        }
    }

    /// Counted from the partial index of direct production changes (schema version 2).
    fn direct_changes(&self) -> Result<u64, AuditError> {
        let connection = self.connection();
        self.run(async move {
            let client = connection.await?;
            let row = client
                .query_one(
                    "SELECT count(*) FROM tollgate_recorder WHERE tollgate_record(line) ->> 'type' = 'mark' AND tollgate_record(line) ->> 'direct_production_change' = 'true'",
                    &[],
                )
                .await
                ?;
            Ok(u64::try_from(row.get::<_, i64>(0))?)
        })
    }
}

/// The record `lookup` names among `lines`, read in order.
fn scan(lines: &[RawLine], lookup: Lookup<'_>) -> Result<Option<Found>, AuditError> {
    let mut best = None;
    for line in lines {
        let Ok(entry) = frame::decode(&line.bytes) else {
            continue;
        };
        if lookup.matches(entry.seq, &entry.record) {
            best = Some(Found {
                seq: entry.seq,
                offset: 0,
                leaf: leaf_hash(&line.bytes),
                record: entry.record,
            });
            if lookup.first() {
                break;
            }
        }
    }
    Ok(best)
}
