//! What the pipeline needs of a policy, and how a policy can fail to decide.

use std::fmt;
use std::time::Duration;

use tollgate_decision::{Decision, EvalError, PolicyMetadata};
use tollgate_manifest::{Manifest, Timestamp};

/// A policy the pipeline can run: a native policy crate ([`crate::NativePolicy`]) or a loaded
/// WebAssembly component. Implementations report every way they fail to decide as a
/// [`PolicyFailure`]; the pipeline checks every decision against the contract itself.
pub trait Evaluator: Send + Sync {
    /// The policy's identity and control catalogue.
    fn metadata(&self) -> &PolicyMetadata;

    /// What exactly runs: `sha256:<hex>` of a component's bytes, or `native:<crate>@<version>`.
    fn digest(&self) -> &str;

    /// Checks settings (JSON text; empty means defaults).
    fn validate_settings(&self, settings_json: &str) -> Result<(), PolicyFailure>;

    /// Evaluates a manifest with the given settings (JSON text; empty means defaults) at `now`.
    fn evaluate(
        &self,
        manifest: &Manifest,
        settings_json: &str,
        now: Timestamp,
    ) -> Result<Decision, PolicyFailure>;

    /// Who vouches for what runs: the key id of the trusted signature that was verified before
    /// it was loaded (`ed25519:…`), `builtin` for a pack trusted by its embedded digest, `None`
    /// when nothing was checked.
    fn signer(&self) -> Option<&str> {
        None
    }
}

/// A limited resource of a policy instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Linear memory.
    Memory,
    /// Table elements.
    Table,
    /// The wasm call stack.
    Stack,
    /// Instance slots of the engine's pool.
    Instances,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Memory => "memory",
            Self::Table => "table",
            Self::Stack => "stack",
            Self::Instances => "instance",
        })
    }
}

/// Why a policy produced no decision. Every variant is a failure of that policy, never an approval.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyFailure {
    /// The policy returned `eval-error`.
    #[error("returned an error: {0}")]
    Eval(EvalError),
    /// The evaluation ran past its deadline.
    #[error("timed out after {} ms", deadline.as_millis())]
    Timeout {
        /// The deadline that was exceeded.
        deadline: Duration,
    },
    /// The policy hit a resource limit.
    #[error("exceeded its {resource} limit: {detail}")]
    ResourceLimit {
        /// The exhausted resource.
        resource: Resource,
        /// What happened.
        detail: String,
    },
    /// The policy trapped.
    #[error("trapped: {message}")]
    Trap {
        /// The runtime's message.
        message: String,
    },
    /// The policy returned a result that breaks the contract.
    #[error("returned a malformed result: {reason}")]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
}

impl PolicyFailure {
    /// Whether the failure is the policy rejecting its settings (`eval-error::invalid-settings`).
    pub fn is_invalid_settings(&self) -> bool {
        matches!(self, Self::Eval(EvalError::InvalidSettings(_)))
    }

    /// A stable snake_case name of the failure kind, for machine-readable output.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Eval(error) => error.kind(),
            Self::Timeout { .. } => "timeout",
            Self::ResourceLimit { .. } => "resource_limit",
            Self::Trap { .. } => "trap",
            Self::Malformed { .. } => "malformed_result",
        }
    }
}
