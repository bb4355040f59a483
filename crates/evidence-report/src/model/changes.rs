//! The per-change evidence of change management, from each change's latest decision: change control
//! (ticket, requester, approvals, risk), testing (suites and security scan) and segregation of
//! duties (author, deployer, approvers and discounted approvals).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;
use tollgate_decision_log::DecisionRecord;
use tollgate_decision_log::verify::LoggedRecord;
use tollgate_manifest::{Approval, Timestamp, approval_time_seconds};

use super::{RecordLink, link, round, text};

/// One approval, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalEvidence {
    /// Approver.
    pub by: String,
    /// Role.
    pub role: String,
    /// When.
    pub at: String,
}

/// Change-control evidence of one change (its latest decision).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeControlEvidence {
    /// The record.
    #[serde(flatten)]
    pub record: RecordLink,
    /// When it was decided.
    pub decided_at: Timestamp,
    /// Title.
    pub title: String,
    /// Ticket status.
    pub ticket_status: String,
    /// Requester (the change's author).
    pub requester: String,
    /// Approvals.
    pub approvals: Vec<ApprovalEvidence>,
    /// Where the approvals came from, for example `ticket (ServiceNow CHG-2041)`; `unrecorded`
    /// when the manifest recorded no source.
    pub approvals_source: String,
    /// Time of the last approval, if any.
    pub approval_time: Option<String>,
    /// When the ticket was submitted for approval, if the manifest said so.
    pub submitted_at: Option<String>,
    /// Hours from submission to the last approval that satisfied a required role, when every
    /// required role is satisfied and the submission time is known.
    pub approval_hours: Option<f64>,
    /// Required roles.
    pub required_roles: Vec<String>,
    /// Roles still missing.
    pub missing_roles: Vec<String>,
    /// Risk class.
    pub risk_class: Option<String>,
    /// Highest risk score of the decisions.
    pub risk_score: Option<f64>,
    /// Emergency change.
    pub emergency: bool,
    /// Outcome.
    pub outcome: String,
    /// Digest of the evaluated manifest.
    pub manifest_digest: String,
}

/// One test suite's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuiteEvidence {
    /// Suite kind.
    pub suite: String,
    /// Passed tests.
    pub passed: u64,
    /// Failed tests.
    pub failed: u64,
}

/// Testing evidence of one change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestingEvidence {
    /// The record.
    #[serde(flatten)]
    pub record: RecordLink,
    /// Test suites.
    pub suites: Vec<SuiteEvidence>,
    /// Security scan summary, as recorded.
    pub security_scan: Option<Value>,
    /// The scan in words, for example `completed: 0 critical, 2 high, 1 medium, 4 low`, or
    /// `none`.
    pub security_scan_summary: String,
    /// Whether every suite passed and at least one ran.
    pub all_passed: bool,
    /// Whether automated compliance checks passed.
    pub compliance_checks_passed: bool,
}

/// Segregation-of-duties evidence of one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegregationEvidence {
    /// The record.
    #[serde(flatten)]
    pub record: RecordLink,
    /// Author.
    pub author: String,
    /// Deployer.
    pub deployer: String,
    /// Approvers whose approval counted.
    pub approvers: Vec<String>,
    /// Approvals that did not count, with the reason.
    pub discounted: Vec<String>,
    /// Whether the author is not the deployer and no approval was discounted.
    pub segregated: bool,
}

/// The change-control evidence of a change's decision.
pub(super) fn change_control(r: &LoggedRecord, d: &DecisionRecord) -> ChangeControlEvidence {
    let manifest = &d.manifest.masked;
    let approvals: Vec<ApprovalEvidence> = manifest["change"]["approvals"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|a| ApprovalEvidence {
                    by: text(a, &["by"]).unwrap_or_default(),
                    role: text(a, &["role"]).unwrap_or_default(),
                    at: text(a, &["at"]).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    ChangeControlEvidence {
        record: link(r, d),
        decided_at: d.recorded_at,
        title: text(manifest, &["change", "title"]).unwrap_or_default(),
        ticket_status: text(manifest, &["change", "ticket_status"]).unwrap_or_default(),
        requester: text(manifest, &["change", "author"]).unwrap_or_default(),
        approval_time: approvals.iter().map(|a| a.at.clone()).max(),
        submitted_at: text(manifest, &["change", "submitted_at"]),
        approval_hours: approval_hours(d, &approvals),
        approvals_source: source_of(manifest, "change.approvals"),
        approvals: approvals.clone(),
        required_roles: d.required_roles.clone(),
        missing_roles: d.missing_roles.clone(),
        risk_class: d.risk_class.map(|c| c.as_str().to_owned()),
        risk_score: d
            .decisions
            .iter()
            .filter_map(|x| x.risk.as_ref().map(|risk| risk.score))
            .reduce(f64::max)
            .map(round),
        emergency: manifest["change"]["emergency"].as_bool().unwrap_or(false),
        outcome: d.outcome.as_str().to_owned(),
        manifest_digest: d.manifest.digest.clone(),
    }
}

/// Hours from the ticket's submission to the last approval that satisfied a required role of any
/// policy; `None` while a required role is missing, without a submission time, or when no human
/// approval was required.
fn approval_hours(d: &DecisionRecord, approvals: &[ApprovalEvidence]) -> Option<f64> {
    if !d.missing_roles.is_empty() {
        return None;
    }
    let submitted = text(&d.manifest.masked, &["change", "submitted_at"])
        .and_then(|t| Timestamp::parse(&t).ok())?;
    let recorded: Vec<Approval> = approvals
        .iter()
        .filter_map(|a| {
            Some(Approval {
                by: a.by.clone(),
                role: a.role.clone(),
                at: Timestamp::parse(&a.at).ok()?,
                meaning: None,
            })
        })
        .collect();
    let required = d
        .decisions
        .iter()
        .flat_map(|x| x.required_approvals())
        .map(|r| (r.role.as_str(), r.satisfied_by.as_deref()));
    approval_time_seconds(submitted, &recorded, required).map(|seconds| round(seconds / 3600.0))
}

/// Where a recorded manifest's fact came from, as `kind (detail)`.
fn source_of(manifest: &Value, field: &str) -> String {
    let source = &manifest["provenance"][field];
    match (text(source, &["kind"]), text(source, &["detail"])) {
        (Some(kind), Some(detail)) => format!("{kind} ({detail})"),
        (Some(kind), None) => kind,
        _ => "unrecorded".to_owned(),
    }
}

/// The testing evidence of a change's decision.
pub(super) fn testing(r: &LoggedRecord, d: &DecisionRecord) -> TestingEvidence {
    let manifest = &d.manifest.masked;
    let suites: Vec<SuiteEvidence> = manifest["evidence"]["tests"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|t| SuiteEvidence {
                    suite: text(t, &["suite"]).unwrap_or_default(),
                    passed: t["passed"].as_u64().unwrap_or(0),
                    failed: t["failed"].as_u64().unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    TestingEvidence {
        record: link(r, d),
        all_passed: !suites.is_empty() && suites.iter().all(|s| s.failed == 0 && s.passed > 0),
        suites,
        security_scan_summary: super::scan_in_words(manifest["evidence"].get("security_scan")),
        security_scan: manifest["evidence"].get("security_scan").cloned(),
        compliance_checks_passed: manifest["evidence"]["compliance_checks_passed"]
            .as_bool()
            .unwrap_or(false),
    }
}

/// The segregation-of-duties evidence of a change's decision.
pub(super) fn segregation(r: &LoggedRecord, d: &DecisionRecord) -> SegregationEvidence {
    let manifest = &d.manifest.masked;
    let author = text(manifest, &["change", "author"]).unwrap_or_default();
    let deployer = text(manifest, &["change", "deployer"]).unwrap_or_default();
    let approvers: BTreeSet<String> = d
        .decisions
        .iter()
        .flat_map(|x| x.required_approvals())
        .filter_map(|req| req.satisfied_by.clone())
        .collect();
    let discounted: BTreeSet<String> = d
        .decisions
        .iter()
        .flat_map(|x| x.routing.iter().flat_map(|r| r.discounted.iter()))
        .map(|x| format!("{} ({}): {}", x.by, x.role, x.reason))
        .collect();
    SegregationEvidence {
        record: link(r, d),
        segregated: author != deployer && discounted.is_empty(),
        author,
        deployer,
        approvers: approvers.into_iter().collect(),
        discounted: discounted.into_iter().collect(),
    }
}
