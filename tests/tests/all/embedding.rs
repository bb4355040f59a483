//! The book's Embedding page (`docs/embedding.md`): the Rust snippet below runs here against a
//! component file, and every snippet on that page (and on `docs/opa.md`) is the tested code, quoted verbatim from its file (Rust here; JavaScript,
//! Python and Extism in `examples/embedding/`, run over the golden corpus by `tests/engines/run`).

use libtest_mimic::Trial;
use tollgate_conformance::{native_policy, workspace_root};

use crate::trial;
use tollgate_rules::EvaluationContext;

// embed:start
use tollgate_decision::Decision;
use tollgate_engine::{Limits, PolicyEngine, PolicySource};
use tollgate_manifest::{Format, Manifest, Timestamp};

/// Evaluates a YAML manifest with a policy component file, in the sandboxed wasmtime host.
fn evaluate_file(
    component: &std::path::Path,
    manifest_yaml: &str,
    now: &str,
) -> Result<Decision, Box<dyn std::error::Error>> {
    let engine = PolicyEngine::new(Limits::default(), None)?; // no compilation cache
    let policy = engine.load(PolicySource::File(component.to_path_buf()))?;
    let manifest = Manifest::from_text(manifest_yaml, Format::Yaml)?;
    // A deny is an `Ok` decision; an `Err` (trap, timeout, invalid settings) is never an approval.
    Ok(policy.evaluate(&manifest, "", Timestamp::parse(now)?)?)
}
// embed:end

const NOW: &str = "2026-06-01T00:00:00Z";

fn the_rust_snippet_evaluates_a_component_file_as_the_native_crate_does() {
    let pack = tollgate_engine::builtin_pack("sox").unwrap();
    let component = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("embedding-sox.wasm");
    std::fs::write(&component, pack.bytes).unwrap();
    let text = std::fs::read_to_string(
        workspace_root().join("examples/manifests/self-approval-denied.yaml"),
    )
    .unwrap();

    let decision = evaluate_file(&component, &text, NOW).unwrap();

    let manifest = Manifest::from_text(&text, Format::Yaml).unwrap();
    let context = EvaluationContext {
        now: Timestamp::parse(NOW).unwrap(),
    };
    let native = native_policy("sox")
        .unwrap()
        .decide(&manifest, "", &context)
        .unwrap();
    assert_eq!(decision, native);
    assert_eq!(decision.outcome.as_str(), "denied");
}

/// The lines between the `embed:start` and `embed:end` markers of a file, without the markers.
fn snippet(path: &str) -> Result<String, String> {
    snippet_between(path, "embed")
}

/// The lines between the `<marker>:start` and `<marker>:end` markers of a file.
fn snippet_between(path: &str, marker: &str) -> Result<String, String> {
    let (start, end) = (format!("{marker}:start"), format!("{marker}:end"));
    let text = std::fs::read_to_string(workspace_root().join(path))
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    let body: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains(&start))
        .skip(1)
        .take_while(|l| !l.contains(&end))
        .collect();
    if body.is_empty() {
        return Err(format!("{path} has no embed:start/embed:end snippet"));
    }
    Ok(body.join("\n"))
}

fn the_readme_embedding_snippets_are_the_tested_code() {
    let section = std::fs::read_to_string(workspace_root().join("docs/embedding.md")).unwrap();
    for path in [
        "tests/tests/all/embedding.rs",
        "examples/embedding/jco.mjs",
        "examples/embedding/wasmtime_policy.py",
        "examples/embedding/extism_policy.py",
    ] {
        let code = snippet(path).unwrap();
        assert!(
            section.contains(&code),
            "docs/embedding.md does not quote the snippet of {path} verbatim:\n{code}"
        );
    }
}

fn the_readme_opa_snippets_are_the_tested_code() {
    let section = std::fs::read_to_string(workspace_root().join("docs/opa.md")).unwrap();
    for (path, marker) in [
        ("examples/embedding/opa.mjs", "embed"),
        ("examples/embedding/opa_policy.py", "embed"),
        ("examples/embedding/opa_policy.py", "embed-wasmtime"),
        ("tests/tests/all/golden_opa_rust.rs", "embed-opa"),
    ] {
        let code = snippet_between(path, marker).unwrap();
        assert!(
            section.contains(&code),
            "docs/opa.md does not quote the {marker} snippet of {path} verbatim:\n{code}"
        );
    }
}

/// The tests of this module, as trials named `embedding::<test>`.
pub fn trials() -> Vec<Trial> {
    vec![
        trial(
            "embedding::the_rust_snippet_evaluates_a_component_file_as_the_native_crate_does",
            the_rust_snippet_evaluates_a_component_file_as_the_native_crate_does,
        ),
        trial(
            "embedding::the_readme_embedding_snippets_are_the_tested_code",
            the_readme_embedding_snippets_are_the_tested_code,
        ),
        trial(
            "embedding::the_readme_opa_snippets_are_the_tested_code",
            the_readme_opa_snippets_are_the_tested_code,
        ),
    ]
}
