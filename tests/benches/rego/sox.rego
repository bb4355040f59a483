# The SOX pack's rules in Rego, for the regorus comparison of `tests/benches/evaluate.rs`: risk
# scoring and approval routing by risk, separation of duties (with identity aliases), testing
# evidence, ticket status, rollback plan, audit logging, encryption, deployment access and trusted
# fact sources. The bench checks that it agrees with the SOX component on every golden SOX case
# (outcome, risk, route, required and missing roles, findings) before timing either, except the
# cases of controls this policy does not encode: Terraform plan infrastructure and deployment
# windows.
#
# Input: {"manifest": <manifest as Tollgate serializes it>, "settings": <object or null>,
# "now": <RFC 3339>}. Output: `data.tollgate.sox.decision`. Up to four required roles.
package tollgate.sox

import rego.v1

manifest := input.manifest

change := manifest.change

evidence := manifest.evidence

given := input.settings if {
	is_object(input.settings)
} else := {}

# Settings ------------------------------------------------------------------------------------

default_settings := {
	"risk": {
		"production": 3, "schema_changes": 4, "security_components": 5, "large_change": 2,
		"large_change_lines": 1000, "historical_failure_rate_weight": 2,
		"medium_threshold": 3, "high_threshold": 7,
	},
	"category_classes": {
		"low": ["config_only", "feature_flags", "content_updates"],
		"medium": ["business_logic", "database_views", "ui_changes"],
		"high": ["database_schema", "security_changes", "infrastructure"],
	},
	"approvers": {
		"low_fallback": ["TECHNICAL_LEAD"],
		"medium": ["TECHNICAL_LEAD"],
		"high": ["TECHNICAL_LEAD", "SECURITY_OFFICER", "COMPLIANCE_OFFICER"],
	},
	"required_tests": {
		"low": ["unit", "integration", "smoke"],
		"medium": ["unit", "integration", "e2e", "performance"],
		"high": ["full_regression", "security", "compliance", "performance"],
	},
	"emergency": {"approver_role": "EMERGENCY_CHANGE_MANAGER", "retrospective_within_days": 3},
	"production_environments": ["production"],
	"authorised_deployer_group": "production-deployers",
	"key_rotation_max_days": 90,
	"shared_accounts": ["root", "admin", "administrator", "deploy", "ci", "jenkins", "gitlab-ci", "github-actions"],
	"identities": {},
	"trusted_sources": {
		"change.approvals": ["ticket", "unrecorded"],
		"change.deployer_groups": ["ci", "directory", "unrecorded"],
		"evidence.backup_verified": ["ci", "test_report", "unrecorded"],
	},
	"waivers": {"non_waivable": []},
}

sections := {"risk", "category_classes", "approvers", "required_tests", "emergency", "trusted_sources", "waivers"}

settings[key] := object.union(base, object.get(given, key, {})) if {
	some key, base in default_settings
	key in sections
}

settings[key] := object.get(given, key, base) if {
	some key, base in default_settings
	not key in sections
}

guardable_facts := {
	"change.ticket_status", "change.approvals", "change.deployer_groups", "evidence.tests",
	"evidence.security_scan", "evidence.compliance_checks_passed", "evidence.backup_verified",
	"evidence.rollback_plan", "evidence.encryption", "evidence.audit_logging",
	"evidence.test_data_removed", "evidence.breach_notification_procedure",
}

settings_errors contains key if {
	some key, _ in given
	not has_key(default_settings, key)
}

settings_errors contains sprintf("%s.%s", [section, key]) if {
	some section in sections
	section != "trusted_sources"
	some key, _ in object.get(given, section, {})
	not has_key(default_settings[section], key)
}

settings_errors contains "risk.medium_threshold" if {
	settings.risk.medium_threshold >= settings.risk.high_threshold
}

settings_errors contains sprintf("risk.%s", [key]) if {
	some key, value in settings.risk
	value < 0
}

settings_errors contains sprintf("approvers.%s", [key]) if {
	some key, names in settings.approvers
	count(names) == 0
}

settings_errors contains sprintf("trusted_sources.%s", [field]) if {
	some field, kinds in settings.trusted_sources
	not guardable(field, kinds)
}

guardable(field, kinds) if {
	field in guardable_facts
	count(kinds) > 0
}

has_key(obj, key) if {
	_ = obj[key]
}

# Trusted sources: an untrusted fact is decided as if absent --------------------------------------

provenance := object.get(manifest, "provenance", {})

source_kind(field) := kind if {
	kind := provenance[field].kind
} else := "unrecorded"

untrusted contains field if {
	some field, kinds in settings.trusted_sources
	not source_kind(field) in kinds
}

fact(field, value) := absent if {
	field in untrusted
	absent := disregarded[field]
} else := value

disregarded := {
	"change.ticket_status": "draft", "change.approvals": [], "change.deployer_groups": [],
	"evidence.tests": [], "evidence.security_scan": null, "evidence.compliance_checks_passed": false,
	"evidence.backup_verified": false, "evidence.rollback_plan": {"documented": false},
	"evidence.encryption": null, "evidence.audit_logging": false,
}

ticket_status := fact("change.ticket_status", change.ticket_status)

approvals := fact("change.approvals", object.get(change, "approvals", []))

deployer_groups := fact("change.deployer_groups", object.get(change, "deployer_groups", []))

tests := fact("evidence.tests", object.get(evidence, "tests", []))

scan := fact("evidence.security_scan", object.get(evidence, "security_scan", null))

compliance_checks_passed := fact("evidence.compliance_checks_passed", object.get(evidence, "compliance_checks_passed", false))

backup_verified := fact("evidence.backup_verified", object.get(evidence, "backup_verified", false))

rollback_plan := fact("evidence.rollback_plan", object.get(evidence, "rollback_plan", {"documented": false}))

encryption := fact("evidence.encryption", object.get(evidence, "encryption", null))

audit_logging := fact("evidence.audit_logging", object.get(evidence, "audit_logging", false))

# Identities --------------------------------------------------------------------------------------

normalise(identity) := lower(trim_space(identity))

canonical(identity) := normalise(target) if {
	some alias, target in settings.identities
	normalise(alias) == normalise(identity)
} else := normalise(identity)

# Identities resolved once (rules are evaluated once per input; functions on every call).
author_id := canonical(change.author)

deployer_id := canonical(change.deployer)

approver_ids := [canonical(approval.by) | some approval in approvals]

shared_ids := {canonical(account) | some account in settings.shared_accounts}

author_vs_deployer := compare_canonical(author_id, deployer_id)

compare_canonical(a, b) := "same" if {
	a == b
} else := "unknown" if {
	a == ""
} else := "unknown" if {
	b == ""
} else := "different" if {
	contains(a, "@") == contains(b, "@")
} else := "same" if {
	split(a, "@")[0] == b
} else := "same" if {
	split(b, "@")[0] == a
} else := "unknown"

shared_account(id) if {
	some account in shared_ids
	compare_canonical(account, id) == "same"
}

# Risk --------------------------------------------------------------------------------------------

production if change.environment in settings.production_environments

points(condition, weight) := weight if {
	condition == true
} else := 0

is_production := true if {
	production
} else := false

large_change := true if {
	object.get(change, "lines_changed", 0) > settings.risk.large_change_lines
} else := false

raw_score := sum([
	points(is_production, settings.risk.production),
	points(object.get(change, "includes_schema_changes", false), settings.risk.schema_changes),
	points(object.get(change, "touches_security_components", false), settings.risk.security_components),
	points(large_change, settings.risk.large_change),
	object.get(change, "historical_failure_rate", 0) * settings.risk.historical_failure_rate_weight,
])

score := round(raw_score * 1000) / 1000

rank := {"low": 1, "medium": 2, "high": 3}

class_of := {1: "low", 2: "medium", 3: "high"}

score_rank := 3 if {
	score >= settings.risk.high_threshold
} else := 2 if {
	score >= settings.risk.medium_threshold
} else := 1

category_ranks contains rank[class] if {
	some category in object.get(change, "categories", [])
	some class in ["low", "medium", "high"]
	category in settings.category_classes[class]
}

risk_class := class_of[max(category_ranks | {score_rank})]

# Routing -----------------------------------------------------------------------------------------

automated_checks_passed if {
	scan.completed == true
	count(tests) > 0
	every suite in tests {
		suite.failed == 0
	}
	scan.critical == 0
	scan.high == 0
	compliance_checks_passed == true
	backup_verified == true
	rollback_plan.documented == true
}

deployer_unmatched if {
	production
	author_vs_deployer == "unknown"
}

emergency := object.get(change, "emergency", false)

route := "emergency" if {
	emergency
} else := "single-approver" if {
	risk_class == "low"
	automated_checks_passed
	deployer_unmatched
} else := "automated" if {
	risk_class == "low"
	automated_checks_passed
} else := "single-approver" if {
	risk_class != "high"
} else := "multiple-approvers"

roles := [settings.emergency.approver_role] if {
	emergency
} else := [] if {
	route == "automated"
} else := settings.approvers.low_fallback if {
	risk_class == "low"
} else := settings.approvers[risk_class]

# Why each recorded approval counts or not, in the order the SOX pack checks.
approval_status(i, approval) := "sod-self-approval" if {
	compare_canonical(approver_ids[i], author_id) == "same"
} else := "sod-deployer-approval" if {
	compare_canonical(approver_ids[i], deployer_id) == "same"
} else := "approval-by-shared-account" if {
	shared_account(approver_ids[i])
} else := "sod-identity-unmatched" if {
	compare_canonical(approver_ids[i], author_id) == "unknown"
} else := "sod-identity-unmatched" if {
	compare_canonical(approver_ids[i], deployer_id) == "unknown"
} else := "approval-after-evaluation" if {
	time.parse_rfc3339_ns(approval.at) > time.parse_rfc3339_ns(input.now)
} else := "role-not-required" if {
	not approval.role in roles
} else := "eligible"

statuses := [approval_status(i, approval) | some i, approval in approvals]

# Approvals assigned to roles so that each person counts once: roles are satisfied greedily in
# order, each keeping those before it satisfied (as the augmenting-path matching of the pack).
options(r) := {-1} | {i |
	some i, approval in approvals
	statuses[i] == "eligible"
	approval.role == roles[r]
} if {
	r < count(roles)
} else := {-1}

assignments contains [a0, a1, a2, a3] if {
	some a0 in options(0)
	some a1 in options(1)
	some a2 in options(2)
	some a3 in options(3)
	distinct_people([a0, a1, a2, a3])
}

distinct_people(slots) if {
	every i, x in slots {
		every j, y in slots {
			not same_person(i, x, j, y)
		}
	}
}

same_person(i, x, j, y) if {
	i < j
	x >= 0
	y >= 0
	not [x, y] in different_people
}

different_people contains [x, y] if {
	some x, a in approver_ids
	some y, b in approver_ids
	compare_canonical(a, b) == "different"
}

kept(earlier, _) if earlier == false

kept(_, slot) if slot >= 0

satisfied0 := true if {
	some a in assignments
	a[0] >= 0
} else := false

satisfied1 := true if {
	some a in assignments
	a[1] >= 0
	kept(satisfied0, a[0])
} else := false

satisfied2 := true if {
	some a in assignments
	a[2] >= 0
	kept(satisfied0, a[0])
	kept(satisfied1, a[1])
} else := false

satisfied3 := true if {
	some a in assignments
	a[3] >= 0
	kept(satisfied0, a[0])
	kept(satisfied1, a[1])
	kept(satisfied2, a[2])
} else := false

satisfied := [satisfied0, satisfied1, satisfied2, satisfied3]

missing_roles := [role | some r, role in roles; not satisfied[r]]

# Checks: findings as {rule, control, severity} ---------------------------------------------------

change_control := "SOX-CC-05"

audit_logging_control := "SOX-IT-01"

encryption_control := "SOX-IT-03"

deployment_access := "SOX-AC-02"

severity := {
	"ticket-rejected": "critical", "sod-identity-unmatched": "medium",
	"approval-after-evaluation": "medium", "evidence-untrusted-source": "info",
}

finding(rule, control) := {"rule": rule, "control": control, "severity": object.get(severity, rule, "high")}

findings contains finding("ticket-rejected", change_control) if ticket_status == "rejected"

findings contains finding("ticket-not-approved", change_control) if {
	not ticket_status in {"approved", "rejected"}
	not emergency_submitted
}

emergency_submitted if {
	ticket_status == "submitted"
	emergency
}

findings contains finding(status, change_control) if {
	some status in statuses
	not status in {"eligible", "role-not-required"}
}

required_suites := settings.required_tests[risk_class]

findings contains finding("required-tests-missing", change_control) if {
	some name in required_suites
	not name in {suite.suite | some suite in tests}
}

findings contains finding("required-tests-empty", change_control) if {
	some name in required_suites
	first := min({i | some i, suite in tests; suite.suite == name})
	tests[first].passed == 0
}

findings contains finding("tests-failed", change_control) if {
	some suite in tests
	suite.failed > 0
}

findings contains finding("rollback-plan-missing", change_control) if {
	rollback_plan.documented != true
}

findings contains finding("audit-logging-disabled", audit_logging_control) if {
	audit_logging != true
}

findings contains finding("encryption-evidence-missing", encryption_control) if {
	encryption == null
}

findings contains finding("encryption-at-rest-disabled", encryption_control) if {
	encryption.at_rest == false
}

findings contains finding("encryption-key-rotation-unknown", encryption_control) if {
	is_object(encryption)
	object.get(encryption, "key_rotated_days_ago", null) == null
}

findings contains finding("encryption-key-stale", encryption_control) if {
	encryption.key_rotated_days_ago > settings.key_rotation_max_days
}

findings contains finding("deployer-not-authorised", deployment_access) if {
	production
	not settings.authorised_deployer_group in deployer_groups
}

findings contains finding("sod-identity-unmatched", deployment_access) if deployer_unmatched

findings contains finding("sod-author-deploys", deployment_access) if {
	production
	author_vs_deployer == "same"
}

findings contains finding("deployer-shared-account", deployment_access) if {
	production
	shared_account(deployer_id)
}

relies_on := {
	change_control: [
		"change.ticket_status", "change.approvals", "evidence.tests", "evidence.security_scan",
		"evidence.compliance_checks_passed", "evidence.backup_verified", "evidence.rollback_plan",
	],
	audit_logging_control: ["evidence.audit_logging"],
	encryption_control: ["evidence.encryption"],
	deployment_access: ["change.author", "change.deployer", "change.deployer_groups"],
}

findings contains finding("evidence-untrusted-source", control) if {
	some control, fields in relies_on
	applicable(control)
	some field in fields
	field in untrusted
}

applicable(control) if control != deployment_access

applicable(control) if {
	control == deployment_access
	production
}

# The decision ------------------------------------------------------------------------------------

outcome := "denied" if {
	some f in findings
	f.severity in {"high", "critical"}
} else := "needs_approval" if {
	count(missing_roles) > 0
} else := "approved"

decision := {"error": "invalid_settings", "fields": settings_errors} if {
	count(settings_errors) > 0
} else := {"error": "too_many_roles"} if {
	count(roles) > 4
} else := {
	"outcome": outcome,
	"risk_score": score,
	"risk_class": risk_class,
	"route": route,
	"required_roles": roles,
	"missing_roles": missing_roles,
	"findings": sort([sprintf("%s@%s", [f.rule, f.control]) | some f in findings]),
}
