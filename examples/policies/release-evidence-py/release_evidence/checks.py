"""One check per control. Each returns the control's result: its status, the evidence statements
it rests on, its findings and the obligations it imposes.

A check reads the manifest (the generated WIT records: attributes in snake_case, enums with a
`.name`), the settings and the `acme_release` facts. A control with a finding is non-compliant; a
finding of severity `high` or `critical` denies the release, a `medium` one is reported and does
not.
"""

import re
from dataclasses import dataclass, field
from typing import List, Optional

from . import catalogue
from .extension import NAMESPACE, ReleaseFacts
from .settings import Settings

FULL_SHA = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")
# Categories that ship no new build artifact (a configuration, flag or content change).
NO_ARTIFACT = frozenset({"config-only", "feature-flags", "content-updates"})

COMPLIANT = "compliant"
NON_COMPLIANT = "non-compliant"
NOT_APPLICABLE = "not-applicable"


@dataclass
class Finding:
    rule_id: str
    control_id: str
    severity: str
    message: str
    remediation: str
    field_path: str


@dataclass
class Obligation:
    id: str
    control_id: str
    description: str
    due_within_days: Optional[int]


@dataclass
class ControlResult:
    control_id: str
    status: str = COMPLIANT
    evidence: List[str] = field(default_factory=list)
    findings: List[Finding] = field(default_factory=list)
    obligations: List[Obligation] = field(default_factory=list)

    def find(self, rule_id, severity, message, remediation, field_path):
        """Records a finding; the control becomes non-compliant."""
        self.findings.append(Finding(rule_id, self.control_id, severity, message, remediation, field_path))
        self.status = NON_COMPLIANT

    def finish(self):
        # A control is non-compliant exactly when it has a finding.
        if self.findings:
            self.status = NON_COMPLIANT
        return self


def wit_name(value) -> str:
    """A WIT enum case as written in WIT (`config-only`)."""
    return value.name.lower().replace("_", "-")


def ext(key: str) -> str:
    return f"extensions.{NAMESPACE}.{key}"


def traceability(manifest, settings: Settings, facts: ReleaseFacts) -> ControlResult:
    result = ControlResult(catalogue.TRACEABILITY.id)
    change = manifest.change
    status = wit_name(change.ticket_status)
    if status == "approved":
        result.evidence.append(f"ticket {change.id} is approved")
    else:
        result.find(
            "ticket-not-approved",
            "high",
            f"change ticket {change.id} is `{status}`, not approved",
            "Have the change approved in the ticket system before releasing it to production",
            "change.ticket_status",
        )
    commit = (change.commit or "").strip()
    if not commit:
        result.find(
            "commit-missing",
            "high",
            "the release names no commit, so it cannot be traced to the code deployed",
            "Record the deployed commit (`change.commit`), for example from the CI variables",
            "change.commit",
        )
    elif settings.require_full_commit_sha and not FULL_SHA.match(commit):
        result.find(
            "commit-abbreviated",
            "medium",
            f"commit `{commit}` is abbreviated or not a hexadecimal commit id; an abbreviated id can "
            "become ambiguous as the repository grows",
            "Record the full 40-character (SHA-1) or 64-character (SHA-256) commit id",
            "change.commit",
        )
    else:
        result.evidence.append(f"commit {commit}")
    pipeline = (change.pipeline_id or "").strip()
    if pipeline:
        result.evidence.append(f"pipeline run {pipeline}")
    else:
        result.find(
            "pipeline-run-missing",
            "high",
            "the release names no pipeline run, so the build and deployment cannot be traced",
            "Record the CI pipeline run that built and deployed the change (`change.pipeline_id`)",
            "change.pipeline_id",
        )
    return result.finish()


def tier_of(settings: Settings, facts: ReleaseFacts) -> str:
    return facts.service_tier or settings.default_tier


def test_evidence(manifest, settings: Settings, facts: ReleaseFacts) -> ControlResult:
    result = ControlResult(catalogue.TEST_EVIDENCE.id)
    tier = tier_of(settings, facts)
    source = "declared" if facts.service_tier else "default"
    suites = manifest.evidence.tests
    for index, suite in enumerate(suites):
        if suite.failed > 0:
            result.find(
                "suite-failed",
                "high",
                f"suite `{suite.suite}` has {suite.failed} failed test(s)",
                "Fix the failing tests (or the code) and run the pipeline again",
                f"evidence.tests[{index}].failed",
            )
    required = settings.required_suites_by_tier.get(tier)
    if required is None:
        result.find(
            "service-tier-unknown",
            "high",
            f"service tier `{tier}` is not one of the tiers Acme defines "
            f"({', '.join(settings.required_suites_by_tier)}), so its required tests are unknown",
            "Declare the service's tier as one of the defined tiers",
            ext("service_tier"),
        )
        return result.finish()
    result.evidence.append(f"{source} service tier {tier} requires: {', '.join(required) or 'no suite'}")
    for name in required:
        runs = [(i, s) for i, s in enumerate(suites) if s.suite == name]
        if not runs:
            result.find(
                "required-suite-missing",
                "high",
                f"{tier} requires a `{name}` suite and the release reports none",
                f"Run the `{name}` suite in the pipeline and attach its report",
                "evidence.tests",
            )
            continue
        if all(s.passed == 0 and s.failed == 0 for _, s in runs):
            result.find(
                "suite-empty",
                "high",
                f"suite `{name}` ran no test",
                f"Make the `{name}` suite run its tests (an empty suite is not evidence)",
                f"evidence.tests[{runs[0][0]}]",
            )
            continue
        passed = sum(s.passed for _, s in runs)
        failed = sum(s.failed for _, s in runs)
        if failed == 0:
            result.evidence.append(f"{name}: {passed} passed")
    return result.finish()


def release_documentation(manifest, settings: Settings, facts: ReleaseFacts) -> ControlResult:
    result = ControlResult(catalogue.RELEASE_DOCUMENTATION.id)
    change = manifest.change
    url = facts.release_notes_url
    if url is None:
        if change.emergency:
            days = settings.emergency_documentation_days
            result.evidence.append(f"emergency change: release notes due within {days} day(s)")
            result.obligations.append(
                Obligation(
                    "release-notes-after-emergency",
                    result.control_id,
                    f"Publish the release notes of emergency change {change.id} and record their URL",
                    days,
                )
            )
        else:
            result.find(
                "release-notes-missing",
                "high",
                "the release has no release notes",
                f"Publish the release notes and record their URL in `{ext('release_notes_url')}`",
                ext("release_notes_url"),
            )
    elif settings.release_notes_locations and not any(
        url.startswith(prefix) for prefix in settings.release_notes_locations
    ):
        result.find(
            "release-notes-uncontrolled",
            "high",
            f"release notes at `{url}` are outside Acme's controlled document system",
            "Publish the release notes under one of: " + ", ".join(settings.release_notes_locations),
            ext("release_notes_url"),
        )
    else:
        result.evidence.append(f"release notes {url}")
    plan = manifest.evidence.rollback_plan
    if not plan.documented:
        result.find(
            "rollback-plan-missing",
            "high",
            "no rollback plan is documented",
            "Document how the release is backed out (strategy, steps, owner) before releasing",
            "evidence.rollback_plan.documented",
        )
    elif plan.strategy is None:
        result.find(
            "rollback-strategy-missing",
            "medium",
            "the rollback plan names no strategy",
            "Name the rollback strategy (blue-green, canary, redeploy-previous, feature-flag, ...)",
            "evidence.rollback_plan.strategy",
        )
    else:
        tested = "tested" if plan.tested else "not tested"
        result.evidence.append(f"rollback plan documented: {wit_name(plan.strategy)}, {tested}")
    return result.finish()


def artifact_identity(manifest, settings: Settings, facts: ReleaseFacts) -> ControlResult:
    result = ControlResult(catalogue.ARTIFACT_IDENTITY.id)
    categories = [wit_name(c) for c in manifest.change.categories]
    if categories and all(c in NO_ARTIFACT for c in categories):
        result.status = NOT_APPLICABLE
        result.evidence.append(f"no artifact is built for a {', '.join(categories)} change")
        return result
    if facts.artifact_digest is None:
        result.find(
            "artifact-digest-missing",
            "high",
            "the release does not name the digest of the artifact it deploys",
            f"Record the artifact's digest (for example the OCI image digest) in `{ext('artifact_digest')}`",
            ext("artifact_digest"),
        )
    else:
        result.evidence.append(f"artifact {facts.artifact_digest}")
    tier = tier_of(settings, facts)
    # An unknown tier fails closed: its SBOM is required.
    if tier in settings.sbom_required_tiers or tier not in settings.required_suites_by_tier:
        if facts.sbom_attached:
            result.evidence.append("SBOM attached")
        else:
            result.find(
                "sbom-missing",
                "high",
                f"{tier} releases must attach their SBOM and this one does not",
                "Generate the SBOM (SPDX or CycloneDX) in the pipeline and attach it to the release",
                ext("sbom_attached"),
            )
    else:
        result.evidence.append(f"SBOM not required for {tier}")
    return result.finish()


def audit_trail(manifest, settings: Settings, facts: ReleaseFacts) -> ControlResult:
    result = ControlResult(catalogue.AUDIT_TRAIL.id)
    if manifest.evidence.audit_logging:
        result.evidence.append("audit logging enabled")
    else:
        result.find(
            "audit-logging-disabled",
            "high",
            "audit logging is not enabled for the systems the change touches",
            "Enable audit logging for the affected systems before releasing",
            "evidence.audit_logging",
        )
    archive = facts.evidence_archive
    minimum = settings.evidence_retention_days
    if archive is None:
        result.find(
            "evidence-archive-missing",
            "high",
            "the release names no archive for its evidence",
            f"Archive the release evidence in WORM storage and record it in `{ext('evidence_archive')}`",
            ext("evidence_archive"),
        )
        return result.finish()
    if not archive.immutable:
        result.find(
            "evidence-archive-mutable",
            "high",
            f"evidence archive `{archive.uri}` is not immutable",
            "Archive the evidence in storage with an object lock (WORM), so that no one can alter it",
            ext("evidence_archive.immutable"),
        )
    if archive.retention_days < minimum:
        result.find(
            "evidence-retention-too-short",
            "high",
            f"evidence archive `{archive.uri}` keeps evidence {archive.retention_days} days; Acme requires {minimum}",
            f"Set the archive's retention to at least {minimum} days",
            ext("evidence_archive.retention_days"),
        )
    if archive.immutable and archive.retention_days >= minimum:
        result.evidence.append(f"evidence archived immutably at {archive.uri} for {archive.retention_days} days")
    return result.finish()


CHECKS = [traceability, test_evidence, release_documentation, artifact_identity, audit_trail]
