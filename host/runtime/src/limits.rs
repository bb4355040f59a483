//! The engine's part of `.tollgate/config.yaml`: the cap of the compiled-policy cache
//! (`policies.cache.max_mib`) and the limits of given policies by id (`policies.limits`), for a
//! pack that needs more (or less) time or memory than the engine's defaults.
//!
//! ```yaml
//! policies:
//!   cache:
//!     max_mib: 512
//!   limits:
//!     acme-governance: {deadline_ms: 400, memory_mib: 256}
//! ```

use std::collections::BTreeMap;

use tollgate_engine::{HostError, PolicyEngine, PolicyLimits};

use crate::RuntimeError;

/// The engine settings of a project's configuration, read before any policy loads.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// The cache's cap in bytes; `None`: the engine's default.
    pub cache_max_bytes: Option<u64>,
    /// Limits by policy id.
    pub limits: BTreeMap<String, PolicyLimits>,
}

impl EngineConfig {
    /// The engine settings of the working directory's project (none without a configuration).
    /// An unknown key or a limit out of bounds is an error naming the file, the key and its line.
    pub fn of_project() -> Result<Self, RuntimeError> {
        let (_, config) = crate::project_policies::project_policies()?;
        Ok(Self {
            cache_max_bytes: config.cache.max_mib.map(|m| m.0 << 20),
            limits: config
                .limits
                .into_iter()
                .map(|(id, limits)| (id, limits.policy_limits()))
                .collect(),
        })
    }

    /// Applies the settings to an engine, before it loads any policy.
    pub fn apply(&self, engine: &mut PolicyEngine) -> Result<(), HostError> {
        if let Some(bytes) = self.cache_max_bytes {
            engine.set_cache_max_bytes(bytes);
        }
        engine.set_policy_limits(self.limits.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project_policies::ConfigFile;
    use std::time::Duration;

    fn parse(yaml: &str) -> Result<ConfigFile, String> {
        tollgate_manifest::decode::<ConfigFile>(yaml, tollgate_manifest::Format::Yaml)
            .map_err(|e| tollgate_pipeline::ErrorChain(&e).to_string())
    }

    #[test]
    fn limits_and_the_cache_cap_are_read_by_policy_id() {
        let config = parse(
            "policies:\n  cache:\n    max_mib: 64\n  limits:\n    acme-governance: {deadline_ms: 400, memory_mib: 256}\n    spin: {deadline_ms: 20}\n",
        )
        .unwrap();
        let limits = &config.policies.limits;
        assert_eq!(
            limits["acme-governance"].policy_limits(),
            PolicyLimits {
                deadline: Some(Duration::from_millis(400)),
                memory_bytes: Some(256 << 20),
            }
        );
        assert_eq!(limits["spin"].policy_limits().memory_bytes, None);
        assert_eq!(config.policies.cache.max_mib.map(|m| m.0), Some(64));
    }

    #[test]
    fn unknown_keys_and_limits_out_of_bounds_are_errors() {
        let error = parse("policies:\n  limits:\n    spin: {deadline: 20}\n").unwrap_err();
        assert!(error.contains("unknown field `deadline`"), "{error}");
        let error = parse("policies:\n  limits:\n    spin: {deadline_ms: 60000}\n").unwrap_err();
        assert!(
            error.contains("`deadline_ms` must be 1 to 10000, not 60000"),
            "{error}"
        );
        let error = parse("policies:\n  limits:\n    spin: {memory_mib: 4096}\n").unwrap_err();
        assert!(
            error.contains("`memory_mib` must be 1 to 1024, not 4096"),
            "{error}"
        );
        let error = parse("policies:\n  cache: {max_gib: 1}\n").unwrap_err();
        assert!(error.contains("unknown field `max_gib`"), "{error}");
    }
}
