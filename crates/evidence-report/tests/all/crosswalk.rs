//! The evidence report with a crosswalk: the organisation's control ids beside Tollgate's, and the
//! results grouped by them, on the fixture log of `report`.

#![allow(clippy::unwrap_used, reason = "tests")]

use tollgate_crosswalk::Crosswalk;
use tollgate_evidence_report::{build, html, to_oscal_json};

use crate::report::{options, verification};

const CROSSWALK: &str = "\
version: 1
catalogue: ACME risk and control matrix
controls:
  - id: CC-01
    title: All changes must have approval
    maps_to:
      - control: SOX-CC-05
      - control: PCI-6.5.5
  - id: CC-07
    title: Change Documentation
    maps_to:
      - control: SOX-CC-05
        rules: [ticket-rejected]
";

fn report() -> tollgate_evidence_report::Report {
    let mut options = options();
    let crosswalk = Crosswalk::parse(CROSSWALK, "crosswalk.yaml").unwrap();
    crosswalk.check(&options.catalogues).unwrap();
    options.crosswalk = Some(crosswalk);
    build(&verification(), &options)
}

#[test]
fn controls_carry_the_organisation_ids() {
    let report = report();
    let control = |id: &str| report.controls.iter().find(|c| c.control_id == id).unwrap();
    let ids = |id: &str| -> Vec<String> {
        control(id)
            .organisation_controls
            .iter()
            .map(|c| c.id.clone())
            .collect()
    };
    assert_eq!(ids("SOX-CC-05"), ["CC-01", "CC-07"]);
    assert_eq!(ids("PCI-6.5.5"), ["CC-01"]);
    assert!(ids("SOX-IT-01").is_empty());

    let html = html::render(&report);
    assert!(
        html.contains("Controls of ACME risk and control matrix"),
        "no grouped section"
    );
    assert!(html.contains("<small class=\"org\">CC-01, CC-07</small>"));
    let oscal = to_oscal_json(&report).unwrap();
    assert!(
        oscal.contains("\"organisation-control-id\""),
        "no OSCAL property"
    );
}

#[test]
fn each_change_counts_once_per_organisation_control_by_its_worst_status() {
    let report = report();
    assert_eq!(
        report.organisation_catalogue.as_deref(),
        Some("ACME risk and control matrix")
    );
    let cc01 = &report.organisation_controls[0];
    assert_eq!(cc01.control.id, "CC-01");
    assert_eq!(cc01.maps_to, ["SOX-CC-05", "PCI-6.5.5"]);
    // SOX-CC-05 answers every change of the fixture (9); PCI-6.5.5 only some, and a change
    // non-compliant under either is non-compliant under CC-01.
    assert_eq!(cc01.evaluated, 9);
    let sox = report
        .controls
        .iter()
        .find(|c| c.control_id == "SOX-CC-05")
        .unwrap();
    assert!(cc01.non_compliant >= sox.non_compliant);
    assert_eq!(
        cc01.evaluated,
        cc01.compliant
            + cc01.non_compliant
            + cc01.pending
            + cc01.not_assessed
            + cc01.waived
            + cc01.not_applicable
    );
    // CC-07 maps one rule only: non-compliance of SOX-CC-05 for other rules is compliant here.
    let cc07 = &report.organisation_controls[1];
    assert_eq!(cc07.maps_to, ["SOX-CC-05 (ticket-rejected)"]);
    assert!(cc07.non_compliant <= sox.non_compliant);
}

#[test]
fn without_a_crosswalk_the_report_is_unchanged() {
    let json = tollgate_evidence_report::to_json(&build(&verification(), &options())).unwrap();
    assert!(!json.contains("organisation"));
}
