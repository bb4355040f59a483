//! The example manifests of `examples/manifests/`, bundled so that the page works offline.

use serde::{Deserialize, Serialize};
use tsify::Tsify;

/// A bundled example manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example {
    /// File name in `examples/manifests/`.
    pub file: &'static str,
    /// Short title.
    pub title: &'static str,
    /// The manifest text.
    pub text: &'static str,
    /// Combined outcome under the built-in policies with default settings at
    /// 2026-06-01T00:00:00Z, as recorded in `examples/manifests/expected.yaml`.
    pub expected_outcome: &'static str,
}

/// A bundled example, as the browser receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Tsify)]
pub struct ExampleManifest {
    /// File name in `examples/manifests/`.
    pub file: String,
    /// Short title.
    pub title: String,
    /// The manifest text (YAML or JSON).
    pub text: String,
    /// Combined outcome with default settings at [`EXAMPLES_NOW`].
    pub expected_outcome: String,
}

impl From<&Example> for ExampleManifest {
    fn from(example: &Example) -> Self {
        Self {
            file: example.file.into(),
            title: example.title.into(),
            text: example.text.into(),
            expected_outcome: example.expected_outcome.into(),
        }
    }
}

/// The evaluation time at which the examples reach their expected outcome.
pub const EXAMPLES_NOW: &str = "2026-06-01T00:00:00Z";

macro_rules! example {
    ($file:literal, $title:literal, $outcome:literal) => {
        Example {
            file: $file,
            title: $title,
            text: include_str!(concat!("../../../examples/manifests/", $file)),
            expected_outcome: $outcome,
        }
    };
}

/// Every example manifest, in the order the page lists them.
pub const EXAMPLES: &[Example] = &[
    example!(
        "low-risk-config-auto-approved.yaml",
        "Low-risk configuration change, approved automatically",
        "approved"
    ),
    example!(
        "business-logic-needs-tech-lead.yaml",
        "Business-logic change that needs one technical lead",
        "needs_approval"
    ),
    example!(
        "business-logic-needs-tech-lead.json",
        "Business-logic change that needs one technical lead (JSON)",
        "needs_approval"
    ),
    example!(
        "schema-and-security-three-approvers.yaml",
        "Schema and security change: three distinct approvers",
        "needs_approval"
    ),
    example!(
        "self-approval-denied.yaml",
        "Self-approval: denied",
        "denied"
    ),
    example!(
        "failing-tests-denied.yaml",
        "Failing tests: denied",
        "denied"
    ),
    example!(
        "phi-encryption-off-denied.yaml",
        "PHI system with encryption off: denied",
        "denied"
    ),
    example!(
        "cardholder-live-pan-staging-denied.yaml",
        "Live card number in staging: denied",
        "denied"
    ),
    example!(
        "emergency-change-retrospective.yaml",
        "Emergency change with retrospective approval",
        "approved"
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;

    #[test]
    fn every_example_file_is_bundled_with_its_recorded_outcome() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/manifests");
        let expected: BTreeMap<String, String> = tollgate_manifest::decode(
            &std::fs::read_to_string(dir.join("expected.yaml")).unwrap(),
            tollgate_manifest::Format::Yaml,
        )
        .unwrap();
        let bundled: BTreeMap<String, String> = EXAMPLES
            .iter()
            .map(|e| (e.file.to_owned(), e.expected_outcome.to_owned()))
            .collect();
        assert_eq!(bundled, expected);
    }
}
