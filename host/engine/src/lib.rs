//! Tollgate's wasmtime host: loads WebAssembly policy components (`wit/tollgate.wit`, world
//! `policy`) into one engine and runs them for the decision pipeline ([`tollgate_pipeline`]); a
//! [`LoadedPolicy`] is a [`tollgate_pipeline::Evaluator`].
//!
//! Policies import nothing: the linker is empty. Every call runs in a fresh store instantiated from
//! a pre-instantiated component (unless a policy is set to reuse instances, [`Isolation`]), under an epoch deadline, a memory limit and a stack limit (a policy can be given its own deadline and memory limit, [`PolicyLimits`]); a trap,
//! timeout or limit is a [`PolicyFailure`] of that policy, never an approval. The built-in packs are
//! embedded precompiled for the build's own machine (compiled when that code does not fit the
//! running one); other components are compiled once and cached on disk, keyed by digest and engine.

mod bindings;
mod cache;
mod code_memory;
mod convert;
mod engine;
mod error;
mod opa_wasm;
mod policy;
mod trace;
mod trap;
mod tunables;

pub use cache::{CACHE_DIR_ENV, DEFAULT_CACHE_MAX_BYTES, default_cache_dir};
pub use engine::PolicyEngine;
pub use error::HostError;
pub use opa_wasm::{OpaError, OpaInfo, OpaModule, inspect_opa, opa_module, opa_modules};
pub use policy::{
    BuiltinPack, Contract, Isolation, ItemInfo, LoadedPolicy, PolicySource, builtin_pack,
    builtin_packs,
};
pub use tollgate_pipeline::ErrorChain;
pub use tollgate_pipeline::{PolicyFailure, Resource};
pub use tunables::{Limits, MAX_DEADLINE, MAX_MEMORY_BYTES, PolicyLimits};

/// Paths of the hostile fixture components (spinning, memory bomb, trap, stack overflow,
/// impostor, keepsake) built with the packs, for tests.
#[cfg(feature = "test-fixtures")]
pub mod fixtures {
    include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
}
