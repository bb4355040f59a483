//! `tollgate`: evaluates a change manifest with the built-in policy components (SOX, HIPAA, PCI DSS,
//! FDA 21 CFR Part 11) or any other policy component and exits with a code that a pipeline can
//! gate on (see [`tollgate_pipeline::exit`]). This file parses and dispatches; each command is one
//! module, over the host library `tollgate-runtime` (policy sets, trust, recorder, the decision
//! log), the pipeline, the engine and the gateway; what commands share is in `common`.

mod audit;
mod bench;
mod common;
mod eval;
mod inspect;
mod manifest;
mod new;
mod policies;
mod policy;
mod replay;
mod report;
mod serve;
mod test;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tollgate_pipeline::exit;

use common::{CacheArgs, OutputFormat};

/// jemalloc instead of glibc's malloc: under load the gateway's many small, short-lived
/// allocations (requests, decisions, records), made on one thread and freed on another, spent a
/// fifth of its CPU in glibc's arenas.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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
        #[arg(long, value_enum, ignore_case = true, default_value_t = policies::PoliciesFormat::Text)]
        format: policies::PoliciesFormat,
        #[command(flatten)]
        cache: CacheArgs,
        /// Also writes each built-in component to DIR as `<id>.wasm`, for other component hosts
        /// (jco, wasmtime-py, ...); with `--format opa-wasm|opa-bundle`, the OPA artifacts instead.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
    /// Prints a policy's metadata, control catalogue, digest, size, imports and exports.
    Inspect {
        /// A built-in policy name (`sox`, `hipaa`, `pci`, `fda`) or the path of a policy component.
        policy: String,
        /// Output format.
        #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Writes a new policy project (Rust, JavaScript or Python).
    New {
        #[command(subcommand)]
        what: new::NewCommand,
    },
    /// Signs policy components and verifies their signatures (Ed25519, DSSE envelopes); makes
    /// components of core modules.
    Policy {
        #[command(subcommand)]
        action: policy::PolicyAction,
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
    Report(Box<report::ReportArgs>),
    /// Re-decides logged changes with another policy set, settings or waivers and shows what would
    /// change (read-only: the log is verified first and nothing is recorded).
    Replay(Box<replay::ReplayArgs>),
    /// Checks manifests, settings, waivers and configuration files without deciding anything.
    Validate(validate::ValidateArgs),
    /// Runs golden case files against a policy (built-in or a component file), like `opa test`.
    Test(test::TestArgs),
    /// Times policies on a manifest: load, then many evaluations, with statistics per call.
    Bench(Box<bench::BenchArgs>),
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
        } => policies::run(format, export.as_deref(), &cache),
        Command::Inspect {
            policy,
            format,
            cache,
        } => inspect::inspect(&policy, format, &cache),
        Command::Manifest(args) => manifest::run(&args),
        Command::Audit(command) => audit::run(&command),
        Command::Report(args) => report::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Policy { action } => policy::run(&action),
        Command::New { what } => new::run(&what),
        Command::Test(args) => test::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Schema => {
            common::emit(&tollgate_manifest::Manifest::json_schema());
            Ok(exit::APPROVED)
        }
    };
    result.unwrap_or_else(|failure| {
        eprintln!(
            "error: {}",
            tollgate_manifest::mask_secrets(&failure.text())
        );
        failure.exit_code()
    })
}
