//! The integration tests of `tollgate-tickets`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate-tickets <module>::` runs one).

mod live;
