//! Checks over what a change's infrastructure plan changes (`evidence.infrastructure`): the
//! change-tracking tags of every resource, audit trails, and the protection of data stores.
//! Without a plan every check is empty (nothing seen, nothing found); [`plan_gathered`] makes a
//! control that rests on the plan alone not assessed.

use tollgate_decision::Severity;
use tollgate_manifest::{InfrastructureResource, Manifest, ResourceAction};

use crate::{Check, Issue};

/// The resources of the plan with their manifest field paths, if a plan was gathered.
fn resources(manifest: &Manifest) -> Option<Vec<(String, &InfrastructureResource)>> {
    manifest.evidence.infrastructure.as_ref().map(|i| {
        i.resources
            .iter()
            .enumerate()
            .map(|(index, r)| (format!("evidence.infrastructure.resources[{index}]"), r))
            .collect()
    })
}

/// For a control that rests on the plan alone: not assessed if no plan was gathered (nothing to
/// exercise it on); empty otherwise.
pub fn plan_gathered(manifest: &Manifest) -> Check {
    let mut check = Check::default();
    if manifest.evidence.infrastructure.is_none() {
        check.not_assessed("no infrastructure plan was gathered for this change");
    }
    check
}

/// Whether a resource exists after the change.
fn remains(resource: &InfrastructureResource) -> bool {
    resource.action != ResourceAction::Delete
}

/// Every taggable resource the plan creates, updates or replaces carries `ChangeTicket`,
/// `GitCommitSHA`, `ApprovalReference` and `ComplianceFramework`, and the first two name this
/// change's ticket and commit (a commit tag may be an abbreviation of at least 7 characters).
pub fn tracking_tags(manifest: &Manifest) -> Check {
    let mut check = Check::default();
    let Some(resources) = resources(manifest) else {
        return check;
    };
    let change = &manifest.change;
    let mut tagged = 0_usize;
    for (path, resource) in resources {
        let Some(tags) = resource
            .tracking_tags
            .as_ref()
            .filter(|_| remains(resource))
        else {
            continue;
        };
        let present = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let missing: Vec<&str> = [
            ("ChangeTicket", &tags.change_ticket),
            ("GitCommitSHA", &tags.git_commit_sha),
            ("ApprovalReference", &tags.approval_reference),
            ("ComplianceFramework", &tags.compliance_framework),
        ]
        .into_iter()
        .filter(|(_, value)| present(value).is_none())
        .map(|(name, _)| name)
        .collect();
        if !missing.is_empty() {
            check.issue(Issue::new(
                "infra-tags-missing",
                Severity::High,
                format!(
                    "`{}` lacks the change-tracking tag(s) {}",
                    resource.address,
                    missing.join(", ")
                ),
                "tag every resource with ChangeTicket, GitCommitSHA, ApprovalReference and \
                 ComplianceFramework (for example through the provider's default_tags)",
                format!("{path}.tracking_tags"),
            ));
        }
        let mut mismatched = Vec::new();
        if let Some(ticket) = present(&tags.change_ticket)
            && ticket != change.id.trim()
        {
            mismatched.push(format!("ChangeTicket `{ticket}` is not `{}`", change.id));
        }
        if let Some(sha) = present(&tags.git_commit_sha) {
            match change.commit.as_deref().map(str::trim) {
                Some(commit) if same_commit(&sha, commit) => {}
                Some(commit) => {
                    mismatched.push(format!("GitCommitSHA `{sha}` is not `{commit}`"));
                }
                None => mismatched.push(format!(
                    "GitCommitSHA `{sha}` cannot be matched: the change records no commit"
                )),
            }
        }
        if !mismatched.is_empty() {
            check.issue(Issue::new(
                "infra-tags-mismatched",
                Severity::High,
                format!("`{}`: {}", resource.address, mismatched.join("; ")),
                "set the tags from the change being deployed (ticket id and commit), not copied \
                 from an earlier change",
                format!("{path}.tracking_tags"),
            ));
        }
        if missing.is_empty() && mismatched.is_empty() {
            tagged += 1;
        }
    }
    if tagged > 0 {
        check.evidence(format!(
            "{tagged} changed resource(s) tagged with change {} and its commit",
            change.id
        ));
    }
    if check.issues.is_empty() && tagged == 0 {
        check.evidence("the plan changes no taggable resource".to_owned());
    }
    check
}

/// Whether a commit tag names the commit: equal, or an abbreviation of at least 7 characters,
/// ignoring case.
fn same_commit(tag: &str, commit: &str) -> bool {
    let (tag, commit) = (tag.to_ascii_lowercase(), commit.to_ascii_lowercase());
    let (short, long) = if tag.len() <= commit.len() {
        (&tag, &commit)
    } else {
        (&commit, &tag)
    };
    short == long || (short.len() >= 7 && long.starts_with(short.as_str()))
}

/// No audit trail is deleted, and every audit trail the plan creates, updates or replaces logs,
/// covers every region, validates its log files and encrypts them with a KMS key.
pub fn audit_trails(manifest: &Manifest) -> Check {
    let mut check = Check::default();
    let Some(resources) = resources(manifest) else {
        return check;
    };
    let mut seen = false;
    for (path, resource) in resources {
        let Some(trail) = resource.audit_trail else {
            continue;
        };
        seen = true;
        if !remains(resource) {
            check.issue(Issue::new(
                "audit-trail-deleted",
                Severity::Critical,
                format!("the plan deletes the audit trail `{}`", resource.address),
                "keep the audit trail; replace it only with a trail that is in place first",
                format!("{path}.action"),
            ));
            continue;
        }
        let weak: Vec<&str> = [
            (trail.logging, "logging is off"),
            (trail.multi_region, "it does not cover every region"),
            (trail.log_file_validation, "log file validation is off"),
            (
                trail.kms_encrypted,
                "its logs are not encrypted with a KMS key",
            ),
        ]
        .into_iter()
        .filter(|(on, _)| !on)
        .map(|(_, what)| what)
        .collect();
        if weak.is_empty() {
            check.evidence(format!(
                "audit trail `{}` logs every region, validates and KMS-encrypts its log files",
                resource.address
            ));
        } else {
            check.issue(Issue::new(
                "audit-trail-weakened",
                Severity::High,
                format!(
                    "audit trail `{}` after the change: {}",
                    resource.address,
                    weak.join(", ")
                ),
                "keep the trail logging, multi-region, with log file validation and a KMS key",
                format!("{path}.audit_trail"),
            ));
        }
    }
    if !seen {
        check.evidence("the plan changes no audit trail".to_owned());
    }
    check
}

/// What [`data_stores`] requires of the stores the plan creates, updates or replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreRequirement {
    /// Data at rest is encrypted.
    Encrypted,
    /// The store is not reachable from the public internet.
    NotPublic,
}

/// Every data store the plan creates, updates or replaces meets `requirement`; `what` names the
/// data held (`ePHI`, `cardholder data`) in messages.
pub fn data_stores(manifest: &Manifest, requirement: StoreRequirement, what: &str) -> Check {
    let mut check = Check::default();
    let Some(resources) = resources(manifest) else {
        return check;
    };
    let mut met = 0_usize;
    for (path, resource) in resources {
        let Some(store) = resource.data_store.filter(|_| remains(resource)) else {
            continue;
        };
        let kind = store.kind.as_str().replace('_', " ");
        match requirement {
            StoreRequirement::Encrypted if !store.encrypted => check.issue(Issue::new(
                "data-store-unencrypted",
                Severity::High,
                format!(
                    "{kind} `{}` holding {what} is not encrypted at rest",
                    resource.address
                ),
                "enable storage encryption (a KMS key or the service's server-side encryption)",
                format!("{path}.data_store.encrypted"),
            )),
            StoreRequirement::NotPublic if store.public => check.issue(Issue::new(
                "data-store-public",
                Severity::Critical,
                format!(
                    "{kind} `{}` holding {what} is reachable from the public internet",
                    resource.address
                ),
                "remove the public ACL or endpoint and block public access",
                format!("{path}.data_store.public"),
            )),
            _ => met += 1,
        }
    }
    if met > 0 {
        check.evidence(format!(
            "{met} changed data store(s) {}",
            match requirement {
                StoreRequirement::Encrypted => "encrypted at rest",
                StoreRequirement::NotPublic => "not publicly accessible",
            }
        ));
    } else if check.issues.is_empty() {
        check.evidence("the plan changes no data store".to_owned());
    }
    check
}
