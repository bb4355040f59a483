//! Hostile policy fixture: `evaluate` panics, which traps (policies abort on panic). The host must
//! report a trap of this policy, never an approval.

use tollgate_decision::Decision;
use tollgate_manifest::Manifest;
use tollgate_rules::{Catalogue, EvaluationContext, Policy, Settings};

/// Panics in `evaluate`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Trap;

impl Policy for Trap {
    type Settings = Settings;

    fn catalogue(&self) -> &'static Catalogue {
        &Catalogue {
            id: "trap",
            framework: "HOSTILE",
            version: env!("CARGO_PKG_VERSION"),
            description: "Panics in evaluate",
            controls: &[],
            settings_schema: None,
            extensions: &[],
        }
    }

    #[expect(clippy::panic, reason = "this fixture exists to trap")]
    fn evaluate(&self, manifest: &Manifest, _: &Settings, _: &EvaluationContext) -> Decision {
        panic!(
            "hostile fixture: refusing to evaluate `{}`",
            manifest.change.id
        )
    }
}

#[cfg(feature = "component")]
tollgate_bindings_component::export_policy!(Trap);
