//! ServiceNow: the Table API's `GET /api/now/table/change_request?sysparm_query=number=CHG...` and
//! `GET /api/now/table/sysapproval_approver?sysparm_query=sysapproval=<sys_id>^state=approved^ORDERBYsys_id`
//! (paged with `sysparm_offset` until the first answer's `X-Total-Count`, at most 1000 records: more
//! is an error), both with `sysparm_display_value=false` (values, not localised display values: dates in UTC as
//! `2026-05-19 16:40:00`) and `sysparm_fields` naming only what is read.
//!
//! Status, from `state` (the change model's values) and `approval`:
//!
//! | `state` | `approval` | status |
//! |---|---|---|
//! | any | `rejected` | `rejected` |
//! | `4` Canceled | any | `rejected` |
//! | `-2` Scheduled, `-1` Implement, `0` Review, `3` Closed | `approved` | `approved` |
//! | `-5` New | `not requested` | `draft` |
//! | anything else (`-4` Assess, `-3` Authorize, `requested`, other values) | | `submitted` |
//!
//! `type` `emergency` marks an emergency change. Each approved `sysapproval_approver` record is one
//! approval by `approver.user_name` (or `approver.email`) at `sys_updated_on`, in the role that
//! `approver_roles` gives the approver, else that `group_roles` gives the approval group's
//! `assignment_group.name`, else `default_role`; an approval without a role is noted and not
//! counted. Its signature meaning (21 CFR 11.50(a)(3)) is the value of `meaning_field` when one
//! is configured and the record states it (`review`, `approval`, `responsibility`, `authorship`;
//! another value is noted and states no meaning), else what `group_meanings` gives the approval
//! group, else none. The approval's journal (`comments`) is not read: the Table API gives values,
//! not journal entries, and free text is no statement of meaning.

use serde_json::Value;
use tollgate_manifest::{Approval, SignatureMeaning, TicketStatus};

use crate::config::{ServiceNowConfig, ServiceNowIdentity, UrlOrigin};
use crate::error::{System, TicketError};
use crate::http::Client;
use crate::{Answer, LiveTicket};

/// Approval records asked for per page (`sysparm_limit`).
const APPROVALS_PAGE: u64 = 100;

/// Approval records read at most: a change with more is an error, never a silent cut.
const MAX_APPROVALS: u64 = 1000;

/// One page of a table query.
struct Page {
    /// The URL asked.
    url: String,
    /// The records answered.
    records: Vec<Value>,
    /// The records the query matches in all (`X-Total-Count`), when the answer says.
    total: Option<u64>,
}

/// GETs the records of `table` matching `query` from `offset`, only `fields` and at most `limit`
/// of them, as values (not display values).
fn records(
    client: &Client,
    table: &str,
    query: &str,
    fields: &[&str],
    (limit, offset): (u64, u64),
    number: &str,
) -> Result<Page, TicketError> {
    let limit = limit.to_string();
    let offset = offset.to_string();
    let url = client.url(
        &format!("/api/now/table/{table}"),
        &[
            ("sysparm_query", query),
            ("sysparm_fields", &fields.join(",")),
            ("sysparm_display_value", "false"),
            ("sysparm_exclude_reference_link", "true"),
            ("sysparm_limit", &limit),
            ("sysparm_offset", &offset),
        ],
    );
    let answer = Answer {
        system: System::ServiceNow,
        url: &url,
    };
    let (document, total) = client.get_page(&url, number)?;
    let records = answer
        .required(&document, "result")?
        .as_array()
        .ok_or_else(|| answer.malformed("result", "is not a list"))?
        .clone();
    Ok(Page {
        url,
        records,
        total,
    })
}

pub(crate) fn fetch(
    client: &Client,
    number: &str,
    config: &ServiceNowConfig,
) -> Result<LiveTicket, TicketError> {
    let mut fields = vec![
        "sys_id",
        "number",
        "short_description",
        "state",
        "approval",
        "type",
        config.submitted_field.as_str(),
        config.reason_field.as_str(),
        config.security_impact_field.as_str(),
    ];
    fields.dedup();
    let query = format!("number={number}");
    let Page { url, records, .. } =
        records(client, "change_request", &query, &fields, (2, 0), number)?;
    let answer = Answer {
        system: System::ServiceNow,
        url: &url,
    };
    let change = match records.as_slice() {
        [] => {
            return Err(TicketError::NotFound {
                system: System::ServiceNow,
                ticket: number.to_owned(),
                url: url.clone(),
                status: None,
            });
        }
        [one] => one,
        _ => {
            return Err(answer.malformed(
                "result",
                format!("holds several changes numbered `{number}`"),
            ));
        }
    };
    let id = answer
        .text(change, "number")
        .map_err(|_| answer.malformed("result[0].number", "is missing"))?;
    if !id.eq_ignore_ascii_case(number) {
        return Err(answer.malformed("result[0].number", format!("is `{id}`, not `{number}`")));
    }
    let sys_id = answer
        .text(change, "sys_id")
        .map_err(|_| answer.malformed("result[0].sys_id", "is missing"))?;
    if sys_id.is_empty() || !sys_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(answer.malformed("result[0].sys_id", format!("`{sys_id}` is not a sys_id")));
    }
    let state = answer
        .text(change, "state")
        .map_err(|_| answer.malformed("result[0].state", "is missing"))?;
    let approval = answer
        .text(change, "approval")
        .map_err(|_| answer.malformed("result[0].approval", "is missing"))?;
    let mut notes = Vec::new();
    let status = map_status(state, approval);
    if !KNOWN_STATES.contains(&state) {
        notes.push(format!(
            "ServiceNow state `{state}` of `{id}` is not one of the change model's; taken as `{}`",
            status_name(status)
        ));
    }
    let emergency = change.get("type").and_then(Value::as_str) == Some("emergency");
    let submitted_at = answer.time(change, &config.submitted_field)?;
    let reason = answer.optional_text(change, &config.reason_field)?;
    let security_impact = answer.optional_text(change, &config.security_impact_field)?;
    let title = answer.optional_text(change, "short_description")?;
    let approvals = approvals(client, id, sys_id, config, &mut notes)?;
    Ok(LiveTicket {
        id: id.to_owned(),
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

/// The `state` values of the change model: New, Assess, Authorize, Scheduled, Implement, Review,
/// Closed, Canceled.
const KNOWN_STATES: &[&str] = &["-5", "-4", "-3", "-2", "-1", "0", "3", "4"];

fn map_status(state: &str, approval: &str) -> TicketStatus {
    match (state, approval) {
        (_, "rejected") | ("4", _) => TicketStatus::Rejected,
        ("-2" | "-1" | "0" | "3", "approved") => TicketStatus::Approved,
        ("-5", "not requested" | "") => TicketStatus::Draft,
        _ => TicketStatus::Submitted,
    }
}

fn status_name(status: TicketStatus) -> &'static str {
    match status {
        TicketStatus::Draft => "draft",
        TicketStatus::Submitted => "submitted",
        TicketStatus::Approved => "approved",
        TicketStatus::Rejected => "rejected",
    }
}

/// Reads every approved approval record, page by page (`sysparm_offset`), until the
/// `X-Total-Count` the first answer gave is reached (or, without it, a short page); more than
/// [`MAX_APPROVALS`], or a page that ends before the count, is an error.
fn approvals(
    client: &Client,
    number: &str,
    sys_id: &str,
    config: &ServiceNowConfig,
    notes: &mut Vec<String>,
) -> Result<Vec<Approval>, TicketError> {
    // Ordered by sys_id, so that pages neither repeat nor skip a record.
    let query = format!("sysapproval={sys_id}^state=approved^ORDERBYsys_id");
    let mut fields = vec![
        "sys_id",
        "state",
        "approver.user_name",
        "approver.email",
        "group.assignment_group.name",
        config.approved_at_field.as_str(),
    ];
    fields.extend(config.meaning_field.as_deref());
    let mut approvals = Vec::new();
    let mut read = 0_u64;
    let mut expected = None;
    loop {
        let page = records(
            client,
            "sysapproval_approver",
            &query,
            &fields,
            (APPROVALS_PAGE, read),
            number,
        )?;
        let answer = Answer {
            system: System::ServiceNow,
            url: &page.url,
        };
        let too_many = |count| TicketError::TooMany {
            system: System::ServiceNow,
            url: page.url.clone(),
            what: "approval records",
            count,
            limit: MAX_APPROVALS,
        };
        let total = *expected.get_or_insert(page.total);
        if let Some(total) = total.filter(|&t| t > MAX_APPROVALS) {
            return Err(too_many(Some(total)));
        }
        let got = page.records.len() as u64;
        for (index, record) in page.records.iter().enumerate() {
            approvals.extend(approval(&answer, index, record, number, config, notes)?);
        }
        read += got;
        if read > MAX_APPROVALS {
            return Err(too_many(total));
        }
        match total {
            Some(total) if read >= total => return Ok(approvals),
            Some(total) if got == 0 => {
                return Err(answer.malformed(
                    "result",
                    format!("is empty at offset {read} while `X-Total-Count` said {total} records"),
                ));
            }
            None if got < APPROVALS_PAGE => return Ok(approvals),
            _ => {}
        }
    }
}

/// One approved approval record, or `None` (noted) when it maps to no role.
fn approval(
    answer: &Answer<'_>,
    index: usize,
    record: &Value,
    number: &str,
    config: &ServiceNowConfig,
    notes: &mut Vec<String>,
) -> Result<Option<Approval>, TicketError> {
    let path = |field: &str| format!("result[{index}].{field}");
    let get = |field: &str| {
        record
            .get(field)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if get("state") != Some("approved") {
        return Err(answer.malformed(
            &path("state"),
            "is not `approved` in an answer to `state=approved`",
        ));
    }
    let identity_field = match config.approver_identity {
        ServiceNowIdentity::UserName => "approver.user_name",
        ServiceNowIdentity::Email => "approver.email",
    };
    let by =
        get(identity_field).ok_or_else(|| answer.malformed(&path(identity_field), "is missing"))?;
    let at_text = get(&config.approved_at_field)
        .ok_or_else(|| answer.malformed(&path(&config.approved_at_field), "is missing"))?;
    let at = crate::parse_time(at_text).ok_or_else(|| {
        answer.malformed(
            &path(&config.approved_at_field),
            format!("`{at_text}` is not a date and time"),
        )
    })?;
    let group = get("group.assignment_group.name");
    let role = config
        .approver_roles
        .get(by)
        .or_else(|| group.and_then(|g| config.group_roles.get(g)))
        .or(config.default_role.as_ref());
    let Some(role) = role else {
        notes.push(format!(
            "ServiceNow approval by `{by}`{} of `{number}` maps to no role (`group_roles`/`approver_roles` of `[tickets.servicenow]`); not counted",
            group.map(|g| format!(" for group `{g}`")).unwrap_or_default()
        ));
        return Ok(None);
    };
    let meaning = match config.meaning_field.as_deref().and_then(get) {
        Some(stated) => {
            let meaning = meaning_named(stated);
            if meaning.is_none() {
                notes.push(format!(
                    "ServiceNow approval by `{by}` of `{number}` states the signature meaning `{stated}`, not `review`, `approval`, `responsibility` or `authorship`; no meaning recorded"
                ));
            }
            meaning
        }
        None => group.and_then(|g| config.group_meanings.get(g)).copied(),
    };
    Ok(Some(Approval {
        by: by.to_owned(),
        role: role.clone(),
        at,
        meaning,
    }))
}

/// A signature meaning by its name, case-insensitively.
fn meaning_named(stated: &str) -> Option<SignatureMeaning> {
    [
        ("review", SignatureMeaning::Review),
        ("approval", SignatureMeaning::Approval),
        ("responsibility", SignatureMeaning::Responsibility),
        ("authorship", SignatureMeaning::Authorship),
    ]
    .into_iter()
    .find(|(name, _)| name.eq_ignore_ascii_case(stated))
    .map(|(_, meaning)| meaning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_approval_map_fail_closed() {
        use TicketStatus::*;
        for (state, approval, status) in [
            ("-5", "not requested", Draft),
            ("-4", "not requested", Submitted),
            ("-3", "requested", Submitted),
            ("-3", "approved", Submitted),
            ("-2", "approved", Approved),
            ("-1", "approved", Approved),
            ("0", "approved", Approved),
            ("3", "approved", Approved),
            ("3", "rejected", Rejected),
            ("4", "approved", Rejected),
            ("-1", "requested", Submitted),
            ("42", "approved", Submitted),
        ] {
            assert_eq!(map_status(state, approval), status, "{state} {approval}");
        }
    }
}
