//! Typed bindings of the `tollgate:policy/policy` world, generated from `wit/`: the current contract
//! ([`v0_2`], `tollgate:policy@0.2.0`) and the one before it ([`v0_1`], `wit/v0.1.0`), so that
//! components built for 0.1.0 keep loading.
//!
//! Arguments are borrowed (`ownership: Borrowing`): the manifest record is lowered into the guest
//! straight from the host's manifest, without copying its strings into owned records first.

/// `tollgate:policy@0.2.0` (`wit/tollgate.wit`).
pub(crate) mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "policy",
        ownership: Borrowing {
            duplicate_if_necessary: true
        },
    });
}

/// `tollgate:policy@0.1.0` (`wit/v0.1.0/tollgate.wit`). Its `manifest` interface is the same as
/// 0.2.0's, so the host lowers the same records into it; its `decision` interface lacks the
/// `not-assessed` and `pending` control statuses.
pub(crate) mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.1.0",
        world: "policy",
        ownership: Borrowing {
            duplicate_if_necessary: true
        },
        with: {
            "tollgate:policy/manifest@0.1.0": super::v0_2::tollgate::policy::manifest,
        },
    });
}
