//! One GET of a JSON document with the limits of [`TicketsConfig`]: connection and overall
//! timeouts, bounded retries with exponential backoff on 429, 5xx and failed connections (a
//! `Retry-After` in seconds wins, up to a minute), a bounded body, no redirects (a redirect could
//! carry the `Authorization` header to another host).

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::config::{Endpoint, TicketsConfig};
use crate::error::{System, TicketError};

/// What a query component leaves unencoded: RFC 3986's unreserved characters and `,` (which the
/// Table API's `sysparm_fields` lists use).
const QUERY_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b',');

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A client of one ticket system.
pub(crate) struct Client {
    system: System,
    endpoint: Endpoint,
    agent: ureq::Agent,
    retries: u32,
    backoff: Duration,
    max_bytes: u64,
}

impl Client {
    pub(crate) fn new(system: System, endpoint: Endpoint, config: &TicketsConfig) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout()))
            .timeout_connect(Some(config.connect_timeout()))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(format!("tollgate/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            system,
            endpoint,
            agent,
            retries: config.retries,
            backoff: Duration::from_millis(config.retry_backoff_millis),
            max_bytes: config.max_response_bytes,
        }
    }

    /// The base URL, for provenance.
    pub(crate) fn base(&self) -> &str {
        &self.endpoint.base
    }

    /// The full URL of `path` (which starts with `/`) with the query pairs, percent-encoded.
    pub(crate) fn url(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut url = format!("{}{path}", self.endpoint.base);
        for (index, (key, value)) in query.iter().enumerate() {
            url.push(if index == 0 { '?' } else { '&' });
            url.push_str(&encode(key));
            url.push('=');
            url.push_str(&encode(value));
        }
        url
    }

    /// GETs `url` and parses the answer as JSON.
    pub(crate) fn get_json(&self, url: &str, ticket: &str) -> Result<Value, TicketError> {
        self.get_page(url, ticket).map(|(document, _)| document)
    }

    /// GETs `url`, parses the answer as JSON and reads its `X-Total-Count` header (the number of
    /// records a paged query matches, as ServiceNow's Table API sends it); a header that is not a
    /// number is a malformed answer.
    pub(crate) fn get_page(
        &self,
        url: &str,
        ticket: &str,
    ) -> Result<(Value, Option<u64>), TicketError> {
        let system = self.system;
        let unreachable = |message: String| TicketError::Unreachable {
            system,
            url: url.to_owned(),
            message,
        };
        let attempts = self.retries.saturating_add(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= attempts;
            let pause = self.backoff.saturating_mul(1 << (attempt - 1).min(16));
            let result = self
                .agent
                .get(url)
                .header("Accept", "application/json")
                .header("Authorization", self.endpoint.auth.header())
                .call();
            let mut response = match result {
                Ok(response) => response,
                Err(ureq::Error::Timeout(which)) => {
                    return Err(unreachable(format!("timed out ({which})")));
                }
                Err(error) if retryable(&error) && !last => {
                    std::thread::sleep(pause);
                    continue;
                }
                Err(error) => {
                    let note = if attempt > 1 {
                        format!(" after {attempt} attempts")
                    } else {
                        String::new()
                    };
                    return Err(unreachable(format!("{error}{note}")));
                }
            };
            let status = response.status().as_u16();
            match status {
                200..=299 => {}
                401 | 403 => {
                    return Err(TicketError::Unauthorized {
                        system,
                        url: url.to_owned(),
                        status,
                        help: self.credentials_help(status),
                    });
                }
                404 => {
                    return Err(TicketError::NotFound {
                        system,
                        ticket: ticket.to_owned(),
                        url: url.to_owned(),
                        status: Some(status),
                    });
                }
                429 | 500..=599 if !last => {
                    let wait = retry_after(response.headers()).unwrap_or(pause);
                    std::thread::sleep(wait.min(MAX_RETRY_AFTER));
                    continue;
                }
                _ => {
                    return Err(TicketError::Status {
                        system,
                        url: url.to_owned(),
                        status,
                        attempts: attempt,
                    });
                }
            }
            let total = match response.headers().get("x-total-count") {
                None => None,
                Some(value) => Some(
                    value
                        .to_str()
                        .ok()
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .ok_or_else(|| TicketError::Malformed {
                            system,
                            url: url.to_owned(),
                            field: "X-Total-Count".to_owned(),
                            message: "is not a number".to_owned(),
                        })?,
                ),
            };
            let bytes = response
                .body_mut()
                .with_config()
                .limit(self.max_bytes)
                .read_to_vec()
                .map_err(|error| match error {
                    ureq::Error::BodyExceedsLimit(_) => TicketError::TooLarge {
                        system,
                        url: url.to_owned(),
                        limit: self.max_bytes,
                    },
                    ureq::Error::Timeout(which) => unreachable(format!("timed out ({which})")),
                    other => unreachable(format!("reading the answer failed: {other}")),
                })?;
            let document =
                serde_json::from_slice(&bytes).map_err(|error| TicketError::Malformed {
                    system,
                    url: url.to_owned(),
                    field: "(document)".to_owned(),
                    message: format!("is not JSON: {error}"),
                })?;
            return Ok((document, total));
        }
    }

    fn credentials_help(&self, status: u16) -> String {
        let variables = match self.system {
            System::Jira => "`TOLLGATE_JIRA_TOKEN` (and `TOLLGATE_JIRA_USER` for Jira Cloud)",
            System::ServiceNow => {
                "`TOLLGATE_SERVICENOW_TOKEN`, or `TOLLGATE_SERVICENOW_USER` and `TOLLGATE_SERVICENOW_PASSWORD`"
            }
        };
        if status == 401 {
            format!("the credentials were not accepted; check {variables}")
        } else {
            format!("the account of {variables} may not read this record")
        }
    }
}

/// Whether a failed call may succeed when tried again: the connection failed or was reset.
fn retryable(error: &ureq::Error) -> bool {
    use std::io::ErrorKind;
    match error {
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

/// A `Retry-After` in seconds (the HTTP-date form falls back to the backoff).
fn retry_after(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
fn encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_components_are_percent_encoded() {
        assert_eq!(encode("number=CHG0030001"), "number%3DCHG0030001");
        assert_eq!(encode("a^state=approved"), "a%5Estate%3Dapproved");
        assert_eq!(encode("sys_id,number"), "sys_id,number");
    }
}
