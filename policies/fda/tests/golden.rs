//! Every golden case of `tests/cases/` decided by the native crate and checked as every runner
//! checks it (`tollgate_cases::check`); the conformance crate runs the same files through the
//! component and the other engines.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use std::path::Path;

use tollgate_cases::{Case, case_files_in, check};
use tollgate_policy_fda::FdaPolicy;
use tollgate_policy_sdk::decision::EvalError;
use tollgate_policy_sdk::{EvaluationContext, Policy};

#[test]
fn every_golden_case_passes_natively() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let files = case_files_in(&dir).unwrap();
    assert!(files.len() >= 25, "{} cases", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let case = Case::load(file).unwrap();
        let manifest = case.manifest().unwrap();
        let result = FdaPolicy.decide(
            &manifest,
            &case.settings_json(),
            &EvaluationContext { now: case.now },
        );
        if let Err(mismatch) = check(&case, &FdaPolicy.metadata(), &result) {
            failures.push(format!("{}: {mismatch}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn invalid_extension_facts_name_their_field() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    for (file, field) in [
        (
            "25-invalid-training-date-rejected.yaml",
            "`extensions.fda.training[1].completed`",
        ),
        (
            "26-invalid-gamp-category-rejected.yaml",
            "`extensions.fda.gamp_category`",
        ),
        (
            "27-traced-exceeds-affected-rejected.yaml",
            "`extensions.fda.requirements.traced`",
        ),
    ] {
        let case = Case::load(&dir.join(file)).unwrap();
        let result = FdaPolicy.decide(
            &case.manifest().unwrap(),
            "",
            &EvaluationContext { now: case.now },
        );
        match result {
            Err(EvalError::InvalidManifest(message)) => {
                assert!(message.starts_with(field), "{file}: {message}");
            }
            other => panic!("{file}: expected an invalid manifest, got {other:?}"),
        }
    }
}

#[test]
fn the_readme_documents_every_control() {
    use tollgate_policy_sdk::catalogue::{DocumentedControl, readme_control_table};
    let documented = readme_control_table(include_str!("../README.md")).unwrap();
    assert_eq!(
        documented,
        DocumentedControl::from_metadata(&FdaPolicy.metadata())
    );
}
