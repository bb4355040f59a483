//! Where records are kept: [`LogStore`] is what a backend does (a file, [`FileLog`], here; a
//! PostgreSQL database in `tollgate-decision-log-postgres`), and [`AuditLog`] is the handle every reader
//! and writer uses, whatever the backend. Every backend stores the same framed lines
//! ([`crate::frame`]), so hashing, the Merkle tree, checkpoints and verification are one code path.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::Checkpoint;
use crate::error::AuditError;
use crate::index::{Found, Lookup};
use crate::log::{Appended, FileLog, RawLine};
use crate::record::Record;
use crate::tail::TailState;
use crate::verify::Verification;

/// A backend of the decision log.
pub trait LogStore: Send + Sync + fmt::Debug {
    /// Appends records in order, each linked to the one before, and returns once all are
    /// durable; on error none is reported durable.
    fn append_all(&self, records: &[Record]) -> Result<Vec<Appended>, AuditError>;

    /// Every line of the log in order, as written (a reader never sees half an append).
    fn read_lines(&self) -> Result<Vec<RawLine>, AuditError>;

    /// Whether the log exists yet (a file log before its first record does not).
    fn exists(&self) -> Result<bool, AuditError>;

    /// Writes lines read from another log, byte for byte, into this log, which must be empty.
    fn import_lines(&self, lines: &[RawLine]) -> Result<(), AuditError>;

    /// Where the log is, for messages: a path, or a URL without its password.
    fn location(&self) -> String;

    /// What the last acknowledged append left at the end of the log, if the backend keeps it
    /// (a file log's tail state; a database refuses truncation itself).
    fn acknowledged(&self) -> Result<Option<TailState>, AuditError> {
        Ok(None)
    }

    /// The record `lookup` names, checked against the log. By default the log is read line by
    /// line; backends answer from an index.
    fn lookup(&self, lookup: Lookup<'_>) -> Result<Option<Found>, AuditError> {
        let mut best = None;
        for line in self.read_lines()? {
            let Ok(entry) = crate::frame::decode(&line.bytes) else {
                continue;
            };
            if lookup.matches(entry.seq, &entry.record) {
                best = Some(Found {
                    seq: entry.seq,
                    offset: line.offset,
                    leaf: crate::merkle::leaf_hash(&line.bytes),
                    record: entry.record,
                });
                if lookup.first() {
                    break;
                }
            }
        }
        Ok(best)
    }

    /// How many marks record a direct production change. By default the log is read.
    fn direct_changes(&self) -> Result<u64, AuditError> {
        let mut count = 0;
        for line in self.read_lines()? {
            if crate::frame::decode(&line.bytes).is_ok_and(
                |entry| matches!(&entry.record, Record::Mark(m) if m.direct_production_change),
            ) {
                count += 1;
            }
        }
        Ok(count)
    }
}

impl LogStore for FileLog {
    fn append_all(&self, records: &[Record]) -> Result<Vec<Appended>, AuditError> {
        FileLog::append_all(self, records)
    }

    fn read_lines(&self) -> Result<Vec<RawLine>, AuditError> {
        FileLog::read_lines(self)
    }

    fn exists(&self) -> Result<bool, AuditError> {
        Ok(self.path().exists())
    }

    fn import_lines(&self, lines: &[RawLine]) -> Result<(), AuditError> {
        FileLog::import_lines(self, lines)
    }

    fn location(&self) -> String {
        self.path().display().to_string()
    }

    fn acknowledged(&self) -> Result<Option<TailState>, AuditError> {
        FileLog::acknowledged(self)
    }

    fn lookup(&self, lookup: Lookup<'_>) -> Result<Option<Found>, AuditError> {
        FileLog::lookup(self, lookup)
    }

    fn direct_changes(&self) -> Result<u64, AuditError> {
        Ok(self.tail_state()?.map_or(0, |state| state.direct_changes))
    }
}

/// A decision log, on whichever backend.
#[derive(Debug, Clone)]
pub struct AuditLog(Arc<dyn LogStore>);

impl AuditLog {
    /// The file log at `path`. Nothing is opened until the first append or read.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self(Arc::new(FileLog::new(path)))
    }

    /// A log on another backend.
    pub fn from_store(store: Arc<dyn LogStore>) -> Self {
        Self(store)
    }

    /// Appends a record and returns once it is durable. See [`FileLog::append`] for a file.
    pub fn append(&self, record: &Record) -> Result<Appended, AuditError> {
        let mut appended = self.0.append_all(std::slice::from_ref(record))?;
        appended
            .pop()
            .ok_or_else(|| AuditError::Encode("nothing was appended".to_owned()))
    }

    /// Appends records in order (one write and one sync for a file, one transaction for a
    /// database) and returns once all are durable.
    pub fn append_all(&self, records: &[Record]) -> Result<Vec<Appended>, AuditError> {
        self.0.append_all(records)
    }

    /// Every line of the log, in order.
    pub fn read_lines(&self) -> Result<Vec<RawLine>, AuditError> {
        self.0.read_lines()
    }

    /// Whether the log exists yet.
    pub fn exists(&self) -> Result<bool, AuditError> {
        self.0.exists()
    }

    /// Writes another log's lines into this empty log, byte for byte.
    pub fn import_lines(&self, lines: &[RawLine]) -> Result<(), AuditError> {
        self.0.import_lines(lines)
    }

    /// Where the log is: a path, or a URL without its password.
    pub fn location(&self) -> String {
        self.0.location()
    }

    /// The record `lookup` names (see [`Lookup`]), from the backend's index.
    pub fn lookup(&self, lookup: Lookup<'_>) -> Result<Option<Found>, AuditError> {
        self.0.lookup(lookup)
    }

    /// How many marks record a direct production change, without reading the log where the
    /// backend keeps the count.
    pub fn direct_changes(&self) -> Result<u64, AuditError> {
        self.0.direct_changes()
    }

    /// What the last acknowledged append left at the end of the log, if the backend keeps it.
    pub fn acknowledged(&self) -> Result<Option<TailState>, AuditError> {
        self.0.acknowledged()
    }

    /// Reads and verifies the log, optionally against a checkpoint whose signature was checked.
    pub fn verify(&self, checkpoint: Option<&Checkpoint>) -> Result<Verification, AuditError> {
        self.verify_sealed(checkpoint, None)
    }
}

/// A database log no backend was opened for: every access fails, naming it.
#[derive(Debug)]
pub(crate) struct Unopened {
    pub(crate) location: String,
}

impl Unopened {
    fn error(&self) -> AuditError {
        AuditError::Database {
            location: self.location.clone(),
            detail: "no database backend was opened for this log".to_owned(),
        }
    }
}

impl LogStore for Unopened {
    fn append_all(&self, _records: &[Record]) -> Result<Vec<Appended>, AuditError> {
        Err(self.error())
    }

    fn read_lines(&self) -> Result<Vec<RawLine>, AuditError> {
        Err(self.error())
    }

    fn exists(&self) -> Result<bool, AuditError> {
        Err(self.error())
    }

    fn import_lines(&self, _lines: &[RawLine]) -> Result<(), AuditError> {
        Err(self.error())
    }

    fn location(&self) -> String {
        self.location.clone()
    }
}

/// A URL with its password replaced by `***`, for messages and records.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(end) => rest.split_at(end),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}
