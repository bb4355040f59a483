//! The integration tests of `tollgate`, one test binary: each module was a test binary of its own
//! (`cargo test -p tollgate <module>::` runs one).

mod audit;
mod cli;
mod common;
mod crosswalk;
mod edges;
mod export;
mod limits;
mod pipeline;
mod postgres;
mod replay;
mod rough_edges;
mod scaffold;
mod seals;
mod serve;
mod signing;
mod vocabulary;
