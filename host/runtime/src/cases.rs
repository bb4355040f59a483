//! Golden case files (the format of `policies/<name>/tests/cases/`) run against any policy,
//! built-in or a component file, as `tollgate test` runs them: each case evaluated in the
//! sandboxed engine, its decision checked against the policy contract, then against the case.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tollgate_cases::{Case, check};
use tollgate_decision::{Decision, EvalError};
use tollgate_engine::{LoadedPolicy, PolicyEngine, PolicySource};
use tollgate_pipeline::{PolicyFailure, contract};

use crate::RuntimeError;

/// One case's result.
#[derive(Debug, Serialize)]
pub struct CaseResult {
    /// The case file.
    pub file: String,
    /// Its description.
    pub description: String,
    /// Whether it passed.
    pub passed: bool,
    /// Why not, one problem a line.
    pub problems: Vec<String>,
    /// With tracing on: what the pack wrote to stdout and stderr during the case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// The results of a run, and the policies run (`` `id` digest ``).
#[derive(Debug, Default)]
pub struct CaseRun {
    /// Every case's result, in order.
    pub results: Vec<CaseResult>,
    /// The policies under test.
    pub policies: Vec<String>,
}

/// Runs the case files of `paths` (directories searched recursively) against `policy`, or
/// without it against the built-in policy named in each case file's path.
pub fn run_cases(
    engine: &PolicyEngine,
    paths: &[PathBuf],
    policy: Option<&str>,
) -> Result<CaseRun, RuntimeError> {
    let files = case_files(paths)?;
    let groups: Vec<(PolicySource, Vec<PathBuf>)> = match policy {
        Some(text) => vec![(crate::policy_source(text)?, files)],
        None => group_by_policy(files)?,
    };
    let mut run = CaseRun::default();
    for (source, files) in groups {
        let policy = crate::load(engine, source)?;
        for file in &files {
            let case = Case::load(file)?;
            let problems = run_case(&policy, &case);
            run.results.push(CaseResult {
                file: file.display().to_string(),
                description: case.description.trim().to_owned(),
                passed: problems.is_empty(),
                problems,
                trace: policy.take_trace(),
            });
        }
        run.policies
            .push(format!("`{}` {}", policy.metadata().id, policy.digest()));
    }
    Ok(run)
}

/// Evaluates one case as a host would: settings validated, manifest evaluated, the decision
/// checked against the policy contract, then against the expectations. Returns the problems.
fn run_case(policy: &LoadedPolicy, case: &Case) -> Vec<String> {
    let lines = |text: String| text.lines().map(str::to_owned).collect();
    let manifest = match case.manifest() {
        Ok(manifest) => manifest,
        Err(problem) => return lines(problem.to_string()),
    };
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
        Err(failure) => return vec![format!("the policy {failure}")],
    };
    check(case, policy.metadata(), &result)
        .err()
        .map(|mismatch| lines(mismatch.to_string()))
        .unwrap_or_default()
}

/// The case files named by the arguments: `*.yaml`/`*.yml` of directories and their
/// subdirectories (sorted, hidden entries skipped), and files.
fn case_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, RuntimeError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            collect_cases(path, &mut files)?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(RuntimeError::NotCases(path.clone()));
        }
    }
    if files.is_empty() {
        return Err(RuntimeError::NoCases);
    }
    Ok(files)
}

/// The case files of a directory, then of its subdirectories, each in name order.
fn collect_cases(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), RuntimeError> {
    files.extend(tollgate_cases::case_files_in(dir)?);
    let mut subdirectories: Vec<PathBuf> = std::fs::read_dir(dir)
        .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
        .map_err(|source| RuntimeError::ReadDir {
            path: dir.to_path_buf(),
            source,
        })?
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
fn group_by_policy(files: Vec<PathBuf>) -> Result<Vec<(PolicySource, Vec<PathBuf>)>, RuntimeError> {
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
fn infer_policy(file: &Path) -> Result<&'static tollgate_engine::BuiltinPack, RuntimeError> {
    let absolute = absolute(file);
    let named: Vec<&'static tollgate_engine::BuiltinPack> = tollgate_engine::builtin_packs()
        .iter()
        .filter(|pack| absolute.components().any(|c| c.as_os_str() == pack.name))
        .collect();
    match named.as_slice() {
        [pack] => Ok(pack),
        _ => Err(RuntimeError::NoPolicyInPath(file.to_path_buf())),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
