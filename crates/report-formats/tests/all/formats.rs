//! Every report format for one realistic evaluation (SOX and PCI DSS, a self-approval, a live PAN
//! in a fixture that a waiver covers, an expired and a malformed waiver, a failed policy), compared
//! with golden files, plus structural checks against each format's rules. The SARIF log is
//! validated against the vendored OASIS schema. Set `UPDATE_GOLDEN=1` to rewrite the golden files.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::PathBuf;

use tollgate_decision::Verdict;
use tollgate_decision::{CombinedDecision, Decision, Outcome, PolicyMetadata};
use tollgate_manifest::{Format, Manifest, Timestamp};
use tollgate_policy_pci::PciPolicy;
use tollgate_policy_sox::SoxPolicy;
use tollgate_report_formats::{Evaluation, PolicyFailureRun, PolicyRun, ReportFormat, render};
use tollgate_rules::{EvaluationContext, Policy};
use tollgate_waivers::{Applied, WaiverContext, WaiverSet, apply};

const MANIFEST: &str = "version: 1
change:
  id: CHG-2041
  title: Retry payment capture on timeout
  reason: failed captures during network blips
  security_impact: none identified
  ticket_status: approved
  author: alice
  deployer: carol
  deployer_groups: [production-deployers]
  approvals:
    - { by: bob, role: TECHNICAL_LEAD, at: 2026-05-20T09:12:00Z }
  environment: production
  data_classes: [cardholder_data]
  categories: [business_logic]
  lines_changed: 240
evidence:
  tests:
    - { suite: unit, passed: 412, failed: 0 }
    - { suite: integration, passed: 57, failed: 0 }
    - { suite: e2e, passed: 20, failed: 0 }
    - { suite: performance, passed: 4, failed: 0 }
  security_scan: { completed: true, critical: 0, high: 0, medium: 2, low: 5 }
  compliance_checks_passed: true
  backup_verified: true
  rollback_plan: { documented: true, strategy: blue_green, tested: true }
  encryption: { at_rest: true, in_transit: true, key_rotated_days_ago: 120 }
  audit_logging: true
  sensitive_data_findings:
    - { kind: pan, location: 'fixtures/cards.csv:3' }
  test_data_removed: true
  breach_notification_procedure: true
";

const WAIVERS: &str = "version: 1
waivers:
  - id: WVR-7
    rule: live-pan-in-pre-production
    scope: { framework: pci, environment: production }
    justification: the number is a card-issuer sandbox PAN, confirmed with the issuer
    ticket: CHG-2101
    approved_by: dave
    expires: 2026-06-30
  - id: WVR-8
    rule: sod-self-approval
    justification: expired exception
    ticket: CHG-1999
    approved_by: dave
    expires: 2026-01-31
  - id: WVR-9
    control: SOX-IT-03
    justification: missing ticket
    approved_by: dave
    expires: 2026-06-30
";

struct Fixture {
    manifest: Manifest,
    metadata: Vec<PolicyMetadata>,
    combined: CombinedDecision,
    applied: Applied,
}

fn fixture() -> Fixture {
    let manifest = Manifest::from_text(MANIFEST, Format::Yaml).unwrap();
    let now = Timestamp::parse("2026-05-21T10:00:00Z").unwrap();
    let context = EvaluationContext { now };
    let policies: Vec<Box<dyn Policy<Settings = tollgate_rules::Settings>>> =
        vec![Box::new(SoxPolicy), Box::new(PciPolicy)];
    let mut metadata = Vec::new();
    let mut decisions: Vec<Decision> = Vec::new();
    for policy in &policies {
        metadata.push(policy.metadata());
        decisions.push(policy.decide(&manifest, "", &context).unwrap());
    }
    let set = WaiverSet::parse(WAIVERS, "waivers.yaml").unwrap();
    let applied = apply(
        &set,
        &WaiverContext {
            now,
            author: &manifest.change.author,
            deployer: &manifest.change.deployer,
            identities: &Default::default(),
            environment: &manifest.change.environment,
            service: None,
        },
        &decisions,
    );
    Fixture {
        manifest,
        metadata,
        combined: CombinedDecision::combine(decisions),
        applied,
    }
}

fn evaluation(fixture: &Fixture) -> Evaluation<'_> {
    Evaluation {
        tool_version: "0.1.0",
        evaluated_at: "2026-05-21T10:00:00Z".to_owned(),
        manifest_path: "change.yaml",
        manifest_digest: "sha256:0000",
        manifest_text: Some(MANIFEST),
        manifest: &fixture.manifest,
        policies: fixture
            .metadata
            .iter()
            .zip(&fixture.combined.decisions)
            .map(|(metadata, decision)| PolicyRun {
                metadata,
                digest: "sha256:1111",
                decision,
            })
            .collect(),
        failures: vec![PolicyFailureRun {
            policy: "hipaa",
            kind: "timeout",
            message: "exceeded its 100 ms deadline",
        }],
        combined: &fixture.combined,
        waivers_file: Some("waivers.yaml"),
        waivers: &fixture.applied,
        exit_code: 5,
        crosswalk: None,
    }
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    // JSON is compared as values: key order depends on serde_json features unified across the
    // workspace, and is not part of any format.
    if name.ends_with(".json") || name.ends_with(".sarif") {
        let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
        assert_eq!(
            parse(actual),
            parse(&expected),
            "{name} differs from its golden file (run with UPDATE_GOLDEN=1 to accept)"
        );
    } else {
        assert_eq!(
            actual, expected,
            "{name} differs from its golden file (run with UPDATE_GOLDEN=1 to accept)"
        );
    }
}

#[test]
fn the_fixture_exercises_waivers() {
    let fixture = fixture();
    assert_eq!(fixture.applied.waived.len(), 1);
    assert_eq!(fixture.applied.waived[0].waiver.id, "WVR-7");
    let kinds: Vec<&str> = fixture
        .applied
        .problems
        .iter()
        .map(|p| p.kind.as_str())
        .collect();
    assert_eq!(kinds, ["expired", "malformed"]);
    // SOX still denies the overdue key rotation (its waiver is malformed); PCI's only blocking
    // finding, the PAN, is waived, so PCI approves.
    let after: Vec<Outcome> = fixture.applied.outcomes.iter().map(|o| o.after).collect();
    assert_eq!(after, [Outcome::Denied, Outcome::Approved]);
    assert_eq!(fixture.combined.decisions[1].outcome, Outcome::Denied);
    assert_eq!(evaluation(&fixture).outcome(), Verdict::PolicyFailure);
}

#[test]
fn every_format_matches_its_golden_file() {
    let fixture = fixture();
    let evaluation = evaluation(&fixture);
    for (format, file) in [
        (ReportFormat::Json, "report.json"),
        (ReportFormat::Junit, "report.junit.xml"),
        (ReportFormat::Sarif, "report.sarif"),
        (ReportFormat::Github, "report.github.txt"),
        (ReportFormat::Gitlab, "report.gitlab.json"),
        (ReportFormat::Markdown, "report.md"),
    ] {
        golden(file, &render(format, &evaluation).unwrap());
    }
}

#[test]
fn sarif_validates_against_the_oasis_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../schemas/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let fixture = fixture();
    let log: serde_json::Value =
        serde_json::from_str(&render(ReportFormat::Sarif, &evaluation(&fixture)).unwrap()).unwrap();
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema is not vacuous: a log without `runs` fails it.
    assert!(!validator.is_valid(&serde_json::json!({ "version": "2.1.0" })));
}

#[test]
fn sarif_points_at_fields_and_data() {
    let fixture = fixture();
    let log: serde_json::Value =
        serde_json::from_str(&render(ReportFormat::Sarif, &evaluation(&fixture)).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let pan = results
        .iter()
        .find(|r| r["ruleId"] == "PCI-6.5.5/live-pan-in-pre-production")
        .unwrap();
    let physical = &pan["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "fixtures/cards.csv");
    assert_eq!(physical["region"]["startLine"], 3);
    assert_eq!(pan["suppressions"][0]["status"], "accepted");
    assert!(
        pan["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("card-issuer sandbox")
    );
    let rotation = results
        .iter()
        .find(|r| r["ruleId"].as_str().unwrap().starts_with("SOX-IT-03/"))
        .unwrap();
    let physical = &rotation["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "change.yaml");
    // `evidence.encryption.key_rotated_days_ago` is on line 27 (flow style).
    assert_eq!(physical["region"]["startLine"], 27);
    assert_eq!(
        rotation["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "evidence.encryption.key_rotated_days_ago"
    );
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
}

#[test]
fn junit_has_one_distinct_case_per_control_per_policy() {
    let fixture = fixture();
    let evaluation = evaluation(&fixture);
    let xml = render(ReportFormat::Junit, &evaluation).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut names = Vec::new();
    let mut failures = 0;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    "testcase" => {
                        let get = |key: &str| {
                            e.attributes()
                                .flatten()
                                .find(|a| a.key.as_ref() == key)
                                .map(|a| a.value.into_owned())
                                .unwrap()
                        };
                        names.push(format!("{}::{}", get("classname"), get("name")));
                    }
                    "failure" => failures += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    let controls: usize = fixture
        .combined
        .decisions
        .iter()
        .map(|d| d.controls.len())
        .sum();
    // One case per control, plus one for the failed policy.
    assert_eq!(names.len(), controls + 1);
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "{names:#?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("tollgate.sox::SOX-CC-05 "))
    );
    assert!(failures >= 1);
    assert!(xml.contains("remediation:"));
    assert!(xml.contains("waived by WVR-7"));
}

#[test]
fn github_and_gitlab_reports_follow_their_formats() {
    let fixture = fixture();
    let evaluation = evaluation(&fixture);
    let annotations = render(ReportFormat::Github, &evaluation).unwrap();
    for line in annotations.lines() {
        assert!(
            ["::error ", "::warning ", "::notice "]
                .iter()
                .any(|p| line.starts_with(p)),
            "{line}"
        );
        assert!(line.contains("::"), "{line}");
    }
    assert!(annotations.contains("::notice file=fixtures/cards.csv,line=3,"));
    let issues: serde_json::Value =
        serde_json::from_str(&render(ReportFormat::Gitlab, &evaluation).unwrap()).unwrap();
    let issues = issues.as_array().unwrap();
    assert!(!issues.is_empty());
    let mut fingerprints: Vec<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    for issue in issues {
        assert!(issue["description"].is_string());
        assert!(issue["check_name"].is_string());
        assert!(issue["location"]["path"].is_string());
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap())
        );
    }
    fingerprints.sort_unstable();
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), issues.len());
}

#[test]
fn markdown_shows_waivers_with_their_justification() {
    let fixture = fixture();
    let text = render(ReportFormat::Markdown, &evaluation(&fixture)).unwrap();
    assert!(text.starts_with("## Tollgate: ❌ Policy failure"));
    assert!(text.contains("### Waived findings (1)"));
    assert!(text.contains("card-issuer sandbox"));
    assert!(text.contains("WVR-8"));
    assert!(text.contains("expired"));
}

#[test]
fn format_names_round_trip() {
    for format in ReportFormat::ALL {
        assert_eq!(format.as_str().parse::<ReportFormat>(), Ok(format));
    }
    assert!("xml".parse::<ReportFormat>().unwrap_err().contains("junit"));
}

#[test]
fn the_compact_json_report_is_the_json_report_without_whitespace() {
    let fixture = fixture();
    let evaluation = evaluation(&fixture);
    let pretty = tollgate_report_formats::json(&evaluation).unwrap();
    let compact = tollgate_report_formats::json_compact(&evaluation).unwrap();
    let read = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    assert_eq!(read(&compact), read(&pretty));
    assert!(!compact.contains('\n') && !compact.contains("\": "));
}
