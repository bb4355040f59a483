//! The decision log: the record `tollgate eval` appends before it reports (fail-closed, exit 6),
//! and `tollgate audit keygen|checkpoint|verify|show|list|mark`.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::{Args, Subcommand, ValueEnum};
use tollgate_decision_log::config::LOG_ENV;
use tollgate_decision_log::{
    Checkpoint, DecisionRecord, Filter, Found, Lookup, MarkRecord, MarkStatus, Origin, Project,
    RangeEnd, Record, RecordedOutcome, Sealer,
};
use tollgate_pipeline::exit;
use tollgate_recorder::LogRecorder;

use crate::project::{
    audit_failure, discover, parse_date, print_problems, project_failure, read_log,
};
use crate::{Failure, OutputFormat};

/// Decision-log options of `tollgate eval`.
#[derive(Debug, Clone, Args)]
pub(crate) struct EvalAuditArgs {
    /// Decision log to append the record to [default: $TOLLGATE_AUDIT_LOG, `audit.log` in
    /// `.tollgate/config.yaml`, else `.tollgate/audit.log` in the project directory]. If the record
    /// cannot be written the evaluation fails with exit code 6.
    #[arg(long, value_name = "FILE", env = LOG_ENV)]
    audit_log: Option<PathBuf>,
    /// A manifest field path to mask in the stored copy, for example `change.approvals[*].by`
    /// (repeatable; adds to `audit.mask` in the configuration). Sensitive-data finding locations
    /// are always masked.
    #[arg(long = "mask", value_name = "PATH")]
    mask: Vec<String>,
    /// When work on the change started (first commit or ticket creation, RFC 3339), for the lead
    /// time of the evidence report.
    #[arg(long, value_name = "RFC3339", env = "TOLLGATE_CHANGE_STARTED_AT")]
    change_started_at: Option<String>,
    /// This writer's seal key (a signing key file): every append is sealed with it, so a role
    /// that can only write the log cannot forge a record that verifies [default:
    /// `audit.writer_key` in the configuration].
    #[arg(long, value_name = "FILE", env = WRITER_KEY_ENV)]
    writer_key: Option<PathBuf>,
}

/// The environment variable naming this writer's seal key.
pub(crate) const WRITER_KEY_ENV: &str = "TOLLGATE_WRITER_KEY";

impl EvalAuditArgs {
    /// Decision-log options without a change start time, for `tollgate serve`.
    pub(crate) fn for_server(
        audit_log: Option<PathBuf>,
        mask: Vec<String>,
        writer_key: Option<PathBuf>,
    ) -> Self {
        Self {
            audit_log,
            mask,
            change_started_at: None,
            writer_key,
        }
    }
}

/// The seal key of this writer: `flag`, else `$TOLLGATE_WRITER_KEY` for commands without the
/// flag, else `audit.writer_key`; none when no key is set.
pub(crate) fn sealer(
    setup: &Project,
    flag: Option<&Path>,
) -> Result<Option<std::sync::Arc<Sealer>>, Failure> {
    let env = std::env::var_os(WRITER_KEY_ENV).map(PathBuf::from);
    Sealer::of_project(setup, flag.or(env.as_deref()))
        .map(|sealer| sealer.map(std::sync::Arc::new))
        .map_err(project_failure)
}

impl EvalAuditArgs {
    /// The recorder of `tollgate eval` and `tollgate serve`: the project's decision log, with
    /// the configured and given masks. Checked before any policy runs.
    pub(crate) fn recorder(&self) -> Result<LogRecorder, Failure> {
        let project = discover(self.audit_log.as_deref())?;
        let change_started_at = self
            .change_started_at
            .as_deref()
            .map(|text| crate::parse_instant(text, "--change-started-at"))
            .transpose()?;
        let sealer = sealer(&project, self.writer_key.as_deref())?;
        let recorder = LogRecorder::new(project, &self.mask, change_started_at)
            .map_err(|e| Failure::Invalid(e.into()))?;
        Ok(match sealer {
            Some(sealer) => recorder.with_sealer(sealer),
            None => recorder,
        })
    }
}

/// `tollgate audit`.
#[derive(Debug, Args)]
pub(crate) struct AuditCommand {
    /// Decision log [default: $TOLLGATE_AUDIT_LOG, `audit.log` in `.tollgate/config.yaml`, else
    /// `.tollgate/audit.log` in the project directory].
    #[arg(long, value_name = "FILE", env = LOG_ENV, global = true)]
    audit_log: Option<PathBuf>,
    #[command(subcommand)]
    action: Action,
}

/// What a mark says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MarkArg {
    /// The change was deployed.
    Deployed,
    /// The deployment failed.
    Failed,
    /// The change was rolled back.
    #[value(alias = "rolled_back")]
    RolledBack,
}

impl From<MarkArg> for MarkStatus {
    fn from(arg: MarkArg) -> Self {
        match arg {
            MarkArg::Deployed => Self::Deployed,
            MarkArg::Failed => Self::Failed,
            MarkArg::RolledBack => Self::RolledBack,
        }
    }
}

/// Record outcome filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutcomeArg {
    /// Approved.
    Approved,
    /// Needs approval.
    #[value(alias = "needs_approval")]
    NeedsApproval,
    /// Denied.
    Denied,
    /// A policy failed.
    Error,
}

impl From<OutcomeArg> for RecordedOutcome {
    fn from(arg: OutcomeArg) -> Self {
        match arg {
            OutcomeArg::Approved => Self::Approved,
            OutcomeArg::NeedsApproval => Self::NeedsApproval,
            OutcomeArg::Denied => Self::Denied,
            OutcomeArg::Error => Self::Error,
        }
    }
}

/// Record kind filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KindArg {
    /// Evaluations.
    Decision,
    /// Marks.
    Mark,
    /// Recoveries from interrupted appends.
    Recovery,
    /// Attempts rejected before any decision.
    Rejected,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Generates an Ed25519 key pair for signing checkpoints: `audit.key` (secret, mode 0600) and
    /// `audit.pub` (the verifier key) in `.tollgate/`.
    Keygen {
        /// Key name, written in every signature.
        #[arg(long, default_value = "tollgate-decision-log")]
        name: String,
        /// Directory for the two files [default: `.tollgate` in the project directory].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Overwrites existing key files.
        #[arg(long)]
        force: bool,
    },
    /// Verifies the log and writes a signed checkpoint of it (C2SP tlog-checkpoint). Store it
    /// outside the log: it proves later that records were not removed or rewritten.
    Checkpoint {
        /// Signing key [default: `audit.signing_key` in the configuration, else `.tollgate/audit.key`].
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// The log's origin line [default: `audit.origin` in the configuration, else the key name].
        #[arg(long)]
        origin: Option<String>,
        /// Where to write the checkpoint [default: standard output].
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Verifies every record's checksum, sequence number and hash-chain link and, with
    /// `--checkpoint`, that the log still extends that signed checkpoint. Exits 6 on any problem
    /// and says which record.
    Verify {
        /// A signed checkpoint written by `tollgate audit checkpoint`.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// Verifier key [default: `audit.verifier_key` in the configuration, else `.tollgate/audit.pub`].
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        /// A writer's verifier key whose seals are accepted (repeatable; adds to `audit.writers`).
        /// With writers, every decision, rejected, mark and access record must be sealed by one.
        #[arg(long = "writer", value_name = "FILE")]
        writers: Vec<PathBuf>,
        /// Records before this sequence number predate seals and need none [default:
        /// `audit.seals_from`].
        #[arg(long, value_name = "SEQ")]
        seals_from: Option<u64>,
        /// Output format.
        #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Shows one record (by id, or by sequence number as `#N`) with its Merkle inclusion proof.
    Show {
        /// A decision, mark or recovery id, or `#N` for sequence number N.
        id: String,
        /// Output format.
        #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Lists records, filtered by change, framework, outcome, kind and time range.
    List {
        /// Change id.
        #[arg(long)]
        change: Option<String>,
        /// Framework of an applicable decision (`sox`, `SOX`, `PCI DSS v4.0`, ...).
        #[arg(long)]
        framework: Option<String>,
        /// Outcome of a decision.
        #[arg(long, value_enum, ignore_case = true)]
        outcome: Option<OutcomeArg>,
        /// Record kind.
        #[arg(long, value_enum, ignore_case = true)]
        kind: Option<KindArg>,
        /// Recorded at or after (`YYYY-MM-DD` or RFC 3339).
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Recorded on or before (`YYYY-MM-DD`: through that day; or an RFC 3339 instant, exclusive).
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        /// Output format.
        #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Appends a mark to a decided change: deployed, failed or rolled back (for the change failure
    /// rate of `tollgate report`).
    Mark {
        /// A decision id, or a change id (its deployment: the change's first approved decision,
        /// as `tollgate report` counts it).
        target: String,
        /// What happened.
        #[arg(long, value_enum, ignore_case = true)]
        status: MarkArg,
        /// When it happened (RFC 3339) [default: now].
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// A note.
        #[arg(long)]
        note: Option<String>,
    },
    /// Copies this verified log, record for record, into an empty log elsewhere (a file, or a
    /// `postgres://` database) and verifies the copy: the same records under the same root hash,
    /// so checkpoints signed for one verify against the other.
    Export {
        /// The destination: a file path or a `postgres://` URL; it must be empty or missing.
        #[arg(long, value_name = "FILE|URL")]
        to: PathBuf,
        /// Output format.
        #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Copies a verified log from elsewhere into this project's empty log, and verifies it.
    Import {
        /// The source: a file path or a `postgres://` URL.
        #[arg(long, value_name = "FILE|URL")]
        from: PathBuf,
        /// Output format.
        #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
}

/// Runs `tollgate audit`.
pub(crate) fn run(command: &AuditCommand) -> Result<u8, Failure> {
    let setup = discover(command.audit_log.as_deref())?;
    match &command.action {
        Action::Keygen { name, dir, force } => keygen(&setup, name, dir.as_deref(), *force),
        Action::Checkpoint {
            key,
            origin,
            output,
        } => checkpoint(&setup, key.as_deref(), origin.as_deref(), output.as_deref()),
        Action::Verify {
            checkpoint,
            public_key,
            writers,
            seals_from,
            format,
        } => crate::audit_read::verify(
            &setup,
            checkpoint.as_deref(),
            public_key.as_deref(),
            &crate::audit_read::SealArgs {
                writers: writers.clone(),
                seals_from: *seals_from,
            },
            *format,
        ),
        Action::Show { id, format } => crate::audit_read::show(&setup, id, *format),
        Action::List {
            change,
            framework,
            outcome,
            kind,
            from,
            to,
            format,
        } => {
            let filter = Filter {
                change: change.clone(),
                framework: framework.clone(),
                outcome: outcome.map(Into::into),
                kind: kind.map(|k| {
                    match k {
                        KindArg::Decision => "decision",
                        KindArg::Mark => "mark",
                        KindArg::Recovery => "recovery",
                        KindArg::Rejected => "rejected",
                    }
                    .to_owned()
                }),
                from: from
                    .as_deref()
                    .map(|d| parse_date(d, "--from", RangeEnd::Start))
                    .transpose()?,
                to: to
                    .as_deref()
                    .map(|d| parse_date(d, "--to", RangeEnd::End))
                    .transpose()?,
            };
            crate::audit_read::list(&setup, &filter, *format)
        }
        Action::Mark {
            target,
            status,
            at,
            note,
        } => mark(
            &setup,
            target,
            (*status).into(),
            at.as_deref(),
            note.clone(),
        ),
        Action::Export { to, format } => copy_log(&setup.audit_log(), &open_location(to)?, *format),
        Action::Import { from, format } => {
            copy_log(&open_location(from)?, &setup.audit_log(), *format)
        }
    }
}

/// The log at a path, or in the database of a `postgres://` URL.
fn open_location(location: &Path) -> Result<tollgate_decision_log::AuditLog, Failure> {
    if tollgate_decision_log::is_database_url(location) {
        crate::project::open_database(&location.to_string_lossy())
    } else {
        Ok(tollgate_decision_log::AuditLog::new(location))
    }
}

/// Copies a verified log into an empty one and checks the copy has the same size and root.
fn copy_log(
    source: &tollgate_decision_log::AuditLog,
    destination: &tollgate_decision_log::AuditLog,
    format: OutputFormat,
) -> Result<u8, Failure> {
    if !source.exists().map_err(audit_failure)? {
        return Err(audit_failure(anyhow!(
            "the audit log `{}` does not exist",
            source.location()
        )));
    }
    let lines = source.read_lines().map_err(audit_failure)?;
    let verification = tollgate_decision_log::verify(&lines, None);
    if !verification.is_intact() {
        print_problems(&verification);
        return Err(audit_failure(anyhow!(
            "refusing to copy `{}`: it fails verification",
            source.location()
        )));
    }
    destination.import_lines(&lines).map_err(audit_failure)?;
    let copy = destination.verify(None).map_err(audit_failure)?;
    if !copy.is_intact() || copy.size() != verification.size() || copy.root != verification.root {
        print_problems(&copy);
        return Err(audit_failure(anyhow!(
            "the copy in `{}` does not verify as the same log ({} records, root {}; expected {} records, root {})",
            destination.location(),
            copy.size(),
            copy.root.to_hex(),
            verification.size(),
            verification.root.to_hex()
        )));
    }
    let text = match format {
        OutputFormat::Json => format!(
            "{}\n",
            serde_json::json!({
                "from": source.location(),
                "to": destination.location(),
                "records": copy.size(),
                "root": copy.root.to_hex(),
                "intact": true,
            })
        ),
        OutputFormat::Text => format!(
            "copied {} records from `{}` to `{}`; both verify, root {}\n",
            copy.size(),
            source.location(),
            destination.location(),
            copy.root.to_hex()
        ),
    };
    crate::render::emit(&text);
    Ok(exit::APPROVED)
}

fn keygen(setup: &Project, name: &str, dir: Option<&Path>, force: bool) -> Result<u8, Failure> {
    let (key, secret, public) = setup
        .write_key_pair(name, dir, force)
        .map_err(project_failure)?;
    println!("{}", key.verifier().encode());
    eprintln!(
        "wrote the signing key `{}` (keep it secret) and the verifier key `{}`",
        secret.display(),
        public.display()
    );
    Ok(exit::APPROVED)
}

fn checkpoint(
    setup: &Project,
    key: Option<&Path>,
    origin: Option<&str>,
    output: Option<&Path>,
) -> Result<u8, Failure> {
    let key = setup.signing_key(key).map_err(project_failure)?;
    let verification = read_log(setup)?;
    if !verification.is_intact() {
        print_problems(&verification);
        return Err(audit_failure(anyhow!(
            "refusing to sign a checkpoint of `{}`: it fails verification",
            setup.log_location()
        )));
    }
    let origin = origin
        .map(str::to_owned)
        .or_else(|| setup.config.origin.clone())
        .unwrap_or_else(|| key.name().to_owned());
    let note = key.sign(&Checkpoint {
        origin,
        size: verification.size(),
        root: verification.root,
    });
    match output {
        Some(path) => {
            crate::write_output(path, note.as_bytes())?;
            eprintln!(
                "wrote a checkpoint of {} records to `{}`",
                verification.size(),
                path.display()
            );
        }
        None => print!("{note}"),
    }
    Ok(exit::APPROVED)
}

fn mark(
    setup: &Project,
    target: &str,
    status: MarkStatus,
    at: Option<&str>,
    note: Option<String>,
) -> Result<u8, Failure> {
    let at = at
        .map(|text| crate::parse_instant(text, "--at"))
        .transpose()?;
    let marked = append_mark(setup, target, status, at, note)?;
    if marked.direct_production_change {
        println!(
            "marked change {} as deployed without an approved decision{}: a direct production change (record {}, seq {})",
            marked.change_id,
            marked
                .decision_id
                .as_deref()
                .map(|d| format!(" (its latest decision {d} is not approved)"))
                .unwrap_or_default(),
            marked.id,
            marked.seq
        );
        if marked.decision_id.is_none() {
            eprintln!(
                "error: the log `{}` has no decision of change `{target}`: the deployment is recorded as a direct production change",
                setup.log_location()
            );
            return Ok(exit::INVALID_INPUT);
        }
    } else {
        println!(
            "marked decision {} of change {} as {} (record {}, seq {})",
            marked.decision_id.as_deref().unwrap_or(""),
            marked.change_id,
            status.as_str(),
            marked.id,
            marked.seq
        );
    }
    Ok(exit::APPROVED)
}

/// The environment whose deployments without an approved decision are direct production
/// changes (the built-in policies' default `production_environments`).
pub(crate) const PRODUCTION_ENVIRONMENT: &str = "production";

/// A mark as appended.
#[derive(Debug, Clone)]
pub(crate) struct Marked {
    /// The mark's record id.
    pub(crate) id: String,
    /// Its sequence number.
    pub(crate) seq: u64,
    /// The decision it is attached to (none for a direct change without any decision).
    pub(crate) decision_id: Option<String>,
    /// The change.
    pub(crate) change_id: String,
    /// A deployment without an approved latest decision.
    pub(crate) direct_production_change: bool,
}

/// Appends a mark (`tollgate audit mark` and the gateway's `POST /v1/marks`). A decision id names
/// that decision; a change id names the change's deployment (its first approved decision). A
/// `deployed` mark of a production change whose latest decision is not approved, or of a change
/// that has no decision, is recorded as a direct production change.
pub(crate) fn append_mark(
    setup: &Project,
    target: &str,
    status: MarkStatus,
    at: Option<tollgate_manifest::Timestamp>,
    note: Option<String>,
) -> Result<Marked, Failure> {
    let log = setup.audit_log();
    let exists = log.exists().map_err(audit_failure)?;
    if !exists && status != MarkStatus::Deployed {
        return Err(audit_failure(anyhow!(
            "the audit log `{}` does not exist",
            setup.log_location()
        )));
    }
    // Lookups through the log's index, each record read back from the log and checked: the cost
    // does not grow with the log. The append itself refuses a log whose end is damaged or lacks
    // acknowledged records; `tollgate audit verify` checks the rest.
    let find = |lookup: Lookup<'_>| -> Result<Option<DecisionRecord>, Failure> {
        if !exists {
            return Ok(None);
        }
        Ok(match log.lookup(lookup).map_err(audit_failure)? {
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
            Some(find(Lookup::FirstApproved(target))?.ok_or_else(|| {
                Failure::Invalid(anyhow!(
                    "no decision `{target}` and no approved decision of change `{target}` in `{}`",
                    setup.log_location()
                ))
            })?),
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
    let sealer = sealer(setup, None)?;
    setup.prepare_log_dir().map_err(audit_failure)?;
    let appended = tollgate_decision_log::append_sealed(
        &setup.audit_log(),
        sealer.as_deref(),
        &[Record::Mark(record)],
    )
    .map_err(audit_failure)?
    .into_iter()
    .next()
    .ok_or_else(|| audit_failure(anyhow!("the decision log appended nothing")))?;
    Ok(Marked {
        id,
        seq: appended.seq,
        decision_id: decision.map(|d| d.id.clone()),
        change_id,
        direct_production_change: direct,
    })
}

/// The direct production changes a log records (the gateway's
/// `production_changes_without_ticket_total`): a file log keeps the count in its tail state, so a
/// count reads no more than the records appended since the last acknowledged append.
#[derive(Debug, Default)]
pub(crate) struct DirectChanges;

impl DirectChanges {
    /// The direct production changes the log at `setup` records now (0 before its first record).
    pub(crate) fn count(&self, setup: &Project) -> Result<u64, String> {
        let log = setup.audit_log();
        if !log.exists().map_err(|e| e.to_string())? {
            return Ok(0);
        }
        log.direct_changes().map_err(|e| e.to_string())
    }
}

/// Whether the log at `setup` can take a record now, without writing one: a database must answer;
/// a file log's directory must take a synced 4 KiB write (no space, a read-only or missing
/// directory fail) and an existing log must open for appending.
pub(crate) fn probe_log(setup: &Project) -> Result<(), String> {
    use std::io::Write as _;
    if setup.log_is_database() {
        return setup
            .audit_log()
            .exists()
            .map(|_| ())
            .map_err(|e| e.to_string());
    }
    let dir = match setup.log.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let probe = dir.join(format!(".tollgate-probe-{}", std::process::id()));
    let written = std::fs::File::create(&probe).and_then(|mut file| {
        file.write_all(&[0; 4096])?;
        file.sync_data()
    });
    let _ = std::fs::remove_file(&probe);
    written.map_err(|e| format!("cannot write in `{}`: {e}", dir.display()))?;
    if setup.log.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(&setup.log)
            .map_err(|e| format!("cannot open `{}` for appending: {e}", setup.log.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_fails_where_no_record_could_be_written_and_passes_once_it_could() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs").join("audit.log");
        let setup = Project::discover(dir.path(), Some(&log)).unwrap();
        assert!(
            probe_log(&setup).is_err(),
            "a missing directory takes nothing"
        );
        std::fs::create_dir(dir.path().join("logs")).unwrap();
        assert_eq!(probe_log(&setup), Ok(()));
        assert_eq!(
            std::fs::read_dir(dir.path().join("logs")).unwrap().count(),
            0,
            "the probe leaves nothing behind"
        );
        std::fs::create_dir(&log).unwrap();
        assert!(
            probe_log(&setup).is_err(),
            "a log that cannot be opened for appending"
        );
    }
}
