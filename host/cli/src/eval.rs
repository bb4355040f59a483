//! `tollgate eval`: read the manifest and settings, load the policies, and decide through the
//! gate (evaluate, combine, apply waivers, record durably), then report and map the result to an
//! exit code (fail-closed).

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use tollgate_crosswalk::Crosswalk;
use tollgate_decision_log::config::LOG_ENV;
use tollgate_manifest::Timestamp;
use tollgate_pipeline::{
    Decided, Gate, NoRecord, Pipeline, Receipt, Recorder, Rejection, Report, exit,
};
use tollgate_report_formats::{ReportFormat, TextStyle};
use tollgate_runtime::{OptionFiles, RecorderOptions, Refusal};

use crate::common::{CacheArgs, Failure, TrustArgs, check_output, emit, is_stdout, parse_instant};

/// Arguments of `tollgate eval`.
#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// Change manifests (YAML or JSON), directories of them (`*.yaml`, `*.yml`, `*.json`, searched
    /// recursively), or `-` for standard input. Each is decided and recorded on its own; the exit
    /// code is the strictest.
    #[arg(value_name = "MANIFEST", required = true)]
    manifests: Vec<String>,
    /// Policies to run: built-in names (`sox`, `hipaa`, `pci`, `fda`, any case) or paths of policy
    /// components (`.wasm`); repeatable or comma-separated. Without it the built-in
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
    audit: EvalAuditArgs,
    #[command(flatten)]
    trust: TrustArgs,
}

pub(crate) fn run(args: &EvalArgs) -> Result<u8, Failure> {
    // Everything the user gave is checked before any policy runs: every manifest included.
    let now = match &args.now {
        Some(text) => parse_instant(text, "--now")?,
        None => Timestamp::now(),
    };
    let paths = tollgate_runtime::manifest_paths(&args.manifests)?;
    let several = paths.len() > 1;
    if several && !args.reports.outputs.is_empty() {
        return Err(Failure::Invalid(anyhow!(
            "`--output` writes one report, but {} manifests were given: evaluate them one at a time, or use `--format json` (an array of reports)",
            paths.len()
        )));
    }
    if several && !matches!(args.format, EvalFormat::Text | EvalFormat::Json) {
        return Err(Failure::Invalid(anyhow!(
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
        match tollgate_runtime::submission(path, now) {
            Ok(submission) => submissions.push(submission),
            Err(refusal) => {
                let Refusal { rejection, error } = *refusal;
                return Err(rejected(rejections, [rejection], error.into()));
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
    let files = OptionFiles {
        settings: args.settings.clone(),
        waivers: args.reports.waivers.clone(),
        service: args.reports.service.clone(),
    };
    let (options, settings_input) = match files.read(now) {
        Ok(options) => options,
        Err(refusal) => {
            let Refusal { rejection, error } = *refusal;
            return Err(rejected(
                rejections,
                for_each_manifest(rejection),
                error.into(),
            ));
        }
    };
    let sources = tollgate_runtime::policy_sources(&args.policies)?;
    let trust = args.trust.trust()?;
    let engine = args.cache.sequential_engine()?;
    let candidates = tollgate_runtime::candidates(&engine, sources, &trust);
    let pipeline = match Pipeline::new(candidates, options) {
        Ok(pipeline) => pipeline,
        Err(error) => {
            let rejection = tollgate_runtime::refused_set(&error, settings_input, now);
            return Err(rejected(
                rejections,
                for_each_manifest(rejection),
                error.into(),
            ));
        }
    };
    let crosswalk = tollgate_runtime::crosswalk_for(&pipeline, args.reports.crosswalk.as_deref())?;
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
        exit_code = tollgate_runtime::strictest(exit_code, report.exit_code());
        if args.quiet {
            emit(&(tollgate_runtime::summary_line(&decided) + "\n"));
        } else if several && args.format == EvalFormat::Json {
            reports.push(
                tollgate_runtime::json_value(report, crosswalk.as_ref())
                    .map_err(|e| Failure::Internal(e.into()))?,
            );
        } else {
            report_out(&decided, args.format, &args.reports, crosswalk.as_ref())?;
        }
    }
    if !reports.is_empty() {
        let text =
            serde_json::to_string_pretty(&reports).map_err(|e| Failure::Internal(e.into()))?;
        emit(&(text + "\n"));
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
    tollgate_runtime::record_refused(recorder, rejections, failure.exit_code());
    failure
}

/// Decision-log options of `tollgate eval`.
#[derive(Debug, Clone, Args)]
pub(crate) struct EvalAuditArgs {
    /// Decision log to append the record to [default: $TOLLGATE_AUDIT_LOG, `audit.log` in
    /// `.tollgate/config.yaml`, else `.tollgate/audit.log` in the project directory]. If the record
    /// cannot be written the evaluation fails with exit code 6.
    #[arg(long, value_name = "FILE", env = LOG_ENV)]
    audit_log: Option<PathBuf>,
    /// A manifest field path to mask in the stored copy, for example `change.approvals[*].by`
    /// (repeatable; adds to `audit.mask` in the configuration). Sensitive-data finding locations
    /// are always masked.
    #[arg(long = "mask", value_name = "PATH")]
    mask: Vec<String>,
    /// When work on the change started (first commit or ticket creation, RFC 3339), for the lead
    /// time of the evidence report.
    #[arg(long, value_name = "RFC3339", env = "TOLLGATE_CHANGE_STARTED_AT")]
    change_started_at: Option<String>,
    /// This writer's seal key (a signing key file): every append is sealed with it, so a role
    /// that can only write the log cannot forge a record that verifies [default:
    /// `audit.writer_key` in the configuration].
    #[arg(long, value_name = "FILE", env = tollgate_runtime::WRITER_KEY_ENV)]
    writer_key: Option<PathBuf>,
}

impl EvalAuditArgs {
    /// The recorder of the project's decision log. Checked before any policy runs.
    fn recorder(&self) -> Result<tollgate_recorder::LogRecorder, Failure> {
        let change_started_at = self
            .change_started_at
            .as_deref()
            .map(|text| parse_instant(text, "--change-started-at"))
            .transpose()?;
        Ok(RecorderOptions {
            audit_log: self.audit_log.clone(),
            mask: self.mask.clone(),
            change_started_at,
            writer_key: self.writer_key.clone(),
        }
        .recorder()?)
    }
}

/// Formats of `tollgate eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EvalFormat {
    /// Human-readable text.
    Text,
    /// Tollgate's stable JSON document.
    Json,
    /// JUnit XML: one test case per control per framework.
    Junit,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// GitHub Actions annotations (and a Markdown job summary in `$GITHUB_STEP_SUMMARY`).
    Github,
    /// GitLab Code Quality report.
    Gitlab,
    /// Markdown summary for a merge-request comment.
    Markdown,
}

impl EvalFormat {
    /// The format's name, as typed in `--format` and `--output FORMAT=FILE`.
    fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }

    fn report_format(self) -> Option<ReportFormat> {
        match self {
            Self::Text => None,
            Self::Json => Some(ReportFormat::Json),
            Self::Junit => Some(ReportFormat::Junit),
            Self::Sarif => Some(ReportFormat::Sarif),
            Self::Github => Some(ReportFormat::Github),
            Self::Gitlab => Some(ReportFormat::Gitlab),
            Self::Markdown => Some(ReportFormat::Markdown),
        }
    }
}

/// A report written to a file: `FORMAT=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutputTarget {
    format: EvalFormat,
    path: PathBuf,
}

fn output_target(text: &str) -> anyhow::Result<OutputTarget> {
    let (format, path) = text.split_once('=').ok_or_else(|| {
        anyhow!("`{text}` is not FORMAT=FILE (for example `sarif=tollgate.sarif`)")
    })?;
    let format = EvalFormat::from_str(format, true).map_err(|_| {
        anyhow!(
            "unknown format `{format}` in `{text}` (text, json, junit, sarif, github, gitlab, markdown)"
        )
    })?;
    if path.is_empty() {
        return Err(anyhow!("`{text}` names no file"));
    }
    Ok(OutputTarget {
        format,
        path: PathBuf::from(path),
    })
}

/// Report files and waivers of `tollgate eval`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReportArgs {
    /// Also writes a report to a file, `FORMAT=FILE` (text, json, junit, sarif, github, gitlab,
    /// markdown); repeatable. Files are written atomically, after the evaluation; a device or FIFO
    /// is written in place. `FORMAT=-` is standard output (the `--format` report then goes to
    /// standard error). Every target's directory is checked before anything is recorded.
    #[arg(long = "output", short = 'o', value_name = "FORMAT=FILE", value_parser = output_target)]
    pub(crate) outputs: Vec<OutputTarget>,
    /// Waivers file (YAML or JSON): documented, approved, expiring exceptions. A matching active
    /// waiver turns a finding into a waived one that no longer blocks.
    #[arg(long, value_name = "FILE")]
    pub(crate) waivers: Option<PathBuf>,
    /// The service being deployed, matched against a waiver's `scope.service`.
    #[arg(long, value_name = "NAME")]
    pub(crate) service: Option<String>,
    /// The organisation's controls mapped onto Tollgate's (YAML or JSON) [default:
    /// `.tollgate/crosswalk.yaml` of the project, if it exists]: every report shows their ids
    /// beside Tollgate's. A control or rule it names that no loaded policy has is an error.
    #[arg(long, value_name = "FILE")]
    pub(crate) crosswalk: Option<PathBuf>,
}

impl ReportArgs {
    /// Checks every `--output` target before anything is decided or recorded: each directory
    /// exists, no target is a directory, and at most one target is standard output (`-`).
    pub(crate) fn check_outputs(&self) -> Result<(), Failure> {
        let mut stdout: Option<&OutputTarget> = None;
        for target in &self.outputs {
            let what = format!(
                "`--output {}={}`",
                target.format.name(),
                target.path.display()
            );
            if is_stdout(&target.path) {
                if let Some(first) = stdout {
                    return Err(Failure::Invalid(anyhow!(
                        "{what}: standard output already carries the {} report (`--output {}=-`); write one of them to a file",
                        first.format.name(),
                        first.format.name()
                    )));
                }
                stdout = Some(target);
            }
            check_output(&target.path, &what)?;
        }
        Ok(())
    }
}

/// Renders one format.
fn render_format(
    report: &Report,
    format: EvalFormat,
    style: TextStyle,
    crosswalk: Option<&Crosswalk>,
) -> Result<String, Failure> {
    tollgate_runtime::render(report, format.report_format(), style, crosswalk)
        .map_err(|e| Failure::Internal(e.into()))
}

/// Writes the `--output` files, then the `--format` report to standard output. With the `github`
/// format, the Markdown summary is also appended to `$GITHUB_STEP_SUMMARY` when it is set.
fn report_out(
    decided: &Decided,
    format: EvalFormat,
    args: &ReportArgs,
    crosswalk: Option<&Crosswalk>,
) -> Result<(), Failure> {
    let report = decided.report();
    let mut stdout_taken = false;
    for target in &args.outputs {
        let text = render_format(report, target.format, TextStyle::plain(), crosswalk)?;
        if is_stdout(&target.path) {
            stdout_taken = true;
            emit(&text);
            continue;
        }
        tollgate_durable::write(
            &target.path,
            text.as_bytes(),
            tollgate_durable::Access::Shared,
        )
        .with_context(|| {
            format!(
                "cannot write the {} report to `{}`",
                target.format.name(),
                target.path.display()
            )
        })
        .map_err(Failure::Invalid)?;
    }
    if format == EvalFormat::Github
        && let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty())
    {
        let markdown = render_format(report, EvalFormat::Markdown, TextStyle::plain(), crosswalk)?;
        tollgate_runtime::append_text(Path::new(&summary), &markdown)
            .with_context(|| format!("cannot append the job summary to `{}`", summary.display()))
            .map_err(Failure::Invalid)?;
    }
    // The text report ends by naming the decision's record.
    let record = if format == EvalFormat::Text {
        tollgate_runtime::record_line(decided) + "\n"
    } else {
        String::new()
    };
    if stdout_taken {
        // Standard output carries the `--output FORMAT=-` document alone.
        eprint!(
            "{}{record}",
            render_format(report, format, TextStyle::plain(), crosswalk)?
        );
    } else {
        emit(&(render_format(report, format, TextStyle::for_stdout(), crosswalk)? + &record));
    }
    Ok(())
}
