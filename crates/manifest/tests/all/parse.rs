//! Manifest parsing: valid documents, and errors that name the field path and the line.

use rstest::rstest;
use tollgate_manifest::{
    DataClass, DocumentError, Format, Manifest, SignatureMeaning, TicketStatus,
};

const VALID: &str = r#"version: 1
change:
  id: CHG-2041
  title: Retry payment capture on timeout
  ticket_status: approved
  author: alice
  deployer: carol
  approvals:
    - { by: bob, role: TECHNICAL_LEAD, at: 2026-05-20T09:12:00Z }
  environment: production
  data_classes: [cardholder_data]
  historical_failure_rate: 0.05
evidence:
  tests:
    - { suite: unit, passed: 412, failed: 0 }
"#;

fn parse_yaml(text: &str) -> Result<Manifest, DocumentError> {
    Manifest::from_text(text, Format::Yaml)
}

#[test]
fn parses_a_valid_manifest_with_defaults() {
    let manifest = parse_yaml(VALID).unwrap();
    assert_eq!(manifest.change.ticket_status, TicketStatus::Approved);
    assert!(manifest.has_data_class(DataClass::CardholderData));
    assert_eq!(
        manifest.change.approvals[0].at.to_string(),
        "2026-05-20T09:12:00Z"
    );
    assert!(
        !manifest.evidence.backup_verified,
        "missing evidence defaults to absent"
    );
    assert!(manifest.evidence.encryption.is_none());
}

#[test]
fn gxp_records_and_signature_meanings_parse_and_round_trip() {
    let text = VALID
        .replace(
            "at: 2026-05-20T09:12:00Z }",
            "at: 2026-05-20T09:12:00Z, meaning: approval }",
        )
        .replace("[cardholder_data]", "[gxp]");
    let manifest = parse_yaml(&text).unwrap();
    assert!(manifest.has_data_class(DataClass::Gxp));
    assert_eq!(
        manifest.change.approvals[0].meaning,
        Some(SignatureMeaning::Approval)
    );
    let json = serde_json::to_value(&manifest).unwrap();
    assert_eq!(json["change"]["data_classes"][0], "gxp");
    assert_eq!(json["change"]["approvals"][0]["meaning"], "approval");
    for meaning in ["review", "approval", "responsibility", "authorship"] {
        let text = VALID.replace(
            "at: 2026-05-20T09:12:00Z }",
            &format!("at: 2026-05-20T09:12:00Z, meaning: {meaning} }}"),
        );
        let approval = &parse_yaml(&text).unwrap().change.approvals[0];
        assert_eq!(
            serde_json::to_value(approval.meaning).unwrap(),
            serde_json::Value::String(meaning.to_owned())
        );
    }
}

#[test]
fn an_unstated_signature_meaning_is_absent_and_not_written() {
    let manifest = parse_yaml(VALID).unwrap();
    assert_eq!(manifest.change.approvals[0].meaning, None);
    let json = serde_json::to_value(&manifest).unwrap();
    assert!(json["change"]["approvals"][0].get("meaning").is_none());
}

#[test]
fn json_and_yaml_agree() {
    let yaml = parse_yaml(VALID).unwrap();
    let json_text = serde_json::to_string(&yaml).unwrap();
    let json = Manifest::from_text(&json_text, Format::Json).unwrap();
    assert_eq!(yaml, json);
}

#[rstest]
#[case::misspelt_field(
    "  ticket_stauts: approved\n",
    "  ticket_status: approved",
    "change.ticket_stauts",
    5,
    "unknown field `ticket_stauts`"
)]
#[case::wrong_type(
    "  lines_changed: many\n",
    "",
    "change.lines_changed",
    11,
    "invalid type"
)]
#[case::bad_timestamp(
    "    - { by: bob, role: TECHNICAL_LEAD, at: yesterday }\n",
    "    - { by: bob, role: TECHNICAL_LEAD, at: 2026-05-20T09:12:00Z }",
    "change.approvals[0].at",
    9,
    "not an RFC 3339 timestamp"
)]
#[case::rate_out_of_range(
    "  historical_failure_rate: 1.5\n",
    "  historical_failure_rate: 0.05",
    "change.historical_failure_rate",
    12,
    "outside 0..=1"
)]
#[case::unknown_enum(
    "  data_classes: [cardholder]\n",
    "  data_classes: [cardholder_data]",
    "change.data_classes[0]",
    11,
    "unknown variant `cardholder`"
)]
#[case::unknown_signature_meaning(
    "    - { by: bob, role: TECHNICAL_LEAD, at: 2026-05-20T09:12:00Z, meaning: consent }\n",
    "    - { by: bob, role: TECHNICAL_LEAD, at: 2026-05-20T09:12:00Z }",
    "change.approvals[0].meaning",
    9,
    "unknown variant `consent`"
)]
#[case::empty_author(
    "  author: \"\"\n",
    "  author: alice",
    "change.author",
    6,
    "must not be empty"
)]
fn errors_name_field_and_line(
    #[case] replacement: &str,
    #[case] replaced: &str,
    #[case] path: &str,
    #[case] line: usize,
    #[case] message: &str,
) {
    let text = if replaced.is_empty() {
        VALID.replacen(
            "  environment: production\n",
            &format!("  environment: production\n{replacement}"),
            1,
        )
    } else {
        VALID.replacen(&format!("{replaced}\n"), replacement, 1)
    };
    let err = parse_yaml(&text).unwrap_err();
    let shown = err.to_string();
    assert_eq!(err.path(), Some(path), "{shown}");
    assert_eq!(err.location().map(|l| l.line), Some(line), "{shown}");
    assert!(shown.contains(message), "{shown}");
    assert!(shown.contains(&format!("`{path}`")), "{shown}");
}

#[test]
fn missing_required_field_is_named() {
    let text = VALID.replace("  deployer: carol\n", "");
    let err = parse_yaml(&text).unwrap_err().to_string();
    assert!(err.contains("missing field `deployer`"), "{err}");
    assert!(err.contains("`change`"), "{err}");
}

#[test]
fn unsupported_version_is_rejected() {
    let err = parse_yaml(&VALID.replace("version: 1", "version: 2")).unwrap_err();
    assert_eq!(err.path(), Some("version"));
}

#[test]
fn json_errors_carry_line_and_path() {
    let text = "{\n  \"version\": 1,\n  \"change\": {\n    \"id\": 7\n  }\n}";
    let err = Manifest::from_text(text, Format::Json).unwrap_err();
    assert_eq!(err.path(), Some("change.id"), "{err}");
    assert_eq!(err.location().map(|l| l.line), Some(4), "{err}");
}

#[test]
fn trailing_json_is_rejected() {
    let yaml = parse_yaml(VALID).unwrap();
    let text = serde_json::to_string(&yaml).unwrap() + " {}";
    assert!(Manifest::from_text(&text, Format::Json).is_err());
}

#[test]
fn several_yaml_documents_are_rejected() {
    let text = format!("{VALID}---\n{VALID}");
    assert!(parse_yaml(&text).is_err());
}

#[test]
fn oversized_documents_are_rejected_before_parsing() {
    let text = " ".repeat(tollgate_manifest::MAX_DOCUMENT_BYTES + 1);
    assert!(matches!(
        parse_yaml(&text),
        Err(DocumentError::TooLarge { .. })
    ));
}

#[test]
fn format_detection() {
    use std::path::Path;
    assert_eq!(Format::detect(Some(Path::new("a.json")), "x"), Format::Json);
    assert_eq!(Format::detect(Some(Path::new("a.yml")), "{"), Format::Yaml);
    assert_eq!(Format::detect(None, "  {\"a\":1}"), Format::Json);
    assert_eq!(Format::detect(None, "version: 1"), Format::Yaml);
}

#[test]
fn committed_schema_is_current() {
    assert_eq!(
        Manifest::json_schema(),
        Manifest::generate_json_schema(),
        "regenerate with `cargo run -p tollgate-manifest --example print_schema > crates/manifest/schema/manifest.schema.json`"
    );
}
