//! The `policies` section of the project's `.tollgate/config.yaml`, read once before any policy
//! loads: `trust` (signatures, applied by `trust.rs`), `cache` and `limits` (the engine's, applied
//! by `limits.rs`).

use std::path::PathBuf;
use std::time::Duration;

use tollgate_engine::{MAX_DEADLINE, MAX_MEMORY_BYTES, PolicyLimits};

use crate::RuntimeError;

/// The `policies` section of `.tollgate/config.yaml`.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ConfigFile {
    #[serde(default)]
    pub(crate) policies: PoliciesConfig,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PoliciesConfig {
    /// `policies.trust` (`trust.rs`).
    #[serde(default)]
    pub(crate) trust: TrustConfig,
    /// `policies.cache` (`limits.rs`).
    #[serde(default)]
    pub(crate) cache: CacheConfig,
    /// `policies.limits`, by policy id (`limits.rs`).
    #[serde(default)]
    pub(crate) limits: std::collections::BTreeMap<String, LimitsConfig>,
}

/// The project directory of the working directory and the `policies` section of its
/// `.tollgate/config.yaml` (defaults without one).
pub(crate) fn project_policies() -> Result<(PathBuf, PoliciesConfig), RuntimeError> {
    let cwd = std::env::current_dir().map_err(RuntimeError::CurrentDir)?;
    let project = tollgate_decision_log::project_dir(&cwd);
    let path = project
        .join(tollgate_decision_log::config::STATE_DIR)
        .join(tollgate_decision_log::config::CONFIG_FILE);
    let config = match std::fs::read_to_string(&path) {
        Err(_) => PoliciesConfig::default(),
        Ok(text) => {
            tollgate_manifest::decode::<Option<ConfigFile>>(&text, tollgate_manifest::Format::Yaml)
                .map_err(|source| RuntimeError::Config { path, source })?
                .unwrap_or_default()
                .policies
        }
    };
    Ok((project, config))
}

/// `policies.trust`: `keys` (public key files, relative to the project directory) and
/// `require_signed`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrustConfig {
    #[serde(default)]
    pub(crate) keys: Vec<PathBuf>,
    #[serde(default)]
    pub(crate) require_signed: bool,
}

/// `policies.cache`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CacheConfig {
    /// The cap, in MiB [default: 512].
    #[serde(default)]
    pub(crate) max_mib: Option<CacheMib>,
}

/// `policies.limits.<id>`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LimitsConfig {
    #[serde(default)]
    deadline_ms: Option<DeadlineMs>,
    #[serde(default)]
    memory_mib: Option<MemoryMib>,
}

impl LimitsConfig {
    pub(crate) fn policy_limits(&self) -> PolicyLimits {
        PolicyLimits {
            deadline: self.deadline_ms.map(|d| Duration::from_millis(d.0)),
            memory_bytes: self.memory_mib.map(|m| m.0 << 20),
        }
    }
}

/// A deadline in milliseconds, 1 to [`MAX_DEADLINE`].
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(try_from = "u64")]
struct DeadlineMs(u64);

impl TryFrom<u64> for DeadlineMs {
    type Error = String;
    fn try_from(ms: u64) -> Result<Self, String> {
        let max = MAX_DEADLINE.as_millis();
        if ms == 0 || u128::from(ms) > max {
            return Err(format!("`deadline_ms` must be 1 to {max}, not {ms}"));
        }
        Ok(Self(ms))
    }
}

/// A memory limit in MiB, 1 to [`MAX_MEMORY_BYTES`].
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(try_from = "u64")]
struct MemoryMib(usize);

impl TryFrom<u64> for MemoryMib {
    type Error = String;
    fn try_from(mib: u64) -> Result<Self, String> {
        let max = MAX_MEMORY_BYTES >> 20;
        match usize::try_from(mib) {
            Ok(m) if (1..=max).contains(&m) => Ok(Self(m)),
            _ => Err(format!("`memory_mib` must be 1 to {max}, not {mib}")),
        }
    }
}

/// A cache cap in MiB, at least 1.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(try_from = "u64")]
pub(crate) struct CacheMib(pub(crate) u64);

impl TryFrom<u64> for CacheMib {
    type Error = String;
    fn try_from(mib: u64) -> Result<Self, String> {
        if mib == 0 || mib > u64::MAX >> 20 {
            return Err(format!("`max_mib` must be at least 1, not {mib}"));
        }
        Ok(Self(mib))
    }
}
