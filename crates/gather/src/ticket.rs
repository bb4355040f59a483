//! The change ticket in the manifest's terms. A pipeline step can export it as JSON (or YAML) in
//! this shape for `tollgate manifest --ticket FILE`; `--ticket jira:KEY` and
//! `--ticket servicenow:NUMBER` read it from the system instead (`tollgate-tickets`).
//!
//! ```json
//! {
//!   "id": "CHG-2041",
//!   "title": "Retry payment capture on timeout",
//!   "status": "approved",
//!   "submitted_at": "2026-05-19T16:40:00Z",
//!   "emergency": false,
//!   "reason": "failed captures during network blips",
//!   "security_impact": "none identified",
//!   "approvals": [{"by": "bob", "role": "TECHNICAL_LEAD", "at": "2026-05-20T09:12:00Z"}]
//! }
//! ```

use serde::Deserialize;
use tollgate_manifest::{Approval, Format, TicketStatus, decode};

use crate::GatherError;

/// A change ticket as exported from the change-management system.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ticket {
    /// Ticket id. Required.
    pub id: String,
    /// Short title.
    #[serde(default)]
    pub title: Option<String>,
    /// Ticket state: `draft`, `submitted`, `approved` or `rejected`. Required.
    pub status: TicketStatus,
    /// When the ticket was submitted for approval (RFC 3339).
    #[serde(default)]
    pub submitted_at: Option<tollgate_manifest::Timestamp>,
    /// Whether the change is an emergency change.
    #[serde(default)]
    pub emergency: Option<bool>,
    /// Why the change is made.
    #[serde(default)]
    pub reason: Option<String>,
    /// The documented security impact.
    #[serde(default)]
    pub security_impact: Option<String>,
    /// Approvals recorded on the ticket.
    #[serde(default)]
    pub approvals: Vec<Approval>,
}

impl From<tollgate_tickets::LiveTicket> for Ticket {
    fn from(live: tollgate_tickets::LiveTicket) -> Self {
        Self {
            id: live.id,
            title: live.title,
            status: live.status,
            submitted_at: live.submitted_at,
            emergency: Some(live.emergency),
            reason: live.reason,
            security_impact: live.security_impact,
            approvals: live.approvals,
        }
    }
}

impl Ticket {
    /// Parses a ticket from JSON or YAML text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, GatherError> {
        let format = Format::detect(Some(std::path::Path::new(origin)), text);
        let ticket: Self = decode(text, format).map_err(|source| GatherError::Document {
            what: "ticket file",
            path: origin.to_owned(),
            source,
        })?;
        if ticket.id.trim().is_empty() {
            return Err(GatherError::Field {
                what: "ticket file",
                path: origin.to_owned(),
                field: "id",
                message: "must not be empty".to_owned(),
            });
        }
        Ok(ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shape() {
        let ticket = Ticket::parse(
            r#"{"id":"CHG-1","status":"approved","approvals":[{"by":"bob","role":"TECHNICAL_LEAD","at":"2026-05-20T09:12:00Z"}]}"#,
            "ticket.json",
        )
        .unwrap();
        assert_eq!(ticket.status, TicketStatus::Approved);
        assert_eq!(ticket.approvals[0].by, "bob");
    }

    #[test]
    fn errors_name_the_field_and_line() {
        let error = Ticket::parse(
            "{\n  \"id\": \"CHG-1\",\n  \"status\": \"aproved\"\n}",
            "ticket.json",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("ticket.json"), "{error}");
        assert!(error.contains("`status`"), "{error}");
        assert!(error.contains("line 3"), "{error}");
        let error = Ticket::parse(
            "{\"id\":\"CHG-1\",\"status\":\"approved\",\"aprovals\":[]}",
            "t.json",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("aprovals"), "{error}");
    }
}
