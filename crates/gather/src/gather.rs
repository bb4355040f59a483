//! Assembling the manifest: facts from git, CI, evidence files and detectors; flags; then the
//! hand-written partial manifest on top. Precedence, highest first: hand-written manifest, flags,
//! ticket file, CI environment, git and evidence files, built-in defaults.
//!
//! [`gather`] runs the `Gathering` steps (module `steps`) in order, lowest precedence first, so that
//! each step overrides what the earlier ones set.

mod facts;
mod merge;
mod output;
mod report_files;
mod request;
mod stated;
mod steps;

pub use output::{FieldSource, Gathered, OutputFormat};
pub use request::{GatherRequest, JunitInput, Overrides};

use crate::GatherError;
use steps::Gathering;

/// Gathers a manifest.
pub fn gather(request: &GatherRequest) -> Result<Gathered, GatherError> {
    let mut gathering = Gathering::new(request);
    let (repo, diff) = gathering.git_change()?;
    let detections = gathering.scan_added_lines(&repo, &diff)?;
    gathering.test_reports(&repo)?;
    gathering.scan_reports(&repo)?;
    gathering.terraform_plans(&repo)?;
    gathering.sensitive_data(&detections);
    gathering.ci_context();
    gathering.ticket(&repo)?;
    gathering.flags();
    gathering.defaults();
    let partial_origin = gathering.hand_written()?;
    gathering.fallback_change_id();
    gathering.require_id_and_deployer()?;
    gathering.note_identity_systems();
    gathering.finish(partial_origin, detections)
}
