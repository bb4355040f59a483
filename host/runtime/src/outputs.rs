//! A decided report as hosts show it: rendered in a report format or as text, the line naming
//! its record, the one-line summary, and the strictest exit code of several.

use std::io::Write as _;
use std::path::Path;

use tollgate_crosswalk::Crosswalk;
use tollgate_pipeline::{Decided, Receipt, Report, exit};
use tollgate_report_formats::{ReportFormat, TextStyle};

use crate::RuntimeError;

/// Renders a report in `format`, or as text (in `style`) without one; with a crosswalk, the
/// organisation's control ids beside Tollgate's.
pub fn render(
    report: &Report,
    format: Option<ReportFormat>,
    style: TextStyle,
    crosswalk: Option<&Crosswalk>,
) -> Result<String, RuntimeError> {
    let mut view = report.view();
    view.crosswalk = crosswalk;
    match format {
        None => Ok(tollgate_report_formats::text(&view, style)),
        Some(format) => Ok(tollgate_report_formats::render(format, &view)?),
    }
}

/// The stable JSON report as a value, for an array of reports.
pub fn json_value(
    report: &Report,
    crosswalk: Option<&Crosswalk>,
) -> Result<serde_json::Value, RuntimeError> {
    let text = render(
        report,
        Some(ReportFormat::Json),
        TextStyle::plain(),
        crosswalk,
    )?;
    serde_json::from_str(&text).map_err(RuntimeError::Json)
}

/// Where the decision's record is, in words.
pub fn record_line(decided: &Decided) -> String {
    match decided.receipt() {
        Receipt::Recorded { id, log, .. } => format!("Decision record: {id} in `{log}`"),
        Receipt::NotRecorded { reason } => format!("Decision record: NONE ({reason})"),
    }
}

/// One line for a decided manifest: path, verdict, exit code and record.
pub fn summary_line(decided: &Decided) -> String {
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

/// The stricter of two exit codes of decided runs: policy failure, then denied, then needs
/// approval, then approved.
pub fn strictest(a: u8, b: u8) -> u8 {
    let rank = |code: u8| match code {
        exit::POLICY_FAILURE => 3,
        exit::DENIED => 2,
        exit::NEEDS_APPROVAL => 1,
        _ => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// Appends text to a file, creating it (a job summary).
pub fn append_text(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}
