//! A project's decision log, keys and configuration, as every command finds them: the project
//! directory, `.tollgate/config.yaml`, the log path (flag, environment, configuration or default),
//! key files, signed checkpoints, and the dates commands accept.

use std::path::{Path, PathBuf};

use tollgate_durable::Access;
use tollgate_manifest::{Format, Timestamp, decode};

use crate::config::{
    CONFIG_FILE, DEFAULT_LOG, DEFAULT_SIGNING_KEY, DEFAULT_VERIFIER_KEY, STATE_DIR,
};
use crate::{AuditConfig, AuditLog, Checkpoint, ConfigFile, SigningKey, VerifierKey, project_dir};

/// Why a project's log, keys or configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// A file the user named or configured cannot be read or is invalid: invalid input.
    #[error("{0}")]
    Invalid(String),
    /// A signed checkpoint does not verify or is of another log: the log cannot be trusted.
    #[error("{0}")]
    Untrusted(String),
    /// A file could not be written.
    #[error("cannot write `{}`: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Where a project's log, keys and configuration are.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project directory.
    pub dir: PathBuf,
    /// The `audit` section of `.tollgate/config.yaml` (defaults without one).
    pub config: AuditConfig,
    /// The decision log: a file, or a database URL (`postgres://…`, see [`is_database_url`]).
    pub log: PathBuf,
    /// Whether the log is the default one (its directory may be created).
    pub default_log: bool,
    /// The log's backend when it is not the file at `log` (see [`Project::with_store`]).
    store: Option<AuditLog>,
}

/// Whether a configured log names a PostgreSQL database (`postgres://` or `postgresql://`)
/// rather than a file.
pub fn is_database_url(log: &Path) -> bool {
    log.to_str()
        .is_some_and(|text| text.starts_with("postgres://") || text.starts_with("postgresql://"))
}

impl Project {
    /// Finds the project of `cwd` and its configuration; `log` (a flag or the environment)
    /// overrides the configured log.
    pub fn discover(cwd: &Path, log: Option<&Path>) -> Result<Self, ProjectError> {
        let dir = project_dir(cwd);
        let config_path = dir.join(STATE_DIR).join(CONFIG_FILE);
        let config = if config_path.is_file() {
            let text = std::fs::read_to_string(&config_path).map_err(|e| {
                ProjectError::Invalid(format!("failed to read `{}`: {e}", config_path.display()))
            })?;
            decode::<ConfigFile>(&text, Format::Yaml)
                .map_err(|e| {
                    ProjectError::Invalid(format!(
                        "invalid configuration `{}`: {e}",
                        config_path.display()
                    ))
                })?
                .audit
        } else {
            AuditConfig::default()
        };
        let (log, default_log) = match (log, &config.log) {
            (Some(path), _) => (path.to_path_buf(), false),
            (None, Some(url)) if is_database_url(url) => (url.clone(), false),
            (None, Some(path)) => (dir.join(path), false),
            (None, None) => (dir.join(STATE_DIR).join(DEFAULT_LOG), true),
        };
        Ok(Self {
            dir,
            config,
            log,
            default_log,
            store: None,
        })
    }

    /// Whether the log is a database rather than a file.
    pub fn log_is_database(&self) -> bool {
        is_database_url(&self.log)
    }

    /// Keeps the log on `store` (a database backend opened for [`Project::log`]).
    #[must_use]
    pub fn with_store(mut self, store: AuditLog) -> Self {
        self.store = Some(store);
        self
    }

    /// Where the log is, for messages: its path, or its URL without the password.
    pub fn log_location(&self) -> String {
        self.audit_log().location()
    }

    /// A configured state file (relative to the project directory), else the default one in
    /// `.tollgate`.
    pub fn state_file(&self, configured: Option<&Path>, default: &str) -> PathBuf {
        configured.map_or_else(
            || self.dir.join(STATE_DIR).join(default),
            |p| self.dir.join(p),
        )
    }

    /// The signing key: `audit.signing_key`, else `.tollgate/audit.key`.
    pub fn signing_key_path(&self) -> PathBuf {
        self.state_file(self.config.signing_key.as_deref(), DEFAULT_SIGNING_KEY)
    }

    /// The verifier key: `audit.verifier_key`, else `.tollgate/audit.pub`.
    pub fn verifier_key_path(&self) -> PathBuf {
        self.state_file(self.config.verifier_key.as_deref(), DEFAULT_VERIFIER_KEY)
    }

    /// The decision log: the backend given to [`Project::with_store`], else the file at `log`.
    /// A database URL without a backend is a log that cannot be opened: every access fails.
    pub fn audit_log(&self) -> AuditLog {
        match &self.store {
            Some(store) => store.clone(),
            None if self.log_is_database() => {
                AuditLog::from_store(std::sync::Arc::new(crate::store::Unopened {
                    location: crate::store::redact_url(&self.log.to_string_lossy()),
                }))
            }
            None => AuditLog::new(&self.log),
        }
    }

    /// Creates the default `.tollgate` directory, durably, when the log is the default one. A
    /// configured directory that does not exist is never created: appends to it fail closed.
    pub fn prepare_log_dir(&self) -> std::io::Result<()> {
        if self.log_is_database() {
            return Ok(());
        }
        match self.log.parent() {
            Some(dir) if self.default_log => tollgate_durable::create_dir_all(dir, Access::Shared),
            _ => Ok(()),
        }
    }

    /// Reads the signing key.
    pub fn signing_key(&self, path: Option<&Path>) -> Result<SigningKey, ProjectError> {
        let path = path.map_or_else(|| self.signing_key_path(), Path::to_path_buf);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            ProjectError::Invalid(format!(
                "failed to read the signing key `{}` (create one with `tollgate audit keygen`): {e}",
                path.display()
            ))
        })?;
        SigningKey::parse(&text).map_err(|e| {
            ProjectError::Invalid(format!("invalid signing key `{}`: {e}", path.display()))
        })
    }

    /// Reads a signed checkpoint and verifies its signature with the verifier key (`public_key`,
    /// else the configured one) and its origin against the configured one.
    pub fn load_checkpoint(
        &self,
        path: &Path,
        public_key: Option<&Path>,
    ) -> Result<(Checkpoint, VerifierKey), ProjectError> {
        let key_path = public_key.map_or_else(|| self.verifier_key_path(), Path::to_path_buf);
        let key_text = std::fs::read_to_string(&key_path).map_err(|e| {
            ProjectError::Invalid(format!(
                "failed to read the verifier key `{}`: {e}",
                key_path.display()
            ))
        })?;
        let key = VerifierKey::parse(&key_text).map_err(|e| {
            ProjectError::Invalid(format!(
                "invalid verifier key `{}`: {e}",
                key_path.display()
            ))
        })?;
        let note = std::fs::read_to_string(path).map_err(|e| {
            ProjectError::Invalid(format!(
                "failed to read the checkpoint `{}`: {e}",
                path.display()
            ))
        })?;
        let checkpoint = key.verify(&note).map_err(|e| {
            ProjectError::Untrusted(format!(
                "checkpoint `{}` does not verify: {e}",
                path.display()
            ))
        })?;
        if let Some(origin) = &self.config.origin
            && *origin != checkpoint.origin
        {
            return Err(ProjectError::Untrusted(format!(
                "checkpoint `{}` is of log `{}`, not `{origin}`",
                path.display(),
                checkpoint.origin
            )));
        }
        Ok((checkpoint, key))
    }

    /// Generates a key pair and writes `audit.key` (owner-only) and `audit.pub` to `dir` (default
    /// `.tollgate`), refusing to replace existing files unless `force`. Returns the two paths.
    pub fn write_key_pair(
        &self,
        name: &str,
        dir: Option<&Path>,
        force: bool,
    ) -> Result<(SigningKey, PathBuf, PathBuf), ProjectError> {
        let dir = dir.map_or_else(|| self.dir.join(STATE_DIR), Path::to_path_buf);
        let key = SigningKey::generate(name).map_err(|e| ProjectError::Invalid(e.to_string()))?;
        let secret = dir.join(DEFAULT_SIGNING_KEY);
        let public = dir.join(DEFAULT_VERIFIER_KEY);
        for path in [&secret, &public] {
            if path.exists() && !force {
                return Err(ProjectError::Invalid(format!(
                    "`{}` exists; pass `--force` to replace it (checkpoints signed by the old key will no longer verify with the new one)",
                    path.display()
                )));
            }
        }
        let write = |path: &Path, text: String, access| {
            tollgate_durable::write(path, text.as_bytes(), access).map_err(|source| {
                ProjectError::Write {
                    path: path.to_path_buf(),
                    source,
                }
            })
        };
        tollgate_durable::create_dir_all(&dir, Access::Shared).map_err(|source| {
            ProjectError::Write {
                path: dir.clone(),
                source,
            }
        })?;
        write(&secret, key.encode() + "\n", Access::Private)?;
        write(&public, key.verifier().encode() + "\n", Access::Shared)?;
        Ok((key, secret, public))
    }
}

/// A date that is neither `YYYY-MM-DD` nor RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither a date such as `2026-05-20` nor an RFC 3339 timestamp")]
pub struct DateError(pub String);

/// Which end of a range a date bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeEnd {
    /// The start: `YYYY-MM-DD` is the start of that day.
    Start,
    /// The end: `YYYY-MM-DD` is the start of the next day (the day is included).
    End,
}

/// Parses `YYYY-MM-DD` (as `end` says) or an RFC 3339 instant.
pub fn parse_date(text: &str, end: RangeEnd) -> Result<Timestamp, DateError> {
    if let Ok(instant) = Timestamp::parse(text) {
        return Ok(instant);
    }
    let day =
        Timestamp::parse(&format!("{text}T00:00:00Z")).map_err(|_| DateError(text.to_owned()))?;
    Ok(match end {
        RangeEnd::Start => day,
        RangeEnd::End => Timestamp {
            seconds: day.seconds + 86_400,
            nanoseconds: 0,
        },
    })
}
