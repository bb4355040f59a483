"""The pack's identity and its control catalogue.

Each control lists the regulatory references it evidences (the host copies them onto every finding
of the control) and the rule ids its findings carry; a finding with a rule its control does not
list is refused by the host as a broken decision.
"""

from dataclasses import dataclass, field
from typing import List, Tuple

POLICY_ID = "acme-release-evidence"
FRAMEWORK = "Acme Release Evidence"
VERSION = "1.0.0"
DESCRIPTION = (
    "Acme's release-evidence policy: every production release is traced to an approved ticket, a "
    "commit and a pipeline run, carries the test evidence its service tier requires, its release "
    "notes and rollback plan, an identified artifact with its SBOM, and a retained audit trail"
)

SOX_404 = ("SOX", "Section 404")
COSO_11 = ("COSO Internal Control 2013", "Principle 11 (general controls over technology)")


@dataclass(frozen=True)
class Control:
    """One control of the catalogue."""

    id: str
    title: str
    description: str
    references: Tuple[Tuple[str, str], ...]
    rules: Tuple[str, ...]
    relies_on: Tuple[str, ...] = field(default=())


TRACEABILITY = Control(
    id="RE-01",
    title="Every production change is traced to an approved ticket, a commit and a pipeline run",
    description=(
        "The release names its change ticket, which is approved, the commit it deploys (a full, "
        "unambiguous commit id) and the pipeline run that built and deployed it, so that an auditor "
        "can walk from the ticket to the code and back"
    ),
    references=(
        SOX_404,
        COSO_11,
        ("COBIT 2019", "BAI06.01"),
        ("NIST SP 800-53 Rev. 5", "CM-3"),
        ("NIST SP 800-53 Rev. 5", "AU-10"),
        ("ISO/IEC 27001:2022", "A.8.32"),
    ),
    rules=("ticket-not-approved", "commit-missing", "commit-abbreviated", "pipeline-run-missing"),
    relies_on=("change.ticket_status", "change.commit", "change.pipeline_id"),
)

TEST_EVIDENCE = Control(
    id="RE-02",
    title="Required test evidence per service tier",
    description=(
        "The release carries a passing result for every test suite its service tier requires "
        "(`required_suites_by_tier`; the tier is `extensions.acme_release.service_tier`, else "
        "`default_tier`), and no reported suite has failures"
    ),
    references=(
        SOX_404,
        COSO_11,
        ("COBIT 2019", "BAI07.05"),
        ("NIST SP 800-53 Rev. 5", "CM-3(2)"),
        ("NIST SP 800-53 Rev. 5", "SA-11"),
        ("ISO/IEC 27001:2022", "A.8.29"),
    ),
    rules=("service-tier-unknown", "required-suite-missing", "suite-empty", "suite-failed"),
    relies_on=("evidence.tests",),
)

RELEASE_DOCUMENTATION = Control(
    id="RE-03",
    title="Release notes and rollback plan documented",
    description=(
        "The release notes are published in Acme's controlled document system "
        "(`extensions.acme_release.release_notes_url`; an emergency change may publish them "
        "afterwards, within `emergency_documentation_days`) and the rollback plan is documented "
        "with its strategy"
    ),
    references=(
        ("COBIT 2019", "BAI06.04"),
        ("COBIT 2019", "BAI07.01"),
        ("NIST SP 800-53 Rev. 5", "CM-3"),
        ("NIST SP 800-53 Rev. 5", "CP-10"),
        ("ISO/IEC 27001:2022", "A.8.32"),
        ("ISO/IEC 27001:2022", "A.5.37"),
    ),
    rules=(
        "release-notes-missing",
        "release-notes-uncontrolled",
        "rollback-plan-missing",
        "rollback-strategy-missing",
    ),
    relies_on=("evidence.rollback_plan",),
)

ARTIFACT_IDENTITY = Control(
    id="RE-04",
    title="Released artifact identified by its digest, with its SBOM",
    description=(
        "The artifact released is named by a content digest (`sha256:` or `sha512:`), and for the "
        "tiers in `sbom_required_tiers` its software bill of materials is attached; a change whose "
        "every category ships no artifact (configuration, feature flags, content) is not in scope"
    ),
    references=(
        ("NIST SP 800-218 (SSDF) v1.1", "PS.2.1"),
        ("NIST SP 800-218 (SSDF) v1.1", "PS.3.2"),
        ("NIST SP 800-53 Rev. 5", "SI-7"),
        ("NIST SP 800-53 Rev. 5", "SR-4"),
        ("COBIT 2019", "BAI10.02"),
    ),
    rules=("artifact-digest-missing", "sbom-missing"),
)

AUDIT_TRAIL = Control(
    id="RE-05",
    title="Audit trail enabled and release evidence retained immutably",
    description=(
        "Audit logging is on for the systems the change touches, and the release's evidence is "
        "archived in immutable (WORM) storage for at least `evidence_retention_days` (seven years "
        "by default)"
    ),
    references=(
        ("SOX", "Section 802"),
        ("COBIT 2019", "DSS06.05"),
        ("NIST SP 800-53 Rev. 5", "AU-9"),
        ("NIST SP 800-53 Rev. 5", "AU-11"),
        ("ISO/IEC 27001:2022", "A.5.33"),
        ("ISO/IEC 27001:2022", "A.8.15"),
    ),
    rules=(
        "audit-logging-disabled",
        "evidence-archive-missing",
        "evidence-archive-mutable",
        "evidence-retention-too-short",
    ),
    relies_on=("evidence.audit_logging",),
)

CONTROLS: List[Control] = [
    TRACEABILITY,
    TEST_EVIDENCE,
    RELEASE_DOCUMENTATION,
    ARTIFACT_IDENTITY,
    AUDIT_TRAIL,
]

# Severities that deny the release (the contract's rule: `high` and `critical` deny).
DENYING = ("high", "critical")
