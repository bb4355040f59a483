//! What every command shares: output formats, the compiled-policy cache, the trust flags, output
//! writing, dates, and [`Failure`], the one mapping of errors to exit codes.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::{Args, ValueEnum};
use tollgate_decision_log::{ProjectError, RangeEnd};
use tollgate_engine::{Limits, PolicyEngine};
use tollgate_pipeline::{DecideError, exit};
use tollgate_runtime::{RuntimeError, Trust};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Human-readable text.
    Text,
    /// A stable JSON document.
    Json,
}

/// Instances alive at once in a command whose policies run one after the other: one evaluating,
/// with room for a settings check or a trace run beside it.
const SEQUENTIAL_INSTANCES: u32 = 4;

/// Where compiled policies are cached.
#[derive(Debug, Clone, Args)]
pub(crate) struct CacheArgs {
    /// Directory of the compiled-policy cache [default: $TOLLGATE_CACHE_DIR, $XDG_CACHE_HOME/tollgate
    /// or ~/.cache/tollgate].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compiles every policy afresh and writes no cache.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
}

impl CacheArgs {
    /// The engine, with the project's cache cap and per-policy limits.
    pub(crate) fn engine(&self) -> Result<PolicyEngine, Failure> {
        self.engine_with(Limits::default())
    }

    /// The engine of a command that decides one change at a time (`eval`): its policies run one
    /// after the other, so a pool of [`SEQUENTIAL_INSTANCES`] instances serves it. Setting up and
    /// tearing down the default pool of 64 (a guarded memory slot each) was a quarter of a warm
    /// `eval`'s CPU time.
    pub(crate) fn sequential_engine(&self) -> Result<PolicyEngine, Failure> {
        self.engine_with(Limits {
            max_instances: SEQUENTIAL_INSTANCES,
            ..Limits::default()
        })
    }

    fn engine_with(&self, limits: Limits) -> Result<PolicyEngine, Failure> {
        let dir = if self.no_cache {
            None
        } else {
            self.cache_dir
                .clone()
                .or_else(tollgate_engine::default_cache_dir)
        };
        // `policies.cache` and `policies.limits` of `.tollgate/config.yaml`.
        let config = tollgate_runtime::EngineConfig::of_project()?;
        let mut engine = PolicyEngine::new(limits, dir).map_err(|e| Failure::Internal(e.into()))?;
        config
            .apply(&mut engine)
            .map_err(|e| Failure::Invalid(e.into()))?;
        Ok(engine)
    }
}

/// Trust options of `eval` and `serve`.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct TrustArgs {
    /// A public key trusted to sign policy components (repeatable); with it, a component file runs
    /// only with a valid signature by one of the trusted keys.
    #[arg(long = "trusted-key", value_name = "FILE")]
    pub(crate) trusted_keys: Vec<PathBuf>,
    /// Refuses any policy component file without a valid signature by a trusted key (built-in
    /// packs are trusted by their embedded digests).
    #[arg(long)]
    pub(crate) require_signed: bool,
}

impl TrustArgs {
    /// The trust: these flags and `policies.trust` of `.tollgate/config.yaml`.
    pub(crate) fn trust(&self) -> Result<Trust, Failure> {
        Ok(Trust::of_project(&self.trusted_keys, self.require_signed)?)
    }
}

/// An error of a command, with the exit code it maps to.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Exit 2: bad usage or input.
    Invalid(anyhow::Error),
    /// Exit 5: a policy failed.
    Policy(anyhow::Error),
    /// Exit 1: unexpected.
    Internal(anyhow::Error),
    /// Exit 6: the decision log could not be written or read, or fails verification.
    Audit(anyhow::Error),
}

impl Failure {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Invalid(_) => exit::INVALID_INPUT,
            Self::Policy(_) => exit::POLICY_FAILURE,
            Self::Internal(_) => exit::INTERNAL_ERROR,
            Self::Audit(_) => exit::AUDIT_FAILURE,
        }
    }

    /// The error with its causes, for a host that reports it elsewhere (the gateway's reloads).
    pub(crate) fn into_error(self) -> tollgate_gateway::HostFailure {
        match self {
            Self::Invalid(e) | Self::Policy(e) | Self::Internal(e) | Self::Audit(e) => e.into(),
        }
    }

    /// The message with its causes, as the command prints it.
    pub(crate) fn text(&self) -> String {
        match self {
            Self::Invalid(e) | Self::Policy(e) | Self::Internal(e) | Self::Audit(e) => {
                format!("{e:#}")
            }
        }
    }
}

/// The one mapping of a decision error to the CLI: its exit code and message.
impl From<DecideError> for Failure {
    fn from(error: DecideError) -> Self {
        let message = anyhow!("{error}");
        match error {
            DecideError::Invalid(_) => Self::Invalid(message),
            DecideError::Policies { failures, .. } => {
                for failure in &failures {
                    eprintln!("error: {failure}");
                }
                Self::Policy(message)
            }
            DecideError::Unrecorded(_) => Self::Audit(message),
            DecideError::Internal(_) => Self::Internal(message),
        }
    }
}

/// The one mapping of a project error to the CLI.
impl From<ProjectError> for Failure {
    fn from(error: ProjectError) -> Self {
        let message = anyhow!("{error}");
        match error {
            ProjectError::Invalid(_) => Self::Invalid(message),
            ProjectError::Untrusted(_) => Self::Audit(message),
            ProjectError::Write { .. } => Self::Internal(message),
        }
    }
}

/// The one mapping of the host library's errors to the CLI.
impl From<RuntimeError> for Failure {
    fn from(error: RuntimeError) -> Self {
        use RuntimeError as E;
        match error {
            E::Decide(error) => error.into(),
            E::Project(error) => error.into(),
            E::Untrusted(_) | E::NotServing(_) => Self::Policy(anyhow!("{error}")),
            E::Load { ref source, .. } => Self::Policy(anyhow!("{error}: {source}")),
            E::Evaluate { ref id, ref source } => Self::Policy(anyhow!("policy `{id}` {source}")),
            E::Database(_) => Self::Invalid(anyhow!("{error}")),
            E::CurrentDir(_) | E::KeyGeneration(_) | E::Serve(_) => Self::Internal(error.into()),
            E::Log(_)
            | E::LogMissing(_)
            | E::LogDir(_)
            | E::Unverified { .. }
            | E::FailsVerification { .. }
            | E::CopyDiffers { .. }
            | E::NothingAppended
            | E::Probe { .. }
            | E::OpenAppend { .. } => Self::Audit(error.into()),
            _ => Self::Invalid(error.into()),
        }
    }
}

/// Whether an output path means standard output (`-`).
pub(crate) fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Writes text to standard output. A closed pipe is not an error worth reporting: the exit code
/// still carries the outcome.
pub(crate) fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// A JSON document, pretty, with a final newline.
pub(crate) fn pretty(value: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map(|text| text + "\n")
        .map_err(|e| Failure::Internal(e.into()))
}

/// Writes an output file the user asked for, durably and whole (`tollgate-durable`); `-` is
/// standard output, and a device or FIFO such as `/dev/null` is written in place, never replaced.
pub(crate) fn write_output(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    if is_stdout(path) {
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(bytes)
            .and_then(|()| stdout.flush())
            .map_err(|e| Failure::Invalid(anyhow!("cannot write to standard output: {e}")));
    }
    tollgate_durable::write(path, bytes, tollgate_durable::Access::Shared)
        .map_err(|e| Failure::Invalid(anyhow!("cannot write `{}`: {e}", path.display())))
}

/// Parses a point in time as every command accepts it: `YYYY-MM-DD` (the start of that day, UTC,
/// or with [`RangeEnd::End`] the end) or RFC 3339.
pub(crate) fn parse_date(
    text: &str,
    flag: &str,
    end: RangeEnd,
) -> Result<tollgate_manifest::Timestamp, Failure> {
    tollgate_decision_log::parse_date(text, end)
        .map_err(|e| Failure::Invalid(anyhow!("invalid `{flag}`: {e}")))
}

/// [`parse_date`] of an instant (the start of a day).
pub(crate) fn parse_instant(
    text: &str,
    flag: &str,
) -> Result<tollgate_manifest::Timestamp, Failure> {
    parse_date(text, flag, RangeEnd::Start)
}

/// Checks, before anything is decided or recorded, that an output path can be written: `-`, or a
/// path whose directory exists and which is not itself a directory. `what` names the flag and
/// value as the user typed them.
pub(crate) fn check_output(path: &Path, what: &str) -> Result<(), Failure> {
    if is_stdout(path) {
        return Ok(());
    }
    if path.is_dir() {
        return Err(Failure::Invalid(anyhow!(
            "{what}: `{}` is a directory, not a file",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Failure::Invalid(anyhow!(
            "{what}: the directory `{}` does not exist",
            dir.display()
        )));
    }
    Ok(())
}
