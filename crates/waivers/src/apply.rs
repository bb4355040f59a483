//! Applying waivers to the policies' decisions: which findings are waived, which waivers do not
//! count (expired, approved by the change's author), and each decision's outcome afterwards.

use serde::Serialize;
use tollgate_decision::{Decision, Outcome};
use tollgate_manifest::{IdentityMatch, compare_identities};

use crate::model::{
    ProblemKind, Waiver, WaiverContext, WaiverProblem, WaiverSet, WaiverSummary, format_date,
};
use crate::rules::WaiverRules;

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

/// An active waiver that matched no finding, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    /// Waiver id.
    pub waiver: String,
    /// Why: the parts of its scope that did not match the findings its rule or control names
    /// (``scope service `payments` did not match (no service was given: `--service`)``), or that no
    /// finding has its rule or control.
    pub reason: String,
}

impl std::fmt::Display for Unmatched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.waiver, self.reason)
    }
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
    /// Why each of [`Applied::unused`] matched no finding, in the same order.
    pub unmatched: Vec<Unmatched>,
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

/// Applies waivers to decisions with the default [`WaiverRules`] for every policy.
pub fn apply(set: &WaiverSet, context: &WaiverContext<'_>, decisions: &[Decision]) -> Applied {
    let rules = WaiverRules::default();
    apply_with(set, context, decisions, &|_| &rules)
}

/// Applies waivers to decisions; `rules` gives each policy's waiver rules (by policy id).
///
/// A waiver never applies when it is approved by the change's author or deployer (or by an
/// identity that cannot be told apart from theirs), expired, or dated after the evaluation; nor
/// to a finding its policy declares non-waivable. Each such waiver is reported as a
/// [`WaiverProblem`].
///
/// A decision's outcome is relaxed only when the policy denied it, every finding that denies
/// (severity high or critical) is waived, and at least one was: it becomes needs-approval while a
/// required role is missing, approved otherwise. Waivers never make an outcome stricter and never
/// add approvals.
pub fn apply_with<'r>(
    set: &WaiverSet,
    context: &WaiverContext<'_>,
    decisions: &[Decision],
    rules: &dyn Fn(&str) -> &'r WaiverRules,
) -> Applied {
    let mut applied = Applied {
        problems: set.problems.clone(),
        ..Applied::default()
    };
    let mut usable: Vec<&Waiver> = Vec::new();
    let mut usable_index: Vec<usize> = Vec::new();
    for (n, waiver) in set.waivers.iter().enumerate() {
        let index = set.positions.get(n).copied().unwrap_or(n);
        let problem = |kind: ProblemKind, message: String| WaiverProblem {
            waiver: Some(waiver.id.clone()),
            index,
            kind,
            message,
            field: None,
            location: None,
        };
        if let Some(problem) = approver_problem(waiver, context).map(|(k, m)| problem(k, m)) {
            applied.problems.push(problem);
        } else if !waiver.is_active(context.now) {
            applied.problems.push(problem(
                ProblemKind::Expired,
                format!("expired on {}", format_date(waiver.expires)),
            ));
        } else if waiver.is_future_dated(context.now) {
            let approved_on = waiver.approved_on.map(format_date).unwrap_or_default();
            applied.problems.push(problem(
                ProblemKind::FutureDated,
                format!(
                    "approved on {approved_on}, after the evaluation; a waiver cannot be dated in the future"
                ),
            ));
        } else {
            usable.push(waiver);
            usable_index.push(index);
        }
    }
    let mut used = vec![false; usable.len()];
    for decision in decisions {
        let mut waived_here = Vec::new();
        let policy_rules = rules(&decision.policy_id);
        for (finding_index, finding) in decision.findings.iter().enumerate() {
            let Some(position) = usable
                .iter()
                .position(|w| w.covers(decision, finding, context))
            else {
                continue;
            };
            if let Some(pattern) = policy_rules.forbidding(finding) {
                let waiver = usable[position];
                applied.problems.push(WaiverProblem {
                    waiver: Some(waiver.id.clone()),
                    index: usable_index[position],
                    kind: ProblemKind::NonWaivable,
                    message: format!(
                        "covers `{}` ({}) of policy `{}`, which is non-waivable (`{pattern}` in `waivers.non_waivable`)",
                        finding.rule_id, finding.control_id, decision.policy_id
                    ),
                    field: None,
                    location: None,
                });
                continue;
            }
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
            if decision.missing_roles().next().is_some() {
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
    applied.problems.sort_by_key(|p| p.index);
    applied.unmatched = usable
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(waiver, _)| Unmatched {
            waiver: waiver.id.clone(),
            reason: unmatched_reason(waiver, decisions, context),
        })
        .collect();
    applied.unused = applied.unmatched.iter().map(|u| u.waiver.clone()).collect();
    applied
}

/// Why an active waiver matched no finding: the scope parts that did not match the findings it
/// targets, or that it targets none (or only non-waivable ones).
fn unmatched_reason(
    waiver: &Waiver,
    decisions: &[Decision],
    context: &WaiverContext<'_>,
) -> String {
    let mut mismatches: Vec<String> = Vec::new();
    let mut targeted = false;
    for decision in decisions {
        if decision.findings.iter().any(|f| waiver.targets(f)) {
            targeted = true;
            for mismatch in waiver.scope_mismatches(decision, context) {
                if !mismatches.contains(&mismatch) {
                    mismatches.push(mismatch);
                }
            }
        }
    }
    let target = match (&waiver.rule, &waiver.control) {
        (Some(rule), Some(control)) => format!("rule `{rule}` of control `{control}`"),
        (Some(rule), None) => format!("rule `{rule}`"),
        (None, Some(control)) => format!("control `{control}`"),
        (None, None) => "findings".to_owned(),
    };
    match (targeted, mismatches.as_slice()) {
        (false, _) if waiver.rule.is_none() && waiver.control.is_none() => {
            "there was no finding to waive".to_owned()
        }
        (false, _) => format!("no finding has its {target}"),
        (true, []) => format!("the findings of its {target} are not waivable"),
        (true, mismatches) => format!(
            "its scope did not match: {} (findings of its {target} were there)",
            mismatches.join(", ")
        ),
    }
}

/// Why a waiver's approver is not independent of the change, if they are not: the author or the
/// deployer, or an identity of another system that nothing maps to theirs (fails closed).
fn approver_problem(waiver: &Waiver, context: &WaiverContext<'_>) -> Option<(ProblemKind, String)> {
    let approver = &waiver.approved_by;
    let mut unknown = None;
    for (who, identity, kind) in [
        ("author", context.author, ProblemKind::ApprovedByAuthor),
        (
            "deployer",
            context.deployer,
            ProblemKind::ApprovedByDeployer,
        ),
    ] {
        match compare_identities(approver, identity, context.identities) {
            IdentityMatch::Same => {
                return Some((
                    kind,
                    format!(
                        "approved by `{approver}`, the change's {who}; a waiver needs an independent approver (separation of duties)"
                    ),
                ));
            }
            IdentityMatch::Unknown if unknown.is_none() => {
                unknown = Some(format!(
                    "approver `{approver}` cannot be told apart from the change's {who} `{identity}`; map them in the `identities` settings"
                ));
            }
            IdentityMatch::Unknown | IdentityMatch::Different => {}
        }
    }
    unknown.map(|message| (ProblemKind::ApproverUnmatched, message))
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
    fn an_unmatched_waiver_says_which_scope_part_did_not_match() {
        let file = "version: 1
waivers:
  - id: WVR-S
    rule: sensitive-data-pan
    scope: { framework: pci, environment: staging, service: payments }
    justification: sandbox card numbers
    ticket: CHG-2101
    approved_by: dave
    expires: 2026-06-30
  - id: WVR-R
    rule: no-such-rule
    justification: nothing
    ticket: CHG-2101
    approved_by: dave
    expires: 2026-06-30
";
        let set = WaiverSet::parse(file, "w.yaml").unwrap();
        let decisions = vec![decision(
            "pci",
            vec![finding(
                "sensitive-data-pan",
                "PCI-6.5.5",
                Severity::Critical,
            )],
            false,
        )];
        let applied = apply(&set, &context("2026-06-01T00:00:00Z"), &decisions);
        assert_eq!(applied.unused, ["WVR-S", "WVR-R"]);
        assert_eq!(
            applied.unmatched[0].to_string(),
            "WVR-S: its scope did not match: service `payments` (no service was given: `--service`) (findings of its rule `sensitive-data-pan` were there)"
        );
        assert_eq!(
            applied.unmatched[1].reason,
            "no finding has its rule `no-such-rule`"
        );
        let elsewhere = WaiverContext {
            environment: "production",
            service: Some("ledger"),
            ..context("2026-06-01T00:00:00Z")
        };
        let applied = apply(&set, &elsewhere, &decisions);
        assert_eq!(
            applied.unmatched[0].reason,
            "its scope did not match: environment `staging` (the change goes to `production`), service `payments` (the service deployed is `ledger`) (findings of its rule `sensitive-data-pan` were there)"
        );
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

    #[test]
    fn waiver_approved_by_the_deployer_is_refused() {
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
        let context = WaiverContext {
            deployer: "Dave",
            ..context("2026-06-01T00:00:00Z")
        };
        let applied = apply(&set, &context, &decisions);
        assert!(applied.waived.is_empty());
        assert_eq!(applied.outcomes[0].after, Outcome::Denied);
        let problem = applied
            .problems
            .iter()
            .find(|p| p.waiver.as_deref() == Some("WVR-1"))
            .unwrap();
        assert_eq!(problem.kind, ProblemKind::ApprovedByDeployer);
        assert!(problem.message.contains("deployer"), "{}", problem.message);
    }

    #[test]
    fn an_approver_that_may_be_the_deployer_fails_closed_until_identities_say() {
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
        let context = WaiverContext {
            deployer: "carol@bank.example",
            ..context("2026-06-01T00:00:00Z")
        };
        let applied = apply(&set, &context, &decisions);
        assert!(applied.waived.is_empty());
        assert!(
            applied
                .problems
                .iter()
                .any(|p| p.kind == ProblemKind::ApproverUnmatched
                    && p.message.contains("identities"))
        );
        let aliases: tollgate_manifest::IdentityAliases = [
            ("dave", "dave@bank.example"),
            ("alice", "alice@bank.example"),
        ]
        .map(|(a, c)| (a.to_owned(), c.to_owned()))
        .into();
        let mapped = WaiverContext {
            identities: &aliases,
            ..context
        };
        assert_eq!(apply(&set, &mapped, &decisions).waived.len(), 1);
    }

    #[test]
    fn future_dated_waivers_never_apply_and_are_reported() {
        let set = WaiverSet::parse(
            "waivers:\n  - {id: W, rule: r, justification: j, ticket: T, approved_by: dave, approved_on: 2026-06-02, expires: 2026-06-30}\n",
            "w.yaml",
        )
        .unwrap();
        let decisions = vec![decision(
            "sox",
            vec![finding("r", "C", Severity::High)],
            false,
        )];
        let before = apply(&set, &context("2026-06-01T23:59:59Z"), &decisions);
        assert!(before.waived.is_empty());
        assert_eq!(before.problems[0].kind, ProblemKind::FutureDated);
        assert_eq!(before.outcomes[0].after, Outcome::Denied);
        let on_the_day = apply(&set, &context("2026-06-02T00:00:00Z"), &decisions);
        assert_eq!(on_the_day.waived.len(), 1);
    }

    #[test]
    fn non_waivable_controls_are_never_waived() {
        let set = WaiverSet::parse(
            "waivers:\n  - {id: W, control: SOX-CC-07, justification: j, ticket: T, approved_by: dave, expires: 2026-06-30}\n",
            "w.yaml",
        )
        .unwrap();
        let decisions = vec![decision(
            "sox",
            vec![
                finding("sod-self-approval", "SOX-CC-07", Severity::Critical),
                finding("other", "SOX-CC-07", Severity::High),
            ],
            false,
        )];
        let applied = apply(&set, &context("2026-06-01T00:00:00Z"), &decisions);
        assert_eq!(applied.waived.len(), 1);
        assert_eq!(applied.waived[0].rule_id, "other");
        assert_eq!(applied.outcomes[0].after, Outcome::Denied);
        assert_eq!(applied.problems[0].kind, ProblemKind::NonWaivable);
        // Per policy: a policy whose settings list the control refuses every finding of it.
        let strict =
            WaiverRules::from_settings(r#"{"waivers": {"non_waivable": ["sox-cc-07"]}}"#).unwrap();
        let permissive =
            WaiverRules::from_settings(r#"{"waivers": {"non_waivable": []}}"#).unwrap();
        let context = context("2026-06-01T00:00:00Z");
        assert!(
            apply_with(&set, &context, &decisions, &|_| &strict)
                .waived
                .is_empty()
        );
        let all = apply_with(&set, &context, &decisions, &|_| &permissive);
        assert_eq!(all.waived.len(), 2);
        assert_eq!(all.outcomes[0].after, Outcome::Approved);
    }
}
