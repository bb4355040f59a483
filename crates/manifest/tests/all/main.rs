//! The integration tests of `tollgate-manifest`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate-manifest <module>::` runs one).

mod names;
mod parse;
mod quoted_input;
