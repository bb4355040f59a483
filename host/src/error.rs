//! Errors of the host: [`HostError`] for setting up the engine and loading a policy, [`PolicyFailure`]
//! for a policy that could not produce a decision.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tollgate_decision::EvalError;

/// Why the engine could not be created or a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The wasmtime engine could not be configured.
    #[error("failed to configure the wasmtime engine: {0}")]
    Engine(String),
    /// A policy file could not be read.
    #[error("failed to read policy `{}`: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The bytes are not a valid component for this engine.
    #[error("failed to compile policy `{name}`: {message}")]
    Compile {
        /// Policy name (built-in name or file name).
        name: String,
        /// What wasmtime reported.
        message: String,
    },
    /// The component imports something; policies must import nothing.
    #[error(
        "policy `{name}` imports {}; policies must import nothing (no WASI, no host functions)",
        list(imports)
    )]
    Imports {
        /// Policy name.
        name: String,
        /// Names of the offending imports.
        imports: Vec<String>,
    },
    /// The component does not implement the `tollgate:policy/policy` world.
    #[error("policy `{name}` does not implement the `tollgate:policy` world: {message}")]
    World {
        /// Policy name.
        name: String,
        /// What is missing or mistyped.
        message: String,
    },
    /// Reading the policy's metadata failed.
    #[error("policy `{name}` failed while reporting its metadata: {failure}")]
    Metadata {
        /// Policy name.
        name: String,
        /// The failure.
        failure: PolicyFailure,
    },
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
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
    /// The evaluation ran past the epoch deadline.
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
        /// The wasmtime message.
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
            Self::Eval(EvalError::InvalidSettings(_)) => "invalid_settings",
            Self::Eval(EvalError::InvalidManifest(_)) => "invalid_manifest",
            Self::Eval(EvalError::Internal(_)) => "internal",
            Self::Timeout { .. } => "timeout",
            Self::ResourceLimit { .. } => "resource_limit",
            Self::Trap { .. } => "trap",
            Self::Malformed { .. } => "malformed_result",
        }
    }
}
