//! Reads the JSON plan representation of `terraform show -json plan.out` (also written by OpenTofu)
//! into the infrastructure evidence of a change manifest: every resource the plan creates,
//! updates, replaces or deletes, with its change-tracking tags, audit-trail settings (AWS
//! CloudTrail) and data-store protection (buckets, databases, volumes, file systems).
//!
//! The plan's `resource_changes` say what changes; `planned_values` and `configuration` link the
//! separate S3 resources (`aws_s3_bucket_server_side_encryption_configuration`,
//! `aws_s3_bucket_public_access_block`, `aws_s3_bucket_acl`) to the bucket they configure. A
//! value the plan does not know yet counts as not evidenced (`false`), except a KMS key that is
//! set to a key the same plan creates.

mod stores;

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tollgate_manifest::{
    AuditTrail, Infrastructure, InfrastructureResource, ResourceAction, TrackingTags,
};

/// The tag names of [`TrackingTags`], as resources carry them.
pub const TRACKING_TAGS: [&str; 4] = [
    "ChangeTicket",
    "GitCommitSHA",
    "ApprovalReference",
    "ComplianceFramework",
];

/// Why a plan could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The text is not JSON.
    #[error("not JSON (line {line}, column {column}): {message}")]
    Json {
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A field has the wrong shape.
    #[error("`{field}`: {message}")]
    Field {
        /// Path of the field, for example `resource_changes[2].change.actions`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl PlanError {
    fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Field {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What one resource type's changes add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeCounts {
    /// Resources created.
    pub created: u32,
    /// Resources updated in place.
    pub updated: u32,
    /// Resources replaced.
    pub replaced: u32,
    /// Resources deleted.
    pub deleted: u32,
}

/// A read plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The manifest evidence.
    pub infrastructure: Infrastructure,
    /// The Terraform version that wrote the plan, if stated.
    pub terraform_version: Option<String>,
}

impl Plan {
    /// Reads the text of `terraform show -json`.
    pub fn parse(text: &str) -> Result<Self, PlanError> {
        let root: Value = serde_json::from_str(text).map_err(|e| PlanError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let root = root
            .as_object()
            .ok_or_else(|| PlanError::field("(document)", "must be a JSON object"))?;
        let format = root
            .get("format_version")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                PlanError::field(
                    "format_version",
                    "missing: not the output of `terraform show -json` on a saved plan",
                )
            })?;
        if format.split('.').next() != Some("1") {
            return Err(PlanError::field(
                "format_version",
                format!("unsupported plan format `{format}`, expected 1.x"),
            ));
        }
        let changes = match root.get("resource_changes") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(changes)) => changes.as_slice(),
            Some(_) => return Err(PlanError::field("resource_changes", "must be a list")),
        };
        let linked = stores::Linked::new(root)?;
        let mut resources = Vec::new();
        for (index, change) in changes.iter().enumerate() {
            if let Some(resource) =
                resource(change, &format!("resource_changes[{index}]"), &linked)?
            {
                resources.push(resource);
            }
        }
        Ok(Self {
            infrastructure: Infrastructure { resources },
            terraform_version: root
                .get("terraform_version")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// Changes per resource type, in type order.
    pub fn counts(&self) -> BTreeMap<&str, TypeCounts> {
        let mut counts: BTreeMap<&str, TypeCounts> = BTreeMap::new();
        for resource in &self.infrastructure.resources {
            let entry = counts.entry(resource.resource_type.as_str()).or_default();
            let slot = match resource.action {
                ResourceAction::Create => &mut entry.created,
                ResourceAction::Update => &mut entry.updated,
                ResourceAction::Replace => &mut entry.replaced,
                ResourceAction::Delete => &mut entry.deleted,
            };
            *slot += 1;
        }
        counts
    }

    /// One line per resource type, for example `aws_s3_bucket: 1 created, 1 deleted`.
    pub fn summary(&self) -> Vec<String> {
        self.counts()
            .into_iter()
            .map(|(kind, c)| {
                let parts: Vec<String> = [
                    (c.created, "created"),
                    (c.updated, "updated"),
                    (c.replaced, "replaced"),
                    (c.deleted, "deleted"),
                ]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}"))
                .collect();
                format!("{kind}: {}", parts.join(", "))
            })
            .collect()
    }
}

/// A string field of an object.
fn text<'a>(object: &'a Map<String, Value>, key: &str, place: &str) -> Result<&'a str, PlanError> {
    object
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| PlanError::field(format!("{place}.{key}"), "must be a non-empty string"))
}

/// One entry of `resource_changes`; `None` for data sources and resources the plan leaves as they
/// are (`no-op`, `read`).
fn resource(
    change: &Value,
    place: &str,
    linked: &stores::Linked,
) -> Result<Option<InfrastructureResource>, PlanError> {
    let object = change
        .as_object()
        .ok_or_else(|| PlanError::field(place, "must be an object"))?;
    let address = text(object, "address", place)?;
    let resource_type = text(object, "type", place)?;
    if object.get("mode").and_then(Value::as_str) == Some("data") {
        return Ok(None);
    }
    let body = object
        .get("change")
        .and_then(Value::as_object)
        .ok_or_else(|| PlanError::field(format!("{place}.change"), "must be an object"))?;
    let actions_place = format!("{place}.change.actions");
    let actions: Vec<&str> = body
        .get("actions")
        .and_then(Value::as_array)
        .ok_or_else(|| PlanError::field(&actions_place, "must be a list of actions"))?
        .iter()
        .map(|a| {
            a.as_str()
                .ok_or_else(|| PlanError::field(&actions_place, "every action must be a string"))
        })
        .collect::<Result<_, _>>()?;
    let action = match actions.as_slice() {
        ["no-op"] | ["read"] => return Ok(None),
        ["create"] => ResourceAction::Create,
        ["update"] => ResourceAction::Update,
        ["delete"] => ResourceAction::Delete,
        ["delete", "create"] | ["create", "delete"] => ResourceAction::Replace,
        other => {
            return Err(PlanError::field(
                actions_place,
                format!(
                    "unknown actions {other:?}, expected one of no-op, create, read, update, \
                     delete, delete+create, create+delete"
                ),
            ));
        }
    };
    let empty = Map::new();
    let values = |key: &str| -> Result<&Map<String, Value>, PlanError> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(&empty),
            Some(Value::Object(map)) => Ok(map),
            Some(_) => Err(PlanError::field(
                format!("{place}.change.{key}"),
                "must be an object or null",
            )),
        }
    };
    let before = values("before")?;
    let after = values("after")?;
    let unknown = match body.get("after_unknown") {
        Some(Value::Object(map)) => map,
        _ => &empty,
    };
    // A deletion is judged by what is deleted; anything else by what the plan leaves.
    let (state, state_unknown) = if action == ResourceAction::Delete {
        (before, &empty)
    } else {
        (after, unknown)
    };
    Ok(Some(InfrastructureResource {
        address: address.to_owned(),
        resource_type: resource_type.to_owned(),
        action,
        tracking_tags: if action == ResourceAction::Delete {
            None
        } else {
            tracking_tags(after, unknown)
        },
        audit_trail: (resource_type == "aws_cloudtrail").then(|| audit_trail(state, state_unknown)),
        data_store: stores::data_store(address, resource_type, state, linked),
    }))
}

/// The change-tracking tags of a resource whose schema has tags (`tags_all` with the provider's
/// default tags, else `tags`); `None` if it has none.
fn tracking_tags(after: &Map<String, Value>, unknown: &Map<String, Value>) -> Option<TrackingTags> {
    let known_all = unknown.get("tags_all") != Some(&Value::Bool(true));
    let none = Map::new();
    let tags = match (after.get("tags_all"), after.get("tags")) {
        (Some(Value::Object(all)), _) if known_all => all,
        (_, Some(Value::Object(tags))) => tags,
        (Some(_), _) | (_, Some(_)) => &none,
        (None, None) => return None,
    };
    let tag = |name: &str| tags.get(name).and_then(Value::as_str).map(str::to_owned);
    Some(TrackingTags {
        change_ticket: tag(TRACKING_TAGS[0]),
        git_commit_sha: tag(TRACKING_TAGS[1]),
        approval_reference: tag(TRACKING_TAGS[2]),
        compliance_framework: tag(TRACKING_TAGS[3]),
    })
}

/// CloudTrail settings; `enable_logging` defaults to on, as in the provider.
fn audit_trail(state: &Map<String, Value>, unknown: &Map<String, Value>) -> AuditTrail {
    let flag = |key: &str| state.get(key) == Some(&Value::Bool(true));
    AuditTrail {
        logging: state.get("enable_logging") != Some(&Value::Bool(false)),
        multi_region: flag("is_multi_region_trail"),
        log_file_validation: flag("enable_log_file_validation"),
        kms_encrypted: state
            .get("kms_key_id")
            .and_then(Value::as_str)
            .is_some_and(|k| !k.trim().is_empty())
            || unknown.get("kms_key_id") == Some(&Value::Bool(true)),
    }
}

#[cfg(test)]
mod tests;
