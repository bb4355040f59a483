//! The organisation's crosswalk: `--crosswalk FILE`, else `.tollgate/crosswalk.yaml` of the
//! project when it exists, checked against the catalogues of the policies loaded.

use std::path::{Path, PathBuf};

use tollgate_crosswalk::Crosswalk;
use tollgate_decision::PolicyMetadata;
use tollgate_pipeline::Pipeline;

use crate::RuntimeError;
use crate::inputs::read_text;

/// Where a project keeps its crosswalk when no file is named.
pub const DEFAULT_CROSSWALK: &str = ".tollgate/crosswalk.yaml";

/// The crosswalk of a run (see [`load_crosswalk`]), checked against the pipeline's policies.
pub fn crosswalk_for(
    pipeline: &Pipeline,
    file: Option<&Path>,
) -> Result<Option<Crosswalk>, RuntimeError> {
    let catalogues: Vec<PolicyMetadata> = pipeline
        .policies()
        .map(|policy| policy.metadata().clone())
        .collect();
    load_crosswalk(file, &catalogues)
}

/// Reads the crosswalk named, or the project's default one if it exists (none otherwise), and
/// checks every Tollgate control and rule it names against `catalogues`.
pub fn load_crosswalk(
    file: Option<&Path>,
    catalogues: &[PolicyMetadata],
) -> Result<Option<Crosswalk>, RuntimeError> {
    let path: PathBuf = match file {
        Some(file) => file.to_owned(),
        None => {
            let cwd = std::env::current_dir().map_err(RuntimeError::CurrentDir)?;
            let default = tollgate_decision_log::project_dir(&cwd).join(DEFAULT_CROSSWALK);
            if !default.is_file() {
                return Ok(None);
            }
            default
        }
    };
    let text = read_text(&path, "crosswalk")?;
    let crosswalk = Crosswalk::parse(&text, &path.display().to_string())?;
    crosswalk.check(catalogues)?;
    Ok(Some(crosswalk))
}
