//! The integration tests of `tollgate-rules`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate-rules <module>::` runs one).

mod routing;
mod scope;
