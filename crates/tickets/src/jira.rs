//! Jira: `GET /rest/api/{2|3}/issue/{key}?fields=...` for the status, summary, submission time,
//! emergency flag, reason and security impact, and Jira Service Management's
//! `GET /rest/servicedeskapi/request/{key}/approval` for the approvals.
//!
//! Status: `fields.status.name` is looked up (case-insensitively) in the configured lists
//! `draft_statuses`, `submitted_statuses`, `approved_statuses`, `rejected_statuses`. A name in none of
//! them is `submitted` (never approved) and noted. An approval whose `finalDecision` is `declined`
//! makes the ticket `rejected` whatever its status.
//!
//! Approvals: each approval with `finalDecision` `approved` gives one manifest approval per approver
//! whose `approverDecision` is `approved`, at the approval's `completedDate`, in the role that
//! `approval_roles` (or `default_role`) gives the approval's `name`; an approval without a role is
//! noted and not counted. Its signature meaning (21 CFR 11.50(a)(3)) is what `approval_meanings`
//! gives the approval's `name` (Service Management states none of its own), else none. Pages are read until `isLastPage`; an empty page that is not the last,
//! more than 20 pages, or an issue that is not a Service Management request (the approval resource
//! answers 404) is an error, never a ticket with fewer approvals.

use serde_json::Value;
use tollgate_manifest::{Approval, TicketStatus};

use crate::config::{JiraApprovals, JiraConfig, JiraIdentity, UrlOrigin};
use crate::error::{System, TicketError};
use crate::http::Client;
use crate::{Answer, LiveTicket, parse_time};

/// Pages of approvals read at most (50 each).
const MAX_PAGES: usize = 20;

pub(crate) fn fetch(
    client: &Client,
    key: &str,
    config: &JiraConfig,
) -> Result<LiveTicket, TicketError> {
    let mut fields = vec![
        "summary",
        "status",
        config.submitted_field.as_str(),
        config.emergency_field.as_str(),
    ];
    fields.extend(config.reason_field.as_deref());
    fields.extend(config.security_impact_field.as_deref());
    fields.dedup();
    let path = format!("/rest/api/{}/issue/{key}", config.api_version);
    let url = client.url(&path, &[("fields", &fields.join(","))]);
    let issue = client.get_json(&url, key)?;
    let answer = Answer {
        system: System::Jira,
        url: &url,
    };
    let id = answer.text(&issue, "key")?.to_owned();
    let mut notes = Vec::new();
    if !id.eq_ignore_ascii_case(key) {
        notes.push(format!("Jira answered `{key}` with issue `{id}` (moved)"));
    }
    let status_name = answer.text(&issue, "fields/status/name")?;
    let mut status = map_status(status_name, config).unwrap_or_else(|| {
        notes.push(format!(
            "Jira status `{status_name}` of `{id}` is in none of the status lists of `[tickets.jira]`; taken as `submitted`"
        ));
        TicketStatus::Submitted
    });
    let field = |name: &str| format!("fields/{name}");
    let submitted_at = answer.time(&issue, &field(&config.submitted_field))?;
    let emergency = issue
        .pointer(&format!("/fields/{}", config.emergency_field))
        .is_some_and(|value| {
            texts(value).iter().any(|t| {
                config
                    .emergency_values
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(t))
            })
        });
    let plain = |name: &Option<String>| {
        name.as_ref()
            .and_then(|n| issue.pointer(&format!("/fields/{n}")))
            .map(|v| texts(v).join(" "))
            .filter(|t| !t.trim().is_empty())
    };
    let reason = plain(&config.reason_field);
    let security_impact = plain(&config.security_impact_field);
    let title = answer.optional_text(&issue, "fields/summary")?;

    let mut approvals = Vec::new();
    if config.approvals == JiraApprovals::ServiceManagement {
        let declined =
            service_management_approvals(client, &id, config, &mut approvals, &mut notes)?;
        if declined && status != TicketStatus::Rejected {
            notes.push(format!(
                "an approval of `{id}` was declined: the ticket is taken as `rejected`"
            ));
            status = TicketStatus::Rejected;
        }
    }
    Ok(LiveTicket {
        id,
        title,
        status,
        submitted_at,
        emergency,
        reason,
        security_impact,
        approvals,
        notes,
        detail: String::new(),
        url_origin: UrlOrigin::Environment,
    })
}

fn map_status(name: &str, config: &JiraConfig) -> Option<TicketStatus> {
    let listed = |list: &[String]| {
        list.iter()
            .any(|s| s.trim().eq_ignore_ascii_case(name.trim()))
    };
    // Rejected first: a name in two lists is taken as the stricter one.
    if listed(&config.rejected_statuses) {
        Some(TicketStatus::Rejected)
    } else if listed(&config.draft_statuses) {
        Some(TicketStatus::Draft)
    } else if listed(&config.submitted_statuses) {
        Some(TicketStatus::Submitted)
    } else if listed(&config.approved_statuses) {
        Some(TicketStatus::Approved)
    } else {
        None
    }
}

/// Reads every page of the request's approvals into `approvals`; answers whether one was declined.
fn service_management_approvals(
    client: &Client,
    key: &str,
    config: &JiraConfig,
    approvals: &mut Vec<Approval>,
    notes: &mut Vec<String>,
) -> Result<bool, TicketError> {
    let path = format!("/rest/servicedeskapi/request/{key}/approval");
    let mut start = 0_u64;
    let mut declined = false;
    for _ in 0..MAX_PAGES {
        let start_text = start.to_string();
        let url = client.url(&path, &[("start", &start_text), ("limit", "50")]);
        let page = match client.get_json(&url, key) {
            // The issue was read: a 404 here means it is not a Service Management request.
            Err(TicketError::NotFound {
                status: Some(status),
                url,
                ..
            }) => {
                return Err(TicketError::NotARequest {
                    key: key.to_owned(),
                    url,
                    status,
                });
            }
            other => other?,
        };
        let answer = Answer {
            system: System::Jira,
            url: &url,
        };
        let values = answer
            .required(&page, "values")?
            .as_array()
            .ok_or_else(|| answer.malformed("values", "is not a list"))?;
        for (index, approval) in values.iter().enumerate() {
            let name = answer.text(approval, "name").map_err(|_| {
                answer.malformed(
                    &format!("values[{index}].name"),
                    "is missing or not a string",
                )
            })?;
            let decision = answer.text(approval, "finalDecision").map_err(|_| {
                answer.malformed(
                    &format!("values[{index}].finalDecision"),
                    "is missing or not a string",
                )
            })?;
            match decision {
                "approved" => {}
                "declined" => {
                    declined = true;
                    continue;
                }
                "pending" => continue,
                other => {
                    return Err(answer.malformed(
                        &format!("values[{index}].finalDecision"),
                        format!("`{other}` is not approved, declined or pending"),
                    ));
                }
            }
            let completed = approval
                .pointer("/completedDate/iso8601")
                .and_then(Value::as_str)
                .and_then(parse_time)
                .ok_or_else(|| {
                    answer.malformed(
                        &format!("values[{index}].completedDate.iso8601"),
                        "is missing or not a date and time on an approved approval",
                    )
                })?;
            let role = config
                .approval_roles
                .get(name)
                .or(config.default_role.as_ref());
            let Some(role) = role else {
                notes.push(format!(
                    "Jira approval `{name}` of `{key}` maps to no role (`approval_roles` of `[tickets.jira]`); its approvers are not counted"
                ));
                continue;
            };
            let approvers = approval
                .pointer("/approvers")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    answer.malformed(&format!("values[{index}].approvers"), "is not a list")
                })?;
            for (j, approver) in approvers.iter().enumerate() {
                if approver
                    .pointer("/approverDecision")
                    .and_then(Value::as_str)
                    != Some("approved")
                {
                    continue;
                }
                let person = &approver["approver"];
                let by = identity(person, config.approver_identity, notes).ok_or_else(|| {
                    answer.malformed(
                        &format!("values[{index}].approvers[{j}].approver"),
                        "has no identity of the kind `approver_identity` names",
                    )
                })?;
                approvals.push(Approval {
                    by,
                    role: role.clone(),
                    at: completed,
                    meaning: config.approval_meanings.get(name).copied(),
                });
            }
        }
        let last = page
            .get("isLastPage")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if last {
            return Ok(declined);
        }
        if values.is_empty() {
            // Reading on from the same `start` would loop; stopping would drop the rest.
            return Err(answer.malformed(
                "isLastPage",
                format!("is false on an empty page (`start` {start}): the approvals cannot be read to the end"),
            ));
        }
        start += values.len() as u64;
    }
    Err(TicketError::TooMany {
        system: System::Jira,
        url: client.url(&path, &[]),
        what: "approval pages",
        count: None,
        limit: MAX_PAGES as u64,
    })
}

fn identity(person: &Value, kind: JiraIdentity, notes: &mut Vec<String>) -> Option<String> {
    let get = |field: &str| {
        person
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    match kind {
        JiraIdentity::Email => get("emailAddress").or_else(|| {
            let id = get("accountId")?;
            notes.push(format!(
                "Jira hides the email of approver `{id}`; recorded by account id"
            ));
            Some(id)
        }),
        JiraIdentity::AccountId => get("accountId"),
        JiraIdentity::Name => get("name"),
    }
}

/// The texts of a field value: a string; an option or object's `value` or `name`; each item of a
/// list; the text nodes of an Atlassian Document Format document (API version 3).
fn texts(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().flat_map(texts).collect(),
        Value::Object(map) => {
            if let Some(Value::String(s)) = map.get("value").or_else(|| map.get("name")) {
                return vec![s.clone()];
            }
            if map.get("type").and_then(Value::as_str) == Some("text") {
                return map
                    .get("text")
                    .and_then(Value::as_str)
                    .map(|t| vec![t.to_owned()])
                    .unwrap_or_default();
            }
            map.get("content").map(texts).unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_map_through_the_lists() {
        let config = JiraConfig::default();
        assert_eq!(
            map_status("approved", &config),
            Some(TicketStatus::Approved)
        );
        assert_eq!(map_status("To Do", &config), Some(TicketStatus::Draft));
        assert_eq!(
            map_status("Awaiting approval", &config),
            Some(TicketStatus::Submitted)
        );
        assert_eq!(
            map_status("Declined", &config),
            Some(TicketStatus::Rejected)
        );
        assert_eq!(map_status("Done", &config), None);
    }

    #[test]
    fn texts_read_options_and_documents() {
        let adf = serde_json::json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "failed captures"}]}]});
        assert_eq!(texts(&adf), ["failed captures"]);
        assert_eq!(
            texts(&serde_json::json!({"self": "x", "value": "Emergency"})),
            ["Emergency"]
        );
        assert_eq!(
            texts(&serde_json::json!({"name": "Emergency Change"})),
            ["Emergency Change"]
        );
    }
}
