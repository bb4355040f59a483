//! Hostile policy fixture: `evaluate` recurses without bound. The host must stop it at the wasm
//! stack limit and report a resource limit of this policy, never an approval.

use tollgate_decision::Decision;
use tollgate_manifest::Manifest;
use tollgate_rules::{Catalogue, EvaluationContext, Policy, Settings};

/// Recurses forever in `evaluate`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StackOverflow;

impl Policy for StackOverflow {
    type Settings = Settings;

    fn catalogue(&self) -> &'static Catalogue {
        &Catalogue {
            id: "stack-overflow",
            framework: "HOSTILE",
            version: env!("CARGO_PKG_VERSION"),
            description: "Recurses without bound in evaluate",
            controls: &[],
            settings_schema: None,
            extensions: &[],
        }
    }

    #[expect(clippy::panic, reason = "unreachable: the recursion never returns")]
    fn evaluate(&self, manifest: &Manifest, _: &Settings, _: &EvaluationContext) -> Decision {
        // The bound is unknowable at compile time and never reached, so the recursion is real.
        let depth = dive(0, u64::MAX - u64::from(manifest.change.lines_changed));
        panic!("hostile fixture: recursion returned at depth {depth}")
    }
}

/// Recurses until `n == limit`, using each frame's result so the calls cannot become a loop.
#[inline(never)]
fn dive(n: u64, limit: u64) -> u64 {
    if n == limit {
        return n;
    }
    dive(n + 1, limit).wrapping_mul(n | 1).rotate_left(7)
}

#[cfg(feature = "component")]
tollgate_bindings_component::export_policy!(StackOverflow);
