use rstest::rstest;
use tollgate_manifest::{DataStoreKind, ResourceAction};

use super::*;

const COMPLIANT: &str = include_str!("../../../examples/terraform/compliant/plan.json");
const UNTAGGED_PUBLIC: &str =
    include_str!("../../../examples/terraform/untagged-public-bucket/plan.json");
const TRAIL: &str = include_str!("../../../examples/terraform/audit-trail-weakened/plan.json");

#[test]
fn compliant_plan_reads_tags_trail_and_stores() {
    let plan = Plan::parse(COMPLIANT).unwrap();
    let resources = &plan.infrastructure.resources;
    let addresses: Vec<&str> = resources.iter().map(|r| r.address.as_str()).collect();
    // The unchanged KMS key (no-op) and the data source are left out.
    assert_eq!(
        addresses,
        [
            "aws_cloudtrail.audit",
            "aws_db_instance.claims",
            "aws_s3_bucket.records",
            "aws_s3_bucket_public_access_block.records",
            "aws_s3_bucket_server_side_encryption_configuration.records",
        ]
    );
    let trail = resources[0].audit_trail.unwrap();
    assert!(
        trail.logging && trail.multi_region && trail.log_file_validation && trail.kms_encrypted
    );
    let tags = resources[2].tracking_tags.as_ref().unwrap();
    assert_eq!(tags.change_ticket.as_deref(), Some("CHG-4120"));
    assert_eq!(tags.compliance_framework.as_deref(), Some("HIPAA"));
    let bucket = resources[2].data_store.unwrap();
    assert_eq!(bucket.kind, DataStoreKind::Bucket);
    assert!(bucket.encrypted && !bucket.public);
    let db = resources[1].data_store.unwrap();
    assert!(db.encrypted && !db.public);
    assert_eq!(plan.terraform_version.as_deref(), Some("1.9.8"));
    assert_eq!(
        plan.summary(),
        [
            "aws_cloudtrail: 1 created",
            "aws_db_instance: 1 updated",
            "aws_s3_bucket: 1 created",
            "aws_s3_bucket_public_access_block: 1 created",
            "aws_s3_bucket_server_side_encryption_configuration: 1 created",
        ]
    );
}

#[test]
fn untagged_public_bucket() {
    let plan = Plan::parse(UNTAGGED_PUBLIC).unwrap();
    let bucket = &plan.infrastructure.resources[0];
    assert_eq!(bucket.address, "aws_s3_bucket.exports");
    let tags = bucket.tracking_tags.as_ref().unwrap();
    assert_eq!(tags.change_ticket.as_deref(), Some("CHG-4000"));
    assert_eq!(tags.approval_reference, None);
    let store = bucket.data_store.unwrap();
    assert!(store.public && !store.encrypted);
}

#[test]
fn deleted_and_weakened_trails() {
    let plan = Plan::parse(TRAIL).unwrap();
    let [updated, deleted] = plan.infrastructure.resources.as_slice() else {
        panic!("two resources expected: {plan:?}");
    };
    assert_eq!(updated.action, ResourceAction::Update);
    let trail = updated.audit_trail.unwrap();
    assert!(trail.logging && !trail.multi_region && !trail.log_file_validation);
    assert_eq!(deleted.action, ResourceAction::Delete);
    assert!(deleted.audit_trail.is_some());
    assert_eq!(deleted.tracking_tags, None);
}

#[test]
fn linked_by_configuration_reference_inside_a_module() {
    let text = r#"{
      "format_version": "1.2",
      "planned_values": {"root_module": {"child_modules": [{"address": "module.store", "resources": [
        {"address": "module.store.aws_s3_bucket_server_side_encryption_configuration.this[0]",
         "type": "aws_s3_bucket_server_side_encryption_configuration",
         "values": {"rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}]}]}}
      ]}]}},
      "resource_changes": [
        {"address": "module.store.aws_s3_bucket.this[0]", "mode": "managed", "type": "aws_s3_bucket",
         "change": {"actions": ["create"], "before": null, "after": {"tags": null},
                    "after_unknown": {"bucket": true}}}
      ],
      "configuration": {"root_module": {"module_calls": {"store": {"module": {"resources": [
        {"address": "aws_s3_bucket_server_side_encryption_configuration.this",
         "type": "aws_s3_bucket_server_side_encryption_configuration",
         "expressions": {"bucket": {"references": ["aws_s3_bucket.this[0].id", "aws_s3_bucket.this[0]", "aws_s3_bucket.this"]}}}
      ]}}}}}
    }"#;
    let plan = Plan::parse(text).unwrap();
    let resource = &plan.infrastructure.resources[0];
    assert!(resource.data_store.unwrap().encrypted);
    // `tags` is in the schema but unset: taggable, every tag absent.
    assert_eq!(resource.tracking_tags, Some(TrackingTags::default()));
}

#[rstest]
#[case("[]", "`(document)`: must be a JSON object")]
#[case("{}", "`format_version`: missing")]
#[case(r#"{"format_version": "2.0"}"#, "unsupported plan format `2.0`")]
#[case(
    r#"{"format_version": "1.2", "resource_changes": {}}"#,
    "`resource_changes`: must be a list"
)]
#[case(
    r#"{"format_version": "1.2", "resource_changes": [{"address": "a.b", "type": "a", "change": {"actions": ["explode"]}}]}"#,
    "`resource_changes[0].change.actions`: unknown actions"
)]
#[case(
    r#"{"format_version": "1.2", "resource_changes": [{"type": "a", "change": {"actions": ["create"]}}]}"#,
    "`resource_changes[0].address`: must be a non-empty string"
)]
#[case("{\n  \"format_version\": ", "not JSON (line 2")]
fn bad_plans_name_the_field(#[case] text: &str, #[case] expected: &str) {
    let error = Plan::parse(text).unwrap_err().to_string();
    assert!(error.contains(expected), "{error}");
}
