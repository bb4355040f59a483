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
/// invalid case files, 5 when a policy cannot be loaded. Without `--policy`, each case runs
/// against the built-in policy named in its own path (`tollgate test policies/` runs every
/// policy's cases against that policy).
pub(crate) fn run(args: &TestArgs) -> Result<u8, Failure> {
    let files = case_files(&args.paths)?;
    let groups: Vec<(PolicySource, Vec<PathBuf>)> = match &args.policy {
        Some(text) => vec![(policy_source(text)?, files)],
        None => group_by_policy(files)?,
    };
    let engine = args.cache.engine()?;
    let mut results = Vec::new();
    let mut policies = Vec::new();
    for (source, files) in groups {
        let name = source.name();
        let policy = engine
            .load(source)
            .map_err(|e| Failure::Policy(anyhow!("policy `{name}` could not be loaded: {e}")))?;
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
        policies.push(format!("`{}` {}", policy.metadata().id, policy.digest()));
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

/// The case files named by the arguments: `*.yaml`/`*.yml` of directories and their
/// subdirectories (sorted, hidden entries skipped), and files.
fn case_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_cases(path, &mut files)?;
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

/// The case files of a directory, then of its subdirectories, each in name order.
fn collect_cases(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), Failure> {
    files.extend(tollgate_cases::case_files_in(dir).map_err(|e| Failure::Invalid(e.into()))?);
    let mut subdirectories: Vec<PathBuf> = std::fs::read_dir(dir)
        .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Failure::Invalid(anyhow!("cannot read directory `{}`: {e}", dir.display())))?
        .into_iter()
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    subdirectories.sort();
    for subdirectory in subdirectories {
        collect_cases(&subdirectory, files)?;
    }
    Ok(())
}

/// The case files grouped by the built-in policy named in each one's path, in first-seen order.
fn group_by_policy(files: Vec<PathBuf>) -> Result<Vec<(PolicySource, Vec<PathBuf>)>, Failure> {
    let mut groups: Vec<(&'static tollgate_engine::BuiltinPack, Vec<PathBuf>)> = Vec::new();
    for file in files {
        let pack = infer_policy(&file)?;
        match groups.iter_mut().find(|(p, _)| p.name == pack.name) {
            Some((_, files)) => files.push(file),
            None => groups.push((pack, vec![file])),
        }
    }
    Ok(groups
        .into_iter()
        .map(|(pack, files)| (PolicySource::Builtin(pack), files))
        .collect())
}

/// The built-in policy whose name is a component of a case file's path.
fn infer_policy(file: &Path) -> Result<&'static tollgate_engine::BuiltinPack, Failure> {
    let absolute = absolute(file);
    let named: Vec<&'static tollgate_engine::BuiltinPack> = tollgate_engine::builtin_packs()
        .iter()
        .filter(|pack| absolute.components().any(|c| c.as_os_str() == pack.name))
        .collect();
    match named.as_slice() {
        [pack] => Ok(pack),
        _ => Err(Failure::Invalid(anyhow!(
            "name the policy under test with `--policy NAME|PATH` (no single built-in policy is named in the path of `{}`)",
            file.display()
        ))),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
