//! Hostile policy fixture: tries to carry state from one call to the next, in zero-initialised
//! static memory (a call counter) and in initialised static data (a marker it rewrites), and tells
//! what it found in its decision's summary. With fresh instances (the host's default) every call
//! must find the memory as the module declared it; only a reused instance remembers.

use std::sync::atomic::{AtomicU32, Ordering};

use tollgate_decision::{Decision, Outcome, RiskAssessment, RiskClass, Routing};
use tollgate_manifest::Manifest;
use tollgate_rules::{Catalogue, EvaluationContext, Policy, Settings};

/// Calls this instance has answered before (zero-initialised memory).
static CALLS: AtomicU32 = AtomicU32::new(0);

/// The marker as the module declares it (initialised data); each call overwrites it.
const DECLARED_MARKER: u32 = 0x5eed;
static MARKER: AtomicU32 = AtomicU32::new(DECLARED_MARKER);

/// Remembers its calls in static memory.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keepsake;

impl Policy for Keepsake {
    type Settings = Settings;

    fn catalogue(&self) -> &'static Catalogue {
        &Catalogue {
            id: "keepsake",
            framework: "HOSTILE",
            version: env!("CARGO_PKG_VERSION"),
            description: "Tries to keep state between calls",
            controls: &[],
            settings_schema: None,
            extensions: &[],
        }
    }

    fn evaluate(&self, _: &Manifest, _: &Settings, _: &EvaluationContext) -> Decision {
        let calls = CALLS.fetch_add(1, Ordering::Relaxed);
        let marker = MARKER.swap(DECLARED_MARKER + calls + 1, Ordering::Relaxed);
        Decision {
            policy_id: "keepsake".into(),
            framework: "HOSTILE".into(),
            applicable: false,
            outcome: Outcome::Approved,
            risk: Some(RiskAssessment {
                score: 0.0,
                class: RiskClass::Low,
                score_class: RiskClass::Low,
                category_class: None,
                factors: Vec::new(),
            }),
            routing: Some(Routing {
                route: "not applicable".into(),
                rationale: "a fixture".into(),
                required: Vec::new(),
                discounted: Vec::new(),
                automated_checks: Vec::new(),
            }),
            findings: Vec::new(),
            controls: Vec::new(),
            obligations: Vec::new(),
            summary: format!("calls before this one: {calls}, marker: {marker:#x}"),
        }
    }
}

#[cfg(feature = "component")]
tollgate_bindings_component::export_policy!(Keepsake);
