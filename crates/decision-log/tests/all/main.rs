//! The integration tests of `tollgate-decision-log`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate-decision-log <module>::` runs one).

mod bounded;
mod common;
mod log;
mod processes;
mod properties;
mod rejected;
mod rejected_secrets;
mod seals;
