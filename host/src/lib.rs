//! The Tollgate host: loads WebAssembly policy components (`wit/tollgate.wit`, world `policy`) into
//! one wasmtime engine and evaluates change manifests with them.
//!
//! Policies import nothing: the linker is empty. Every call runs in a fresh store instantiated from
//! a pre-instantiated component, under an epoch deadline, a memory limit and a stack limit; a trap,
//! timeout or limit is a [`PolicyFailure`] of that policy, never an approval. Compiled components
//! are cached on disk, keyed by digest and engine.

mod bindings;
mod cache;
mod convert;
mod engine;
pub mod error;
pub mod exit;
mod policy;

pub use cache::{CACHE_DIR_ENV, default_cache_dir};
pub use engine::{Limits, PolicyEngine};
pub use error::{HostError, PolicyFailure, Resource};
pub use policy::{BuiltinPack, ItemInfo, LoadedPolicy, PolicySource, builtin_pack, builtin_packs};
