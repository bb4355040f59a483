//! The versioned schema: migrations run in order, each once, in one transaction with its entry in
//! `tollgate_schema_migrations`, under an advisory lock so that gateways starting together do not
//! race. A role that may not create tables still opens a database whose schema is current.

use deadpool_postgres::GenericClient;

/// The advisory lock key of migrations (`tollgate` in ASCII, as a number).
const MIGRATION_LOCK: i64 = 0x746f_6c6c_6761_7465;

/// `(version, description, SQL)`, in order.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "decision log table, append-only for every role, writer role with SELECT and INSERT only",
        r"
CREATE TABLE tollgate_recorder (
    seq bigint PRIMARY KEY CHECK (seq >= 0),
    line bytea NOT NULL,
    written_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE tollgate_recorder IS
    'Tollgate decision log: one framed, checksummed, hash-chained record per row (seq from 0); append-only';

CREATE FUNCTION tollgate_decision_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the Tollgate decision log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER tollgate_decision_log_append_only
    BEFORE UPDATE OR DELETE ON tollgate_recorder
    FOR EACH ROW EXECUTE FUNCTION tollgate_decision_log_refuse_change();
CREATE TRIGGER tollgate_decision_log_no_truncate
    BEFORE TRUNCATE ON tollgate_recorder
    FOR EACH STATEMENT EXECUTE FUNCTION tollgate_decision_log_refuse_change();
REVOKE ALL ON tollgate_recorder FROM PUBLIC;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tollgate_writer') THEN
        CREATE ROLE tollgate_writer NOLOGIN;
    END IF;
EXCEPTION
    WHEN insufficient_privilege OR duplicate_object OR unique_violation THEN
        RAISE NOTICE 'role tollgate_writer not created here (%): an administrator creates it', SQLERRM;
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'tollgate_writer') THEN
        GRANT SELECT, INSERT ON tollgate_recorder TO tollgate_writer;
        GRANT SELECT ON tollgate_schema_migrations TO tollgate_writer;
    END IF;
END
$$;
",
    ),
    (
        2,
        "lookup indexes: record id, a change's decisions, direct production changes",
        r"
-- The record of a line as JSON (NULL for a line that is not JSON): immutable for a given line,
-- which is never updated, so expression indexes can use it.
CREATE FUNCTION tollgate_record(line bytea) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN convert_from(line, 'UTF8')::jsonb -> 'record';
EXCEPTION
    WHEN others THEN RETURN NULL;
END
$$;
CREATE INDEX tollgate_decision_log_record_id
    ON tollgate_recorder ((tollgate_record(line) ->> 'id'), seq);
CREATE INDEX tollgate_decision_log_change_decisions
    ON tollgate_recorder ((tollgate_record(line) -> 'change' ->> 'id'), seq)
    WHERE tollgate_record(line) ->> 'type' = 'decision';
CREATE INDEX tollgate_decision_log_direct_changes
    ON tollgate_recorder (seq)
    WHERE tollgate_record(line) ->> 'type' = 'mark'
      AND tollgate_record(line) ->> 'direct_production_change' = 'true';
",
    ),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = 2;

/// Why the schema cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The database refused a statement.
    #[error("{0}")]
    Database(#[from] tokio_postgres::Error),
    /// The database was migrated by a newer Tollgate.
    #[error(
        "the database schema is at version {found}, newer than this tollgate's {SCHEMA_VERSION}: upgrade tollgate"
    )]
    Newer {
        /// The version found.
        found: i32,
    },
}

async fn applied_version(
    client: &impl GenericClient,
) -> Result<Option<i32>, tokio_postgres::Error> {
    let table: Option<String> = client
        .query_one(
            "SELECT to_regclass('tollgate_schema_migrations')::text",
            &[],
        )
        .await?
        .get(0);
    if table.is_none() {
        return Ok(None);
    }
    let version: Option<i32> = client
        .query_one("SELECT max(version) FROM tollgate_schema_migrations", &[])
        .await?
        .get(0);
    Ok(Some(version.unwrap_or(0)))
}

/// Brings the schema to [`SCHEMA_VERSION`]; returns the migrations applied now.
pub async fn migrate(client: &mut deadpool_postgres::Object) -> Result<Vec<i32>, SchemaError> {
    match applied_version(&*client).await? {
        Some(found) if found > SCHEMA_VERSION => return Err(SchemaError::Newer { found }),
        Some(SCHEMA_VERSION) => return Ok(Vec::new()),
        _ => {}
    }
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS tollgate_schema_migrations (
                version integer PRIMARY KEY,
                description text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .await?;
    // Another process may have migrated while this one waited for the lock.
    let current = applied_version(&transaction).await?.unwrap_or(0);
    if current > SCHEMA_VERSION {
        return Err(SchemaError::Newer { found: current });
    }
    let mut applied = Vec::new();
    for (version, description, sql) in MIGRATIONS {
        if *version <= current {
            continue;
        }
        transaction.batch_execute(sql).await?;
        transaction
            .execute(
                "INSERT INTO tollgate_schema_migrations (version, description) VALUES ($1, $2)",
                &[version, description],
            )
            .await?;
        applied.push(*version);
    }
    transaction.commit().await?;
    Ok(applied)
}
