//! Evidence reports built from the Tollgate decision log alone: per framework and control, the
//! changes evaluated, compliant, non-compliant, pending, not assessed, waived and not applicable
//! (each linked to its record); the change-control, testing, segregation-of-duties and deployment
//! evidence that the change-management controls call for (SOX ITGC change management, PCI DSS
//! requirement 6.5.1); delivery metrics (deployment frequency, lead time for changes, change
//! failure rate, control effectiveness over assessed results only); the log's own verification
//! result; and the scope an auditor signs off.
//!
//! Outputs: JSON ([`to_json`]), a self-contained HTML page ([`html::render`]) and OSCAL
//! assessment results ([`oscal::render`]).

pub mod html;
pub mod model;
pub mod oscal;

pub use model::{
    Report, ReportOptions, UnknownFramework, build, check_frameworks, known_frameworks,
};

/// The report as pretty-printed JSON, ending with a newline.
pub fn to_json(report: &Report) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(report)? + "\n")
}

/// The OSCAL assessment results as pretty-printed JSON, ending with a newline.
pub fn to_oscal_json(report: &Report) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string_pretty(&oscal::render(report))? + "\n")
}
