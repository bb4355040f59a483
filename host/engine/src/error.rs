//! Why the engine could not be set up or a policy could not be loaded ([`HostError`]); a policy
//! that loaded but could not decide is a [`crate::PolicyFailure`]. [`tollgate_pipeline::ErrorChain`] writes an error
//! with its sources, where an error must become text.

use std::path::PathBuf;

use tollgate_pipeline::PolicyFailure;

/// Why the engine could not be created or a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The wasmtime engine could not be configured.
    #[error("failed to configure the wasmtime engine")]
    Engine(#[source] wasmtime::Error),
    /// The thread that advances the engine's epoch could not be started.
    #[error("failed to configure the wasmtime engine: failed to start the epoch ticker")]
    Ticker(#[source] std::io::Error),
    /// A policy file could not be read.
    #[error("failed to read policy `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        error: std::io::Error,
    },
    /// The bytes are not a WebAssembly component at all.
    #[error("policy `{name}` is not a WebAssembly component: {reason}")]
    NotComponent {
        /// Policy name (built-in name or file name).
        name: String,
        /// What the bytes are instead.
        reason: &'static str,
    },
    /// The bytes are not a valid component for this engine.
    #[error("failed to compile policy `{name}`")]
    Compile {
        /// Policy name (built-in name or file name).
        name: String,
        /// What wasmtime reported.
        #[source]
        error: wasmtime::Error,
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
    /// The component implements neither the `tollgate:policy@0.2.0` nor the `@0.1.0` world.
    #[error("policy `{name}` does not implement the `tollgate:policy` world (0.2.0 or 0.1.0)")]
    World {
        /// Policy name.
        name: String,
        /// What is missing or mistyped.
        #[source]
        error: wasmtime::Error,
    },
    /// A policy's configured limit is out of bounds.
    #[error("the limits of policy `{policy}` are out of bounds: {reason}")]
    Limits {
        /// Policy id.
        policy: String,
        /// Which limit, and its bounds.
        reason: String,
    },
    /// Reading the policy's metadata failed.
    #[error("policy `{name}` failed while reporting its metadata")]
    Metadata {
        /// Policy name.
        name: String,
        /// The failure.
        #[source]
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

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_pipeline::ErrorChain;

    #[test]
    fn a_chain_is_written_whole_and_the_source_is_kept() {
        let error = HostError::Compile {
            name: "sox".to_owned(),
            error: wasmtime::Error::msg("invalid section").context("failed to parse"),
        };
        assert_eq!(error.to_string(), "failed to compile policy `sox`");
        assert_eq!(
            ErrorChain(&error).to_string(),
            "failed to compile policy `sox`: failed to parse: invalid section"
        );
        let read = HostError::Read {
            path: PathBuf::from("p.wasm"),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        };
        assert_eq!(
            ErrorChain(&read).to_string(),
            "failed to read policy `p.wasm`: gone"
        );
    }
}
