//! The control table of each built-in policy's README documents exactly the policy's metadata: ids,
//! titles and regulatory references, in order.

use libtest_mimic::Trial;
use tollgate_conformance::native_policy;
use tollgate_rules::catalogue::{DocumentedControl, readme_control_table};

use crate::trial;

/// Compares the README control table with the metadata of the named built-in policy.
fn readme_control_table_matches_metadata(policy: &str, readme: &str) -> Result<(), String> {
    let documented = readme_control_table(readme).map_err(|e| e.to_string())?;
    let policy = native_policy(policy).ok_or(format!("no built-in policy `{policy}`"))?;
    assert_eq!(
        documented,
        DocumentedControl::from_metadata(&policy.metadata())
    );
    Ok(())
}

fn sox_readme_control_table_matches_metadata() -> Result<(), String> {
    readme_control_table_matches_metadata("sox", include_str!("../../../policies/sox/README.md"))
}

fn hipaa_readme_control_table_matches_metadata() -> Result<(), String> {
    readme_control_table_matches_metadata(
        "hipaa",
        include_str!("../../../policies/hipaa/README.md"),
    )
}

fn pci_readme_control_table_matches_metadata() -> Result<(), String> {
    readme_control_table_matches_metadata("pci", include_str!("../../../policies/pci/README.md"))
}

fn fda_readme_control_table_matches_metadata() -> Result<(), String> {
    readme_control_table_matches_metadata("fda", include_str!("../../../policies/fda/README.md"))
}

/// The tests of this module, as trials named `readme_tables::<policy>_readme_control_table_matches_metadata`.
pub fn trials() -> Vec<Trial> {
    vec![
        trial(
            "readme_tables::sox_readme_control_table_matches_metadata",
            sox_readme_control_table_matches_metadata,
        ),
        trial(
            "readme_tables::hipaa_readme_control_table_matches_metadata",
            hipaa_readme_control_table_matches_metadata,
        ),
        trial(
            "readme_tables::pci_readme_control_table_matches_metadata",
            pci_readme_control_table_matches_metadata,
        ),
        trial(
            "readme_tables::fda_readme_control_table_matches_metadata",
            fda_readme_control_table_matches_metadata,
        ),
    ]
}
