//! Gathers a Tollgate change manifest from where a pipeline already has the facts: the git history
//! between a base and a head revision, the CI system's environment, JUnit and SARIF reports,
//! Terraform plans, a change-ticket file or a live Jira/ServiceNow ticket, and sensitive-data detectors over the added lines. A partial hand-written
//! manifest can be merged in (hand-written values win), and every field records where it came from.
//!
//! The entry point is [`gather`]; [`Gathered::render`] writes the manifest as YAML (with the
//! provenance as comments) or JSON, and always checks that the text parses back as a valid manifest.

mod ci;
mod config;
mod detect;
mod gather;
mod git;
mod junit;
mod paths;
mod sarif;
mod ticket;

pub use ci::{CiContext, CiSystem, Sourced};
pub use config::{
    AuthorIdentity, CONFIG_FILE, CategoryConfig, Config, DEFAULT_SUITE_KINDS, IdentityConfig,
    JunitConfig, SensitiveDataConfig, Unmatched, default_rules,
};
pub use detect::{Detection, Detectors, TEST_PANS, is_pan, luhn_valid, mask, ssn_valid};
pub use gather::{
    FieldSource, GatherRequest, Gathered, JunitInput, OutputFormat, Overrides, gather,
};
pub use git::{AddedLine, Commit, Diff, FileChange, Repository};
pub use junit::{Counts, JunitSummary, SuiteKinds, parse_report};
pub use paths::{Classification, PathRules};
pub use sarif::{ScanSummary, parse_log};
pub use ticket::Ticket;
pub use tollgate_tickets::{Environment as TicketEnvironment, TicketRef, TicketsConfig};

use tollgate_manifest::DocumentError;

/// Why a manifest could not be gathered.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    /// The configuration file is invalid.
    #[error("invalid config `{path}`: {message}")]
    Config {
        /// The configuration file.
        path: String,
        /// What is wrong, with the line.
        message: String,
    },
    /// A glob of a rule is invalid.
    #[error("invalid glob `{pattern}` in `{owner}`: {message}")]
    Glob {
        /// The rule, for example `categories.database_schema`.
        owner: String,
        /// The glob.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// A git command failed.
    #[error("git {command} failed in `{dir}`: {message}")]
    Git {
        /// The git command.
        command: String,
        /// The repository directory.
        dir: String,
        /// Git's error output.
        message: String,
    },
    /// An input file could not be read.
    #[error("cannot read {what} `{path}`: {source}")]
    Read {
        /// What the file is, for example `JUnit report`.
        what: &'static str,
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JUnit report is invalid.
    #[error("invalid JUnit report `{path}`: {message}")]
    Junit {
        /// The report.
        path: String,
        /// What is wrong, with the line.
        message: String,
    },
    /// A SARIF log is invalid.
    #[error("invalid SARIF log `{path}`: {message}")]
    Sarif {
        /// The log.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A Terraform plan is invalid.
    #[error("invalid Terraform plan `{path}`: {source}")]
    Plan {
        /// The plan file.
        path: String,
        /// The field and what is wrong.
        source: tollgate_terraform::PlanError,
    },
    /// A YAML or JSON input (ticket, partial manifest) is invalid.
    #[error("invalid {what} `{path}`: {source}")]
    Document {
        /// What the file is.
        what: &'static str,
        /// The file.
        path: String,
        /// The located error.
        source: DocumentError,
    },
    /// A field of an input is invalid.
    #[error("invalid {what} `{path}`: `{field}` {message}")]
    Field {
        /// What the file is.
        what: &'static str,
        /// The file.
        path: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A required manifest field has no source.
    #[error("cannot gather `{field}`: {help}")]
    Missing {
        /// The manifest field, for example `change.id`.
        field: &'static str,
        /// How to provide it.
        help: &'static str,
    },
    /// A command-line value is invalid.
    #[error("invalid `{flag}` value `{value}`: {message}")]
    Argument {
        /// The flag.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What is wrong.
        message: String,
    },
    /// The gathered (and merged) manifest does not validate.
    #[error("the gathered manifest is invalid{}: {source}", merged_note(.partial.as_deref()))]
    Invalid {
        /// The partial manifest merged in, if any.
        partial: Option<String>,
        /// The validation error.
        source: DocumentError,
    },
    /// A live ticket system could not give the ticket (unreachable, unauthorised, not found,
    /// malformed answer or missing settings).
    #[error(transparent)]
    Ticket(#[from] tollgate_tickets::TicketError),
    /// An unexpected internal error.
    #[error("internal error: {0}")]
    Internal(String),
}

fn merged_note(partial: Option<&str>) -> String {
    partial
        .map(|p| format!(" after merging `{p}`"))
        .unwrap_or_default()
}
