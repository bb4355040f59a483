//! Hostile policy fixture: `evaluate` allocates without bound. The host must stop it at the memory
//! limit and report a resource limit of this policy, never an approval.

use tollgate_decision::Decision;
use tollgate_manifest::Manifest;
use tollgate_rules::{Catalogue, EvaluationContext, Policy, Settings};

/// Hoards memory in `evaluate`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryBomb;

impl Policy for MemoryBomb {
    type Settings = Settings;

    fn catalogue(&self) -> &'static Catalogue {
        &Catalogue {
            id: "memory-bomb",
            framework: "HOSTILE",
            version: env!("CARGO_PKG_VERSION"),
            description: "Allocates without bound in evaluate",
            controls: &[],
            settings_schema: None,
            extensions: &[],
        }
    }

    fn evaluate(&self, _: &Manifest, _: &Settings, _: &EvaluationContext) -> Decision {
        // Reserves 4 MiB at a time without touching the pages: memory grows as fast as the host
        // allows, so the memory limit (not the deadline) stops it even on a loaded machine.
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(std::hint::black_box(Vec::with_capacity(4 << 20)));
        }
    }
}

#[cfg(feature = "component")]
tollgate_bindings_component::export_policy!(MemoryBomb);
