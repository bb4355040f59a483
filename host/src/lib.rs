//! The Tollgate host: loads WebAssembly policy components and evaluates change manifests with them.

mod bindings;
pub mod error;
