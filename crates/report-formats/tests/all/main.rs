//! The integration tests of `tollgate-report-formats`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate-report-formats <module>::` runs one).

mod formats;
