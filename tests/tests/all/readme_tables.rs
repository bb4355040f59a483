//! The control table of the README documents exactly the policy's metadata: ids, titles and
//! regulatory references, in order.

use tollgate_policy_sox::SoxPolicy;
use tollgate_rules::Policy;
use tollgate_rules::catalogue::{DocumentedControl, readme_control_table};

#[test]
fn readme_control_table_matches_metadata() -> Result<(), String> {
    let documented = readme_control_table(include_str!("../README.md"))?;
    assert_eq!(
        documented,
        DocumentedControl::from_metadata(&SoxPolicy.metadata())
    );
    Ok(())
}
