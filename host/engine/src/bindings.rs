//! Typed bindings of the `tollgate:policy/policy` world, generated from `wit/`: the current contract
//! ([`v0_4`], `tollgate:policy@0.4.0`) and the three before it ([`v0_3`], `wit/v0.3.0`; [`v0_2`],
//! `wit/v0.2.0`; [`v0_1`], `wit/v0.1.0`), so that components built for them keep loading.
//!
//! Arguments are borrowed (`ownership: Borrowing`): the manifest record is lowered into the guest
//! straight from the host's manifest, without copying its strings into owned records first. Where
//! an interface did not change between versions, the older world reuses the newer one's records:
//! the `decision` interface of 0.3.0 is 0.4.0's, and the `manifest` interface of 0.2.0 and 0.1.0
//! is 0.3.0's (0.4.0 added the `gxp` data class and the approval's signature meaning).

/// `PolicyPre::instantiate_checked` for the world of the module it is invoked in: instantiates and
/// looks up the three exports without type-checking them again. The generated `instantiate`
/// type-checks every export on every instantiation (the manifest record's type is large: it was 2%
/// of a gateway decision), although `PolicyPre::new` already checked each against the component's
/// types and an instance of that component has exactly those. The calls still go through the
/// generated typed wrappers.
macro_rules! instantiate_checked {
    () => {
        impl<T: 'static> PolicyPre<T> {
            /// As `instantiate`, without type-checking the exports again (see the macro).
            pub(crate) fn instantiate_checked(
                &self,
                mut store: impl wasmtime::AsContextMut<Data = T>,
            ) -> wasmtime::Result<Policy> {
                let mut store = store.as_context_mut();
                let instance = self.instance_pre.instantiate(&mut store)?;
                let mut export = |index: &wasmtime::component::ComponentExportIndex, name: &str| {
                    instance
                        .get_func(&mut store, index)
                        .ok_or_else(|| wasmtime::format_err!("no export `{name}` found"))
                };
                Ok(Policy {
                    metadata: export(&self.indices.metadata, "metadata")?,
                    validate_settings: export(
                        &self.indices.validate_settings,
                        "validate-settings",
                    )?,
                    evaluate: export(&self.indices.evaluate, "evaluate")?,
                })
            }
        }
    };
}

/// `tollgate:policy@0.4.0` (`wit/tollgate.wit`).
pub(crate) mod v0_4 {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "policy",
        ownership: Borrowing {
            duplicate_if_necessary: true
        },
    });
    instantiate_checked!();
}

/// `tollgate:policy@0.3.0` (`wit/v0.3.0/tollgate.wit`): no `gxp` data class, no signature meaning
/// on approvals; its decisions are 0.4.0's.
pub(crate) mod v0_3 {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.3.0",
        world: "policy",
        ownership: Borrowing {
            duplicate_if_necessary: true
        },
        with: {
            "tollgate:policy/decision@0.3.0": super::v0_4::tollgate::policy::decision,
        },
    });
    instantiate_checked!();
}

/// `tollgate:policy@0.2.0` (`wit/v0.2.0/tollgate.wit`): findings carry their references, risk and
/// routing are required, metadata declares no schemas, the context holds only the time.
pub(crate) mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.2.0",
        world: "policy",
        ownership: Borrowing {
            duplicate_if_necessary: true
        },
        with: {
            "tollgate:policy/manifest@0.2.0": super::v0_3::tollgate::policy::manifest,
        },
    });
    instantiate_checked!();
}

/// `tollgate:policy@0.1.0` (`wit/v0.1.0/tollgate.wit`): as 0.2.0, without the `not-assessed` and
/// `pending` control statuses.
pub(crate) mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../../wit/v0.1.0",
        world: "policy",
        ownership: Borrowing {
            duplicate_if_necessary: true
        },
        with: {
            "tollgate:policy/manifest@0.1.0": super::v0_3::tollgate::policy::manifest,
        },
    });
    instantiate_checked!();
}
