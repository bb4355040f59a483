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
    Candidate, DecideError, Decided, Gate, InputError, InputSource, NoRecord, Pipeline,
    PipelineOptions, Receipt, Recorder, Rejection, Submission, exit,
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
    #[command(flatten)]
    trust: crate::policy_trust::TrustArgs,
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
    // Built first: an attempt refused from here on (invalid manifest, invalid settings, refused
    // policy) is put on record before the command reports its error.
    let recorder: Box<dyn Recorder> = if args.dry_run {
        Box::new(NoRecord::new(
            "dry run: nothing was recorded in the decision log; this result must not gate a deployment",
        ))
    } else {
        Box::new(args.audit.recorder()?)
    };
    let rejections = recorder.as_ref();
    let mut submissions = Vec::new();
    for path in &paths {
        match submission(path, now) {
            Ok(submission) => submissions.push(submission),
            Err(refusal) => {
                let (rejection, failure) = *refusal;
                return Err(rejected(rejections, [rejection], failure));
            }
        }
    }
    args.reports.check_outputs()?;
    let for_each_manifest = |rejection: Rejection| -> Vec<Rejection> {
        submissions
            .iter()
            .map(|s| {
                rejection
                    .clone()
                    .with_manifest(&s.manifest_path, Some(s.manifest_text.clone()))
            })
            .collect()
    };
    let (options, settings_input) =
        match pipeline_options(args.settings.as_deref(), &args.reports, now) {
            Ok(options) => options,
            Err(refusal) => {
                let (rejection, failure) = *refusal;
                return Err(rejected(rejections, for_each_manifest(rejection), failure));
            }
        };
    let sources = policy_sources(&args.policies)?;
    let trust = args.trust.trust()?;
    let engine = args.cache.engine()?;
    let pipeline = match Pipeline::new(candidates(&engine, sources, &trust), options) {
        Ok(pipeline) => pipeline,
        Err(error) => {
            let (path, text) = match (&error, settings_input) {
                (DecideError::Policies { failures, .. }, _) => (
                    failures
                        .iter()
                        .map(|f| f.policy.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    None,
                ),
                (_, Some((path, text))) => (path, Some(text)),
                (_, None) => ("options".to_owned(), None),
            };
            let rejection = Rejection::of_error(&error, path, text, now, 0);
            return Err(rejected(
                rejections,
                for_each_manifest(rejection),
                error.into(),
            ));
        }
    };
    let gate = Gate::new(pipeline, recorder);

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

/// Puts attempts refused before any decision on record, with the exit code of `failure`, and
/// returns `failure` unchanged: the command still reports its error with its exit code. A record
/// that cannot be written is a warning (the refusal stands either way).
fn rejected(
    recorder: &dyn Recorder,
    rejections: impl IntoIterator<Item = Rejection>,
    failure: Failure,
) -> Failure {
    for mut rejection in rejections {
        rejection.exit_code = failure.exit_code();
        if let Err(error) = recorder.record_rejected(&rejection) {
            eprintln!("warning: the rejected attempt could not be recorded: {error}");
        }
    }
    failure
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
/// Like Conftest, a directory's files are evaluated only when they are change manifests: a
/// document without a top-level `change` (such as `expected.yaml`) is skipped with a note and
/// not recorded; a file that cannot be read as a document is kept, to be refused as invalid.
fn manifest_paths(arguments: &[String]) -> Result<Vec<String>, Failure> {
    let mut paths = Vec::new();
    for argument in arguments {
        let path = Path::new(argument);
        if argument != "-" && path.is_dir() {
            let before = paths.len();
            collect_manifests(path, &mut paths)?;
            if paths.len() == before {
                return Err(invalid(anyhow!(
                    "directory `{argument}` holds no change manifest (`*.yaml`, `*.yml`, `*.json` with a top-level `change`)"
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
            if is_change_manifest(&path) {
                paths.push(path.display().to_string());
            } else {
                eprintln!(
                    "note: skipped `{}`: not a change manifest (no top-level `change`)",
                    path.display()
                );
            }
        }
    }
    Ok(())
}

/// Whether a file found in a directory is a change manifest: false only for a document that reads
/// as YAML or JSON and is not a mapping with `change`. A file that cannot be read or parsed counts
/// as a manifest, so that it is refused as invalid rather than silently left out.
fn is_change_manifest(path: &Path) -> bool {
    let Ok(text) = read_text(path, "manifest") else {
        return true;
    };
    match tollgate_manifest::decode::<serde_json::Value>(&text, Format::detect(Some(path), &text)) {
        Ok(value) => value.get("change").is_some(),
        Err(_) => true,
    }
}

/// Reads and parses one manifest; a refusal comes with its rejection, to be put on record.
fn submission(argument: &str, now: Timestamp) -> Result<Submission, Refusal> {
    let (manifest_path, text) = read_manifest(argument).map_err(|failure| {
        let error = InputError::new(InputSource::Manifest, format!("{:#}", failure.error()));
        Box::new((Rejection::of_input(&error, argument, None, now, 0), failure))
    })?;
    let format = Format::detect(manifest_path.as_deref(), &text);
    Submission::parse(
        argument,
        &format!("manifest {}", label(argument)),
        text.clone(),
        format,
        now,
    )
    .map_err(|e| {
        let rejection = Rejection::of_input(&e, argument, Some(text), now, 0);
        Box::new((rejection, Failure::Invalid(e.into())))
    })
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

/// Pipeline options and the settings input (path and text) they came from.
pub(crate) type Options = (PipelineOptions, Option<(String, String)>);

/// A refusal before any decision: its rejection (to put on record) and the command's failure.
pub(crate) type Refusal = Box<(Rejection, Failure)>;

/// The settings file and the waivers, read and checked before any policy runs, with the path and
/// text of the settings (to put a later rejection of them on record); a refusal comes with its
/// rejection.
pub(crate) fn pipeline_options(
    settings: Option<&Path>,
    reports: &ReportArgs,
    now: Timestamp,
) -> Result<Options, Refusal> {
    let refusal = |source: InputSource, path: &Path, text: Option<String>, failure: Failure| {
        let error = InputError::new(source, format!("{:#}", failure.error()));
        let rejection = Rejection::of_input(&error, path.display().to_string(), text, now, 0);
        Box::new((rejection, failure))
    };
    let (settings, settings_input) = match settings {
        None => (None, None),
        Some(path) => {
            let text = read_text(path, "settings")
                .map_err(|failure| refusal(InputSource::Settings, path, None, failure))?;
            let document = tollgate_pipeline::parse_settings(
                &text,
                &format!("settings file `{}`", path.display()),
                Format::detect(Some(path), &text),
            )
            .map_err(|e| {
                let rejection =
                    Rejection::of_input(&e, path.display().to_string(), Some(text.clone()), now, 0);
                Box::new((rejection, invalid(e.into())))
            })?;
            (Some(document), Some((path.display().to_string(), text)))
        }
    };
    let waivers = reports.load_waivers().map_err(|failure| {
        let path = reports.waivers.clone().unwrap_or_default();
        let text = std::fs::read_to_string(&path).ok();
        refusal(InputSource::Waivers, &path, text, failure)
    })?;
    let options = PipelineOptions {
        settings,
        waivers,
        waivers_file: reports.waivers.as_ref().map(|p| p.display().to_string()),
        service: reports.service.clone(),
    };
    Ok((options, settings_input))
}

/// The candidates of a pipeline, under `trust`: a policy that cannot be loaded, or is refused by
/// the trust (unsigned, altered, untrusted), is a failure of every decision.
/// Loads the policies in parallel, one thread each (compilation on a cold cache, reading and
/// checking cached compilations otherwise), in the order given.
pub(crate) fn candidates(
    engine: &PolicyEngine,
    sources: Vec<PolicySource>,
    trust: &crate::policy_trust::Trust,
) -> Vec<Candidate> {
    if sources.len() < 2 {
        return sources
            .into_iter()
            .map(|source| trust.load(engine, source))
            .collect();
    }
    std::thread::scope(|scope| {
        let loading: Vec<_> = sources
            .into_iter()
            .map(|source| {
                let name = source.name();
                let handle = scope.spawn(move || trust.load(engine, source));
                (name, handle)
            })
            .collect();
        loading
            .into_iter()
            .map(|(name, handle)| {
                handle.join().unwrap_or_else(|_| {
                    Candidate::Failed(tollgate_pipeline::PolicyError::load(
                        &name,
                        "loading the policy panicked",
                    ))
                })
            })
            .collect()
    })
}

/// Loads the policies into a pipeline; a policy that cannot be loaded is a failure of every
/// decision, settings are validated once.
pub(crate) fn load_pipeline(
    engine: &PolicyEngine,
    sources: Vec<PolicySource>,
    options: PipelineOptions,
    trust: &crate::policy_trust::Trust,
) -> Result<Pipeline, Failure> {
    Ok(Pipeline::new(candidates(engine, sources, trust), options)?)
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
