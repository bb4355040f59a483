# The SOX pack (`policies/sox`) in Rego, for the regorus comparison of `tests/benches/evaluate.rs`,
# written as a Rego engineer would write it for speed: every value the decision needs is a complete
# rule computed once per input (settings merged with their defaults in one `object.union`, the
# evaluation time parsed once, identities resolved once, sets built once), functions only where an
# argument varies, and settings validated only when settings are given.
#
# All six controls: SOX-CC-05 change control (ticket, separation of duties with identity aliases and
# shared accounts, testing evidence, rollback plan), SOX-CC-06 change-tracking tags of a Terraform
# plan, SOX-CC-07 deployment windows and change freezes (with the emergency route's extra role),
# SOX-IT-01 audit logging and the plan's audit trails, SOX-IT-03 encryption at rest and key rotation,
# SOX-AC-02 deployment access; risk scoring, routing, the matching of approvals to roles and trusted
# fact sources. The bench checks that it agrees with the SOX component on every golden SOX case
# (error, outcome, risk, route, required and missing roles, findings) before timing either.
#
# Where Rego cannot follow the pack: time zones are the IANA names of regorus' tz database (POSIX TZ
# rules such as `EST5EDT,M3.2.0,M11.1.0` are refused as unknown zones), and an unknown zone is
# detected as `time.clock` failing, which needs OPA's non-strict builtin errors (the bench compiles
# the policy so). Settings are validated for what the pack's golden cases exercise and more, but not
# field by field for wrong types.
#
# Input: {"manifest": <manifest as Tollgate serializes it>, "settings": <object or null>,
# "now": <RFC 3339>}. Output: `data.tollgate.sox.decision`. Up to four required roles.
package tollgate.sox

import rego.v1

change := input.manifest.change

evidence := input.manifest.evidence

now_ns := time.parse_rfc3339_ns(input.now)

# Settings: one complete object, the defaults deep-merged with what is given -----------------------

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
	"emergency": {
		"approver_role": "EMERGENCY_CHANGE_MANAGER", "retrospective_within_days": 3,
		"outside_window_role": "CHANGE_ADVISORY_BOARD",
	},
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
	"waivers": {},
	"deployment_windows": {},
}

settings_given if is_object(input.settings)

# `object.union` merges recursively: nested sections keep the defaults they do not name, lists and
# values given replace the defaults, and `trusted_sources` keeps the facts it does not list.
settings := object.union(default_settings, input.settings) if {
	settings_given
} else := default_settings

# Validation, only when settings are given: the fields found invalid.
settings_errors contains key if {
	some key, _ in input.settings
	not has_key(default_settings, key)
}

fixed_sections := {
	"risk": default_settings.risk, "category_classes": default_settings.category_classes,
	"approvers": default_settings.approvers, "required_tests": default_settings.required_tests,
	"emergency": default_settings.emergency, "waivers": {"non_waivable": []},
}

settings_errors contains section if {
	some section, _ in fixed_sections
	not is_object(settings[section])
}

settings_errors contains concat(".", [section, key]) if {
	some section, known in fixed_sections
	some key, _ in object.get(input.settings, section, {})
	not has_key(known, key)
}

settings_errors contains concat(".", ["risk", key]) if {
	some key, value in settings.risk
	not valid_weight(value)
}

valid_weight(value) if {
	is_number(value)
	value >= 0
}

settings_errors contains "risk.medium_threshold" if {
	settings.risk.medium_threshold >= settings.risk.high_threshold
}

settings_errors contains "risk.large_change_lines" if {
	settings.risk.large_change_lines != floor(settings.risk.large_change_lines)
}

named_lists := {
	"approvers.low_fallback": settings.approvers.low_fallback,
	"approvers.medium": settings.approvers.medium,
	"approvers.high": settings.approvers.high,
	"required_tests.low": settings.required_tests.low,
	"required_tests.medium": settings.required_tests.medium,
	"required_tests.high": settings.required_tests.high,
	"production_environments": settings.production_environments,
	"shared_accounts": settings.shared_accounts,
}

settings_errors contains field if {
	some field, names in named_lists
	some name in names
	not non_blank(name)
}

settings_errors contains field if {
	some field, names in named_lists
	count({name | some name in names}) != count(names)
}

settings_errors contains field if {
	some field in ["approvers.low_fallback", "approvers.medium", "approvers.high", "production_environments"]
	count(named_lists[field]) == 0
}

settings_errors contains field if {
	some field, value in {
		"authorised_deployer_group": settings.authorised_deployer_group,
		"emergency.approver_role": settings.emergency.approver_role,
		"emergency.outside_window_role": settings.emergency.outside_window_role,
	}
	not non_blank(value)
}

settings_errors contains "key_rotation_max_days" if not settings.key_rotation_max_days >= 1

settings_errors contains "category_classes" if {
	categories := [category | some class in ["low", "medium", "high"]; some category in settings.category_classes[class]]
	count({category | some category in categories}) != count(categories)
}

settings_errors contains concat(".", ["identities", alias]) if {
	some alias, target in settings.identities
	not valid_alias(alias, target)
}

valid_alias(alias, target) if {
	non_blank(alias)
	non_blank(target)
	normalise(alias) != normalise(target)
	count([other | some other, _ in settings.identities; normalise(other) == normalise(alias)]) == 1
	not normalise(target) in {normalise(other) | some other, _ in settings.identities}
}

settings_errors contains concat(".", ["trusted_sources", field]) if {
	some field, kinds in settings.trusted_sources
	not guardable(field, kinds)
}

guardable(field, kinds) if {
	field in guardable_facts
	count(kinds) > 0
}

guardable_facts := {
	"change.ticket_status", "change.approvals", "change.deployer_groups", "evidence.tests",
	"evidence.security_scan", "evidence.compliance_checks_passed", "evidence.backup_verified",
	"evidence.rollback_plan", "evidence.encryption", "evidence.audit_logging",
	"evidence.test_data_removed", "evidence.breach_notification_procedure",
}

settings_errors contains concat(".", ["deployment_windows", environment]) if {
	some environment, config in settings.deployment_windows
	not valid_environment(environment, config)
}

settings_errors contains concat(".", ["deployment_windows", environment, "time_zone"]) if {
	some environment, config in settings.deployment_windows
	not valid_zone(object.get(config, "time_zone", "UTC"))
}

settings_errors contains sprintf("deployment_windows.%s.windows[%d]", [environment, i]) if {
	some environment, config in settings.deployment_windows
	some i, window in object.get(config, "windows", [])
	not valid_window(window)
}

settings_errors contains sprintf("deployment_windows.%s.freezes[%d]", [environment, i]) if {
	some environment, config in settings.deployment_windows
	some i, freeze in object.get(config, "freezes", [])
	not valid_freeze(freeze)
}

valid_environment(environment, config) if {
	non_blank(environment)
	is_object(config)
	every key, _ in config {
		key in {"time_zone", "windows", "freezes"}
	}
}

# An unknown zone makes `time.clock` fail: undefined with non-strict builtin errors.
valid_zone(name) if {
	_ := time.clock([0, name])
}

valid_window(window) if {
	every key, _ in window {
		key in {"days", "start", "end"}
	}
	count(window.days) > 0
	every day in window.days {
		day in previous_day
	}
	start := minutes(window.start)
	end := minutes(window.end)
	start != end
}

valid_freeze(freeze) if {
	every key, _ in freeze {
		key in {"start", "end", "reason"}
	}
	time.parse_rfc3339_ns(freeze.start) < time.parse_rfc3339_ns(freeze.end)
}

non_blank(text) if {
	is_string(text)
	trim_space(text) != ""
}

has_key(obj, key) if {
	_ = obj[key]
}

# Trusted sources: an untrusted fact is decided as if absent ----------------------------------------

provenance := object.get(input.manifest, "provenance", {})

untrusted := {field |
	some field, kinds in settings.trusted_sources
	not object.get(provenance, [field, "kind"], "unrecorded") in kinds
}

disregarded := {
	"change.ticket_status": "draft", "change.approvals": [], "change.deployer_groups": [],
	"evidence.tests": [], "evidence.security_scan": null, "evidence.compliance_checks_passed": false,
	"evidence.backup_verified": false, "evidence.rollback_plan": {"documented": false},
	"evidence.encryption": null, "evidence.audit_logging": false,
}

# The facts as the manifest gives them, the untrusted ones replaced by their defaults (one object;
# `object.union` merging a rollback plan with `{"documented": false}` leaves it undocumented).
facts := object.union(
	{
		"change.ticket_status": change.ticket_status,
		"change.approvals": object.get(change, "approvals", []),
		"change.deployer_groups": object.get(change, "deployer_groups", []),
		"evidence.tests": object.get(evidence, "tests", []),
		"evidence.security_scan": object.get(evidence, "security_scan", null),
		"evidence.compliance_checks_passed": object.get(evidence, "compliance_checks_passed", false),
		"evidence.backup_verified": object.get(evidence, "backup_verified", false),
		"evidence.rollback_plan": object.get(evidence, "rollback_plan", {"documented": false}),
		"evidence.encryption": object.get(evidence, "encryption", null),
		"evidence.audit_logging": object.get(evidence, "audit_logging", false),
	},
	{field: disregarded[field] | some field in untrusted},
)

ticket_status := facts["change.ticket_status"]

approvals := facts["change.approvals"]

deployer_groups := facts["change.deployer_groups"]

tests := facts["evidence.tests"]

scan := facts["evidence.security_scan"]

compliance_checks_passed := facts["evidence.compliance_checks_passed"]

backup_verified := facts["evidence.backup_verified"]

rollback_plan := facts["evidence.rollback_plan"]

encryption := facts["evidence.encryption"]

audit_logging := facts["evidence.audit_logging"]

# Identities: resolved once; aliases as one lookup table ------------------------------------------

# (For validation; the rules below inline it rather than call a function per identity.)
normalise(identity) := lower(trim_space(identity))

aliases := {lower(trim_space(alias)): lower(trim_space(target)) | some alias, target in settings.identities}

author_id := object.get(aliases, key, key) if key := lower(trim_space(change.author))

deployer_id := object.get(aliases, key, key) if key := lower(trim_space(change.deployer))

approver_ids := [object.get(aliases, key, key) | some approval in approvals; key := lower(trim_space(approval.by))]

# Same person, different people, or unknown (identities of different systems).
compare(a, b) := "same" if {
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

author_vs_deployer := compare(author_id, deployer_id)

# Shared accounts as sets: an identity is one when equal to one, or when one is an email and the
# other the bare name of its local part. Without settings they are the default accounts, already
# canonical and all bare names.
shared_ids := {object.get(aliases, key, key) |
	some account in settings.shared_accounts
	key := lower(trim_space(account))
} if {
	settings_given
} else := {"root", "admin", "administrator", "deploy", "ci", "jenkins", "gitlab-ci", "github-actions"}

shared_names := {id | some id in shared_ids; not contains(id, "@")} if {
	settings_given
} else := shared_ids

shared_email_locals := {local |
	some id in shared_ids
	contains(id, "@")
	local := split(id, "@")[0]
	local != ""
} if {
	settings_given
} else := set()

shared(id) if id in shared_ids

shared(id) if {
	contains(id, "@")
	split(id, "@")[0] in shared_names
}

shared(id) if {
	id != ""
	not contains(id, "@")
	id in shared_email_locals
}

# Risk --------------------------------------------------------------------------------------------

risk := settings.risk

production := change.environment in settings.production_environments

large_change := object.get(change, "lines_changed", 0) > risk.large_change_lines

raw_score := sum([factor[1] |
	some factor in [
		[production, risk.production],
		[object.get(change, "includes_schema_changes", false), risk.schema_changes],
		[object.get(change, "touches_security_components", false), risk.security_components],
		[large_change, risk.large_change],
	]
	factor[0] == true
]) + (object.get(change, "historical_failure_rate", 0) * risk.historical_failure_rate_weight)

score := round(raw_score * 1000) / 1000

rank := {"low": 1, "medium": 2, "high": 3}

class_of := ["", "low", "medium", "high"]

score_rank := 3 if {
	score >= risk.high_threshold
} else := 2 if {
	score >= risk.medium_threshold
} else := 1

category_ranks := {rank[class] |
	some category in object.get(change, "categories", [])
	some class, categories in settings.category_classes
	category in categories
}

risk_class := class_of[max(category_ranks | {score_rank})]

# Deployment windows (SOX-CC-07) --------------------------------------------------------------------

environment_windows := settings.deployment_windows[change.environment]

window_status := "unrestricted" if {
	not environment_windows
} else := "deployment-in-change-freeze" if {
	some freeze in object.get(environment_windows, "freezes", [])
	time.parse_rfc3339_ns(freeze.start) <= now_ns
	now_ns < time.parse_rfc3339_ns(freeze.end)
} else := "open" if {
	count(object.get(environment_windows, "windows", [])) == 0
} else := "open" if {
	some window in environment_windows.windows
	inside(window)
} else := "deployment-outside-window"

outside_window := window_status in {"deployment-in-change-freeze", "deployment-outside-window"}

zone := object.get(environment_windows, "time_zone", "UTC")

local_clock := time.clock([now_ns, zone])

local_minute := (local_clock[0] * 60) + local_clock[1]

local_day := day_names[time.weekday([now_ns, zone])]

day_names := {
	"Monday": "mon", "Tuesday": "tue", "Wednesday": "wed", "Thursday": "thu", "Friday": "fri",
	"Saturday": "sat", "Sunday": "sun",
}

previous_day := {"mon": "sun", "tue": "mon", "wed": "tue", "thu": "wed", "fri": "thu", "sat": "fri", "sun": "sat"}

# A window from `start` to `end` on its days; an `end` at or before `start` closes the next day.
inside(window) if {
	start := minutes(window.start)
	end := minutes(window.end)
	start < end
	local_day in window.days
	start <= local_minute
	local_minute < end
}

inside(window) if {
	start := minutes(window.start)
	end := minutes(window.end)
	start >= end
	local_day in window.days
	local_minute >= start
}

inside(window) if {
	start := minutes(window.start)
	end := minutes(window.end)
	start >= end
	previous_day[local_day] in window.days
	local_minute < end
}

# Minutes since midnight of `HH:MM` (`24:00` is 1440); undefined if malformed.
minutes(text) := 1440 if {
	text == "24:00"
} else := (hours * 60) + mins if {
	count(text) == 5
	substring(text, 2, 1) == ":"
	hours := two_digits(substring(text, 0, 2))
	hours < 24
	mins := two_digits(substring(text, 3, 2))
	mins < 60
}

digits := {"0": 0, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "8": 8, "9": 9}

two_digits(text) := (digits[substring(text, 0, 1)] * 10) + digits[substring(text, 1, 1)]

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

roles := [settings.emergency.approver_role, settings.emergency.outside_window_role] if {
	emergency
	outside_window
} else := [settings.emergency.approver_role] if {
	emergency
} else := [] if {
	route == "automated"
} else := settings.approvers.low_fallback if {
	risk_class == "low"
} else := settings.approvers[risk_class]

role_set := {role | some role in roles}

# Why each recorded approval counts or not, in the order the SOX pack checks; each comparison made
# once per approval.
vs_author := [compare(id, author_id) | some id in approver_ids]

vs_deployer := [compare(id, deployer_id) | some id in approver_ids]

approval_status(i, approval) := "sod-self-approval" if {
	vs_author[i] == "same"
} else := "sod-deployer-approval" if {
	vs_deployer[i] == "same"
} else := "approval-by-shared-account" if {
	shared(approver_ids[i])
} else := "sod-identity-unmatched" if {
	vs_author[i] == "unknown"
} else := "sod-identity-unmatched" if {
	vs_deployer[i] == "unknown"
} else := "approval-after-evaluation" if {
	time.parse_rfc3339_ns(approval.at) > now_ns
} else := "role-not-required" if {
	not approval.role in role_set
} else := "eligible"

statuses := [approval_status(i, approval) | some i, approval in approvals]

# Approvals assigned to roles so that each person counts once: roles are satisfied greedily in
# order, each keeping those before it satisfied (as the augmenting-path matching of the pack).
# When no two eligible approvals for different roles may be one person, which is the usual case,
# a role is satisfied exactly when some eligible approval is in it; otherwise the assignments of
# approvals to role slots (-1: none) are enumerated, a conflicting pair pruned as soon as chosen.
eligible := [i | some i, status in statuses; status == "eligible"]

eligible_roles := {approvals[i].role | some i in eligible}

possibly_same_person := {[x, y] |
	some x in eligible
	some y in eligible
	x < y
	approvals[x].role != approvals[y].role
	compare(approver_ids[x], approver_ids[y]) != "different"
}

satisfied := [filled | some role in roles; filled := role in eligible_roles] if {
	count(possibly_same_person) == 0
	count(role_set) == count(roles)
} else := [count(filled0) > 0, count(filled1) > 0, count(filled2) > 0, count(filled3) > 0]

candidates := [{i | some i in eligible; approvals[i].role == role} | some role in roles]

slot_options := array.concat(
	[with_none | some options in candidates; with_none := options | {-1}],
	array.slice([{-1}, {-1}, {-1}, {-1}], 0, 4 - count(roles)),
)

# The pairs that may not fill two slots: one approval twice, or two that may be one person.
conflicts := {[x, x] | some x in eligible} | possibly_same_person | {[y, x] | some [x, y] in possibly_same_person}

assignments contains [a0, a1, a2, a3] if {
	some a0 in slot_options[0]
	some a1 in slot_options[1]
	not [a0, a1] in conflicts
	some a2 in slot_options[2]
	not [a0, a2] in conflicts
	not [a1, a2] in conflicts
	some a3 in slot_options[3]
	not [a0, a3] in conflicts
	not [a1, a3] in conflicts
	not [a2, a3] in conflicts
}

# Role r is satisfied if an assignment fills it and every satisfied role before it: the assignments
# kept after each role are those filling every role satisfied so far.
filled0 := {a | some a in assignments; a[0] >= 0}

kept0 := filled0 if {
	count(filled0) > 0
} else := assignments

filled1 := {a | some a in kept0; a[1] >= 0}

kept1 := filled1 if {
	count(filled1) > 0
} else := kept0

filled2 := {a | some a in kept1; a[2] >= 0}

kept2 := filled2 if {
	count(filled2) > 0
} else := kept1

filled3 := {a | some a in kept2; a[3] >= 0}

missing_roles := [role | some r, role in roles; not satisfied[r]]

# Findings as [rule, control] -----------------------------------------------------------------------

# SOX-CC-05: change control.
findings contains ["ticket-rejected", "SOX-CC-05"] if ticket_status == "rejected"

findings contains ["ticket-not-approved", "SOX-CC-05"] if {
	not ticket_status in {"approved", "rejected"}
	not emergency_submitted
}

emergency_submitted if {
	ticket_status == "submitted"
	emergency
}

findings contains [status, "SOX-CC-05"] if {
	some status in statuses
	not status in {"eligible", "role-not-required"}
}

suite_names := {suite.suite | some suite in tests}

required_suites := {name | some name in settings.required_tests[risk_class]}

# Suites whose first run passed no test (a name is looked up at its first suite).
empty_suites := {suite.suite | some suite in tests; suite.passed == 0} if {
	count(suite_names) == count(tests)
} else := {name |
	some name in suite_names
	tests[min({i | some i, suite in tests; suite.suite == name})].passed == 0
}

findings contains ["required-tests-missing", "SOX-CC-05"] if count(required_suites - suite_names) > 0

findings contains ["required-tests-empty", "SOX-CC-05"] if count(required_suites & empty_suites) > 0

findings contains ["tests-failed", "SOX-CC-05"] if {
	some suite in tests
	suite.failed > 0
}

findings contains ["rollback-plan-missing", "SOX-CC-05"] if rollback_plan.documented != true

# SOX-CC-06: every resource the plan creates, updates or replaces that takes tags carries the four
# tracking tags, naming this change's ticket and commit.
resources := object.get(evidence, ["infrastructure", "resources"], [])

tagged := [resource.tracking_tags |
	some resource in resources
	resource.action != "delete"
	is_object(resource.tracking_tags)
]

tracking_tags := ["change_ticket", "git_commit_sha", "approval_reference", "compliance_framework"]

tag(tags, name) := value if {
	value := trim_space(tags[name])
	value != ""
}

findings contains ["infra-tags-missing", "SOX-CC-06"] if {
	some tags in tagged
	some name in tracking_tags
	not tag(tags, name)
}

findings contains ["infra-tags-mismatched", "SOX-CC-06"] if {
	some tags in tagged
	tag(tags, "change_ticket") != trim_space(change.id)
}

findings contains ["infra-tags-mismatched", "SOX-CC-06"] if {
	some tags in tagged
	sha := tag(tags, "git_commit_sha")
	not same_commit(lower(sha), lower(trim_space(object.get(change, "commit", ""))))
}

# Equal, or one abbreviates the other in 7 characters at least (no commit: never).
same_commit(a, b) if a == b

same_commit(a, b) if abbreviates(a, b)

same_commit(a, b) if abbreviates(b, a)

abbreviates(short, long) if {
	count(short) >= 7
	count(short) < count(long)
	startswith(long, short)
}

# SOX-CC-07: the deployment falls inside a window of its environment and outside its freezes; an
# emergency change outside them needs the extra role instead.
findings contains [window_status, "SOX-CC-07"] if {
	outside_window
	not emergency
}

# SOX-IT-01: audit logging, and the plan's audit trails.
findings contains ["audit-logging-disabled", "SOX-IT-01"] if audit_logging != true

findings contains ["audit-trail-deleted", "SOX-IT-01"] if {
	some resource in resources
	is_object(resource.audit_trail)
	resource.action == "delete"
}

findings contains ["audit-trail-weakened", "SOX-IT-01"] if {
	some resource in resources
	resource.action != "delete"
	trail := resource.audit_trail
	some flag in ["logging", "multi_region", "log_file_validation", "kms_encrypted"]
	object.get(trail, flag, false) != true
}

# SOX-IT-03: encryption at rest and key rotation.
findings contains ["encryption-evidence-missing", "SOX-IT-03"] if encryption == null

findings contains ["encryption-at-rest-disabled", "SOX-IT-03"] if encryption.at_rest == false

findings contains ["encryption-key-rotation-unknown", "SOX-IT-03"] if {
	is_object(encryption)
	object.get(encryption, "key_rotated_days_ago", null) == null
}

findings contains ["encryption-key-stale", "SOX-IT-03"] if {
	encryption.key_rotated_days_ago > settings.key_rotation_max_days
}

# SOX-AC-02: deployment access, production only.
findings contains ["deployer-not-authorised", "SOX-AC-02"] if {
	production
	not settings.authorised_deployer_group in deployer_groups
}

findings contains ["sod-identity-unmatched", "SOX-AC-02"] if deployer_unmatched

findings contains ["sod-author-deploys", "SOX-AC-02"] if {
	production
	author_vs_deployer == "same"
}

findings contains ["deployer-shared-account", "SOX-AC-02"] if {
	production
	shared(deployer_id)
}

# Untrusted facts: a finding on every applicable control that relies on one.
relied_on_by := {
	"change.ticket_status": ["SOX-CC-05"], "change.approvals": ["SOX-CC-05"],
	"evidence.tests": ["SOX-CC-05"], "evidence.security_scan": ["SOX-CC-05"],
	"evidence.compliance_checks_passed": ["SOX-CC-05"], "evidence.backup_verified": ["SOX-CC-05"],
	"evidence.rollback_plan": ["SOX-CC-05"], "evidence.audit_logging": ["SOX-IT-01"],
	"evidence.encryption": ["SOX-IT-03"], "change.deployer_groups": ["SOX-AC-02"],
}

findings contains ["evidence-untrusted-source", control] if {
	some field in untrusted
	some control in relied_on_by[field]
	applicable(control)
}

applicable(control) if control != "SOX-AC-02"

applicable("SOX-AC-02") if production

# The decision ------------------------------------------------------------------------------------

# Findings that do not deny (medium and info); every other is high or critical.
lenient_rules := {"sod-identity-unmatched", "approval-after-evaluation", "evidence-untrusted-source"}

outcome := "denied" if {
	some finding in findings
	not finding[0] in lenient_rules
} else := "needs_approval" if {
	count(missing_roles) > 0
} else := "approved"

decision := {"error": "invalid_settings", "fields": settings_errors} if {
	settings_given
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
	"findings": sort([concat("@", finding) | some finding in findings]),
}
