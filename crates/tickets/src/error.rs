//! Why a ticket could not be read. Every variant names the ticket system; those about an answer
//! also name the URL asked (never a credential: URLs with user information are refused, and tokens
//! travel only in the `Authorization` header).

use std::fmt;

/// A ticket system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum System {
    /// Jira (Cloud or Data Center), with Jira Service Management approvals.
    Jira,
    /// ServiceNow change management.
    ServiceNow,
}

impl System {
    /// The prefix of a `--ticket` reference: `jira` or `servicenow`.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Jira => "jira",
            Self::ServiceNow => "servicenow",
        }
    }

    /// The name people use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Jira => "Jira",
            Self::ServiceNow => "ServiceNow",
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a ticket could not be read from its system.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// The `--ticket` reference is not `jira:KEY` or `servicenow:NUMBER`.
    #[error("invalid ticket reference `{value}`: {message}")]
    Reference {
        /// The reference given.
        value: String,
        /// What is wrong.
        message: String,
    },
    /// The connection settings are missing or invalid.
    #[error("cannot reach {system}: {message}")]
    Settings {
        /// The system.
        system: System,
        /// What is missing or wrong, and where to set it.
        message: String,
    },
    /// The base URL set for the system is refused.
    #[error("cannot reach {system}: {error}")]
    BaseUrl {
        /// The system.
        system: System,
        /// What is wrong with the URL.
        #[source]
        error: UrlError,
    },
    /// No answer: connection refused, name not resolved, TLS failure or timeout.
    #[error("{system} at `{url}` is unreachable: {message}")]
    Unreachable {
        /// The system.
        system: System,
        /// The URL asked.
        url: String,
        /// What happened (after the retries, if any).
        message: String,
    },
    /// The system refused the credentials (401) or the permission (403).
    #[error("{system} refused `{url}` with status {status}: {help}")]
    Unauthorized {
        /// The system.
        system: System,
        /// The URL asked.
        url: String,
        /// 401 or 403.
        status: u16,
        /// Which credential to check.
        help: String,
    },
    /// The ticket does not exist (404, or no record matched).
    #[error("{system} has no ticket `{ticket}` (`{url}`{})", status_note(*.status))]
    NotFound {
        /// The system.
        system: System,
        /// The ticket asked for.
        ticket: String,
        /// The URL asked.
        url: String,
        /// The status, when the system said 404.
        status: Option<u16>,
    },
    /// The Jira issue exists but is not a Jira Service Management request, so its approvals
    /// cannot be read (the approval resource answered 404).
    #[error(
        "Jira issue `{key}` is not a Service Management request (`{url}`, status {status}): its approvals cannot be read; set `approvals = \"none\"` in `[tickets.jira]` to read plain issues"
    )]
    NotARequest {
        /// The issue key.
        key: String,
        /// The approval URL asked.
        url: String,
        /// The status answered.
        status: u16,
    },
    /// The ticket has more records of a kind than are read at most: reading on would be
    /// unbounded, and stopping would drop some silently.
    #[error("{system} answered `{url}` with more {what} than the {limit} read at most{}", count_note(*.count))]
    TooMany {
        /// The system.
        system: System,
        /// The URL asked.
        url: String,
        /// What was counted, for example `approval records`.
        what: &'static str,
        /// The count the system gave, if it gave one.
        count: Option<u64>,
        /// The most read.
        limit: u64,
    },
    /// Any other unexpected status, after the retries for 429 and 5xx.
    #[error("{system} answered `{url}` with status {status}{}", attempts_note(*.attempts))]
    Status {
        /// The system.
        system: System,
        /// The URL asked.
        url: String,
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// The answer is larger than the configured limit.
    #[error("{system} answered `{url}` with more than {limit} bytes")]
    TooLarge {
        /// The system.
        system: System,
        /// The URL asked.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The answer is not JSON, or lacks or mistypes a field Tollgate needs.
    #[error("{system} answered `{url}` with an unexpected document: `{field}` {message}")]
    Malformed {
        /// The system.
        system: System,
        /// The URL asked.
        url: String,
        /// The field path, or `(document)`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn status_note(status: Option<u16>) -> String {
    status.map(|s| format!(", status {s}")).unwrap_or_default()
}

fn count_note(count: Option<u64>) -> String {
    count.map(|c| format!(" ({c} in all)")).unwrap_or_default()
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

/// Why a base URL is refused ([`TicketError::BaseUrl`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// No `scheme://`.
    #[error("base URL `{0}` is not an absolute http(s) URL")]
    NotAbsolute(String),
    /// User information in the URL.
    #[error("the base URL must not carry credentials; use the token variables")]
    Credentials,
    /// A query, a fragment or no host.
    #[error("base URL `{0}` must be `https://host[/path]` without query or fragment")]
    Shape(String),
    /// `http://` to a host that is not a loopback host.
    #[error("base URL `{0}` must use https (plain http only to a loopback host)")]
    PlainHttp(String),
    /// Neither `https` nor `http`.
    #[error("base URL `{0}` is not an http(s) URL")]
    Scheme(String),
}
