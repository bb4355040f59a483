//! Report formats of `tollgate eval` (`--format`, `--output FORMAT=FILE`) and waivers (`--waivers`),
//! on top of `tollgate-report-formats` and `tollgate-waivers`. Waivers are applied after the (pure)
//! policies decide; the decisions themselves are never changed.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use tollgate_pipeline::{Decided, Receipt, Report};
use tollgate_report_formats::ReportFormat;
use tollgate_waivers::WaiverSet;

use crate::Failure;
use crate::render;

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

fn output_target(text: &str) -> Result<OutputTarget, String> {
    let (format, path) = text.split_once('=').ok_or_else(|| {
        format!("`{text}` is not FORMAT=FILE (for example `sarif=tollgate.sarif`)")
    })?;
    let format = EvalFormat::from_str(format, true).map_err(|_| {
        format!(
            "unknown format `{format}` in `{text}` (text, json, junit, sarif, github, gitlab, markdown)"
        )
    })?;
    if path.is_empty() {
        return Err(format!("`{text}` names no file"));
    }
    Ok(OutputTarget {
        format,
        path: PathBuf::from(path),
    })
}

impl ReportArgs {
    /// Waivers and the default service only, without report files: for `tollgate serve`.
    pub(crate) fn waivers_only(waivers: Option<PathBuf>, service: Option<String>) -> Self {
        Self {
            outputs: Vec::new(),
            waivers,
            service,
        }
    }
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
            if crate::is_stdout(&target.path) {
                if let Some(first) = stdout {
                    return Err(Failure::Invalid(anyhow!(
                        "{what}: standard output already carries the {} report (`--output {}=-`); write one of them to a file",
                        first.format.name(),
                        first.format.name()
                    )));
                }
                stdout = Some(target);
            }
            crate::check_output(&target.path, &what)?;
        }
        Ok(())
    }

    /// Reads the waivers file, if any. An unreadable or unparsable file is invalid input; single
    /// malformed waivers are not (they are reported and never apply).
    pub(crate) fn load_waivers(&self) -> Result<Option<WaiverSet>, Failure> {
        let Some(path) = &self.waivers else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read waivers `{}`", path.display()))
            .map_err(Failure::Invalid)?;
        WaiverSet::parse(&text, &path.display().to_string())
            .map(Some)
            .map_err(|e| Failure::Invalid(anyhow!(e)))
    }
}

/// The stable JSON report as a value, for an array of reports.
pub(crate) fn json_value(report: &Report) -> Result<serde_json::Value, Failure> {
    let text = render_format(report, EvalFormat::Json, render::Style::plain())?;
    serde_json::from_str(&text).map_err(|e| Failure::Internal(e.into()))
}

/// Renders one format.
fn render_format(
    report: &Report,
    format: EvalFormat,
    style: render::Style,
) -> Result<String, Failure> {
    match format.report_format() {
        None => Ok(render::text(report, style)),
        Some(format) => tollgate_report_formats::render(format, &report.view())
            .map_err(|e| Failure::Internal(anyhow!(e))),
    }
}

/// Writes the `--output` files, then the `--format` report to standard output. With the `github`
/// format, the Markdown summary is also appended to `$GITHUB_STEP_SUMMARY` when it is set.
pub(crate) fn emit(
    decided: &Decided,
    format: EvalFormat,
    args: &ReportArgs,
) -> Result<(), Failure> {
    let report = decided.report();
    let mut stdout_taken = false;
    for target in &args.outputs {
        let text = render_format(report, target.format, render::Style::plain())?;
        if crate::is_stdout(&target.path) {
            stdout_taken = true;
            render::emit(&text);
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
        let markdown = tollgate_report_formats::markdown(&report.view());
        append(Path::new(&summary), &markdown)
            .with_context(|| format!("cannot append the job summary to `{}`", summary.display()))
            .map_err(Failure::Invalid)?;
    }
    // The text report ends by naming the decision's record.
    let record = if format == EvalFormat::Text {
        record_line(decided) + "\n"
    } else {
        String::new()
    };
    if stdout_taken {
        // Standard output carries the `--output FORMAT=-` document alone.
        eprint!(
            "{}{record}",
            render_format(report, format, render::Style::plain())?
        );
    } else {
        render::emit(&(render_format(report, format, render::Style::detect())? + &record));
    }
    Ok(())
}

/// Where the decision's record is, in words.
fn record_line(decided: &Decided) -> String {
    match decided.receipt() {
        Receipt::Recorded { id, log, .. } => format!("Decision record: {id} in `{log}`"),
        Receipt::NotRecorded { reason } => format!("Decision record: NONE ({reason})"),
    }
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}
