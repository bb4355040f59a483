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
    Candidate, Decided, Gate, NoRecord, Pipeline, PipelineOptions, PolicyError, Receipt, Recorder,
    SettingsDocument, Submission, exit,
};

use crate::render;
use crate::reporting::{self, EvalFormat, ReportArgs};
use crate::{CacheArgs, Failure, policy_source};

/// Arguments of `tollgate eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// Change manifests (YAML or JSON), directories of them (`*.yaml`, `*.yml`, `*.json`, searched
    /// recursively), or `-` for standard input. Each is decided and recorded on its own; the exit
    /// code is the strictest.
    #[arg(value_name = "MANIFEST", required = true)]
    manifests: Vec<String>,
    /// Policies to run: built-in names (`sox`, `hipaa`, `pci`, any case) or paths of policy
    /// components (`.wasm`); repeatable or comma-separated. Without it the three built-in
    /// policies run.
    #[arg(long = "policy", value_name = "NAME|PATH", value_delimiter = ',')]
    policies: Vec<String>,
    /// Settings file (YAML or JSON): a mapping from policy id to that policy's settings object.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Output format on standard output.
    #[arg(long, value_enum, ignore_case = true, default_value_t = EvalFormat::Text)]
    format: EvalFormat,
    #[command(flatten)]
    reports: ReportArgs,
    /// Evaluation time (`YYYY-MM-DD` or RFC 3339) [default: now]. Approvals dated after it do not
    /// count.
    #[arg(long, value_name = "DATE")]
    now: Option<String>,
    /// Decides without recording: nothing is appended to the decision log, the output says so,
    /// and the exit code is as usual. A dry run must never gate a deployment.
    #[arg(long)]
    dry_run: bool,
    /// Prints one line per manifest (outcome, exit code, record) instead of the report.
    #[arg(long, short = 'q')]
    quiet: bool,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    audit: crate::audit::EvalAuditArgs,
}

pub(crate) fn run(args: &EvalArgs) -> Result<u8, Failure> {
    // Everything the user gave is checked before any policy runs: every manifest included.
    let now = match &args.now {
        Some(text) => crate::parse_instant(text, "--now")?,
        None => Timestamp::now(),
    };
    let paths = manifest_paths(&args.manifests)?;
    let several = paths.len() > 1;
    if several && !args.reports.outputs.is_empty() {
        return Err(invalid(anyhow!(
            "`--output` writes one report, but {} manifests were given: evaluate them one at a time, or use `--format json` (an array of reports)",
            paths.len()
        )));
    }
    if several && !matches!(args.format, EvalFormat::Text | EvalFormat::Json) {
        return Err(invalid(anyhow!(
            "with several manifests, `--format` must be `text` or `json`"
        )));
    }
    let submissions = paths
        .iter()
        .map(|path| submission(path, now))
        .collect::<Result<Vec<_>, _>>()?;
    args.reports.check_outputs()?;
    let options = pipeline_options(args.settings.as_deref(), &args.reports)?;
    let recorder: Box<dyn Recorder> = if args.dry_run {
        Box::new(NoRecord::new(
            "dry run: nothing was recorded in the decision log; this result must not gate a deployment",
        ))
    } else {
        Box::new(args.audit.recorder()?)
    };
    let sources = policy_sources(&args.policies)?;
    let engine = args.cache.engine()?;
    let gate = Gate::new(load_pipeline(&engine, sources, options)?, recorder);

    let mut exit_code = exit::APPROVED;
    let mut reports = Vec::new();
    for submission in submissions {
        let decided = gate.decide(submission)?;
        let report = decided.report();
        for failure in &report.failures {
            eprintln!("error: {failure}");
        }
        if let Receipt::NotRecorded { reason } = decided.receipt() {
            eprintln!("warning: {reason}");
        }
        exit_code = strictest(exit_code, report.exit_code());
        if args.quiet {
            render::emit(&(summary_line(&decided) + "\n"));
        } else if several && args.format == EvalFormat::Json {
            reports.push(reporting::json_value(report)?);
        } else {
            reporting::emit(&decided, args.format, &args.reports)?;
        }
    }
    if !reports.is_empty() {
        let text =
            serde_json::to_string_pretty(&reports).map_err(|e| Failure::Internal(e.into()))?;
        render::emit(&(text + "\n"));
    }
    Ok(exit_code)
}

/// The stricter of two exit codes of decided runs: policy failure, then denied, then needs
/// approval, then approved.
fn strictest(a: u8, b: u8) -> u8 {
    let rank = |code: u8| match code {
        exit::POLICY_FAILURE => 3,
        exit::DENIED => 2,
        exit::NEEDS_APPROVAL => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// `--quiet`: one line per manifest.
fn summary_line(decided: &Decided) -> String {
    let report = decided.report();
    let record = match decided.receipt() {
        Receipt::Recorded { id, .. } => format!("record {id}"),
        Receipt::NotRecorded { .. } => "NOT RECORDED (dry run)".to_owned(),
    };
    format!(
        "{}: {} (exit {}), {record}",
        report.manifest_path,
        report.verdict().as_str(),
        report.exit_code()
    )
}

/// The manifest files named by the arguments: files as given, directories searched recursively
/// for `*.yaml`, `*.yml` and `*.json` (sorted, hidden entries skipped), `-` for standard input.
fn manifest_paths(arguments: &[String]) -> Result<Vec<String>, Failure> {
    let mut paths = Vec::new();
    for argument in arguments {
        let path = Path::new(argument);
        if argument != "-" && path.is_dir() {
            let before = paths.len();
            collect_manifests(path, &mut paths)?;
            if paths.len() == before {
                return Err(invalid(anyhow!(
                    "directory `{argument}` holds no manifest (`*.yaml`, `*.yml`, `*.json`)"
                )));
            }
        } else {
            paths.push(argument.clone());
        }
    }
    if paths.iter().filter(|p| *p == "-").count() > 1 {
        return Err(invalid(anyhow!(
            "standard input (`-`) can be read only once"
        )));
    }
    Ok(paths)
}

fn collect_manifests(dir: &Path, paths: &mut Vec<String>) -> Result<(), Failure> {
    let mut entries = std::fs::read_dir(dir)
        .and_then(|entries| entries.collect::<Result<Vec<_>, _>>())
        .map_err(|e| invalid(anyhow!("cannot read directory `{}`: {e}", dir.display())))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_manifests(&path, paths)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["yaml", "yml", "json"].contains(&e.to_ascii_lowercase().as_str()))
        {
            paths.push(path.display().to_string());
        }
    }
    Ok(())
}

/// Reads and parses one manifest.
fn submission(argument: &str, now: Timestamp) -> Result<Submission, Failure> {
    let (manifest_path, text) = read_manifest(argument)?;
    let format = Format::detect(manifest_path.as_deref(), &text);
    Submission::parse(
        argument,
        &format!("manifest {}", label(argument)),
        text,
        format,
        now,
    )
    .map_err(|e| Failure::Invalid(e.into()))
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
