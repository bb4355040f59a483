//! `tollgate bench`: times policies on a manifest, like `kwctl bench`: each policy's load (compiled,
//! or read from the cache), then many evaluations in the sandboxed engine, with statistics per call.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tollgate_engine::Isolation;
use tollgate_manifest::Timestamp;
use tollgate_pipeline::exit;

use crate::common::{CacheArgs, Failure, OutputFormat, emit, parse_instant, pretty};

/// Arguments of `tollgate bench`.
#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// The change manifest (YAML or JSON) to evaluate.
    #[arg(value_name = "MANIFEST")]
    manifest: PathBuf,
    /// Policies to time: built-in names or paths of policy components; repeatable or
    /// comma-separated [default: the built-in policies].
    #[arg(long = "policy", value_name = "NAME|PATH", value_delimiter = ',')]
    policies: Vec<String>,
    /// Settings file (YAML or JSON): a mapping from policy id to that policy's settings object.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Timed evaluations per policy, after as many untimed warm-up ones as a tenth of it.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    iterations: u32,
    /// How evaluations are isolated: `fresh` (a new instance each, as `eval` does) or `reused`
    /// (one instance kept and reset between evaluations).
    #[arg(long, value_enum, ignore_case = true, default_value_t = IsolationArg::Fresh)]
    isolation: IsolationArg,
    /// Evaluation time (`YYYY-MM-DD` or RFC 3339) [default: now].
    #[arg(long, value_name = "DATE")]
    now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    #[command(flatten)]
    cache: CacheArgs,
}

/// `--isolation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum IsolationArg {
    /// A fresh instance per evaluation.
    Fresh,
    /// One instance per policy, reset between evaluations.
    Reused,
}

/// Runs `tollgate bench`: exit 0 once every policy was timed, 2 for invalid input, 5 when a
/// policy cannot be loaded or fails to evaluate.
pub(crate) fn run(args: &BenchArgs) -> Result<u8, Failure> {
    let now = match &args.now {
        Some(text) => parse_instant(text, "--now")?,
        None => Timestamp::now(),
    };
    let manifest = tollgate_runtime::read_manifest(&args.manifest)?;
    let settings = tollgate_runtime::read_settings(args.settings.as_deref())?;
    let names = if args.policies.is_empty() {
        tollgate_engine::builtin_packs()
            .iter()
            .map(|p| p.name.to_owned())
            .collect()
    } else {
        args.policies.clone()
    };
    let bench = tollgate_runtime::Bench {
        manifest: &manifest,
        settings: &settings,
        now,
        iterations: args.iterations,
        isolation: match args.isolation {
            IsolationArg::Fresh => Isolation::Fresh,
            IsolationArg::Reused => Isolation::Reused,
        },
    };
    let timings = bench.run(&args.cache.engine()?, &names)?;
    let text = match args.format {
        OutputFormat::Json => pretty(&timings)?,
        OutputFormat::Text => tollgate_runtime::timings_text(
            &timings,
            match args.isolation {
                IsolationArg::Fresh => "fresh instance per evaluation",
                IsolationArg::Reused => "instance reused between evaluations",
            },
        ),
    };
    emit(&text);
    Ok(exit::APPROVED)
}
