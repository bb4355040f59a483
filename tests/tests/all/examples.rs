//! The example manifests parse, and the built-in policies reach the combined outcome recorded in
//! `examples/manifests/expected.yaml`, natively and through the components; the map of the code
//! (`ARCHITECTURE.md`) names every workspace member and nothing else.

use std::collections::BTreeMap;

use libtest_mimic::Trial;

use tollgate_conformance::{POLICIES, native_policy, workspace_root};
use tollgate_decision::{CombinedDecision, Outcome};
use tollgate_engine::{Limits, PolicyEngine, PolicySource, builtin_pack};
use tollgate_manifest::{Format, Manifest, Timestamp};
use tollgate_rules::EvaluationContext;

use crate::{test_cache_dir, trial};

const NOW: &str = "2026-06-01T00:00:00Z";

/// An example: file name, parsed manifest, expected combined outcome.
type Example = (String, Manifest, Outcome);

fn examples() -> Result<Vec<Example>, Box<dyn std::error::Error>> {
    let dir = workspace_root().join("examples").join("manifests");
    let expected: BTreeMap<String, Outcome> = tollgate_manifest::decode(
        &std::fs::read_to_string(dir.join("expected.yaml"))?,
        Format::Yaml,
    )?;
    let mut all = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == "expected.yaml" || !(name.ends_with(".yaml") || name.ends_with(".json")) {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let manifest = Manifest::from_text(&text, Format::detect(Some(&path), &text))
            .map_err(|e| format!("{name}: {e}"))?;
        let outcome = *expected
            .get(&name)
            .ok_or(format!("{name} has no entry in expected.yaml"))?;
        all.push((name, manifest, outcome));
    }
    if all.len() != expected.len() {
        return Err("expected.yaml lists files that do not exist".into());
    }
    if all.len() < 8 {
        return Err("the eight example scenarios must be present".into());
    }
    Ok(all)
}

fn examples_reach_their_expected_outcome_natively() {
    let context = EvaluationContext {
        now: Timestamp::parse(NOW).unwrap(),
    };
    for (name, manifest, expected) in examples().unwrap() {
        let decisions = POLICIES
            .iter()
            .map(|p| {
                native_policy(p)
                    .unwrap()
                    .decide(&manifest, "", &context)
                    .unwrap()
            })
            .collect();
        let combined = CombinedDecision::combine(decisions);
        assert_eq!(combined.outcome, expected, "{name}");
    }
}

fn examples_reach_their_expected_outcome_through_the_components() {
    let now = Timestamp::parse(NOW).unwrap();
    let engine = PolicyEngine::new(Limits::default(), Some(test_cache_dir())).unwrap();
    let components: Vec<_> = POLICIES
        .iter()
        .map(|p| {
            engine
                .load(PolicySource::Builtin(builtin_pack(p).unwrap()))
                .unwrap()
        })
        .collect();
    for (name, manifest, expected) in examples().unwrap() {
        let decisions = components
            .iter()
            .map(|c| c.evaluate(&manifest, "", now).unwrap())
            .collect();
        assert_eq!(
            CombinedDecision::combine(decisions).outcome,
            expected,
            "{name}"
        );
    }
}

fn the_embedded_components_are_the_builtin_policy_crates() {
    let embedded: Vec<&str> = tollgate_engine::builtin_packs()
        .iter()
        .map(|pack| pack.name)
        .collect();
    assert_eq!(embedded, POLICIES, "one list of built-in policies");
}

/// The workspace members listed in the text of the root `Cargo.toml` (empty without a list).
fn workspace_members(manifest: &str) -> Vec<String> {
    let Some(start) = manifest.find("members = [") else {
        return Vec::new();
    };
    let list = &manifest[start..];
    let end = list.find(']').unwrap_or(list.len());
    list[..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Whether `pattern` (`*` standing for one path segment) names `path`.
fn names_path(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(want, got)| *want == "*" || want == got)
}

fn architecture_names_every_workspace_member() {
    let map = std::fs::read_to_string(workspace_root().join("ARCHITECTURE.md"))
        .unwrap_or_else(|e| panic!("cannot read ARCHITECTURE.md: {e}"));
    // The paths each code-map heading names, e.g. "### `crates/bindings/component`, `crates/bindings/extism`".
    let named: Vec<String> = map
        .lines()
        .filter(|line| line.starts_with("### "))
        .flat_map(|line| line.split('`').skip(1).step_by(2).map(str::to_owned))
        .filter(|token| token.contains('/') || token == "tests")
        .filter(|token| !token.starts_with("wit/") && !token.starts_with("web/"))
        .collect();
    let members = workspace_members(
        &std::fs::read_to_string(workspace_root().join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("cannot read the root Cargo.toml: {e}")),
    );
    assert!(!members.is_empty(), "the root Cargo.toml lists no members");
    let unmapped: Vec<&String> = members
        .iter()
        .filter(|member| !named.iter().any(|pattern| names_path(pattern, member)))
        .collect();
    assert!(
        unmapped.is_empty(),
        "ARCHITECTURE.md's code map has no heading for {unmapped:?}"
    );
    let stale: Vec<&String> = named
        .iter()
        .filter(|pattern| !members.iter().any(|member| names_path(pattern, member)))
        .collect();
    assert!(
        stale.is_empty(),
        "ARCHITECTURE.md's code map names {stale:?}, which are not workspace members"
    );
}

/// The tests of this module, as trials named `examples::<test>`.
pub fn trials() -> Vec<Trial> {
    vec![
        trial(
            "examples::examples_reach_their_expected_outcome_natively",
            examples_reach_their_expected_outcome_natively,
        ),
        trial(
            "examples::examples_reach_their_expected_outcome_through_the_components",
            examples_reach_their_expected_outcome_through_the_components,
        ),
        trial(
            "examples::the_embedded_components_are_the_builtin_policy_crates",
            the_embedded_components_are_the_builtin_policy_crates,
        ),
        trial(
            "examples::architecture_names_every_workspace_member",
            architecture_names_every_workspace_member,
        ),
    ]
}
