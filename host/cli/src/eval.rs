//! `tollgate eval`: read the manifest and settings, load the policies, and decide through the
//! gate (evaluate, combine, apply waivers, record durably), then report and map the result to an
//! exit code (fail-closed).

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::Args;
use tollgate_engine::{PolicyEngine, PolicySource};
use tollgate_manifest::{Format, Timestamp};
use tollgate_pipeline::{
    Candidate, Gate, Pipeline, PipelineOptions, PolicyError, SettingsDocument, Submission,
};

use crate::reporting::{self, EvalFormat, ReportArgs};
use crate::{CacheArgs, Failure, policy_source};

/// Arguments of `tollgate eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The change manifest (YAML or JSON), or `-` for standard input.
    manifest: String,
    /// A policy to run: a built-in name (`sox`, `hipaa`, `pci`) or the path of a policy component
    /// (`.wasm`). Repeatable; without it the three built-in policies run.
    #[arg(long = "policy", value_name = "NAME|PATH")]
    policies: Vec<String>,
    /// Settings file (YAML or JSON): a mapping from policy id to that policy's settings object.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Output format on standard output.
    #[arg(long, value_enum, default_value_t = EvalFormat::Text)]
    format: EvalFormat,
    #[command(flatten)]
    reports: ReportArgs,
    /// Evaluation time (RFC 3339) [default: now]. Approvals dated after it do not count.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    audit: crate::audit::EvalAuditArgs,
}

pub(crate) fn run(args: &EvalArgs) -> Result<u8, Failure> {
    // Everything the user gave is checked before any policy runs.
    let (manifest_path, text) = read_manifest(&args.manifest)?;
    let format = Format::detect(manifest_path.as_deref(), &text);
    let now = match &args.now {
        Some(text) => {
            Timestamp::parse(text).map_err(|e| invalid(anyhow!("invalid `--now`: {e}")))?
        }
        None => Timestamp::now(),
    };
    let submission = Submission::parse(
        args.manifest.clone(),
        &format!("manifest {}", label(&args.manifest)),
        text,
        format,
        now,
    )
    .map_err(|e| Failure::Invalid(e.into()))?;
    args.reports.check_outputs()?;
    let options = pipeline_options(args.settings.as_deref(), &args.reports)?;
    let recorder = args.audit.recorder()?;
    let sources = policy_sources(&args.policies)?;
    let engine = args.cache.engine()?;
    let gate = Gate::new(load_pipeline(&engine, sources, options)?, recorder);
    let decided = gate.decide(submission)?;
    for failure in &decided.report().failures {
        eprintln!("error: {failure}");
    }
    reporting::emit(&decided, args.format, &args.reports)?;
    Ok(decided.report().exit_code())
}

/// The policies to run: the `--policy` values, or the built-in packs without any.
pub(crate) fn policy_sources(policies: &[String]) -> Result<Vec<PolicySource>, Failure> {
    if policies.is_empty() {
        Ok(tollgate_engine::builtin_packs()
            .iter()
            .map(PolicySource::Builtin)
            .collect())
    } else {
        policies.iter().map(|p| policy_source(p)).collect()
    }
}

/// The settings file and the waivers, read and checked before any policy runs.
pub(crate) fn pipeline_options(
    settings: Option<&Path>,
    reports: &ReportArgs,
) -> Result<PipelineOptions, Failure> {
    Ok(PipelineOptions {
        settings: settings.map(read_settings).transpose()?,
        waivers: reports.load_waivers()?,
        waivers_file: reports.waivers.as_ref().map(|p| p.display().to_string()),
        service: reports.service.clone(),
    })
}

/// Loads the policies into a pipeline; a policy that cannot be loaded is a failure of every
/// decision, settings are validated once.
pub(crate) fn load_pipeline(
    engine: &PolicyEngine,
    sources: Vec<PolicySource>,
    options: PipelineOptions,
) -> Result<Pipeline, Failure> {
    let candidates = sources
        .into_iter()
        .map(|source| {
            let name = source.name();
            match engine.load(source) {
                Ok(policy) => Candidate::Loaded(Box::new(policy)),
                Err(error) => Candidate::Failed(PolicyError::load(&name, error)),
            }
        })
        .collect();
    Ok(Pipeline::new(candidates, options)?)
}

/// How the manifest argument is named in messages.
fn label(manifest: &str) -> String {
    if manifest == "-" {
        "on standard input".to_owned()
    } else {
        format!("`{manifest}`")
    }
}

fn invalid(error: anyhow::Error) -> Failure {
    Failure::Invalid(error)
}

/// Reads the manifest text; the path is `None` for standard input.
fn read_manifest(arg: &str) -> Result<(Option<PathBuf>, String), Failure> {
    if arg == "-" {
        let text = read_bounded(std::io::stdin().lock(), "the manifest on standard input")?;
        return Ok((None, text));
    }
    let path = PathBuf::from(arg);
    let text = read_text(&path, "manifest")?;
    Ok((Some(path), text))
}

fn read_text(path: &Path, what: &str) -> Result<String, Failure> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("failed to read {what} `{}`", path.display()))
        .map_err(invalid)?;
    read_bounded(file, &format!("{what} `{}`", path.display()))
}

/// Reads at most [`tollgate_manifest::MAX_DOCUMENT_BYTES`] of UTF-8 text: a larger input is
/// rejected without being held in memory.
fn read_bounded(reader: impl Read, what: &str) -> Result<String, Failure> {
    let limit = tollgate_manifest::MAX_DOCUMENT_BYTES;
    let mut bytes = Vec::new();
    reader
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(|| format!("failed to read {what}"))
        .map_err(invalid)?;
    if bytes.len() > limit {
        return Err(invalid(anyhow!(
            "{what} is larger than the {limit}-byte limit"
        )));
    }
    String::from_utf8(bytes).map_err(|e| invalid(anyhow!("{what} is not UTF-8 text: {e}")))
}

/// Reads a settings file: a mapping from policy id to that policy's settings.
fn read_settings(path: &Path) -> Result<SettingsDocument, Failure> {
    let text = read_text(path, "settings")?;
    tollgate_pipeline::parse_settings(
        &text,
        &format!("settings file `{}`", path.display()),
        Format::detect(Some(path), &text),
    )
    .map_err(|e| invalid(e.into()))
}
