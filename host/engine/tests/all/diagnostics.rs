//! What an author reads when a policy traps or returns what the host cannot read: the export
//! called, the trap in words, the guest's innermost frames by name.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use crate::common::{fixture, fixtures, manifest, now};
use tollgate_engine::PolicyFailure;

#[test]
fn a_trap_names_the_export_the_trap_and_guest_functions() {
    let policy = fixture(fixtures::TRAP);
    let failure = policy.evaluate(&manifest(), "", now()).unwrap_err();
    let PolicyFailure::Trap { message } = &failure else {
        panic!("expected a trap, got {failure:?}");
    };
    eprintln!("{failure}");
    assert!(
        message.starts_with("in `evaluate`: wasm `unreachable` instruction executed"),
        "{message}"
    );
    assert!(
        message.contains("guest frames, innermost first: "),
        "{message}"
    );
    // The fixture keeps its name section: its export (its `evaluate` inlined there) is named.
    assert!(
        message.contains("guest frames, innermost first: evaluate"),
        "{message}"
    );
    assert!(
        message.contains("frames of the Rust runtime)"),
        "the panic machinery is skipped: {message}"
    );
    assert!(!message.contains("::h"), "hashes are dropped: {message}");
    assert!(
        message.ends_with("a Rust policy traps when it panics, see docs/write-a-policy.md"),
        "{message}"
    );
}
