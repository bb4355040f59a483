//! The Tollgate decision log: a tamper-evident, crash-safe, append-only record of every evaluation.
//!
//! - [`record`]: what is recorded (the PCI DSS 10.2.2 fields of a decision, marks, recoveries,
//!   attempts rejected before any decision);
//! - [`mask`]: masking of configured manifest fields and of every sensitive-data finding;
//! - [`frame`]: one JSON line per record, with its sequence number, a hash chain link and a
//!   checksum, so a torn write is never mistaken for a record;
//! - [`log`]: appends that are durable before they return, serialised across processes by an
//!   exclusive file lock, and that set aside the bytes of an interrupted append;
//! - [`tail`] and [`index`]: what the last acknowledged append left at the end of a file log (so
//!   a truncation is caught and the root is known without reading the log), and the lookups of
//!   records by id, sequence number and change in bounded memory and time;
//! - [`LogStore`] and [`AuditLog`]: the backends (the file here, PostgreSQL in
//!   `tollgate-decision-log-postgres`) behind one handle;
//! - [`merkle`]: the RFC 9162 Merkle tree over the records, with inclusion and consistency proofs;
//! - [`checkpoint`]: Ed25519-signed checkpoints (C2SP `tlog-checkpoint` / `signed-note`);
//! - [`seal`]: writers' signatures over the records of each append, so a role that can only
//!   write the log cannot forge a record that verifies;
//! - [`lines`]: the lines of a log file, split at once, streamed in bounded memory or read at an
//!   offset;
//! - [`verify`]: which record was modified, deleted, inserted or reordered, and whether the log
//!   still extends a checkpoint;
//! - [`query`], [`config`] and [`project`]: selecting records, where the log, keys and
//!   configuration of a project are, and the dates commands accept.

pub mod checkpoint;
pub mod config;
pub mod describe;
mod error;
pub mod frame;
pub mod index;
pub mod lines;
pub mod log;
pub mod mask;
pub mod merkle;
pub mod origin;
pub mod project;
pub mod query;
pub mod record;
pub mod seal;
pub mod seal_record;
mod store;
pub mod tail;
pub mod verify;

pub use checkpoint::{Checkpoint, CheckpointError, SigningKey, VerifierKey};
pub use config::{AuditConfig, ConfigFile, project_dir};
pub use error::AuditError;
pub use index::{Found, Lookup};
pub use log::{Appended, FileLog, RawLine};
pub use mask::{MASKED, MaskError, Masking};
pub use merkle::Hash;
pub use origin::Origin;
pub use project::{DateError, Project, ProjectError, RangeEnd, is_database_url, parse_date};
pub use query::{DeploymentTarget, Filter, deployment_of, deployment_target};
pub use record::{
    AccessRecord, Attempt, ChangeRef, DecisionRecord, Evaluation, InputRef, ManifestRef,
    MarkRecord, MarkStatus, PolicyFailureRef, PolicyRef, Record, RecordedOutcome, RecoveryRecord,
    RejectedInput, RejectedRecord, UnreadableRecord, WaiverRef, sha256_digest,
};
pub use seal::{SealRecord, Sealer, Writers, append_sealed};
pub use store::{AuditLog, LogStore, redact_url};
pub use verify::{Problem, SealSummary, Verification, verify};

use tollgate_manifest::Timestamp;

/// A new random record id (UUID v4).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The current UTC time, to the microsecond.
pub fn now() -> Timestamp {
    let now = time::OffsetDateTime::now_utc();
    let micros = now.nanosecond() / 1000 * 1000;
    Timestamp::from_offset_date_time(now.replace_nanosecond(micros).unwrap_or(now))
}
