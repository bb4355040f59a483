"""{{framework}}: a Tollgate policy pack (tollgate:policy@0.3.0) in Python, built with
componentize-py (`--stub-wasi`).

One control, `CC-01 All changes must have approval`: a production change needs an approved change
ticket and at least one approval by someone other than its author and its deployer, given before
the evaluation time. Anywhere else the pack does not apply.

componentize-py's conventions: the world's exports are the methods of a class named `WitWorld`
in the module named on the command line (`app`); records are dataclasses with snake_case fields,
enums are Python enums, `option<T>` is `None` or the value. A function returning
`result<T, eval-error>` returns `T` and raises `Err(<case>)` for the error. Any other exception
traps (the host reports a policy failure), so `evaluate` turns every other exception into
`internal`.

Everything is imported at the top: componentize-py runs this module at build time and snapshots
the interpreter; at run time there is no file system (its WASI imports are trapping stubs).
"""

import json

from componentize_py_types import Err
from wit_world import EvaluationContext, WitWorld as Policy
from wit_world.imports import decision as wit
from wit_world.imports.decision import EvalError_Internal, EvalError_InvalidSettings
from wit_world.imports.manifest import ChangeManifest, TicketStatus

POLICY_ID = "{{id}}"
FRAMEWORK = "{{framework}}"
VERSION = "0.1.0"

CC_01 = "CC-01"
TICKET_NOT_APPROVED = "ticket-not-approved"
NO_INDEPENDENT_APPROVAL = "no-independent-approval"

# The catalogue: the one place the regulatory references are written (the host adds them to every
# finding of the control).
CONTROLS = [
    wit.Control(
        id=CC_01,
        title="All changes must have approval",
        description=(
            "A production change has an approved change ticket and at least one approval by "
            "someone other than its author and its deployer, given before the deployment."
        ),
        references=[
            wit.RegulatoryReference(source="AICPA TSC 2017", section="CC8.1"),
            wit.RegulatoryReference(source="ISO/IEC 27001:2022", section="A.8.32"),
        ],
        rules=[TICKET_NOT_APPROVED, NO_INDEPENDENT_APPROVAL],
        relies_on=[],
    )
]

# The JSON Schema (draft 2020-12) of the settings. The host checks settings against it before any
# evaluation and passes the pack only the shared `defaults` keys it declares.
SETTINGS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "production_environments": {
            "description": "Environments whose changes need approval (default [production]).",
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "uniqueItems": True,
        }
    },
    "additionalProperties": False,
}

# Manifest extension namespaces the pack reads, each with the JSON Schema of its object; the host
# validates `extensions.<namespace>` before any policy runs and passes the facts in
# `context.extensions` (`namespace`, `facts`: JSON text). This pack reads none; for example:
#   wit.ExtensionSchema(namespace="acme", description="Acme change facts: the CAB reference",
#       schema=json.dumps({"type": "object", "properties": {"cab_reference": {"type": "string"}},
#                          "additionalProperties": False}))
EXTENSIONS: list = []

METADATA = wit.PolicyMetadata(
    id=POLICY_ID,
    framework=FRAMEWORK,
    version=VERSION,
    description=f"{FRAMEWORK}: every production change has an approved ticket and an independent approval",
    controls=CONTROLS,
    settings_schema=json.dumps(SETTINGS_SCHEMA),
    extensions=EXTENSIONS,
)


def invalid_settings(why: str):
    """The `err` case of `result<_, eval-error>`."""
    raise Err(EvalError_InvalidSettings(why))


def parse_settings(text: str) -> dict:
    settings = {"production_environments": ["production"]}
    if not text.strip():
        return settings
    try:
        given = json.loads(text)
    except ValueError as error:
        invalid_settings(f"settings are not JSON: {error}")
    if not isinstance(given, dict):
        invalid_settings("settings must be an object")
    for key, value in given.items():
        if key != "production_environments":
            invalid_settings(f"`{key}`: unknown field")
        if not (isinstance(value, list) and value and all(isinstance(e, str) and e.strip() for e in value)):
            invalid_settings("`production_environments`: a non-empty list of environment names")
        settings[key] = value
    return settings


def nanos(t) -> int:
    return t.seconds * 1_000_000_000 + t.nanoseconds


def finding(rule_id: str, message: str, remediation: str, field_path: str) -> wit.Finding:
    return wit.Finding(
        rule_id=rule_id,
        control_id=CC_01,
        severity=wit.Severity.HIGH,
        message=message,
        remediation=remediation,
        field_path=field_path,
    )


def decide(manifest: ChangeManifest, settings: dict, context: EvaluationContext) -> wit.Decision:
    change = manifest.change
    if change.environment not in settings["production_environments"]:
        reason = f"`{change.environment}` is not a production environment"
        return wit.Decision(
            policy_id=POLICY_ID,
            framework=FRAMEWORK,
            applicable=False,
            outcome=wit.Outcome.APPROVED,
            risk=None,
            routing=None,
            findings=[],
            controls=[
                wit.ControlResult(control_id=c.id, status=wit.ControlStatus.NOT_APPLICABLE, evidence=[reason])
                for c in CONTROLS
            ],
            obligations=[],
            summary=f"Not applicable: {reason}.",
        )

    findings = []
    evidence = []
    if change.ticket_status == TicketStatus.APPROVED:
        evidence.append(f"change ticket {change.id} is approved")
    else:
        findings.append(finding(
            TICKET_NOT_APPROVED,
            f"change ticket {change.id} is not approved",
            "have the change ticket approved before deploying",
            "change.ticket_status",
        ))
    now = nanos(context.now)
    independent = [
        a.by for a in change.approvals
        if a.by != change.author and a.by != change.deployer and nanos(a.at) <= now
    ]
    if independent:
        evidence.append("approved by " + ", ".join(independent))
    else:
        findings.append(finding(
            NO_INDEPENDENT_APPROVAL,
            f"no approval by someone other than the author `{change.author}` and the deployer "
            f"`{change.deployer}`, given before the evaluation",
            "have someone independent of the change approve it",
            "change.approvals",
        ))

    denied = any(f.severity in (wit.Severity.HIGH, wit.Severity.CRITICAL) for f in findings)
    return wit.Decision(
        policy_id=POLICY_ID,
        framework=FRAMEWORK,
        applicable=True,
        outcome=wit.Outcome.DENIED if denied else wit.Outcome.APPROVED,
        risk=None,  # no risk model (optional since 0.3.0)
        routing=None,  # routes no approvals (optional since 0.3.0)
        findings=findings,
        controls=[wit.ControlResult(
            control_id=CC_01,
            status=wit.ControlStatus.NON_COMPLIANT if findings else wit.ControlStatus.COMPLIANT,
            evidence=evidence,
        )],
        obligations=[],
        summary=(
            "Denied: " + ", ".join(f"{f.rule_id} ({f.control_id})" for f in findings) + "."
            if denied
            else "Approved: the change has an approved ticket and an independent approval."
        ),
    )


class WitWorld(Policy):
    def metadata(self) -> wit.PolicyMetadata:
        return METADATA

    def validate_settings(self, settings: str) -> None:
        parse_settings(settings)

    def evaluate(self, manifest: ChangeManifest, settings: str, context: EvaluationContext) -> wit.Decision:
        try:
            return decide(manifest, parse_settings(settings), context)
        except Err:
            raise
        except Exception as error:  # a bug is an `internal` error, never a trap
            raise Err(EvalError_Internal(f"{type(error).__name__}: {error}")) from None
