//! Errors of the decision log.

use std::path::PathBuf;
use std::time::Duration;

/// Why the log could not be written or read. Any of these makes `tollgate eval` fail closed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The log's directory does not exist.
    #[error("cannot write the audit log `{}`: directory `{}` does not exist", path.display(), dir.display())]
    MissingDirectory {
        /// The log.
        path: PathBuf,
        /// Its directory.
        dir: PathBuf,
    },
    /// The log could not be opened or created.
    #[error("cannot open the audit log `{}`: {source}", path.display())]
    Open {
        /// The log.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Another process held the lock for too long.
    #[error("the audit log `{}` is locked by another process (waited {:.1} s)", path.display(), waited.as_secs_f64())]
    Locked {
        /// The log.
        path: PathBuf,
        /// How long this process waited.
        waited: Duration,
    },
    /// Locking failed.
    #[error("cannot lock the audit log `{}`: {source}", path.display())]
    Lock {
        /// The log.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Reading failed.
    #[error("cannot read the audit log `{}`: {source}", path.display())]
    Read {
        /// The log.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing failed (for example a full disk); nothing was acknowledged.
    #[error("cannot write the audit log `{}`: {source}", path.display())]
    Write {
        /// The log.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Making the write durable failed; nothing was acknowledged.
    #[error("cannot sync the audit log `{}` to disk: {source}", path.display())]
    Sync {
        /// The log.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The end of the log is damaged beyond an interrupted append.
    #[error("the audit log `{}` is damaged: {detail}", path.display())]
    Corrupt {
        /// The log.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A record could not be encoded.
    #[error("cannot encode the audit record: {0}")]
    Encode(String),
    /// An import into a log that already holds records.
    #[error("the audit log `{location}` already holds records: an import needs an empty log")]
    NotEmpty {
        /// The log.
        location: String,
    },
    /// A database log could not be reached, written or read; nothing was acknowledged.
    #[error("the audit log database `{location}`: {detail}")]
    Database {
        /// The database (its URL without the password).
        location: String,
        /// What failed.
        detail: String,
    },
}
