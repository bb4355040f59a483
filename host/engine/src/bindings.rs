//! Typed bindings of the `tollgate:policy/policy` world, generated from `wit/`.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "policy",
});
