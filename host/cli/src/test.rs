//! `tollgate test DIR`: runs golden case files (the format of `policies/<name>/tests/cases/`)
//! against any policy, built-in or a component file, like `opa test` and `conftest verify`.
//! Each case is evaluated in the sandboxed engine, its decision checked against the policy
//! contract and against the case's expectations.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use tollgate_pipeline::exit;

use crate::common::{CacheArgs, Failure, OutputFormat, emit, pretty};

/// Arguments of `tollgate test`.
#[derive(Debug, Args)]
pub(crate) struct TestArgs {
    /// A directory of case files (`*.yaml`), or case files.
    #[arg(value_name = "DIR|FILE", required = true)]
    paths: Vec<PathBuf>,
    /// The policy under test: a built-in name or the path of a policy component [default: the
    /// built-in policy named in the directory's path, as in `policies/sox/tests/cases`].
    #[arg(long, value_name = "NAME|PATH")]
    policy: Option<String>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Show what the pack writes to stdout and stderr under each case. A pack built for debugging
    /// may then import WASI (componentize-js with `stdio`, componentize-py without `--stub-wasi`):
    /// a closed WASI, without files, environment, arguments or network. Never for a gate: `eval`
    /// and `serve` refuse such a pack.
    #[arg(long)]
    trace: bool,
    #[command(flatten)]
    cache: CacheArgs,
}

/// Runs `tollgate test`: exit 0 when every case passes, 4 when any fails, 2 for unreadable or
/// invalid case files, 5 when a policy cannot be loaded. Without `--policy`, each case runs
/// against the built-in policy named in its own path (`tollgate test policies/` runs every
/// policy's cases against that policy).
pub(crate) fn run(args: &TestArgs) -> Result<u8, Failure> {
    let mut engine = args.cache.engine()?;
    engine.set_trace(args.trace);
    let tollgate_runtime::CaseRun { results, policies } =
        tollgate_runtime::run_cases(&engine, &args.paths, args.policy.as_deref())?;
    let failed = results.iter().filter(|r| !r.passed).count();
    match args.format {
        OutputFormat::Json => {
            emit(&pretty(&results)?);
        }
        OutputFormat::Text => {
            let mut text = String::new();
            for result in &results {
                let mark = if result.passed { "PASS" } else { "FAIL" };
                let _ = writeln!(
                    text,
                    "{mark} - {} - {}",
                    result.file,
                    result.description.lines().next().unwrap_or_default()
                );
                for problem in &result.problems {
                    let _ = writeln!(text, "    {problem}");
                }
                if let Some(output) = result.trace.as_deref().filter(|o| !o.is_empty()) {
                    let _ = writeln!(text, "    output of the pack:");
                    for line in output.lines() {
                        let _ = writeln!(text, "    | {line}");
                    }
                }
            }
            let _ = writeln!(
                text,
                "\n{} tests, {} passed, {failed} failed ({} {})",
                results.len(),
                results.len() - failed,
                if policies.len() == 1 {
                    "policy"
                } else {
                    "policies"
                },
                policies.join(", ")
            );
            emit(&text);
        }
    }
    Ok(if failed == 0 {
        exit::APPROVED
    } else {
        exit::DENIED
    })
}
