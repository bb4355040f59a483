//! The project's decision log as hosts use it: discovery (a file, or PostgreSQL for a
//! `postgres://` URL), the recorder with its masks and writer key, verified reads, copies, marks,
//! direct production changes and the probe of whether it can take a record.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tollgate_decision_log::{
    AuditLog, DecisionRecord, Found, Lookup, MarkRecord, MarkStatus, Origin, Project, Record,
    RecordedOutcome, Sealer, Verification, Writers,
};
use tollgate_manifest::Timestamp;
use tollgate_recorder::{AppendObserver, LogRecorder};

use crate::RuntimeError;

/// The environment variable naming this writer's seal key.
pub const WRITER_KEY_ENV: &str = "TOLLGATE_WRITER_KEY";

/// The environment whose deployments without an approved decision are direct production
/// changes (the built-in policies' default `production_environments`).
pub const PRODUCTION_ENVIRONMENT: &str = "production";

/// The project of the working directory, with the log `log` names (if any): a file, or a
/// PostgreSQL database for a `postgres://` URL (connected at first use).
pub fn discover(log: Option<&Path>) -> Result<Project, RuntimeError> {
    let cwd = std::env::current_dir().map_err(RuntimeError::CurrentDir)?;
    let project = Project::discover(&cwd, log)?;
    if !project.log_is_database() {
        return Ok(project);
    }
    let store = open_database(&project.log.to_string_lossy())?;
    Ok(project.with_store(store))
}

/// The decision log in the database of `url`.
pub fn open_database(url: &str) -> Result<AuditLog, RuntimeError> {
    let log = tollgate_decision_log_postgres::PostgresLog::open(url)?;
    Ok(AuditLog::from_store(Arc::new(log)))
}

/// The log at a path, or in the database of a `postgres://` URL.
pub fn open_location(location: &Path) -> Result<AuditLog, RuntimeError> {
    if tollgate_decision_log::is_database_url(location) {
        open_database(&location.to_string_lossy())
    } else {
        Ok(AuditLog::new(location))
    }
}

/// The project's log, which must exist.
fn existing(log: &AuditLog) -> Result<(), RuntimeError> {
    if log.exists()? {
        Ok(())
    } else {
        Err(RuntimeError::LogMissing(log.location()))
    }
}

/// The project's log read and verified, with the configured writers' seals and, when given, a
/// signed checkpoint.
pub fn read_verified(
    project: &Project,
    checkpoint: Option<&tollgate_decision_log::Checkpoint>,
    writers: Option<&Writers>,
) -> Result<Verification, RuntimeError> {
    let log = project.audit_log();
    existing(&log)?;
    Ok(log.verify_sealed(checkpoint, writers)?)
}

/// The project's log read and verified with the configured writers' seals.
pub fn read_log(project: &Project) -> Result<Verification, RuntimeError> {
    let log = project.audit_log();
    existing(&log)?;
    let writers = Writers::of_project(project, &[], None)?;
    Ok(log.verify_sealed(None, writers.as_ref())?)
}

/// The seal key of this writer: `flag`, else `$TOLLGATE_WRITER_KEY`, else `audit.writer_key`;
/// none when no key is set.
pub fn sealer(project: &Project, flag: Option<&Path>) -> Result<Option<Arc<Sealer>>, RuntimeError> {
    let env = std::env::var_os(WRITER_KEY_ENV).map(PathBuf::from);
    Ok(Sealer::of_project(project, flag.or(env.as_deref()))?.map(Arc::new))
}

/// How decisions are recorded: the log, masks, change start and writer key.
#[derive(Debug, Clone, Default)]
pub struct RecorderOptions {
    /// The decision log [default: the project's].
    pub audit_log: Option<PathBuf>,
    /// Manifest field paths to mask, besides `audit.mask`.
    pub mask: Vec<String>,
    /// When work on the change started.
    pub change_started_at: Option<Timestamp>,
    /// This writer's seal key [default: `$TOLLGATE_WRITER_KEY`, else `audit.writer_key`].
    pub writer_key: Option<PathBuf>,
}

impl RecorderOptions {
    /// The recorder of the project's decision log, with the configured and given masks.
    pub fn recorder(&self) -> Result<LogRecorder, RuntimeError> {
        let project = discover(self.audit_log.as_deref())?;
        let sealer = sealer(&project, self.writer_key.as_deref())?;
        let recorder = LogRecorder::new(project, &self.mask, self.change_started_at)?;
        Ok(match sealer {
            Some(sealer) => recorder.with_sealer(sealer),
            None => recorder,
        })
    }
}

/// A verified copy: records and root.
#[derive(Debug, Clone)]
pub struct Copied {
    /// Records copied.
    pub records: u64,
    /// The Merkle root both logs share.
    pub root: String,
}

/// Copies a verified log into an empty one and checks the copy has the same size and root; the
/// problems of a log that fails verification are written to standard error.
pub fn copy_log(source: &AuditLog, destination: &AuditLog) -> Result<Copied, RuntimeError> {
    existing(source)?;
    let lines = source.read_lines()?;
    let verification = tollgate_decision_log::verify(&lines, None);
    if !verification.is_intact() {
        print_problems(&verification);
        return Err(RuntimeError::Unverified {
            action: "copy",
            location: source.location(),
        });
    }
    destination.import_lines(&lines)?;
    let copy = destination.verify(None)?;
    if !copy.is_intact() || copy.size() != verification.size() || copy.root != verification.root {
        print_problems(&copy);
        return Err(RuntimeError::CopyDiffers {
            location: destination.location(),
            size: copy.size(),
            root: copy.root.to_hex(),
            expected_size: verification.size(),
            expected_root: verification.root.to_hex(),
        });
    }
    Ok(Copied {
        records: copy.size(),
        root: copy.root.to_hex(),
    })
}

/// Writes a verification's problems to standard error.
pub fn print_problems(verification: &Verification) {
    for problem in &verification.problems {
        eprintln!("problem: {problem}");
    }
}

/// A mark as appended.
#[derive(Debug, Clone)]
pub struct Marked {
    /// The mark's record id.
    pub id: String,
    /// Its sequence number.
    pub seq: u64,
    /// The decision it is attached to (none for a direct change without any decision).
    pub decision_id: Option<String>,
    /// The change.
    pub change_id: String,
    /// A deployment without an approved latest decision.
    pub direct_production_change: bool,
}

impl Marked {
    /// The mark in a sentence, as the command that made it prints it.
    pub fn sentence(&self, status: MarkStatus) -> String {
        if self.direct_production_change {
            format!(
                "marked change {} as deployed without an approved decision{}: a direct production change (record {}, seq {})",
                self.change_id,
                self.decision_id
                    .as_deref()
                    .map(|d| format!(" (its latest decision {d} is not approved)"))
                    .unwrap_or_default(),
                self.id,
                self.seq
            )
        } else {
            format!(
                "marked decision {} of change {} as {} (record {}, seq {})",
                self.decision_id.as_deref().unwrap_or(""),
                self.change_id,
                status.as_str(),
                self.id,
                self.seq
            )
        }
    }
}

/// Appends a mark. A decision id names that decision; a change id names the change's deployment
/// (its first approved decision). A `deployed` mark of a production change whose latest decision
/// is not approved, or of a change without any decision, is a direct production change.
pub fn append_mark(
    project: &Project,
    sealer: Option<&Sealer>,
    target: &str,
    status: MarkStatus,
    at: Option<Timestamp>,
    note: Option<String>,
) -> Result<Marked, RuntimeError> {
    let log = project.audit_log();
    let exists = log.exists()?;
    if !exists && status != MarkStatus::Deployed {
        return Err(RuntimeError::LogMissing(project.log_location()));
    }
    // Lookups through the log's index: the cost does not grow with the log. The append refuses a
    // log whose end is damaged; `tollgate audit verify` checks the rest.
    let find = |lookup: Lookup<'_>| -> Result<Option<DecisionRecord>, RuntimeError> {
        if !exists {
            return Ok(None);
        }
        Ok(match log.lookup(lookup)? {
            Some(Found {
                record: Record::Decision(decision),
                ..
            }) => Some(*decision),
            _ => None,
        })
    };
    let by_id = find(Lookup::Id(target))?;
    let (decision, direct) = match (by_id, status) {
        (Some(decision), _) => (Some(decision), false),
        (None, MarkStatus::Deployed) => match find(Lookup::LatestDecision(target))? {
            Some(latest) if latest.outcome == RecordedOutcome::Approved => {
                let first = find(Lookup::FirstApproved(target))?;
                (Some(first.unwrap_or(latest)), false)
            }
            // Without any decision its environment is unknown: a production change until shown otherwise.
            latest => {
                let direct = latest
                    .as_ref()
                    .is_none_or(|d| d.change.environment == PRODUCTION_ENVIRONMENT);
                (latest, direct)
            }
        },
        (None, _) => (
            Some(
                find(Lookup::FirstApproved(target))?.ok_or_else(|| RuntimeError::NoDecision {
                    target: target.to_owned(),
                    location: project.log_location(),
                })?,
            ),
            false,
        ),
    };
    let decision = decision.as_ref();
    let change_id = decision.map_or_else(|| target.to_owned(), |d| d.change.id.clone());
    let record = MarkRecord {
        id: tollgate_decision_log::new_id(),
        recorded_at: tollgate_decision_log::now(),
        origin: Origin::current(None),
        decision_id: decision.map(|d| d.id.clone()).unwrap_or_default(),
        change_id: change_id.clone(),
        status,
        at,
        note,
        direct_production_change: direct,
    };
    let id = record.id.clone();
    let seq = append(project, sealer, &[Record::Mark(record)])?;
    Ok(Marked {
        id,
        seq,
        decision_id: decision.map(|d| d.id.clone()),
        change_id,
        direct_production_change: direct,
    })
}

/// Appends records, sealed when a sealer is given; returns the sequence number of the first.
pub fn append(
    project: &Project,
    sealer: Option<&Sealer>,
    records: &[Record],
) -> Result<u64, RuntimeError> {
    project.prepare_log_dir().map_err(RuntimeError::LogDir)?;
    tollgate_decision_log::append_sealed(&project.audit_log(), sealer, records)?
        .into_iter()
        .next()
        .map(|appended| appended.seq)
        .ok_or(RuntimeError::NothingAppended)
}

/// The direct production changes the log records now (0 before its first record): a file log
/// keeps the count in its tail state.
pub fn direct_changes(project: &Project) -> Result<u64, RuntimeError> {
    let log = project.audit_log();
    if !log.exists()? {
        return Ok(0);
    }
    Ok(log.direct_changes()?)
}

/// Whether the log can take a record now, without writing one: a database must answer; a file
/// log's directory must take a synced 4 KiB write and an existing log must open for appending.
pub fn probe(project: &Project) -> Result<(), RuntimeError> {
    use std::io::Write as _;
    if project.log_is_database() {
        project.audit_log().exists()?;
        return Ok(());
    }
    let dir = match project.log.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let probe = dir.join(format!(".tollgate-probe-{}", std::process::id()));
    let written = std::fs::File::create(&probe).and_then(|mut file| {
        file.write_all(&[0; 4096])?;
        file.sync_data()
    });
    let _ = std::fs::remove_file(&probe);
    written.map_err(|source| RuntimeError::Probe {
        path: dir.to_path_buf(),
        source,
    })?;
    if project.log.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(&project.log)
            .map_err(|source| RuntimeError::OpenAppend {
                path: project.log.clone(),
                source,
            })?;
    }
    Ok(())
}

/// How a host's own appends (marks, access records) are sealed and counted.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// The writer's sealer.
    pub sealer: Option<Arc<Sealer>>,
    /// Told of every append (the checkpoint job).
    pub observer: Option<Arc<dyn AppendObserver>>,
}

impl Written {
    /// Tells the observer of `records` appended records (and their seal).
    pub fn appended(&self, records: usize) {
        if let Some(observer) = &self.observer {
            observer.appended(records + usize::from(self.sealer.is_some()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_fails_where_no_record_could_be_written_and_passes_once_it_could() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs").join("audit.log");
        let setup = Project::discover(dir.path(), Some(&log)).unwrap();
        assert!(probe(&setup).is_err(), "a missing directory takes nothing");
        std::fs::create_dir(dir.path().join("logs")).unwrap();
        assert!(probe(&setup).is_ok());
        assert_eq!(
            std::fs::read_dir(dir.path().join("logs")).unwrap().count(),
            0,
            "the probe leaves nothing behind"
        );
        std::fs::create_dir(&log).unwrap();
        assert!(
            probe(&setup).is_err(),
            "a log that cannot be opened for appending"
        );
    }
}
