//! The integration tests of `tollgate-gateway`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate-gateway <module>::` runs one).

mod access;
mod admission;
mod common;
mod dashboard;
mod golden;
mod monitoring;
mod opa;
mod promql;
mod reload;
mod router;
mod rules;
mod tls;
