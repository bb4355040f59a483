//! `tollgate audit keygen|checkpoint|verify|show|list|mark|export|import`: the decision log's
//! keys, signed checkpoints, verification, records and marks.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use tollgate_decision_log::config::LOG_ENV;
use tollgate_decision_log::{Filter, MarkStatus, Project, RangeEnd, RecordedOutcome};
use tollgate_pipeline::exit;

use crate::common::{Failure, OutputFormat, emit, parse_date, parse_instant, pretty, write_output};

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
    let setup = tollgate_runtime::discover(command.audit_log.as_deref())?;
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
        } => described(
            tollgate_runtime::verify_log(
                &setup,
                checkpoint.as_deref(),
                public_key.as_deref(),
                writers,
                *seals_from,
            )?,
            *format,
        ),
        Action::Show { id, format } => described(tollgate_runtime::show(&setup, id)?, *format),
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
            described(tollgate_runtime::list(&setup, &filter)?, *format)
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
        Action::Export { to, format } => {
            let to = tollgate_runtime::open_location(to)?;
            copy_log(&setup.audit_log(), &to, *format)
        }
        Action::Import { from, format } => {
            let from = tollgate_runtime::open_location(from)?;
            copy_log(&from, &setup.audit_log(), *format)
        }
    }
}

/// Copies a verified log into an empty one and checks the copy.
fn copy_log(
    source: &tollgate_decision_log::AuditLog,
    destination: &tollgate_decision_log::AuditLog,
    format: OutputFormat,
) -> Result<u8, Failure> {
    let copy = tollgate_runtime::copy_log(source, destination)?;
    let (from, to) = (source.location(), destination.location());
    emit(&match format {
        OutputFormat::Json => format!(
            "{}\n",
            serde_json::json!({"from": from, "to": to, "records": copy.records, "root": copy.root, "intact": true})
        ),
        OutputFormat::Text => format!(
            "copied {} records from `{from}` to `{to}`; both verify, root {}\n",
            copy.records, copy.root
        ),
    });
    Ok(exit::APPROVED)
}

fn keygen(setup: &Project, name: &str, dir: Option<&Path>, force: bool) -> Result<u8, Failure> {
    let (key, secret, public) = setup.write_key_pair(name, dir, force)?;
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
    let (note, size) = tollgate_runtime::sign_checkpoint(setup, key, origin)?;
    match output {
        Some(path) => {
            write_output(path, note.as_bytes())?;
            eprintln!(
                "wrote a checkpoint of {size} records to `{}`",
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
    let at = at.map(|text| parse_instant(text, "--at")).transpose()?;
    let sealer = tollgate_runtime::sealer(setup, None)?;
    let marked = tollgate_runtime::append_mark(setup, sealer.as_deref(), target, status, at, note)?;
    println!("{}", marked.sentence(status));
    if marked.direct_production_change && marked.decision_id.is_none() {
        eprintln!(
            "error: the log `{}` has no decision of change `{target}`: the deployment is recorded as a direct production change",
            setup.log_location()
        );
        return Ok(exit::INVALID_INPUT);
    }
    Ok(exit::APPROVED)
}

/// Writes a description of the log and exits 6 when the log fails verification.
fn described(described: tollgate_runtime::Described, format: OutputFormat) -> Result<u8, Failure> {
    emit(&match format {
        OutputFormat::Json => pretty(&described.json)?,
        OutputFormat::Text => described.text,
    });
    Ok(if described.intact {
        exit::APPROVED
    } else {
        exit::AUDIT_FAILURE
    })
}
