//! `tollgate test DIR`: runs golden case files (the format of `policies/<name>/tests/cases/`)
//! against any policy, built-in or a component file, like `opa test` and `conftest verify`.
//! Each case is evaluated in the sandboxed engine, its decision checked against the policy
//! contract and against the case's expectations.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;
use tollgate_cases::{Case, check};
use tollgate_decision::{Decision, EvalError};
use tollgate_engine::{LoadedPolicy, PolicySource};
use tollgate_pipeline::{PolicyFailure, contract, exit};

use crate::{CacheArgs, Failure, OutputFormat, policy_source, render};

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
    #[command(flatten)]
    cache: CacheArgs,
}

/// One case's result.
#[derive(Debug, Serialize)]
struct CaseResult {
    file: String,
    description: String,
    passed: bool,
    problems: Vec<String>,
}

/// Runs `tollgate test`: exit 0 when every case passes, 4 when any fails, 2 for unreadable or
/// invalid case files, 5 when the policy cannot be loaded.
pub(crate) fn run(args: &TestArgs) -> Result<u8, Failure> {
    let files = case_files(&args.paths)?;
    let source = match &args.policy {
        Some(text) => policy_source(text)?,
        None => infer_policy(&args.paths)?,
    };
    let name = source.name();
    let engine = args.cache.engine()?;
    let policy = engine
        .load(source)
        .map_err(|e| Failure::Policy(anyhow!("policy `{name}` could not be loaded: {e}")))?;
    let mut results = Vec::new();
    for file in &files {
        let case = Case::load(file).map_err(|e| Failure::Invalid(e.into()))?;
        let problems = match run_case(&policy, &case) {
            Ok(()) => Vec::new(),
            Err(problems) => problems.lines().map(str::to_owned).collect(),
        };
        results.push(CaseResult {
            file: file.display().to_string(),
            description: case.description.trim().to_owned(),
            passed: problems.is_empty(),
            problems,
        });
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    match args.format {
        OutputFormat::Json => {
            let text =
                serde_json::to_string_pretty(&results).map_err(|e| Failure::Internal(e.into()))?;
            render::emit(&(text + "\n"));
        }
        OutputFormat::Text => {
            let mut text = String::new();
            for result in &results {
                let mark = if result.passed { "PASS" } else { "FAIL" };
                let _ = writeln!(
                    text,
                    "{mark} - {} - {}",
                    result.file,
                    first_line(&result.description)
                );
                for problem in &result.problems {
                    let _ = writeln!(text, "    {problem}");
                }
            }
            let _ = writeln!(
                text,
                "\n{} tests, {} passed, {failed} failed (policy `{}` {})",
                results.len(),
                results.len() - failed,
                policy.metadata().id,
                policy.digest()
            );
            render::emit(&text);
        }
    }
    Ok(if failed == 0 {
        exit::APPROVED
    } else {
        exit::DENIED
    })
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Evaluates one case as a host would: settings validated, manifest evaluated, the decision
/// checked against the policy contract, then against the expectations.
fn run_case(policy: &LoadedPolicy, case: &Case) -> Result<(), String> {
    let manifest = case.manifest()?;
    let settings = case.settings_json();
    let decided = policy
        .validate_settings(&settings)
        .and_then(|()| policy.evaluate(&manifest, &settings, case.now))
        .and_then(|decision| {
            contract::check_decision(policy.metadata(), &decision).map(|()| decision)
        });
    let result: Result<Decision, EvalError> = match decided {
        Ok(decision) => Ok(decision),
        Err(PolicyFailure::Eval(error)) => Err(error),
        // A trap, timeout, limit or broken contract fails the case whatever it expects.
        Err(failure) => return Err(format!("the policy {failure}")),
    };
    check(case, policy.metadata(), &result)
}

/// The case files named by the arguments: `*.yaml`/`*.yml` of directories (sorted), and files.
fn case_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            files.extend(
                tollgate_cases::case_files_in(path).map_err(|e| Failure::Invalid(e.into()))?,
            );
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(Failure::Invalid(anyhow!(
                "`{}` is neither a directory of case files nor a case file",
                path.display()
            )));
        }
    }
    if files.is_empty() {
        return Err(Failure::Invalid(anyhow!("no case file (`*.yaml`) found")));
    }
    Ok(files)
}

/// The built-in policy whose name is a component of the case directory's path.
fn infer_policy(paths: &[PathBuf]) -> Result<PolicySource, Failure> {
    let named: Vec<&'static tollgate_engine::BuiltinPack> = tollgate_engine::builtin_packs()
        .iter()
        .filter(|pack| {
            paths
                .iter()
                .any(|p| absolute(p).components().any(|c| c.as_os_str() == pack.name))
        })
        .collect();
    match named.as_slice() {
        [pack] => Ok(PolicySource::Builtin(pack)),
        _ => Err(Failure::Invalid(anyhow!(
            "name the policy under test with `--policy NAME|PATH` (no single built-in policy is named in the cases' path)"
        ))),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
