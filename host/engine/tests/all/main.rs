//! The integration tests of `tollgate-engine`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate-engine <module>::` runs one).

mod builtin;
mod cache;
mod common;
mod contracts;
mod diagnostics;
mod heap;
mod limits;
mod policy_limits;
