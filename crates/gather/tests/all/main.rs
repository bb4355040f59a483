//! The integration tests of `tollgate-gather`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate-gather <module>::` runs one).

mod repository;
