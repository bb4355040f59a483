//! The integration tests of `tollgate-pipeline`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate-pipeline <module>::` runs one).

mod pipeline;
mod schemas;
