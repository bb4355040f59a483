//! The one error of the host library.

use std::path::PathBuf;

use tollgate_decision_log::{AuditError, MaskError, ProjectError};
use tollgate_engine::HostError;
use tollgate_pipeline::{DecideError, InputError};
use tollgate_signing::SigningError;

/// Why the host library could not read an input, load a policy set or use the decision log.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// `--policy` text that is neither a built-in name nor a file.
    #[error("unknown policy `{name}`: not a built-in policy ({builtin}) and no such file")]
    UnknownPolicy {
        /// The text given.
        name: String,
        /// The built-in names, comma-separated.
        builtin: String,
    },
    /// A file or standard input could not be read.
    #[error("failed to read {what}")]
    Read {
        /// What was read, with its path.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An input is larger than [`tollgate_manifest::MAX_DOCUMENT_BYTES`].
    #[error("{what} is larger than the {limit}-byte limit")]
    TooLarge {
        /// What was read.
        what: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// An input is not UTF-8 text.
    #[error("{what} is not UTF-8 text")]
    NotUtf8 {
        /// What was read.
        what: String,
        /// The cause.
        #[source]
        source: std::string::FromUtf8Error,
    },
    /// A directory could not be listed.
    #[error("cannot read directory `{}`", path.display())]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A directory given as manifests holds none.
    #[error(
        "directory `{0}` holds no change manifest (`*.yaml`, `*.yml`, `*.json` with a top-level `change`)"
    )]
    NoManifests(String),
    /// Standard input named twice.
    #[error("standard input (`-`) can be read only once")]
    StdinTwice,
    /// A manifest, settings or options input is invalid.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The waivers file cannot be parsed.
    #[error(transparent)]
    Waivers(#[from] tollgate_waivers::WaiverError),
    /// No policy set could be made.
    #[error(transparent)]
    Decide(#[from] DecideError),
    /// `.tollgate/config.yaml` is invalid.
    #[error("invalid configuration `{}`", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: tollgate_manifest::DocumentError,
    },
    /// A trusted key file is invalid.
    #[error("trusted key `{}`", path.display())]
    TrustedKey {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: SigningError,
    },
    /// A signature does not vouch for a policy.
    #[error(transparent)]
    Untrusted(#[from] SigningError),
    /// The current directory cannot be read.
    #[error("cannot read the current directory")]
    CurrentDir(#[source] std::io::Error),
    /// The project's log, keys or configuration cannot be used.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// A PostgreSQL decision log cannot be opened.
    #[error(transparent)]
    Database(#[from] tollgate_decision_log_postgres::OpenError),
    /// The decision log cannot be read or written.
    #[error(transparent)]
    Log(#[from] AuditError),
    /// The decision log does not exist.
    #[error("the audit log `{0}` does not exist")]
    LogMissing(String),
    /// The decision log fails verification.
    #[error("refusing to {action} `{location}`: it fails verification")]
    Unverified {
        /// What was refused.
        action: &'static str,
        /// The log.
        location: String,
    },
    /// The log fails verification: no checkpoint is signed.
    #[error(
        "the audit log `{location}` fails verification ({problem}); run `tollgate audit verify`"
    )]
    FailsVerification {
        /// The log.
        location: String,
        /// Its first problem.
        problem: String,
    },
    /// A copied log does not verify as its source.
    #[error(
        "the copy in `{location}` does not verify as the same log ({size} records, root {root}; expected {expected_size} records, root {expected_root})"
    )]
    CopyDiffers {
        /// The destination.
        location: String,
        /// The copy's size.
        size: u64,
        /// The copy's root.
        root: String,
        /// The source's size.
        expected_size: u64,
        /// The source's root.
        expected_root: String,
    },
    /// The log's directory cannot be created.
    #[error(transparent)]
    LogDir(std::io::Error),
    /// An append wrote no record.
    #[error("the decision log appended nothing")]
    NothingAppended,
    /// A mark names no decision.
    #[error("no decision `{target}` and no approved decision of change `{target}` in `{location}`")]
    NoDecision {
        /// The decision or change id.
        target: String,
        /// The log.
        location: String,
    },
    /// No record has the id asked for.
    #[error("no record `{id}` in the audit log `{location}`{}", if id.parse::<u64>().is_ok() { format!(" (for the record with sequence number {id}, write `#{id}`)") } else { String::new() })]
    NoRecord {
        /// The id.
        id: String,
        /// The log.
        location: String,
    },
    /// A mask path is invalid.
    #[error(transparent)]
    Mask(#[from] MaskError),
    /// A policy cannot be loaded.
    #[error("policy `{name}` could not be loaded")]
    Load {
        /// The policy's name.
        name: String,
        /// The cause.
        #[source]
        source: HostError,
    },
    /// A served policy set has failed policies.
    #[error("not serving: {0}")]
    NotServing(String),
    /// The log's directory cannot take a record.
    #[error("cannot write in `{}`", path.display())]
    Probe {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An existing log cannot be opened for appending.
    #[error("cannot open `{}` for appending", path.display())]
    OpenAppend {
        /// The log file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A test path is neither a directory nor a file.
    #[error("`{}` is neither a directory of case files nor a case file", .0.display())]
    NotCases(PathBuf),
    /// No case file was found.
    #[error("no case file (`*.yaml`) found")]
    NoCases,
    /// No single built-in policy is named in a case file's path.
    #[error(
        "name the policy under test with `--policy NAME|PATH` (no single built-in policy is named in the path of `{}`)",
        .0.display()
    )]
    NoPolicyInPath(PathBuf),
    /// A case file is invalid.
    #[error(transparent)]
    Case(#[from] tollgate_cases::CaseError),
    /// A file cannot be read.
    #[error("cannot read `{}`", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A manifest file is invalid.
    #[error("invalid manifest `{}`", path.display())]
    InvalidManifest {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: tollgate_manifest::DocumentError,
    },
    /// A policy refuses its settings.
    #[error("settings of policy `{id}`")]
    Settings {
        /// The policy id.
        id: String,
        /// The cause.
        #[source]
        source: tollgate_pipeline::PolicyFailure,
    },
    /// A policy failed to evaluate.
    #[error("policy `{id}`")]
    Evaluate {
        /// The policy id.
        id: String,
        /// The cause.
        #[source]
        source: tollgate_pipeline::PolicyFailure,
    },
    /// A key pair cannot be generated.
    #[error(transparent)]
    KeyGeneration(SigningError),
    /// A key file exists.
    #[error("`{}` exists: keys are never overwritten", .0.display())]
    KeyExists(PathBuf),
    /// A key file cannot be written.
    #[error("failed to write `{}`", path.display())]
    WriteKey {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server cannot listen.
    #[error("cannot listen on {listen}")]
    Listen {
        /// The address.
        listen: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server failed.
    #[error("the server failed")]
    Serve(#[source] std::io::Error),
    /// A report cannot be rendered.
    #[error(transparent)]
    Render(#[from] tollgate_report_formats::ReportError),
    /// The crosswalk is invalid or names a control or rule no loaded policy has.
    #[error(transparent)]
    Crosswalk(#[from] tollgate_crosswalk::CrosswalkError),
    /// A JSON document cannot be read back.
    #[error(transparent)]
    Json(serde_json::Error),
    /// The tokens file cannot be read.
    #[error("cannot read the tokens file `{}`", path.display())]
    TokensFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The tokens file is invalid.
    #[error("`{}`", path.display())]
    Tokens {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: tollgate_gateway::auth::TokensError,
    },
    /// The OPA bundle cannot be built.
    #[error("cannot build the OPA bundle")]
    Bundle(#[source] std::io::Error),
    /// A file cannot be written.
    #[error("cannot write {what} `{}`", path.display())]
    Write {
        /// What the file is.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A new policy's name cannot be its id.
    #[error("invalid policy name `{name}`: {reason}")]
    PolicyName {
        /// The name given.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// A new project's directory already holds files.
    #[error("`{}` exists and is not empty: choose another `--dir` or remove it", .0.display())]
    NotEmpty(PathBuf),
    /// `--sdk-path` is not the policy SDK.
    #[error("`--sdk-path {}` is not the policy SDK (`crates/policy-sdk` of a Tollgate checkout): {reason}", path.display())]
    SdkPath {
        /// The path given.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A core module cannot be made a policy component.
    #[error("cannot make a component of the module: {0}")]
    Componentize(String),
}
