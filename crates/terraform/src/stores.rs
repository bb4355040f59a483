//! Data stores: which resources hold data, whether they are encrypted at rest and whether they
//! are reachable from the public internet, including the S3 settings kept in resources of their
//! own and linked to their bucket by the plan's configuration or by bucket name.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tollgate_manifest::{DataStore, DataStoreKind};

use crate::PlanError;

/// Canned ACLs that grant access to everyone or to every AWS account.
const PUBLIC_ACLS: [&str; 3] = ["public-read", "public-read-write", "authenticated-read"];
/// Grantee URIs of everyone and of every AWS account.
const PUBLIC_GRANTEES: [&str; 2] = ["global/AllUsers", "global/AuthenticatedUsers"];

/// What the separate S3 resources say about one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct BucketSettings {
    encrypted: bool,
    public_acl: bool,
    acls_blocked: bool,
}

impl BucketSettings {
    fn merge(&mut self, other: Self) {
        self.encrypted |= other.encrypted;
        self.public_acl |= other.public_acl;
        self.acls_blocked |= other.acls_blocked;
    }

    /// The contribution of one separate S3 resource, if `resource_type` is one.
    fn of(resource_type: &str, values: &Map<String, Value>) -> Option<Self> {
        let flag = |key: &str| values.get(key) == Some(&Value::Bool(true));
        match resource_type {
            "aws_s3_bucket_server_side_encryption_configuration" => Some(Self {
                encrypted: values
                    .get("rule")
                    .and_then(Value::as_array)
                    .is_some_and(|rules| !rules.is_empty()),
                ..Self::default()
            }),
            "aws_s3_bucket_public_access_block" => Some(Self {
                acls_blocked: flag("block_public_acls") || flag("ignore_public_acls"),
                ..Self::default()
            }),
            "aws_s3_bucket_acl" => Some(Self {
                public_acl: public_acl(values),
                ..Self::default()
            }),
            _ => None,
        }
    }
}

/// Whether a canned ACL or an access-control policy grants public access.
fn public_acl(values: &Map<String, Value>) -> bool {
    let canned = values
        .get("acl")
        .and_then(Value::as_str)
        .is_some_and(|acl| PUBLIC_ACLS.contains(&acl));
    let granted = values.get("access_control_policy").is_some_and(|policy| {
        let text = policy.to_string();
        PUBLIC_GRANTEES.iter().any(|uri| text.contains(uri))
    });
    canned || granted
}

/// An address without instance keys: `module.a["x"].aws_s3_bucket.b[0]` is `module.a.aws_s3_bucket.b`.
fn base_address(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0_u32;
    let mut quoted = false;
    for c in address.chars() {
        match c {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The S3 settings of the plan, by bucket address (without instance keys) and by bucket name.
#[derive(Debug, Default)]
pub(crate) struct Linked {
    by_address: BTreeMap<String, BucketSettings>,
    by_name: BTreeMap<String, BucketSettings>,
}

impl Linked {
    /// Reads `configuration` (which bucket each separate S3 resource refers to) and
    /// `planned_values` (their settings after the change).
    pub(crate) fn new(root: &Map<String, Value>) -> Result<Self, PlanError> {
        let mut references = BTreeMap::new();
        if let Some(module) = root.get("configuration").and_then(|c| c.get("root_module")) {
            configured_buckets(module, "", &mut references);
        }
        let mut linked = Self::default();
        if let Some(module) = root
            .get("planned_values")
            .and_then(|p| p.get("root_module"))
        {
            linked.planned(module, "planned_values.root_module", &references)?;
        }
        Ok(linked)
    }

    fn planned(
        &mut self,
        module: &Value,
        place: &str,
        references: &BTreeMap<String, String>,
    ) -> Result<(), PlanError> {
        let list = |key: &str| match module.get(key) {
            None | Some(Value::Null) => Ok(&[][..]),
            Some(Value::Array(items)) => Ok(items.as_slice()),
            Some(_) => Err(PlanError::field(format!("{place}.{key}"), "must be a list")),
        };
        for resource in list("resources")? {
            let (Some(resource_type), Some(address)) = (
                resource.get("type").and_then(Value::as_str),
                resource.get("address").and_then(Value::as_str),
            ) else {
                continue;
            };
            let Some(values) = resource.get("values").and_then(Value::as_object) else {
                continue;
            };
            let Some(settings) = BucketSettings::of(resource_type, values) else {
                continue;
            };
            if let Some(bucket) = references.get(&base_address(address)) {
                self.by_address
                    .entry(bucket.clone())
                    .or_default()
                    .merge(settings);
            }
            if let Some(name) = values.get("bucket").and_then(Value::as_str) {
                self.by_name
                    .entry(name.to_owned())
                    .or_default()
                    .merge(settings);
            }
        }
        for (index, child) in list("child_modules")?.iter().enumerate() {
            self.planned(
                child,
                &format!("{place}.child_modules[{index}]"),
                references,
            )?;
        }
        Ok(())
    }

    fn bucket(&self, address: &str, name: Option<&str>) -> BucketSettings {
        let mut settings = self
            .by_address
            .get(&base_address(address))
            .copied()
            .unwrap_or_default();
        if let Some(by_name) = name.and_then(|n| self.by_name.get(n)) {
            settings.merge(*by_name);
        }
        settings
    }
}

/// Records, for each separate S3 resource of the configuration, the bucket its `bucket` argument
/// refers to (`aws_s3_bucket.records.id` → `aws_s3_bucket.records`), with module prefixes.
fn configured_buckets(module: &Value, prefix: &str, out: &mut BTreeMap<String, String>) {
    for resource in module
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(address) = resource.get("address").and_then(Value::as_str) else {
            continue;
        };
        let bucket = resource
            .get("expressions")
            .and_then(|e| e.get("bucket"))
            .and_then(|b| b.get("references"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .find_map(|reference| {
                let mut parts = reference.split('.');
                match (parts.next(), parts.next()) {
                    (Some("aws_s3_bucket"), Some(name)) => Some(format!("aws_s3_bucket.{name}")),
                    _ => None,
                }
            });
        if let Some(bucket) = bucket {
            out.insert(
                base_address(&format!("{prefix}{address}")),
                base_address(&format!("{prefix}{bucket}")),
            );
        }
    }
    for (name, call) in module
        .get("module_calls")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(child) = call.get("module") {
            configured_buckets(child, &format!("{prefix}module.{name}."), out);
        }
    }
}

/// The data-store protection of a resource, if its type stores data.
pub(crate) fn data_store(
    address: &str,
    resource_type: &str,
    state: &Map<String, Value>,
    linked: &Linked,
) -> Option<DataStore> {
    let flag = |key: &str| state.get(key) == Some(&Value::Bool(true));
    let (kind, encrypted, public) = match resource_type {
        "aws_s3_bucket" => {
            let settings = linked.bucket(address, state.get("bucket").and_then(Value::as_str));
            let inline = state
                .get("server_side_encryption_configuration")
                .and_then(Value::as_array)
                .is_some_and(|c| !c.is_empty());
            (
                DataStoreKind::Bucket,
                inline || settings.encrypted,
                (public_acl(state) || settings.public_acl) && !settings.acls_blocked,
            )
        }
        "aws_db_instance" => (
            DataStoreKind::Database,
            flag("storage_encrypted"),
            flag("publicly_accessible"),
        ),
        "aws_rds_cluster" | "aws_docdb_cluster" | "aws_neptune_cluster" => {
            (DataStoreKind::Database, flag("storage_encrypted"), false)
        }
        "aws_redshift_cluster" => (
            DataStoreKind::Database,
            flag("encrypted"),
            flag("publicly_accessible"),
        ),
        "aws_ebs_volume" => (DataStoreKind::Volume, flag("encrypted"), false),
        "aws_efs_file_system" => (DataStoreKind::FileSystem, flag("encrypted"), false),
        _ => return None,
    };
    Some(DataStore {
        kind,
        encrypted,
        public,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_keys_are_dropped() {
        assert_eq!(
            base_address(r#"module.a["x[1]"].aws_s3_bucket.b[0]"#),
            "module.a.aws_s3_bucket.b"
        );
    }
}
