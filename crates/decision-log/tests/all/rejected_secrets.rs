//! A rejected input that is not a manifest is recorded by digest, size, media type and error
//! alone; secrets never reach the record, whatever quotes them.

#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use tollgate_decision_log::{
    Attempt, MASKED, Masking, Origin, RejectedInput, RejectedRecord, sha256_digest,
};
use tollgate_manifest::Timestamp;

const AWS_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn build(path: &str, text: &str, error: &str) -> RejectedRecord {
    let attempt = Attempt {
        input: RejectedInput::Manifest,
        refused_path: path,
        refused_text: Some(text),
        manifest: None,
        error,
        field: None,
        line: None,
        evaluated_at: Timestamp::parse("2026-05-21T00:00:00Z").unwrap(),
        engine_version: "tollgate test".into(),
        exit_code: 2,
    };
    let origin = Origin {
        actor: "mallory".into(),
        actor_source: "TOLLGATE_ACTOR".into(),
        ci: "local".into(),
        pipeline_id: None,
        host: "ci-host".into(),
        pid: 42,
    };
    let recorded_at = Timestamp::parse("2026-05-21T00:00:01Z").unwrap();
    RejectedRecord::build(
        attempt,
        origin,
        &Masking::default(),
        "r".into(),
        recorded_at,
    )
    .unwrap()
}

fn stored(record: &RejectedRecord) -> String {
    serde_json::to_string(record).unwrap()
}

#[test]
fn a_dotenv_file_is_recorded_by_digest_size_and_media_type_only() {
    let text = format!("AWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n");
    // Even an error that quotes the whole text stores none of it.
    let record = build("creds.env", &text, &format!("invalid YAML: `{text}`"));
    assert!(record.refused.masked.is_none());
    assert_eq!(record.refused.digest, Some(sha256_digest(text.as_bytes())));
    assert_eq!(record.refused.bytes, Some(text.len() as u64));
    assert_eq!(
        record.refused.media_type.as_deref(),
        Some("application/octet-stream")
    );
    let json = stored(&record);
    for secret in [AWS_ID, AWS_SECRET, "AWS_SECRET_ACCESS_KEY="] {
        assert!(!json.contains(secret), "{json}");
    }
}

#[test]
fn a_passwd_like_file_leaves_no_line_in_the_record() {
    let text = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";
    let record = build(
        "/etc/passwd",
        text,
        "invalid manifest: root:x:0:0:root:/root:/bin/bash",
    );
    assert!(record.refused.masked.is_none());
    assert!(record.change_id.is_none());
    let json = stored(&record);
    assert!(!json.contains("root:x"), "{json}");
    assert!(!json.contains("nologin"), "{json}");
    assert_eq!(record.error, format!("invalid manifest: {MASKED}"));
}

#[test]
fn a_mapping_without_change_is_not_kept_as_a_manifest() {
    let text = "{\"aws_access_key_id\": \"x\", \"region\": \"eu-west-1\"}";
    let record = build("secrets.json", text, "missing field `change`");
    assert!(record.refused.masked.is_none());
    assert_eq!(
        record.refused.media_type.as_deref(),
        Some("application/json")
    );
    assert_eq!(record.error, "missing field `change`");
}

#[test]
fn a_manifest_that_fails_validation_keeps_a_copy_without_secrets() {
    let text = format!(
        "change:\n  id: CHG-9\n  ticket_stauts: approved\n  db_password: hunter2\n  notes: key {AWS_ID}\n"
    );
    let record = build(
        "change.yml",
        &text,
        "unknown field `ticket_stauts`; password=hunter2",
    );
    let masked = record.refused.masked.as_ref().unwrap();
    assert_eq!(masked["change"]["ticket_stauts"], "approved");
    assert_eq!(masked["change"]["db_password"], MASKED);
    assert_eq!(masked["change"]["notes"], format!("key {MASKED}"));
    assert_eq!(record.refused.masked_paths, ["change.db_password"]);
    assert_eq!(
        record.refused.media_type.as_deref(),
        Some("application/yaml")
    );
    assert_eq!(record.change_id.as_deref(), Some("CHG-9"));
    let json = stored(&record);
    assert!(
        !json.contains("hunter2") && !json.contains(AWS_ID),
        "{json}"
    );
}
