//! Reads a change ticket from the system of record at gathering time: Jira (REST API issue
//! resource, Jira Service Management approvals) or ServiceNow (Table API `change_request` and
//! `sysapproval_approver`). One entry point, [`fetch`], answers a [`LiveTicket`] (status, submission
//! time, emergency flag, reason, security impact, approvals with Tollgate roles) or a
//! [`TicketError`] naming the system, the URL asked and what went wrong. An unreachable,
//! unauthorised or malformed answer is always an error, never an absent ticket.
//!
//! Settings come from `[tickets]` of `tollgate.toml` ([`TicketsConfig`]) and the environment
//! ([`Environment`]); credentials are sent only in the `Authorization` header and never appear in
//! an error, a note or the provenance.

mod config;
mod error;
mod http;
mod jira;
mod servicenow;
#[cfg(feature = "test-server")]
pub mod test_server;

pub use config::{
    Environment, JiraApprovals, JiraConfig, JiraIdentity, ServiceNowConfig, ServiceNowIdentity,
    TicketsConfig, UrlOrigin, VARIABLES,
};
pub use error::{System, TicketError, UrlError};

use serde_json::Value;
use tollgate_manifest::{Approval, TicketStatus, Timestamp};

use config::Endpoint;
use http::Client;

/// A ticket in a ticket system: `jira:KEY` or `servicenow:NUMBER`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRef {
    /// The system.
    pub system: System,
    /// The issue key (`OPS-123`) or change number (`CHG0030001`).
    pub id: String,
}

impl TicketRef {
    /// Reads `jira:KEY` or `servicenow:NUMBER`; `None` when the text has neither prefix (a file).
    pub fn parse(text: &str) -> Option<Result<Self, TicketError>> {
        let (system, id) = if let Some(id) = text.strip_prefix("jira:") {
            (System::Jira, id)
        } else if let Some(id) = text.strip_prefix("servicenow:") {
            (System::ServiceNow, id)
        } else {
            return None;
        };
        let invalid = |message: &str| TicketError::Reference {
            value: text.to_owned(),
            message: message.to_owned(),
        };
        let checked = match system {
            System::Jira => {
                let valid = id.split_once('-').is_some_and(|(project, number)| {
                    project.starts_with(|c: char| c.is_ascii_alphabetic())
                        && project
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !number.is_empty()
                        && number.chars().all(|c| c.is_ascii_digit())
                });
                if valid {
                    Ok(id.to_ascii_uppercase())
                } else {
                    Err(invalid("a Jira issue key is `PROJECT-123`"))
                }
            }
            System::ServiceNow => {
                let digits = id.trim_start_matches(|c: char| c.is_ascii_alphabetic());
                let valid = digits.len() < id.len()
                    && !digits.is_empty()
                    && digits.chars().all(|c| c.is_ascii_digit());
                if valid {
                    Ok(id.to_ascii_uppercase())
                } else {
                    Err(invalid("a ServiceNow change number is `CHG0030001`"))
                }
            }
        };
        Some(checked.map(|id| Self { system, id }))
    }
}

impl std::fmt::Display for TicketRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.system.prefix(), self.id)
    }
}

/// A ticket as its system reports it, in the terms of the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveTicket {
    /// The ticket id (issue key or change number).
    pub id: String,
    /// Title (Jira summary, ServiceNow short description).
    pub title: Option<String>,
    /// The mapped status.
    pub status: TicketStatus,
    /// When the ticket was submitted.
    pub submitted_at: Option<Timestamp>,
    /// Whether it is an emergency change.
    pub emergency: bool,
    /// Why the change is made.
    pub reason: Option<String>,
    /// The documented security impact.
    pub security_impact: Option<String>,
    /// Approvals given, with Tollgate roles.
    pub approvals: Vec<Approval>,
    /// For a reviewer: status names not mapped, approvals without a role, ...
    pub notes: Vec<String>,
    /// Where it was read, for the provenance: `jira:OPS-1 (https://example.atlassian.net)`.
    pub detail: String,
    /// Where the base URL came from.
    pub url_origin: UrlOrigin,
}

/// Reads a ticket from its system.
pub fn fetch(
    reference: &TicketRef,
    config: &TicketsConfig,
    env: &Environment,
) -> Result<LiveTicket, TicketError> {
    let endpoint = Endpoint::resolve(reference.system, config, env)?;
    let origin = endpoint.origin;
    let client = Client::new(reference.system, endpoint, config);
    let detail = format!("{reference} ({})", client.base());
    let mut ticket = match reference.system {
        System::Jira => jira::fetch(&client, &reference.id, &config.jira)?,
        System::ServiceNow => servicenow::fetch(&client, &reference.id, &config.servicenow)?,
    };
    ticket.detail = detail;
    ticket.url_origin = origin;
    Ok(ticket)
}

/// Reads fields of one answer, naming the URL and the field path in errors.
pub(crate) struct Answer<'a> {
    pub(crate) system: System,
    pub(crate) url: &'a str,
}

impl Answer<'_> {
    pub(crate) fn malformed(&self, field: &str, message: impl Into<String>) -> TicketError {
        TicketError::Malformed {
            system: self.system,
            url: self.url.to_owned(),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The value at `path` (`/`-separated, as a JSON pointer), required.
    pub(crate) fn required<'v>(
        &self,
        value: &'v Value,
        path: &str,
    ) -> Result<&'v Value, TicketError> {
        match value.pointer(&format!("/{path}")) {
            Some(Value::Null) | None => Err(self.malformed(&dotted(path), "is missing")),
            Some(found) => Ok(found),
        }
    }

    /// The text at `path`, required.
    pub(crate) fn text<'v>(&self, value: &'v Value, path: &str) -> Result<&'v str, TicketError> {
        self.required(value, path)?
            .as_str()
            .ok_or_else(|| self.malformed(&dotted(path), "is not a string"))
    }

    /// The text at `path`, if present and not empty.
    pub(crate) fn optional_text(
        &self,
        value: &Value,
        path: &str,
    ) -> Result<Option<String>, TicketError> {
        match value.pointer(&format!("/{path}")) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.malformed(&dotted(path), "is not a string")),
        }
    }

    /// A timestamp at `path`, in any form the systems write (see [`parse_time`]).
    pub(crate) fn time(&self, value: &Value, path: &str) -> Result<Option<Timestamp>, TicketError> {
        let Some(text) = self.optional_text(value, path)? else {
            return Ok(None);
        };
        parse_time(&text).map(Some).ok_or_else(|| {
            self.malformed(&dotted(path), format!("`{text}` is not a date and time"))
        })
    }
}

fn dotted(path: &str) -> String {
    path.replace('/', ".")
}

/// Parses the timestamps of the systems: RFC 3339; Jira's `2026-05-19T16:40:00.000+0000` (offset
/// without a colon); Jira's date `2026-05-19` (midnight UTC); ServiceNow's
/// `2026-05-19 16:40:00` (UTC, as the Table API writes values without `sysparm_display_value`).
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(t) = Timestamp::parse(text) {
        return Some(t);
    }
    let bytes = text.as_bytes();
    if bytes.len() == 10 {
        return Timestamp::parse(&format!("{text}T00:00:00Z")).ok();
    }
    if bytes.len() == 19 && bytes[10] == b' ' {
        return Timestamp::parse(&format!("{}T{}Z", &text[..10], &text[11..])).ok();
    }
    let n = bytes.len();
    if n > 5 && matches!(bytes[n - 5], b'+' | b'-') && bytes[n - 4..].iter().all(u8::is_ascii_digit)
    {
        return Timestamp::parse(&format!("{}:{}", &text[..n - 2], &text[n - 2..])).ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_a_system_and_a_well_formed_id() {
        let jira = TicketRef::parse("jira:ops-12").unwrap().unwrap();
        assert_eq!((jira.system, jira.id.as_str()), (System::Jira, "OPS-12"));
        let snow = TicketRef::parse("servicenow:CHG0030001").unwrap().unwrap();
        assert_eq!(snow.to_string(), "servicenow:CHG0030001");
        assert!(TicketRef::parse("ticket.json").is_none());
        for bad in [
            "jira:OPS",
            "jira:OPS-1/../x",
            "servicenow:0030001",
            "servicenow:CHG1^x",
        ] {
            assert!(TicketRef::parse(bad).unwrap().is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_of_both_systems_parse() {
        let utc = Timestamp::parse("2026-05-19T16:40:00Z").unwrap();
        assert_eq!(parse_time("2026-05-19T16:40:00.000+0000"), Some(utc));
        assert_eq!(parse_time("2026-05-19T18:40:00+0200"), Some(utc));
        assert_eq!(parse_time("2026-05-19 16:40:00"), Some(utc));
        assert_eq!(parse_time("2026-05-19T16:40:00Z"), Some(utc));
        assert!(parse_time("2026-05-19").is_some());
        assert_eq!(parse_time("yesterday"), None);
    }
}
