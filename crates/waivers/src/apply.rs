//! Applying waivers to the policies' decisions: which findings are waived, which waivers do not
//! count (expired, approved by the change's author), and each decision's outcome afterwards.

use serde::Serialize;
use tollgate_decision::{Decision, Outcome};
use tollgate_manifest::same_identity;

use crate::model::{
    ProblemKind, Waiver, WaiverContext, WaiverProblem, WaiverSet, WaiverSummary, format_date,
};

/// A finding turned into a waived one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaivedFinding {
    /// The deciding policy.
    pub policy_id: String,
    /// Index of the finding in the decision's `findings`.
    pub finding_index: usize,
    /// The finding's rule id.
    pub rule_id: String,
    /// The finding's control id.
    pub control_id: String,
    /// The waiver that applies (the first matching one in file order).
    pub waiver: WaiverSummary,
}

/// A policy's outcome before and after waivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutcomeChange {
    /// As the policy decided.
    pub before: Outcome,
    /// After waived findings stopped blocking.
    pub after: Outcome,
}

/// The result of applying waivers to decisions. The decisions themselves are not changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// Waived findings, in decision and finding order.
    pub waived: Vec<WaivedFinding>,
    /// Waivers that never applied: malformed, expired or approved by the author.
    pub problems: Vec<WaiverProblem>,
    /// Ids of active waivers that matched no finding.
    pub unused: Vec<String>,
    /// Each decision's outcome after waivers, in decision order.
    pub outcomes: Vec<OutcomeChange>,
}

impl Applied {
    /// No waivers: every outcome stays as decided.
    pub fn none(decisions: &[Decision]) -> Self {
        Self {
            outcomes: decisions
                .iter()
                .map(|d| OutcomeChange {
                    before: d.outcome,
                    after: d.outcome,
                })
                .collect(),
            ..Self::default()
        }
    }

    /// The waiver applied to a finding, if any.
    pub fn waiver_for(&self, policy_id: &str, finding_index: usize) -> Option<&WaivedFinding> {
        self.waived
            .iter()
            .find(|w| w.policy_id == policy_id && w.finding_index == finding_index)
    }

    /// The strictest outcome after waivers; [`Outcome::Denied`] when nothing was decided.
    pub fn combined_outcome(&self) -> Outcome {
        self.outcomes
            .iter()
            .map(|o| o.after)
            .max()
            .unwrap_or(Outcome::Denied)
    }
}

/// Applies waivers to decisions.
///
/// A decision's outcome is relaxed only when the policy denied it, every finding that denies
/// (severity high or critical) is waived, and at least one was: it becomes needs-approval while a
/// required role is missing, approved otherwise. Waivers never make an outcome stricter and never
/// add approvals.
pub fn apply(set: &WaiverSet, context: &WaiverContext<'_>, decisions: &[Decision]) -> Applied {
    let mut applied = Applied {
        problems: set.problems.clone(),
        ..Applied::default()
    };
    let mut usable: Vec<&Waiver> = Vec::new();
    for (n, waiver) in set.waivers.iter().enumerate() {
        let index = set.positions.get(n).copied().unwrap_or(n);
        if same_identity(&waiver.approved_by, context.author) {
            applied.problems.push(WaiverProblem {
                waiver: Some(waiver.id.clone()),
                index,
                kind: ProblemKind::ApprovedByAuthor,
                message: format!(
                    "approved by `{}`, the change's author; a waiver needs an independent approver",
                    waiver.approved_by
                ),
                field: None,
                location: None,
            });
        } else if !waiver.is_active(context.now) {
            applied.problems.push(WaiverProblem {
                waiver: Some(waiver.id.clone()),
                index,
                kind: ProblemKind::Expired,
                message: format!("expired on {}", format_date(waiver.expires)),
                field: None,
                location: None,
            });
        } else {
            usable.push(waiver);
        }
    }
    applied.problems.sort_by_key(|p| p.index);
    let mut used = vec![false; usable.len()];
    for decision in decisions {
        let mut waived_here = Vec::new();
        for (finding_index, finding) in decision.findings.iter().enumerate() {
            if let Some(position) = usable
                .iter()
                .position(|w| w.covers(decision, finding, context))
            {
                used[position] = true;
                waived_here.push(finding_index);
                applied.waived.push(WaivedFinding {
                    policy_id: decision.policy_id.clone(),
                    finding_index,
                    rule_id: finding.rule_id.clone(),
                    control_id: finding.control_id.clone(),
                    waiver: usable[position].summary(),
                });
            }
        }
        let blocking_left = decision
            .findings
            .iter()
            .enumerate()
            .any(|(i, f)| f.severity.denies() && !waived_here.contains(&i));
        let waived_blocking = waived_here
            .iter()
            .any(|i| decision.findings[*i].severity.denies());
        let after = if decision.outcome == Outcome::Denied && !blocking_left && waived_blocking {
            if decision.routing.missing_roles().next().is_some() {
                Outcome::NeedsApproval
            } else {
                Outcome::Approved
            }
        } else {
            decision.outcome
        };
        applied.outcomes.push(OutcomeChange {
            before: decision.outcome,
            after,
        });
    }
    applied.unused = usable
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(w, _)| w.id.clone())
        .collect();
    applied
}

#[cfg(test)]
mod tests {
    use tollgate_decision::Severity;

    use super::*;
    use crate::test_support::{FILE, context, decision, finding};

    #[test]
    fn active_waiver_waives_and_relaxes_the_outcome() {
        let set = WaiverSet::parse(FILE, "w.yaml").unwrap();
        let decisions = vec![decision(
            "pci",
            vec![
                finding("sensitive-data-pan", "PCI-6.5.5", Severity::Critical),
                finding("other", "PCI-6.5.1", Severity::Medium),
            ],
            false,
        )];
        let applied = apply(&set, &context("2026-06-30T23:59:59Z"), &decisions);
        assert_eq!(applied.waived.len(), 1);
        assert_eq!(applied.waived[0].waiver.id, "WVR-1");
        assert_eq!(
            applied.waived[0].waiver.justification,
            "sandbox card numbers"
        );
        assert_eq!(
            applied.outcomes,
            [OutcomeChange {
                before: Outcome::Denied,
                after: Outcome::Approved
            }]
        );
        assert_eq!(applied.combined_outcome(), Outcome::Approved);
        assert!(applied.waiver_for("pci", 0).is_some());
        assert!(applied.waiver_for("pci", 1).is_none());
    }

    #[test]
    fn relaxed_outcome_still_needs_missing_approvals() {
        let set = WaiverSet::parse(FILE, "w.yaml").unwrap();
        let decisions = vec![decision(
            "pci",
            vec![finding(
                "sensitive-data-pan",
                "PCI-6.5.5",
                Severity::Critical,
            )],
            true,
        )];
        let applied = apply(&set, &context("2026-06-01T00:00:00Z"), &decisions);
        assert_eq!(applied.outcomes[0].after, Outcome::NeedsApproval);
    }

    #[test]
    fn unwaived_blocking_finding_keeps_the_denial() {
        let set = WaiverSet::parse(FILE, "w.yaml").unwrap();
        let decisions = vec![decision(
            "pci",
            vec![
                finding("sensitive-data-pan", "PCI-6.5.5", Severity::Critical),
                finding("ticket-not-approved", "PCI-6.5.1", Severity::High),
            ],
            false,
        )];
        let applied = apply(&set, &context("2026-06-01T00:00:00Z"), &decisions);
        assert_eq!(applied.waived.len(), 1);
        assert_eq!(applied.outcomes[0].after, Outcome::Denied);
    }

    #[test]
    fn expired_waivers_never_apply_and_are_reported() {
        let set = WaiverSet::parse(FILE, "w.yaml").unwrap();
        let decisions = vec![decision(
            "pci",
            vec![finding(
                "sensitive-data-pan",
                "PCI-6.5.5",
                Severity::Critical,
            )],
            false,
        )];
        let applied = apply(&set, &context("2026-07-01T00:00:00Z"), &decisions);
        assert!(applied.waived.is_empty());
        assert_eq!(applied.outcomes[0].after, Outcome::Denied);
        let expired: Vec<&str> = applied
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Expired)
            .filter_map(|p| p.waiver.as_deref())
            .collect();
        assert_eq!(expired, ["WVR-1", "WVR-4"]);
    }

    #[test]
    fn waiver_approved_by_the_author_does_not_count() {
        let set = WaiverSet::parse(FILE, "w.yaml").unwrap();
        let decisions = vec![decision(
            "sox",
            vec![finding("key-rotation-overdue", "SOX-IT-03", Severity::High)],
            false,
        )];
        let context = WaiverContext {
            author: " ALICE ",
            ..context("2026-06-01T00:00:00Z")
        };
        let applied = apply(&set, &context, &decisions);
        assert!(applied.waived.is_empty());
        let problem = applied
            .problems
            .iter()
            .find(|p| p.kind == ProblemKind::ApprovedByAuthor)
            .unwrap();
        assert_eq!(problem.waiver.as_deref(), Some("WVR-3"));
        assert_eq!(problem.index, 2);
        assert_eq!(applied.outcomes[0].after, Outcome::Denied);
    }

    #[test]
    fn scope_must_match() {
        let set = WaiverSet::parse(FILE, "w.yaml").unwrap();
        let decisions = vec![decision(
            "pci",
            vec![finding(
                "sensitive-data-pan",
                "PCI-6.5.5",
                Severity::Critical,
            )],
            false,
        )];
        let production = WaiverContext {
            environment: "production",
            ..context("2026-06-01T00:00:00Z")
        };
        let applied = apply(&set, &production, &decisions);
        assert!(applied.waived.is_empty());
        assert_eq!(applied.unused, ["WVR-1"]);
        let other_framework = vec![decision(
            "hipaa",
            vec![finding(
                "sensitive-data-pan",
                "PCI-6.5.5",
                Severity::Critical,
            )],
            false,
        )];
        assert!(
            apply(&set, &context("2026-06-01T00:00:00Z"), &other_framework)
                .waived
                .is_empty()
        );
    }

    #[test]
    fn service_scoped_waiver_needs_the_service() {
        let set = WaiverSet::parse(
            "waivers:\n  - {id: W, rule: r, scope: {service: payments}, justification: j, ticket: T, approved_by: dave, expires: 2026-06-30}\n",
            "w.yaml",
        )
        .unwrap();
        let decisions = vec![decision(
            "sox",
            vec![finding("r", "C", Severity::High)],
            false,
        )];
        let without = context("2026-06-01T00:00:00Z");
        assert!(apply(&set, &without, &decisions).waived.is_empty());
        let with = WaiverContext {
            service: Some("Payments"),
            ..without
        };
        assert_eq!(apply(&set, &with, &decisions).waived.len(), 1);
    }

    #[test]
    fn no_waivers_keeps_every_outcome() {
        let decisions = vec![decision(
            "sox",
            vec![finding("r", "C", Severity::High)],
            false,
        )];
        let applied = Applied::none(&decisions);
        assert_eq!(applied.combined_outcome(), Outcome::Denied);
        assert_eq!(Applied::default().combined_outcome(), Outcome::Denied);
    }
}
