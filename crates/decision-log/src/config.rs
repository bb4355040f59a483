//! Where the log and keys live: the project directory and the `audit` section of
//! `.tollgate/config.yaml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The directory, in the project directory, holding the default log, keys and configuration.
pub const STATE_DIR: &str = ".tollgate";
/// The default log file name in [`STATE_DIR`].
pub const DEFAULT_LOG: &str = "audit.log";
/// The default signing key file name in [`STATE_DIR`].
pub const DEFAULT_SIGNING_KEY: &str = "audit.key";
/// The default verifier key file name in [`STATE_DIR`].
pub const DEFAULT_VERIFIER_KEY: &str = "audit.pub";
/// The default automatic checkpoint file name in [`STATE_DIR`].
pub const DEFAULT_CHECKPOINT: &str = "checkpoint";
/// The configuration file name in [`STATE_DIR`].
pub const CONFIG_FILE: &str = "config.yaml";
/// The environment variable naming the log.
pub const LOG_ENV: &str = "TOLLGATE_AUDIT_LOG";

/// The `audit` section of `.tollgate/config.yaml`. Relative paths are relative to the project
/// directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// The decision log: a file (relative to the project directory) or a `postgres://` URL.
    #[serde(default)]
    pub log: Option<PathBuf>,
    /// Manifest field paths to mask in the stored copy (besides sensitive-data finding locations).
    #[serde(default)]
    pub mask: Vec<String>,
    /// The log's origin line in checkpoints.
    #[serde(default)]
    pub origin: Option<String>,
    /// The signing key file.
    #[serde(default)]
    pub signing_key: Option<PathBuf>,
    /// The verifier key file.
    #[serde(default)]
    pub verifier_key: Option<PathBuf>,
    /// This writer's seal key (a signing key file): every append is sealed with it.
    #[serde(default)]
    pub writer_key: Option<PathBuf>,
    /// Verifier key files of the writers whose seals `audit verify` accepts; when set, every
    /// decision, rejected, mark and access record must be sealed by one of them.
    #[serde(default)]
    pub writers: Vec<PathBuf>,
    /// The first sequence number that must be sealed: records before it predate the adoption of
    /// seals (vouch for them with a checkpoint taken then).
    #[serde(default)]
    pub seals_from: Option<u64>,
    /// Automatic signed checkpoints written by `tollgate serve`.
    #[serde(default)]
    pub checkpoints: Option<CheckpointSchedule>,
}

/// When and where `tollgate serve` writes signed checkpoints (the key is `signing_key`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSchedule {
    /// A file (replaced atomically) or an existing directory (one file per checkpoint, and
    /// `latest`) [default: `.tollgate/checkpoint`].
    #[serde(default)]
    pub output: Option<PathBuf>,
    /// A checkpoint after this many records [default: 1000].
    #[serde(default)]
    pub every: Option<u64>,
    /// A checkpoint after this many seconds, when records were added [default: 300].
    #[serde(default)]
    pub interval: Option<u64>,
}

/// The whole configuration file; sections other than `audit` belong to other commands.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfigFile {
    /// The audit section.
    #[serde(default)]
    pub audit: AuditConfig,
}

/// The project directory: the nearest ancestor of `start` holding a [`STATE_DIR`] directory, else
/// the nearest holding `.git`, else `start`.
pub fn project_dir(start: &Path) -> PathBuf {
    let find = |marker: &str| {
        start
            .ancestors()
            .find(|dir| dir.join(marker).exists())
            .map(Path::to_path_buf)
    };
    find(STATE_DIR)
        .or_else(|| find(".git"))
        .unwrap_or_else(|| start.to_path_buf())
}
