//! The Tollgate PCI DSS policy as an OPA Wasm ABI 1.3 module: the `tollgate-policy-pci` crate exported
//! with [`tollgate_policy_sdk::export_opa!`] under the entrypoints `tollgate/pci/decision`, `allow` and
//! `deny`. The engine's build script builds it for `wasm32-unknown-unknown`.

tollgate_policy_sdk::export_opa!("pci", tollgate_policy_pci::PciPolicy);
