//! Approval routing (automated approval of low-risk changes, one or several human approvers by
//! risk class, emergency approval; COBIT 2019 BAI06.01 and BAI06.02) and the counting of recorded
//! approvals under separation of duties.

use tollgate_decision::{
    AutomatedCheck, DiscountedApproval, RequiredApproval, RiskAssessment, RiskClass, Routing,
    Severity,
};
use tollgate_manifest::{IdentityMatch, Manifest, Timestamp};

use crate::{Issue, Settings, WindowStatus};

/// Route names used in [`Routing::route`].
pub mod route {
    /// Low risk and every automated check passed.
    pub const AUTOMATED: &str = "automated";
    /// One human approver.
    pub const SINGLE_APPROVER: &str = "single-approver";
    /// Several distinct human approvers.
    pub const MULTIPLE_APPROVERS: &str = "multiple-approvers";
    /// Emergency change: one emergency approver now, retrospective approval later.
    pub const EMERGENCY: &str = "emergency";
}

/// Rule id of an approval given by a shared account: it does not identify a person, so it is
/// discounted and reported.
pub const APPROVAL_BY_SHARED_ACCOUNT: &str = "approval-by-shared-account";

/// Rule id of two identities that cannot be matched (a login and an email of different systems
/// that the `identities` settings do not map): they may be one person, so an approval does not
/// count and the change is routed to a human approver (fail-closed).
pub const IDENTITY_UNMATCHED: &str = "sod-identity-unmatched";

/// The issue for identities that cannot be matched: `who` (at `field_path`) against the change's
/// `role` identity `other`.
pub fn identity_unmatched(
    who: &str,
    role: &str,
    other: &str,
    consequence: &str,
    field_path: impl Into<String>,
) -> Issue {
    Issue::new(
        IDENTITY_UNMATCHED,
        Severity::Medium,
        format!(
            "`{who}` cannot be matched with the {role} `{other}` (identities of different systems): they may be one person, so {consequence}"
        ),
        format!(
            "map each alias to its canonical identity in the policy settings `identities` (for example `identities: {{ {who}: <{who}'s canonical identity> }}`), so that separation of duties compares like with like"
        ),
        field_path,
    )
}

/// Routing plus the separation-of-duties issues found while counting approvals.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingResult {
    /// The routing decision.
    pub routing: Routing,
    /// Problems with recorded approvals (self-approval, approval by the deployer, ...).
    pub issues: Vec<Issue>,
}

/// Runs the automated checks that let a low-risk change be approved without a human approver,
/// in the order they are reported.
pub fn automated_checks(manifest: &Manifest) -> Vec<AutomatedCheck> {
    let evidence = &manifest.evidence;
    let scan = evidence.security_scan.as_ref();
    let check = |id: &str, passed: bool| AutomatedCheck {
        id: id.to_owned(),
        passed,
    };
    vec![
        check("security-scan-passed", scan.is_some_and(|s| s.completed)),
        check(
            "all-tests-passed",
            !evidence.tests.is_empty() && evidence.tests.iter().all(|t| t.failed == 0),
        ),
        check(
            "no-high-vulnerabilities",
            scan.is_some_and(|s| s.completed && s.critical == 0 && s.high == 0),
        ),
        check(
            "compliance-checks-passed",
            evidence.compliance_checks_passed,
        ),
        check("backup-verified", evidence.backup_verified),
        check("rollback-plan-exists", evidence.rollback_plan.documented),
    ]
}

/// Decides which roles must approve the change and which recorded approvals satisfy them.
pub fn route(
    manifest: &Manifest,
    settings: &Settings,
    risk: &RiskAssessment,
    now: Timestamp,
) -> RoutingResult {
    let change = &manifest.change;
    let checks = automated_checks(manifest);
    let all_passed = checks.iter().all(|c| c.passed);
    // A production change whose author and deployer cannot be matched is never approved by the
    // automated system: a person must look at it.
    let deployer_unmatched = settings.is_production(&change.environment)
        && settings.compare_identities(&change.author, &change.deployer) == IdentityMatch::Unknown;
    let outside_window = matches!(
        settings.deployment_windows.status(&change.environment, now),
        WindowStatus::Closed { .. }
    );
    let emergency_roles = [
        settings.emergency.approver_role.clone(),
        settings.emergency.outside_window_role.clone(),
    ];
    let (route, rationale, roles): (&str, String, &[String]) = if change.emergency && outside_window
    {
        (
            route::EMERGENCY,
            format!(
                "emergency change (COBIT BAI06.02) outside its deployment window: approvals from {} and {} let it proceed; the {} risk route needs retrospective approval",
                settings.emergency.approver_role,
                settings.emergency.outside_window_role,
                risk.class
            ),
            &emergency_roles,
        )
    } else if change.emergency {
        (
            route::EMERGENCY,
            format!(
                "emergency change (COBIT BAI06.02): one approval from {} lets it proceed; the {} risk route needs retrospective approval",
                settings.emergency.approver_role, risk.class
            ),
            std::slice::from_ref(&settings.emergency.approver_role),
        )
    } else {
        match risk.class {
            RiskClass::Low if all_passed && deployer_unmatched => (
                route::SINGLE_APPROVER,
                format!(
                    "low risk (score {}) and every automated check passed, but author `{}` and deployer `{}` cannot be matched as identities: routed to a human approver",
                    risk.score, change.author, change.deployer
                ),
                &settings.approvers.low_fallback,
            ),
            RiskClass::Low if all_passed => (
                route::AUTOMATED,
                format!(
                    "low risk (score {}) and every automated check passed: approved by the automated system",
                    risk.score
                ),
                &[],
            ),
            RiskClass::Low => {
                let failed: Vec<&str> = checks
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| c.id.as_str())
                    .collect();
                (
                    route::SINGLE_APPROVER,
                    format!(
                        "low risk (score {}) but automated checks failed ({}): routed to a human approver",
                        risk.score,
                        failed.join(", ")
                    ),
                    &settings.approvers.low_fallback,
                )
            }
            RiskClass::Medium => (
                route::SINGLE_APPROVER,
                format!("medium risk (score {}): one human approver", risk.score),
                &settings.approvers.medium,
            ),
            RiskClass::High => (
                route::MULTIPLE_APPROVERS,
                format!(
                    "high risk (score {}): distinct approvers for every role",
                    risk.score
                ),
                &settings.approvers.high,
            ),
        }
    };

    let mut issues = Vec::new();
    let mut discounted = Vec::new();
    // Approvals that may count, as (index into change.approvals).
    let mut eligible = Vec::new();
    for (index, approval) in change.approvals.iter().enumerate() {
        let path = format!("change.approvals[{index}]");
        let vs_author = settings.compare_identities(&approval.by, &change.author);
        let vs_deployer = settings.compare_identities(&approval.by, &change.deployer);
        let unmatched = [
            (vs_author, "author", &change.author),
            (vs_deployer, "deployer", &change.deployer),
        ]
        .into_iter()
        .find(|(m, _, _)| *m == IdentityMatch::Unknown);
        let reason = if vs_author == IdentityMatch::Same {
            issues.push(Issue::new(
                "sod-self-approval",
                Severity::High,
                format!(
                    "`{}` approved their own change as {}",
                    approval.by, approval.role
                ),
                "obtain the approval from someone other than the author",
                format!("{path}.by"),
            ));
            Some("approver is the change's author (separation of duties)".to_owned())
        } else if vs_deployer == IdentityMatch::Same {
            issues.push(Issue::new(
                "sod-deployer-approval",
                Severity::High,
                format!(
                    "`{}` approved a change they deploy, as {}",
                    approval.by, approval.role
                ),
                "obtain the approval from someone other than the deployer",
                format!("{path}.by"),
            ));
            Some("approver is the change's deployer (separation of duties)".to_owned())
        } else if settings
            .shared_accounts
            .iter()
            .any(|a| settings.compare_identities(a, &approval.by) == IdentityMatch::Same)
        {
            issues.push(Issue::new(
                APPROVAL_BY_SHARED_ACCOUNT,
                Severity::High,
                format!(
                    "approval by shared account `{}` does not identify a person",
                    approval.by
                ),
                "approve with an individual, authenticated identity",
                format!("{path}.by"),
            ));
            Some("approver is a shared account, not an individual".to_owned())
        } else if let Some((_, role, other)) = unmatched {
            issues.push(identity_unmatched(
                &approval.by,
                role,
                other,
                "the approval does not count",
                format!("{path}.by"),
            ));
            Some(format!(
                "approver cannot be matched with the change's {role} `{other}` (map it in the `identities` settings)"
            ))
        } else if approval.at > now {
            issues.push(Issue::new(
                "approval-after-evaluation",
                Severity::Medium,
                format!(
                    "approval by `{}` is dated {}, after the evaluation time {now}",
                    approval.by, approval.at
                ),
                "approvals must be given before the change is evaluated; re-run after approval",
                format!("{path}.at"),
            ));
            Some(format!("dated {}, after the evaluation time", approval.at))
        } else if !roles.contains(&approval.role) {
            Some(format!(
                "role {} is not required for this change",
                approval.role
            ))
        } else {
            eligible.push(index);
            None
        };
        if let Some(reason) = reason {
            discounted.push(DiscountedApproval {
                by: approval.by.clone(),
                role: approval.role.clone(),
                reason,
            });
        }
    }

    let assignment = assign(manifest, settings, roles, &eligible);
    for &index in &eligible {
        if !assignment.contains(&Some(index)) {
            let approval = &change.approvals[index];
            discounted.push(DiscountedApproval {
                by: approval.by.clone(),
                role: approval.role.clone(),
                reason:
                    "approver already counted for another role or the role is already satisfied"
                        .into(),
            });
        }
    }
    let required = roles
        .iter()
        .zip(&assignment)
        .map(|(role, slot)| RequiredApproval {
            role: role.clone(),
            satisfied_by: slot.map(|index| change.approvals[index].by.clone()),
        })
        .collect();

    RoutingResult {
        routing: Routing {
            route: route.to_owned(),
            rationale,
            required,
            discounted,
            automated_checks: checks,
        },
        issues,
    }
}

/// Assigns eligible approvals to roles so that each person counts once, maximising the roles
/// satisfied (augmenting-path bipartite matching). Returns, per role, the approval index used.
fn assign(
    manifest: &Manifest,
    settings: &Settings,
    roles: &[String],
    eligible: &[usize],
) -> Vec<Option<usize>> {
    let approvals = &manifest.change.approvals;
    // Candidates per role, in approval order.
    let candidates: Vec<Vec<usize>> = roles
        .iter()
        .map(|role| {
            eligible
                .iter()
                .copied()
                .filter(|&i| approvals[i].role == *role)
                .collect()
        })
        .collect();
    let mut slot: Vec<Option<usize>> = vec![None; roles.len()];

    // Two approvals whose identities may be one person (same or unmatched) count once.
    fn person_holder(
        settings: &Settings,
        approvals: &[tollgate_manifest::Approval],
        slot: &[Option<usize>],
        by: &str,
    ) -> Option<usize> {
        slot.iter().position(|s| {
            s.is_some_and(|i| {
                settings
                    .compare_identities(&approvals[i].by, by)
                    .may_be_same()
            })
        })
    }

    fn augment(
        settings: &Settings,
        role: usize,
        approvals: &[tollgate_manifest::Approval],
        candidates: &[Vec<usize>],
        slot: &mut Vec<Option<usize>>,
        visited: &mut Vec<bool>,
    ) -> bool {
        for &candidate in &candidates[role] {
            let by = &approvals[candidate].by;
            match person_holder(settings, approvals, slot, by) {
                None => {
                    slot[role] = Some(candidate);
                    return true;
                }
                Some(holder) if holder != role && !visited[holder] => {
                    visited[holder] = true;
                    let previous = slot[holder];
                    slot[holder] = None;
                    slot[role] = Some(candidate);
                    if augment(settings, holder, approvals, candidates, slot, visited) {
                        return true;
                    }
                    slot[role] = None;
                    slot[holder] = previous;
                }
                Some(_) => {}
            }
        }
        false
    }

    for role in 0..roles.len() {
        let mut visited = vec![false; roles.len()];
        visited[role] = true;
        augment(
            settings,
            role,
            approvals,
            &candidates,
            &mut slot,
            &mut visited,
        );
    }
    slot
}
