//! The integration tests of `tollgate-decision-log-postgres`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate-decision-log-postgres <module>::` runs one).

mod common;
mod log;
mod lookups;
mod outage;
mod tls;
