"""The decision: applicability, the controls' results, the outcome and the summary.

The decision keeps the contract the host checks for every pack:
- every control of the catalogue is answered exactly once, in catalogue order;
- a finding names a rule of its control, and its control is non-compliant;
- a pack that does not apply approves, finds nothing and marks every control not applicable;
- the outcome is `denied` exactly when a finding is `high` or `critical`, else `approved`: this pack
  routes no approvals, so it never answers `needs-approval`.
There is no risk model and no routing: the decision's `risk` and `routing` are `none`.
"""

from dataclasses import dataclass, field
from typing import List

from . import catalogue, checks
from .extension import ReleaseFacts
from .settings import Settings


@dataclass
class Outcome:
    applicable: bool
    outcome: str  # "approved" or "denied"
    controls: List[checks.ControlResult] = field(default_factory=list)
    findings: List[checks.Finding] = field(default_factory=list)
    obligations: List[checks.Obligation] = field(default_factory=list)
    summary: str = ""


def decide(manifest, settings: Settings, facts: ReleaseFacts) -> Outcome:
    environment = manifest.change.environment
    if not settings.is_production(environment):
        reason = (
            f"environment `{environment}` is not a production environment "
            f"({', '.join(settings.production_environments)})"
        )
        return Outcome(
            applicable=False,
            outcome="approved",
            controls=[
                checks.ControlResult(c.id, checks.NOT_APPLICABLE, [reason]) for c in catalogue.CONTROLS
            ],
            summary=f"{catalogue.FRAMEWORK} does not apply: {reason}.",
        )
    results = [check(manifest, settings, facts) for check in checks.CHECKS]
    assert [r.control_id for r in results] == [c.id for c in catalogue.CONTROLS]
    findings = [f for r in results for f in r.findings]
    obligations = [o for r in results for o in r.obligations]
    denying = [f for f in findings if f.severity in catalogue.DENYING]
    tier = checks.tier_of(settings, facts)
    if denying:
        outcome = "denied"
        names = ", ".join(f"{f.rule_id}@{f.control_id}" for f in denying)
        summary = (
            f"Denied: the release evidence of {manifest.change.id} ({tier}) is incomplete; "
            f"{len(denying)} finding(s) deny the release: {names}."
        )
    else:
        outcome = "approved"
        summary = f"Approved: the release evidence of {manifest.change.id} ({tier}) is complete"
        if findings:
            summary += f", with {len(findings)} advisory finding(s): " + ", ".join(
                f"{f.rule_id}@{f.control_id}" for f in findings
            )
        if obligations:
            summary += "; obligations: " + ", ".join(o.id for o in obligations)
        summary += "."
    if not facts.present:
        summary += " The manifest carries no `extensions.acme_release` facts."
    return Outcome(True, outcome, results, findings, obligations, summary)
