//! Test support shared by the integration tests of the workspace (`tests/all/main.rs` of each
//! crate): [`postgres`] (a real PostgreSQL server and databases of a test's own), [`records`]
//! (decision-log records, feature `decision-log`), [`engine`] (one policy engine per test binary,
//! feature `engine`) and [`serial`] (a lock for the tests that touch process-wide state, now that
//! a crate's tests share one process). Failures panic: this crate is for tests only.

#[cfg(feature = "engine")]
pub mod engine;
pub mod postgres;
#[cfg(feature = "decision-log")]
pub mod records;

use std::sync::{Mutex, MutexGuard};

/// Holds the process-wide test lock until dropped: tests that change process-wide state (the
/// environment, the current directory, signal dispositions) or that measure time or resources
/// and must not share the machine with their neighbours take it, so they run one at a time.
/// A test that panicked while holding it does not poison it for the others.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
