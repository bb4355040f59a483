//! `tollgate`: evaluates a change manifest with the SOX, HIPAA and PCI DSS policy components (or any
//! other policy component) and exits with a code that a pipeline can gate on (see
//! [`tollgate_pipeline::exit`]). Commands are thin: argument parsing here, decisions in
//! `tollgate-pipeline`, policies in `tollgate-engine`, the HTTP gateway in `tollgate-gateway`.

mod audit;
mod audit_read;
mod bench;
mod checkpoints;
mod eval;
mod evidence;
mod inspect;
mod inspect_opa;
mod manifest;
mod opa_export;
mod policy_trust;
mod project;
mod render;
mod reporting;
mod serve;
mod test_cases;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tollgate_engine::{Limits, PolicyEngine, PolicySource};
use tollgate_pipeline::{DecideError, exit};

/// Compliance gates for continuous delivery: evaluates a change manifest with SOX, HIPAA and PCI DSS
/// policy components.
#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about, max_term_width = 100)]
#[command(
    after_help = "Exit codes of `eval`: 0 approved, 2 invalid input, 3 needs approval, 4 denied, \
5 policy failure, 6 decision log not written, 1 internal error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluates a change manifest and exits with its outcome.
    Eval(Box<eval::EvalArgs>),
    /// Lists the built-in policy packs.
    Policies {
        /// Output format of the listing (`text`, `json`), or what `--export` writes for Open
        /// Policy Agent: `opa-wasm` (`DIR/<id>.wasm`, OPA Wasm ABI 1.3 modules) or `opa-bundle`
        /// (`DIR/bundle.tar.gz`, an OPA bundle).
        #[arg(long, value_enum, ignore_case = true, default_value_t = opa_export::PoliciesFormat::Text)]
        format: opa_export::PoliciesFormat,
        #[command(flatten)]
        cache: CacheArgs,
        /// Also writes each built-in component to DIR as `<id>.wasm`, for other component hosts
        /// (jco, wasmtime-py, ...); with `--format opa-wasm|opa-bundle`, the OPA artifacts instead.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
    /// Prints a policy's metadata, control catalogue, digest, size, imports and exports.
    Inspect {
        /// A built-in policy name (`sox`, `hipaa`, `pci`) or the path of a policy component.
        policy: String,
        /// Output format.
        #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Signs policy components and verifies their signatures (Ed25519, DSSE envelopes).
    Policy {
        #[command(subcommand)]
        action: policy_trust::PolicyAction,
    },
    /// Prints the JSON Schema of the change manifest.
    Schema,
    /// Gathers a change manifest from git, the CI environment, JUnit and SARIF reports, a ticket
    /// file and a partial hand-written manifest.
    Manifest(Box<manifest::ManifestArgs>),
    /// The decision log: signing keys, signed checkpoints, verification, records, marks.
    Audit(audit::AuditCommand),
    /// Serves evaluations over HTTP: the policies are loaded once, every request is decided and
    /// recorded like `tollgate eval`.
    Serve(Box<serve::ServeArgs>),
    /// Builds an evidence report from the decision log (HTML, JSON or OSCAL assessment results).
    Report(Box<evidence::EvidenceArgs>),
    /// Checks manifests, settings, waivers and configuration files without deciding anything.
    Validate(validate::ValidateArgs),
    /// Runs golden case files against a policy (built-in or a component file), like `opa test`.
    Test(test_cases::TestArgs),
    /// Times policies on a manifest: load, then many evaluations, with statistics per call.
    Bench(Box<bench::BenchArgs>),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// Human-readable text.
    Text,
    /// A stable JSON document.
    Json,
}

/// Where compiled policies are cached.
#[derive(Debug, Clone, Args)]
struct CacheArgs {
    /// Directory of the compiled-policy cache [default: $TOLLGATE_CACHE_DIR, $XDG_CACHE_HOME/tollgate
    /// or ~/.cache/tollgate].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compiles every policy afresh and writes no cache.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
}

impl CacheArgs {
    fn engine(&self) -> Result<PolicyEngine, Failure> {
        let dir = if self.no_cache {
            None
        } else {
            self.cache_dir
                .clone()
                .or_else(tollgate_engine::default_cache_dir)
        };
        PolicyEngine::new(Limits::default(), dir).map_err(|e| Failure::Internal(e.into()))
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

    pub(crate) fn error(&self) -> &anyhow::Error {
        match self {
            Self::Invalid(e) | Self::Policy(e) | Self::Internal(e) | Self::Audit(e) => e,
        }
    }
}

/// The one mapping of a decision error to the CLI: its exit code and message.
impl From<DecideError> for Failure {
    fn from(error: DecideError) -> Self {
        let message = anyhow::anyhow!("{error}");
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

fn main() -> ExitCode {
    ExitCode::from(run())
}

/// Parses the arguments, runs the command and returns the exit code.
fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout and succeed; usage errors are invalid input.
            let _ = error.print();
            return if error.use_stderr() {
                exit::INVALID_INPUT
            } else {
                exit::APPROVED
            };
        }
    };
    let result = match cli.command {
        Command::Eval(args) => eval::run(&args),
        Command::Policies {
            format,
            cache,
            export,
        } => opa_export::run(format, export.as_deref(), &cache),
        Command::Inspect {
            policy,
            format,
            cache,
        } => inspect::inspect(&policy, format, &cache),
        Command::Manifest(args) => manifest::run(&args),
        Command::Audit(command) => audit::run(&command),
        Command::Report(args) => evidence::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Policy { action } => policy_trust::run(&action),
        Command::Test(args) => test_cases::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Schema => {
            render::emit(&tollgate_manifest::Manifest::json_schema());
            Ok(exit::APPROVED)
        }
    };
    result.unwrap_or_else(|failure| {
        let message = format!("{:#}", failure.error());
        eprintln!("error: {}", tollgate_manifest::mask_secrets(&message));
        failure.exit_code()
    })
}

/// The output path that means standard output.
pub(crate) const STDOUT_PATH: &str = "-";

/// Whether an output path means standard output (`-`).
pub(crate) fn is_stdout(path: &std::path::Path) -> bool {
    path.as_os_str() == STDOUT_PATH
}

/// Writes an output file the user asked for, durably and whole (`tollgate-durable`); `-` is
/// standard output, and a device or FIFO such as `/dev/null` is written in place, never replaced.
pub(crate) fn write_output(path: &std::path::Path, bytes: &[u8]) -> Result<(), Failure> {
    if is_stdout(path) {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(bytes)
            .and_then(|()| stdout.flush())
            .map_err(|e| {
                Failure::Invalid(anyhow::anyhow!("cannot write to standard output: {e}"))
            });
    }
    tollgate_durable::write(path, bytes, tollgate_durable::Access::Shared)
        .map_err(|e| Failure::Invalid(anyhow::anyhow!("cannot write `{}`: {e}", path.display())))
}

/// Parses a point in time as every command accepts it: `YYYY-MM-DD` (the start of that day, UTC)
/// or RFC 3339.
pub(crate) fn parse_instant(
    text: &str,
    flag: &str,
) -> Result<tollgate_manifest::Timestamp, Failure> {
    tollgate_decision_log::parse_date(text, tollgate_decision_log::RangeEnd::Start)
        .map_err(|e| Failure::Invalid(anyhow::anyhow!("invalid `{flag}`: {e}")))
}

/// Checks, before anything is decided or recorded, that an output path can be written: `-`, or a
/// path whose directory exists and which is not itself a directory. `what` names the flag and
/// value as the user typed them.
pub(crate) fn check_output(path: &std::path::Path, what: &str) -> Result<(), Failure> {
    if is_stdout(path) {
        return Ok(());
    }
    if path.is_dir() {
        return Err(Failure::Invalid(anyhow::anyhow!(
            "{what}: `{}` is a directory, not a file",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Failure::Invalid(anyhow::anyhow!(
            "{what}: the directory `{}` does not exist",
            dir.display()
        )));
    }
    Ok(())
}

/// Resolves `--policy` text: a built-in name (any case), or the path of an existing component file.
fn policy_source(text: &str) -> Result<PolicySource, Failure> {
    if let Some(pack) = tollgate_engine::builtin_pack(&text.trim().to_ascii_lowercase()) {
        return Ok(PolicySource::Builtin(pack));
    }
    let path = PathBuf::from(text);
    if path.is_file() {
        return Ok(PolicySource::File(path));
    }
    let names: Vec<&str> = tollgate_engine::builtin_packs()
        .iter()
        .map(|p| p.name)
        .collect();
    Err(Failure::Invalid(anyhow::anyhow!(
        "unknown policy `{text}`: not a built-in policy ({}) and no such file",
        names.join(", ")
    )))
}
