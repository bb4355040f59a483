//! Why the engine could not be set up or a policy could not be loaded ([`HostError`]); a policy
//! that loaded but could not decide is a [`crate::PolicyFailure`].

use std::path::PathBuf;

use tollgate_pipeline::PolicyFailure;

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
    /// The bytes are not a WebAssembly component at all.
    #[error("policy `{name}` is not a WebAssembly component: {reason}")]
    NotComponent {
        /// Policy name (built-in name or file name).
        name: String,
        /// What the bytes are instead.
        reason: &'static str,
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
    /// The component implements neither the `tollgate:policy@0.2.0` nor the `@0.1.0` world.
    #[error(
        "policy `{name}` does not implement the `tollgate:policy` world (0.2.0 or 0.1.0): {message}"
    )]
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
