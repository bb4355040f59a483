//! The waiver types: a waiver and its scope, a parsed waivers file, and the problems that keep a
//! waiver from applying.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;
use tollgate_decision::{Decision, Finding};
use tollgate_manifest::{IdentityAliases, Location, Timestamp};

use crate::fields::{date, non_empty, optional_date};

/// Where a waiver applies. An absent key matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// A policy id (`pci`) or framework name (`PCI DSS v4.0`), compared without case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// The change's target environment, compared without case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The service being deployed (`tollgate eval --service`), compared without case. A waiver with
    /// a service scope never applies when no service is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// One waiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// Waiver id, unique in the file. Required.
    #[serde(deserialize_with = "non_empty")]
    pub id: String,
    /// Rule id the waiver covers (for example `sod-self-approval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Control id the waiver covers (for example `PCI-6.5.5`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// Where the waiver applies. Default: everywhere.
    #[serde(default)]
    pub scope: Scope,
    /// Why the exception is acceptable. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    pub justification: String,
    /// The change ticket that records the exception. Required, non-empty.
    #[serde(deserialize_with = "non_empty")]
    pub ticket: String,
    /// Who approved the exception. Required, non-empty; must not be the change's author.
    #[serde(deserialize_with = "non_empty")]
    pub approved_by: String,
    /// Last day (UTC) the waiver is active, `YYYY-MM-DD`. Required.
    #[serde(deserialize_with = "date", serialize_with = "write_date")]
    pub expires: Date,
    /// Day (UTC) the exception was approved, `YYYY-MM-DD`. Optional; a waiver approved after the
    /// evaluation day (future-dated) never applies.
    #[serde(
        default,
        deserialize_with = "optional_date",
        serialize_with = "write_optional_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub approved_on: Option<Date>,
}

fn write_optional_date<S: serde::Serializer>(
    date: &Option<Date>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serializer.serialize_str(&format_date(*date)),
        None => serializer.serialize_none(),
    }
}

fn write_date<S: serde::Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_date(*date))
}

/// Names compared without case or surrounding white space.
fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

impl Waiver {
    /// Whether the waiver is active at `now`: through the end of its expiry day, UTC.
    pub fn is_active(&self, now: Timestamp) -> bool {
        let end = self
            .expires
            .next_day()
            .map(|d| d.midnight().assume_utc().unix_timestamp())
            .unwrap_or(i64::MAX);
        now.seconds < end
    }

    /// Whether the waiver is dated after `now`: approved on a later day (UTC) than the evaluation.
    pub fn is_future_dated(&self, now: Timestamp) -> bool {
        let Some(approved_on) = self.approved_on else {
            return false;
        };
        let start = approved_on.midnight().assume_utc().unix_timestamp();
        now.seconds < start
    }

    /// Whether the waiver covers a finding of a decision in a context (scope, rule and control).
    pub fn covers(
        &self,
        decision: &Decision,
        finding: &Finding,
        context: &WaiverContext<'_>,
    ) -> bool {
        self.targets(finding) && self.scope_mismatches(decision, context).is_empty()
    }

    /// Whether the waiver's rule and control (those it names) are the finding's.
    pub fn targets(&self, finding: &Finding) -> bool {
        let rule = self
            .rule
            .as_deref()
            .is_none_or(|r| same(r, &finding.rule_id));
        let control = self
            .control
            .as_deref()
            .is_none_or(|c| same(c, &finding.control_id));
        rule && control
    }

    /// The parts of the waiver's scope that do not match a decision in a context, each in words
    /// (``service `payments` (no `--service` was given)``); empty when the scope matches.
    pub fn scope_mismatches(
        &self,
        decision: &Decision,
        context: &WaiverContext<'_>,
    ) -> Vec<String> {
        let scope = &self.scope;
        let mut mismatches = Vec::new();
        if let Some(framework) = scope.framework.as_deref()
            && !same(framework, &decision.policy_id)
            && !same(framework, &decision.framework)
        {
            mismatches.push(format!(
                "framework `{framework}` (the finding is of policy `{}`, {})",
                decision.policy_id, decision.framework
            ));
        }
        if let Some(environment) = scope.environment.as_deref()
            && !same(environment, context.environment)
        {
            mismatches.push(format!(
                "environment `{environment}` (the change goes to `{}`)",
                context.environment
            ));
        }
        match (scope.service.as_deref(), context.service) {
            (Some(wanted), Some(given)) if !same(wanted, given) => mismatches.push(format!(
                "service `{wanted}` (the service deployed is `{given}`)"
            )),
            (Some(wanted), None) => mismatches.push(format!(
                "service `{wanted}` (no service was given: `--service`)"
            )),
            _ => {}
        }
        mismatches
    }

    /// The short summary every output shows next to a waived finding.
    pub fn summary(&self) -> WaiverSummary {
        WaiverSummary {
            id: self.id.clone(),
            justification: self.justification.clone(),
            ticket: self.ticket.clone(),
            approved_by: self.approved_by.clone(),
            expires: format_date(self.expires),
        }
    }
}

/// A parsed waivers file: the well-formed waivers and the problems of the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaiverSet {
    /// The file, as given.
    pub path: String,
    /// Well-formed waivers, in file order.
    pub waivers: Vec<Waiver>,
    /// Position in the file's `waivers` list (from 0) of each well-formed waiver.
    pub positions: Vec<usize>,
    /// Malformed entries (never applied).
    pub problems: Vec<WaiverProblem>,
}

/// What kind of problem a waiver has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The entry is not a valid waiver.
    Malformed,
    /// The waiver's expiry date has passed.
    Expired,
    /// The waiver was approved by the change's author.
    ApprovedByAuthor,
    /// The waiver was approved by the change's deployer.
    ApprovedByDeployer,
    /// The approver's identity cannot be told apart from the author's or the deployer's (an email
    /// and a login that no `identities` setting maps to each other): it fails closed.
    ApproverUnmatched,
    /// The waiver is dated after the evaluation (`approved_on` in the future).
    FutureDated,
    /// The waiver covers a finding of a control its policy declares non-waivable.
    NonWaivable,
}

impl ProblemKind {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Expired => "expired",
            Self::ApprovedByAuthor => "approved_by_author",
            Self::ApprovedByDeployer => "approved_by_deployer",
            Self::ApproverUnmatched => "approver_unmatched",
            Self::FutureDated => "future_dated",
            Self::NonWaivable => "non_waivable",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A waiver that does not apply, and why. Never an error: it is reported in every output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverProblem {
    /// The waiver's id, if it has one.
    pub waiver: Option<String>,
    /// Position in the file's `waivers` list, from 0.
    pub index: usize,
    /// The kind of problem.
    pub kind: ProblemKind,
    /// What is wrong.
    pub message: String,
    /// The field at fault, for malformed waivers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Line and column in the file, when known.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_location"
    )]
    pub location: Option<Location>,
}

fn write_location<S: serde::Serializer>(
    location: &Option<Location>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match location {
        Some(l) => serde_json::json!({ "line": l.line, "column": l.column }).serialize(serializer),
        None => serializer.serialize_none(),
    }
}

impl fmt::Display for WaiverProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self
            .waiver
            .as_deref()
            .map_or_else(|| format!("#{}", self.index + 1), |id| format!("`{id}`"));
        write!(f, "waiver {id} ({}): {}", self.kind, self.message)?;
        if let Some(Location { line, column }) = self.location {
            write!(f, " (line {line}, column {column})")?;
        }
        Ok(())
    }
}

/// The waiver fields shown next to a waived finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverSummary {
    /// Waiver id.
    pub id: String,
    /// Why the exception is acceptable.
    pub justification: String,
    /// Change ticket recording it.
    pub ticket: String,
    /// Approver.
    pub approved_by: String,
    /// Last active day, `YYYY-MM-DD`.
    pub expires: String,
}

/// What a waiver is matched against besides the finding itself.
#[derive(Debug, Clone, Copy)]
pub struct WaiverContext<'a> {
    /// Evaluation time.
    pub now: Timestamp,
    /// The change's author (`change.author`); their waivers do not count.
    pub author: &'a str,
    /// The change's deployer (`change.deployer`); their waivers do not count either.
    pub deployer: &'a str,
    /// Aliases resolving identities of different systems (the policies' `identities` settings).
    pub identities: &'a IdentityAliases,
    /// The change's target environment.
    pub environment: &'a str,
    /// The service being deployed, if given.
    pub service: Option<&'a str>,
}
