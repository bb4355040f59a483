//! Hostile policy fixture: `evaluate` never returns. The host must stop it at the epoch deadline and
//! report a timeout of this policy, never an approval.

use tollgate_decision::Decision;
use tollgate_manifest::Manifest;
use tollgate_rules::{Catalogue, EvaluationContext, Policy, Settings};

/// Spins forever in `evaluate`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spin;

impl Policy for Spin {
    type Settings = Settings;

    fn catalogue(&self) -> &'static Catalogue {
        &Catalogue {
            id: "spin",
            framework: "HOSTILE",
            version: env!("CARGO_PKG_VERSION"),
            description: "Never returns from evaluate",
            controls: &[],
            settings_schema: None,
            extensions: &[],
        }
    }

    fn evaluate(&self, _: &Manifest, _: &Settings, _: &EvaluationContext) -> Decision {
        let mut counter: u64 = 0;
        loop {
            counter = std::hint::black_box(counter.wrapping_add(1));
        }
    }
}

#[cfg(feature = "component")]
tollgate_bindings_component::export_policy!(Spin);
