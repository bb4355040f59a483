//! What a gathering starts from: the repository and revisions, the configuration, the CI context,
//! the evidence files and the values given on the command line.

use std::path::{Path, PathBuf};

use tollgate_manifest::DataClass;
use tollgate_tickets::{Environment, TicketRef};

use crate::ci::CiContext;
use crate::config::Config;

/// A JUnit report given on the command line: `FILE`, or `KIND=FILE` to force the suite kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JunitInput {
    /// The suite kind, if forced.
    pub kind: Option<String>,
    /// The report file.
    pub path: PathBuf,
}

impl JunitInput {
    /// Reads `FILE` or `KIND=FILE`. A prefix counts as a kind only if it is a lowercase identifier
    /// (`unit`, `full_regression`) and the argument is not an existing file.
    pub fn parse_arg(arg: &str) -> Self {
        if let Some((kind, path)) = arg.split_once('=') {
            let identifier = !kind.is_empty()
                && kind
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if identifier && !Path::new(arg).exists() {
                return Self {
                    kind: Some(kind.to_owned()),
                    path: PathBuf::from(path),
                };
            }
        }
        Self {
            kind: None,
            path: PathBuf::from(arg),
        }
    }
}

/// Values given explicitly on the command line; each overrides what git and CI say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `change.id`.
    pub change_id: Option<String>,
    /// `change.title`.
    pub title: Option<String>,
    /// `change.author`.
    pub author: Option<String>,
    /// `change.deployer`.
    pub deployer: Option<String>,
    /// `change.deployer_groups`.
    pub deployer_groups: Vec<String>,
    /// `change.environment`.
    pub environment: Option<String>,
    /// `change.pipeline_id`.
    pub pipeline_id: Option<String>,
    /// Added to `change.data_classes`.
    pub data_classes: Vec<DataClass>,
    /// `change.emergency`, when set.
    pub emergency: Option<bool>,
}

/// Everything [`gather`](crate::gather()) needs.
#[derive(Debug, Clone, Default)]
pub struct GatherRequest {
    /// The git repository.
    pub repo: PathBuf,
    /// Base revision; default: the CI system's (merge-request target or previous commit).
    pub base: Option<String>,
    /// Head revision; default: the CI system's commit, else `HEAD`.
    pub head: Option<String>,
    /// The project configuration.
    pub config: Config,
    /// The CI context.
    pub ci: CiContext,
    /// JUnit reports.
    pub junit: Vec<JunitInput>,
    /// SARIF logs.
    pub sarif: Vec<PathBuf>,
    /// The change-ticket file.
    pub ticket: Option<PathBuf>,
    /// A ticket read from its system instead (`jira:KEY`, `servicenow:NUMBER`).
    pub live_ticket: Option<TicketRef>,
    /// The ticket systems' variables (`TOLLGATE_JIRA_URL`, ...).
    pub ticket_environment: Environment,
    /// Where `config` was read from, if from a file: when that file is committed to the repository
    /// under change and gives a ticket system's URL, the ticket's facts count as hand-written.
    pub config_path: Option<PathBuf>,
    /// Terraform plans (`terraform show -json`); their resources are concatenated.
    pub terraform_plans: Vec<PathBuf>,
    /// Partial hand-written manifests merged on top, in order (a later file wins).
    pub partial: Vec<PathBuf>,
    /// Explicit values.
    pub overrides: Overrides,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_argument_forms() {
        assert_eq!(
            JunitInput::parse_arg("unit=reports/u.xml"),
            JunitInput {
                kind: Some("unit".into()),
                path: "reports/u.xml".into()
            }
        );
        assert_eq!(JunitInput::parse_arg("reports/u.xml").kind, None);
        assert_eq!(JunitInput::parse_arg("a/b=c.xml").kind, None);
    }
}
