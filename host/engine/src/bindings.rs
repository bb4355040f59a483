//! Typed bindings of the `tollgate:policy/policy` world, generated from `wit/`.

//!
//! Arguments are borrowed (`ownership: Borrowing`): the manifest record is lowered into the guest
//! straight from the host's manifest, without copying its strings into owned records first.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "policy",
    ownership: Borrowing {
        duplicate_if_necessary: true
    },
});
