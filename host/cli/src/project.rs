//! The project's decision log as commands use it: discovery, the one mapping of its errors to
//! exit codes, reading it verified, and the dates commands accept.

use std::path::Path;

use anyhow::{Context, anyhow};
use tollgate_decision_log::{Project, ProjectError, RangeEnd, Verification};
use tollgate_manifest::Timestamp;

use crate::Failure;

/// The exit code when the decision log cannot be written or read, or fails verification.
pub(crate) use tollgate_pipeline::exit::AUDIT_FAILURE;

/// The project of the working directory, with the log the flag names (if any): a file, or a
/// PostgreSQL database for a `postgres://` URL (connected at first use).
pub(crate) fn discover(log: Option<&Path>) -> Result<Project, Failure> {
    let cwd = std::env::current_dir()
        .context("cannot read the current directory")
        .map_err(Failure::Internal)?;
    let project = Project::discover(&cwd, log).map_err(project_failure)?;
    if !project.log_is_database() {
        return Ok(project);
    }
    let store = open_database(&project.log.to_string_lossy())?;
    Ok(project.with_store(store))
}

/// The decision log in the database of `url`.
pub(crate) fn open_database(url: &str) -> Result<tollgate_decision_log::AuditLog, Failure> {
    let log = tollgate_decision_log_postgres::PostgresLog::open(url)
        .map_err(|e| Failure::Invalid(anyhow!("{e}")))?;
    Ok(tollgate_decision_log::AuditLog::from_store(
        std::sync::Arc::new(log),
    ))
}

/// The one mapping of a project error to the CLI.
pub(crate) fn project_failure(error: ProjectError) -> Failure {
    let message = anyhow!("{error}");
    match error {
        ProjectError::Invalid(_) => Failure::Invalid(message),
        ProjectError::Untrusted(_) => Failure::Audit(message),
        ProjectError::Write { .. } => Failure::Internal(message),
    }
}

pub(crate) fn audit_failure(error: impl Into<anyhow::Error>) -> Failure {
    Failure::Audit(error.into())
}

/// Parses a `--from`/`--to` date.
pub(crate) fn parse_date(text: &str, flag: &str, end: RangeEnd) -> Result<Timestamp, Failure> {
    tollgate_decision_log::parse_date(text, end)
        .map_err(|e| Failure::Invalid(anyhow!("invalid `{flag}`: {e}")))
}

pub(crate) fn read_log(setup: &Project) -> Result<Verification, Failure> {
    let log = setup.audit_log();
    if !log.exists().map_err(audit_failure)? {
        return Err(audit_failure(anyhow!(
            "the audit log `{}` does not exist",
            log.location()
        )));
    }
    let writers =
        tollgate_decision_log::Writers::of_project(setup, &[], None).map_err(project_failure)?;
    log.verify_sealed(None, writers.as_ref())
        .map_err(audit_failure)
}

pub(crate) fn print_problems(verification: &Verification) {
    for problem in &verification.problems {
        eprintln!("problem: {problem}");
    }
}
