//! The integration tests of `tollgate-evidence-report`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate-evidence-report <module>::` runs one).

mod crosswalk;
mod report;
