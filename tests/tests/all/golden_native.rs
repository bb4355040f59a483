//! Every golden case of every policy through the native policy crates.

use libtest_mimic::{Failed, Trial};
use tollgate_conformance::{Case, POLICIES, case_files, check, native_policy};

/// One trial per golden case of every policy, named `golden_native::<policy>::<case>`.
pub fn trials() -> Result<Vec<Trial>, Box<dyn std::error::Error>> {
    let mut trials = Vec::new();
    for policy_name in POLICIES {
        let files = case_files(policy_name)?;
        if files.len() < 15 {
            return Err(format!("{policy_name} has only {} golden cases", files.len()).into());
        }
        for file in files {
            let name = format!(
                "golden_native::{policy_name}::{}",
                file.file_stem().unwrap_or_default().to_string_lossy()
            );
            trials.push(Trial::test(name, move || {
                let case = Case::load(&file).map_err(|e| Failed::from(e.to_string()))?;
                let policy = native_policy(policy_name).ok_or("unknown policy")?;
                let manifest = case.manifest()?;
                let result = policy.decide(
                    &manifest,
                    &case.settings_json(),
                    &tollgate_rules::EvaluationContext { now: case.now },
                );
                check(&case, &policy.metadata(), &result).map_err(Failed::from)
            }));
        }
    }
    Ok(trials)
}
