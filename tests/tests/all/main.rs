//! The conformance test binary: every golden runner (native crates, components in the host, OPA
//! modules in the Rust SDK) and the checks of the examples, the README snippets and the policies'
//! README control tables, as libtest-mimic trials named `<module>::<test>`, so
//! `cargo test -p tollgate-conformance -- golden_native::` runs one runner.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a panic is a failed trial"
)]

mod embedding;
mod examples;
mod golden_component;
mod golden_native;
mod golden_opa_rust;
mod readme_tables;
mod statuses;

use libtest_mimic::{Arguments, Failed, Trial};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    trials.extend(golden_native::trials()?);
    trials.extend(golden_component::trials()?);
    trials.extend(golden_opa_rust::trials()?);
    trials.extend(embedding::trials());
    trials.extend(examples::trials());
    trials.extend(readme_tables::trials());
    trials.extend(statuses::trials());
    libtest_mimic::run(&args, trials).exit();
}

/// What a test function returns: nothing (it panics on failure) or a result.
pub trait TestResult {
    /// The trial's outcome.
    fn into_outcome(self) -> Result<(), Failed>;
}

impl TestResult for () {
    fn into_outcome(self) -> Result<(), Failed> {
        Ok(())
    }
}

impl<E: std::fmt::Display> TestResult for Result<(), E> {
    fn into_outcome(self) -> Result<(), Failed> {
        self.map_err(|e| Failed::from(e.to_string()))
    }
}

/// A trial running a test function; a panic fails it.
pub fn trial<R: TestResult + 'static>(name: &str, test: fn() -> R) -> Trial {
    Trial::test(name, move || test().into_outcome())
}

/// A compile cache shared by the test binaries, so each component is compiled once per build.
pub fn test_cache_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tollgate-test-cache")
}
