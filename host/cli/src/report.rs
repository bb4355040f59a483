//! `tollgate report`: evidence built from the decision log alone, as HTML, JSON or OSCAL.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use tollgate_decision_log::RangeEnd;
use tollgate_decision_log::config::LOG_ENV;
use tollgate_evidence_report::{ReportOptions, html, to_json, to_oscal_json};
use tollgate_pipeline::exit;

use crate::common::{Failure, check_output, emit, parse_date, parse_instant, write_output};

/// Output of `tollgate report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    /// A self-contained HTML page (inline SVG charts, print style, no network).
    Html,
    /// Tollgate's evidence JSON.
    Json,
    /// OSCAL 1.2 assessment results (JSON).
    Oscal,
}

/// Arguments of `tollgate report`.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Start of the period: `YYYY-MM-DD` (that day included) or RFC 3339 [default: 30 days
    /// before the end, so that the default period is the 30 whole days up to and including
    /// today (UTC)].
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// End of the period: `YYYY-MM-DD` (that day included) or an RFC 3339 instant (excluded)
    /// [default: the end of today (UTC)].
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Only this framework (policy id or framework name; repeatable) [default: all].
    #[arg(long = "framework", value_name = "NAME")]
    frameworks: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ReportFormat::Html)]
    format: ReportFormat,
    /// Where to write the report (`-`: standard output; a device or FIFO is written in place)
    /// [default: standard output].
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Decision log [default: $TOLLGATE_AUDIT_LOG, `audit.log` in `.tollgate/config.yaml`, else
    /// `.tollgate/audit.log` in the project directory].
    #[arg(long, value_name = "FILE", env = LOG_ENV)]
    audit_log: Option<PathBuf>,
    /// A signed checkpoint to verify the log against (recommended: the report states the result).
    #[arg(long, value_name = "FILE")]
    checkpoint: Option<PathBuf>,
    /// Verifier key of the checkpoint [default: `.tollgate/audit.pub`].
    #[arg(long, value_name = "FILE")]
    public_key: Option<PathBuf>,
    /// Environments whose approved changes count as deployments (repeatable).
    #[arg(long = "production", value_name = "ENV", default_values_t = [String::from("production")])]
    production: Vec<String>,
    /// Generation time written in the report (`YYYY-MM-DD` or RFC 3339) [default: now], for
    /// reproducible reports; its day (UTC) is the last of the default period.
    #[arg(long, value_name = "DATE")]
    now: Option<String>,
    /// The organisation's controls mapped onto Tollgate's [default: `.tollgate/crosswalk.yaml`
    /// of the project, if it exists]: each control shows their ids, and the report gains the
    /// results by organisation control.
    #[arg(long, value_name = "FILE")]
    crosswalk: Option<PathBuf>,
}

/// Days a report covers when `--from` is not given.
const DEFAULT_PERIOD_DAYS: i64 = 30;

/// Runs `tollgate report`. Exits 6 (after writing the report) when the log fails verification.
pub(crate) fn run(args: &ReportArgs) -> Result<u8, Failure> {
    let generated_at = match &args.now {
        Some(text) => parse_instant(text, "--now")?,
        None => tollgate_decision_log::now(),
    };
    let to = match &args.to {
        Some(text) => parse_date(text, "--to", RangeEnd::End)?,
        None => end_of_day(generated_at),
    };
    let from = match &args.from {
        Some(text) => parse_date(text, "--from", RangeEnd::Start)?,
        None => tollgate_manifest::Timestamp {
            seconds: to.seconds - DEFAULT_PERIOD_DAYS * 86_400,
            nanoseconds: to.nanoseconds,
        },
    };
    if to <= from {
        return Err(Failure::Invalid(anyhow::anyhow!(
            "`--to` ({to}) is not after `--from` ({from})"
        )));
    }
    if let Some(path) = &args.output {
        check_output(path, &format!("`--output {}`", path.display()))?;
    }
    let project = tollgate_runtime::discover(args.audit_log.as_deref())?;
    let checkpoint = args
        .checkpoint
        .as_deref()
        .map(|path| project.load_checkpoint(path, args.public_key.as_deref()))
        .transpose()?;
    let writers = tollgate_decision_log::Writers::of_project(&project, &[], None)?;
    let verification = tollgate_runtime::read_verified(
        &project,
        checkpoint.as_ref().map(|(c, _)| c),
        writers.as_ref(),
    )?;
    let builtin: Vec<&str> = tollgate_engine::builtin_packs()
        .iter()
        .map(|p| p.name)
        .collect();
    tollgate_evidence_report::check_frameworks(&verification, &args.frameworks, &builtin)
        .map_err(|e| Failure::Invalid(anyhow::anyhow!("invalid `--framework`: {e}")))?;
    let catalogues = builtin_catalogues()?;
    let crosswalk = tollgate_runtime::load_crosswalk(args.crosswalk.as_deref(), &catalogues)?;
    let report = tollgate_evidence_report::build(
        &verification,
        &ReportOptions {
            from,
            to,
            frameworks: args.frameworks.clone(),
            generated_at,
            log_path: project.log_location(),
            checkpoint_key: checkpoint.as_ref().map(|(_, k)| k.name().to_owned()),
            production_environments: args.production.clone(),
            generator: format!("tollgate {}", env!("CARGO_PKG_VERSION")),
            catalogues,
            crosswalk,
        },
    );
    let text = match args.format {
        ReportFormat::Html => html::render(&report),
        ReportFormat::Json => to_json(&report).map_err(|e| Failure::Internal(e.into()))?,
        ReportFormat::Oscal => to_oscal_json(&report).map_err(|e| Failure::Internal(e.into()))?,
    };
    match &args.output {
        Some(path) => write_output(path, text.as_bytes())?,
        None => emit(&text),
    }
    if report.log.intact {
        Ok(exit::APPROVED)
    } else {
        eprintln!("error: {}", report.log.statement);
        for problem in &report.log.problems {
            eprintln!("problem: {problem}");
        }
        Ok(exit::AUDIT_FAILURE)
    }
}

/// The end of `at`'s day (UTC): the next midnight, so that a default period is whole days and
/// reads as dates.
fn end_of_day(at: tollgate_manifest::Timestamp) -> tollgate_manifest::Timestamp {
    const DAY: i64 = 86_400;
    tollgate_manifest::Timestamp {
        seconds: at.seconds - at.seconds.rem_euclid(DAY) + DAY,
        nanoseconds: 0,
    }
}

/// The metadata of the built-in packs: the titles and references of their controls in the report.
fn builtin_catalogues() -> Result<Vec<tollgate_decision::PolicyMetadata>, Failure> {
    let engine = tollgate_engine::PolicyEngine::new(
        tollgate_engine::Limits::default(),
        tollgate_engine::default_cache_dir(),
    )
    .map_err(|e| Failure::Internal(e.into()))?;
    tollgate_runtime::builtin_catalogues(&engine).map_err(|e| Failure::Internal(e.into()))
}
