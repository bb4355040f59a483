//! Settings of the ticket systems: the `[tickets]` tables of `tollgate.toml` and the
//! `TOLLGATE_JIRA_*` / `TOLLGATE_SERVICENOW_*` environment variables. The environment wins over the
//! file; credentials belong in the environment (a CI secret), never in a committed file.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use tollgate_manifest::SignatureMeaning;

use crate::error::{System, TicketError, UrlError};

/// The `[tickets]` table: limits shared by both systems, and each system's table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketsConfig {
    /// Time allowed for one request, connection included. Default: 10 s.
    #[serde(default = "ten")]
    pub timeout_seconds: u64,
    /// Time allowed to connect. Default: 5 s.
    #[serde(default = "five")]
    pub connect_timeout_seconds: u64,
    /// Further attempts after a 429, a 5xx or a failed connection. Default: 3.
    #[serde(default = "three")]
    pub retries: u32,
    /// First pause between attempts, doubled each time (a `Retry-After` of the answer wins, up
    /// to 60 s). Default: 500 ms.
    #[serde(default = "half_second")]
    pub retry_backoff_millis: u64,
    /// Largest answer read. Default: 1 MiB.
    #[serde(default = "one_mebibyte")]
    pub max_response_bytes: u64,
    /// Jira.
    #[serde(default)]
    pub jira: JiraConfig,
    /// ServiceNow.
    #[serde(default)]
    pub servicenow: ServiceNowConfig,
}

impl Default for TicketsConfig {
    fn default() -> Self {
        Self {
            timeout_seconds: ten(),
            connect_timeout_seconds: five(),
            retries: three(),
            retry_backoff_millis: half_second(),
            max_response_bytes: one_mebibyte(),
            jira: JiraConfig::default(),
            servicenow: ServiceNowConfig::default(),
        }
    }
}

impl TicketsConfig {
    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }

    /// The connection timeout.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_seconds)
    }
}

fn ten() -> u64 {
    10
}
fn five() -> u64 {
    5
}
fn three() -> u32 {
    3
}
fn half_second() -> u64 {
    500
}
fn one_mebibyte() -> u64 {
    1 << 20
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Where Jira's approvals come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JiraApprovals {
    /// Jira Service Management: `GET /rest/servicedeskapi/request/{key}/approval`.
    #[default]
    ServiceManagement,
    /// No approvals are read (the policy then finds none).
    None,
}

/// Which identity of a Jira approver becomes `approvals[].by`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JiraIdentity {
    /// `emailAddress`, else `accountId` when the site hides emails (noted).
    #[default]
    Email,
    /// `accountId` (Jira Cloud).
    AccountId,
    /// `name`, the user name (Jira Data Center).
    Name,
}

/// `[tickets.jira]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    /// Base URL, for example `https://example.atlassian.net`. `TOLLGATE_JIRA_URL` wins.
    pub url: Option<String>,
    /// Account email for Basic authentication (Jira Cloud API tokens). `TOLLGATE_JIRA_USER` wins.
    pub user: Option<String>,
    /// REST API version of the issue resource: 2 or 3. Default: 2.
    #[serde(default = "two")]
    pub api_version: u8,
    /// Status names (case-insensitive) meaning `draft`.
    #[serde(default = "jira_draft")]
    pub draft_statuses: Vec<String>,
    /// Status names meaning `submitted` (awaiting approval).
    #[serde(default = "jira_submitted")]
    pub submitted_statuses: Vec<String>,
    /// Status names meaning `approved`.
    #[serde(default = "jira_approved")]
    pub approved_statuses: Vec<String>,
    /// Status names meaning `rejected`.
    #[serde(default = "jira_rejected")]
    pub rejected_statuses: Vec<String>,
    /// Where approvals come from. Default: `service_management`.
    #[serde(default)]
    pub approvals: JiraApprovals,
    /// Approval name (as in Jira Service Management, for example `Change manager approval`) to
    /// Tollgate approver role (`TECHNICAL_LEAD`, `CHANGE_ADVISORY_BOARD`, ...).
    #[serde(default)]
    pub approval_roles: BTreeMap<String, String>,
    /// Role of an approval whose name is not in `approval_roles`; without it such an approval is
    /// not counted (and noted).
    pub default_role: Option<String>,
    /// Approval name to the meaning of its approvers' signatures (21 CFR 11.50(a)(3)), for
    /// example `Quality review` to `review`: Service Management approvals state none of their
    /// own. An approval not named has no stated meaning. Default: none.
    #[serde(default)]
    pub approval_meanings: BTreeMap<String, SignatureMeaning>,
    /// Which approver identity is recorded. Default: `email`.
    #[serde(default)]
    pub approver_identity: JiraIdentity,
    /// Field holding the submission time. Default: `created`.
    #[serde(default = "created")]
    pub submitted_field: String,
    /// Field whose value marks an emergency change. Default: `issuetype`.
    #[serde(default = "issuetype")]
    pub emergency_field: String,
    /// Values (names or option values, case-insensitive) of `emergency_field` meaning emergency.
    #[serde(default = "jira_emergency")]
    pub emergency_values: Vec<String>,
    /// Field holding the reason (plain text), for example a custom field `customfield_10060`.
    pub reason_field: Option<String>,
    /// Field holding the security impact (plain text).
    pub security_impact_field: Option<String>,
}

impl Default for JiraConfig {
    fn default() -> Self {
        Self {
            url: None,
            user: None,
            api_version: two(),
            draft_statuses: jira_draft(),
            submitted_statuses: jira_submitted(),
            approved_statuses: jira_approved(),
            rejected_statuses: jira_rejected(),
            approvals: JiraApprovals::default(),
            approval_roles: BTreeMap::new(),
            default_role: None,
            approval_meanings: BTreeMap::new(),
            approver_identity: JiraIdentity::default(),
            submitted_field: created(),
            emergency_field: issuetype(),
            emergency_values: jira_emergency(),
            reason_field: None,
            security_impact_field: None,
        }
    }
}

fn two() -> u8 {
    2
}
fn created() -> String {
    "created".to_owned()
}
fn issuetype() -> String {
    "issuetype".to_owned()
}
fn jira_draft() -> Vec<String> {
    strings(&["Draft", "Open", "To Do", "New", "Backlog"])
}
fn jira_submitted() -> Vec<String> {
    strings(&[
        "Awaiting approval",
        "Waiting for approval",
        "Pending approval",
        "Planning",
        "Assess",
        "Authorize",
        "Peer review",
        "Under review",
        "Awaiting CAB approval",
    ])
}
fn jira_approved() -> Vec<String> {
    strings(&[
        "Approved",
        "Awaiting implementation",
        "Scheduled",
        "Implementing",
        "Implemented",
        "Completed",
    ])
}
fn jira_rejected() -> Vec<String> {
    strings(&[
        "Declined",
        "Rejected",
        "Canceled",
        "Cancelled",
        "Won't do",
        "Failed",
    ])
}
fn jira_emergency() -> Vec<String> {
    strings(&["Emergency Change", "Emergency"])
}

/// Which identity of a ServiceNow approver becomes `approvals[].by`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceNowIdentity {
    /// `approver.user_name`, the login.
    #[default]
    UserName,
    /// `approver.email`.
    Email,
}

/// `[tickets.servicenow]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceNowConfig {
    /// Instance URL, for example `https://example.service-now.com`. `TOLLGATE_SERVICENOW_URL` wins.
    pub url: Option<String>,
    /// User for Basic authentication (with `TOLLGATE_SERVICENOW_PASSWORD`); without it
    /// `TOLLGATE_SERVICENOW_TOKEN` is sent as a bearer token. `TOLLGATE_SERVICENOW_USER` wins.
    pub user: Option<String>,
    /// Approval group name (the `assignment_group` of the approval's group, for example
    /// `Change Advisory Board`) to Tollgate approver role.
    #[serde(default)]
    pub group_roles: BTreeMap<String, String>,
    /// Approver user name to role, for approvals without a group (or to override it).
    #[serde(default)]
    pub approver_roles: BTreeMap<String, String>,
    /// Role of an approval neither map names; without it such an approval is not counted (and
    /// noted).
    pub default_role: Option<String>,
    /// `sysapproval_approver` field holding the signature meaning the approver stated (21 CFR
    /// 11.50(a)(3)), for example a choice field `u_signature_meaning` whose values are `review`,
    /// `approval`, `responsibility` or `authorship` (case-insensitive). Default: none (no field is
    /// read).
    pub meaning_field: Option<String>,
    /// Approval group name to the meaning of its signatures, for workflows whose approval steps
    /// each carry one meaning; used when `meaning_field` gives none. Default: none.
    #[serde(default)]
    pub group_meanings: BTreeMap<String, SignatureMeaning>,
    /// Which approver identity is recorded. Default: `user_name`.
    #[serde(default)]
    pub approver_identity: ServiceNowIdentity,
    /// `change_request` field holding the submission time. Default: `opened_at`.
    #[serde(default = "opened_at")]
    pub submitted_field: String,
    /// `sysapproval_approver` field holding the approval time. Default: `sys_updated_on`.
    #[serde(default = "sys_updated_on")]
    pub approved_at_field: String,
    /// `change_request` field holding the reason. Default: `justification`.
    #[serde(default = "justification")]
    pub reason_field: String,
    /// `change_request` field holding the security impact. Default: `risk_impact_analysis`.
    #[serde(default = "risk_impact_analysis")]
    pub security_impact_field: String,
}

impl Default for ServiceNowConfig {
    fn default() -> Self {
        Self {
            url: None,
            user: None,
            group_roles: BTreeMap::new(),
            approver_roles: BTreeMap::new(),
            default_role: None,
            meaning_field: None,
            group_meanings: BTreeMap::new(),
            approver_identity: ServiceNowIdentity::default(),
            submitted_field: opened_at(),
            approved_at_field: sys_updated_on(),
            reason_field: justification(),
            security_impact_field: risk_impact_analysis(),
        }
    }
}

fn opened_at() -> String {
    "opened_at".to_owned()
}
fn sys_updated_on() -> String {
    "sys_updated_on".to_owned()
}
fn justification() -> String {
    "justification".to_owned()
}
fn risk_impact_analysis() -> String {
    "risk_impact_analysis".to_owned()
}

/// The ticket-system variables of the environment. `Debug` never shows a secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

/// The variables read, in the order documented.
pub const VARIABLES: &[&str] = &[
    "TOLLGATE_JIRA_URL",
    "TOLLGATE_JIRA_USER",
    "TOLLGATE_JIRA_TOKEN",
    "TOLLGATE_SERVICENOW_URL",
    "TOLLGATE_SERVICENOW_USER",
    "TOLLGATE_SERVICENOW_PASSWORD",
    "TOLLGATE_SERVICENOW_TOKEN",
];

impl Environment {
    /// Reads [`VARIABLES`] through `lookup` (empty values count as unset).
    pub fn read(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let vars = VARIABLES
            .iter()
            .filter_map(|name| {
                lookup(name)
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| ((*name).to_owned(), v))
            })
            .collect();
        Self { vars }
    }

    /// Reads [`VARIABLES`] from the process environment.
    pub fn from_process_env() -> Self {
        Self::read(|name| std::env::var(name).ok())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        f.debug_struct("Environment").field("set", &names).finish()
    }
}

/// Where the base URL came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlOrigin {
    /// An environment variable.
    Environment,
    /// The configuration file.
    Configuration,
}

/// How requests authenticate. `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic base64(user:secret)`.
    Basic(String, String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bearer(_) => f.write_str("Bearer([redacted])"),
            Self::Basic(user, _) => write!(f, "Basic({user}, [redacted])"),
        }
    }
}

impl Auth {
    pub(crate) fn header(&self) -> String {
        match self {
            Self::Bearer(token) => format!("Bearer {token}"),
            Self::Basic(user, secret) => {
                use base64::Engine as _;
                let pair = format!("{user}:{secret}");
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
        }
    }
}

/// A system's base URL (without a final `/`) and credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub(crate) base: String,
    pub(crate) origin: UrlOrigin,
    pub(crate) auth: Auth,
}

impl Endpoint {
    pub(crate) fn resolve(
        system: System,
        config: &TicketsConfig,
        env: &Environment,
    ) -> Result<Self, TicketError> {
        let settings = |message: String| TicketError::Settings { system, message };
        let (url_var, config_url, user_var, config_user) = match system {
            System::Jira => (
                "TOLLGATE_JIRA_URL",
                &config.jira.url,
                "TOLLGATE_JIRA_USER",
                &config.jira.user,
            ),
            System::ServiceNow => (
                "TOLLGATE_SERVICENOW_URL",
                &config.servicenow.url,
                "TOLLGATE_SERVICENOW_USER",
                &config.servicenow.user,
            ),
        };
        let table = format!("[tickets.{}]", system.prefix());
        let (url, origin) = match (env.get(url_var), config_url) {
            (Some(url), _) => (url.to_owned(), UrlOrigin::Environment),
            (None, Some(url)) => (url.clone(), UrlOrigin::Configuration),
            (None, None) => {
                return Err(settings(format!(
                    "no base URL; set `{url_var}` or `url` in `{table}` of tollgate.toml"
                )));
            }
        };
        let base = check_url(&url).map_err(|error| TicketError::BaseUrl { system, error })?;
        let user = env.get(user_var).map(str::to_owned).or(config_user.clone());
        let auth = match system {
            System::Jira => {
                let token = env.get("TOLLGATE_JIRA_TOKEN").ok_or_else(|| {
                    settings("no credentials; set `TOLLGATE_JIRA_TOKEN` (a personal access token, or an API token with `TOLLGATE_JIRA_USER` for Jira Cloud)".to_owned())
                })?;
                match user {
                    Some(user) => Auth::Basic(user, token.to_owned()),
                    None => Auth::Bearer(token.to_owned()),
                }
            }
            System::ServiceNow => match (
                user,
                env.get("TOLLGATE_SERVICENOW_PASSWORD"),
                env.get("TOLLGATE_SERVICENOW_TOKEN"),
            ) {
                (Some(user), Some(password), _) => Auth::Basic(user, password.to_owned()),
                (_, _, Some(token)) => Auth::Bearer(token.to_owned()),
                _ => {
                    return Err(settings("no credentials; set `TOLLGATE_SERVICENOW_TOKEN` (OAuth bearer token), or `TOLLGATE_SERVICENOW_USER` and `TOLLGATE_SERVICENOW_PASSWORD`".to_owned()));
                }
            },
        };
        Ok(Self { base, origin, auth })
    }
}

/// Checks a base URL: `https://host[:port][/path]`, or `http://` to a loopback host only; no user
/// information, query or fragment. Returns it without a final `/`.
fn check_url(url: &str) -> Result<String, UrlError> {
    let url = url.trim().trim_end_matches('/');
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| UrlError::NotAbsolute(url.to_owned()))?;
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(UrlError::Credentials);
    }
    if rest.contains(['?', '#']) || authority.is_empty() {
        return Err(UrlError::Shape(url.to_owned()));
    }
    let host = authority
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(authority, |(host, _)| host);
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    match scheme {
        "https" => Ok(url.to_owned()),
        "http" if loopback => Ok(url.to_owned()),
        "http" => Err(UrlError::PlainHttp(url.to_owned())),
        _ => Err(UrlError::Scheme(url.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_without_credentials() {
        assert_eq!(
            check_url("https://example.atlassian.net/").unwrap(),
            "https://example.atlassian.net"
        );
        assert!(check_url("http://127.0.0.1:8080").is_ok());
        assert!(check_url("http://example.com").is_err());
        assert!(check_url("https://bob:secret@example.com").is_err());
        assert!(check_url("https://example.com/?a=b").is_err());
        assert!(check_url("example.com").is_err());
    }

    #[test]
    fn the_environment_wins_and_secrets_are_never_shown() {
        let env = Environment::read(|name| match name {
            "TOLLGATE_JIRA_URL" => Some("https://jira.example.com".to_owned()),
            "TOLLGATE_JIRA_TOKEN" => Some("s3cret-token".to_owned()),
            _ => None,
        });
        let mut config = TicketsConfig::default();
        config.jira.url = Some("https://other.example.com".to_owned());
        let endpoint = Endpoint::resolve(System::Jira, &config, &env).unwrap();
        assert_eq!(endpoint.base, "https://jira.example.com");
        assert_eq!(endpoint.origin, UrlOrigin::Environment);
        assert_eq!(endpoint.auth.header(), "Bearer s3cret-token");
        assert_eq!(
            Auth::Basic("bob@example.com".into(), "t".into()).header(),
            "Basic Ym9iQGV4YW1wbGUuY29tOnQ="
        );
        let shown = format!("{env:?} {endpoint:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let error = Endpoint::resolve(System::ServiceNow, &config, &env).unwrap_err();
        assert!(
            error.to_string().contains("TOLLGATE_SERVICENOW_URL"),
            "{error}"
        );
    }
}
