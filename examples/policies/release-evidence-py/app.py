"""The component's entry point: the `tollgate:policy@0.3.0` world's exports, as componentize-py
expects them (a class named after the world's protocol, `WitWorld`, in the module named on the
command line).

This module only converts: the decision logic is in `release_evidence` and knows nothing of the
bindings. How an error is returned: a WIT function returning `result<T, eval-error>` returns `T`
and raises `componentize_py_types.Err(<case>)` for the error, where `<case>` is one of the
generated dataclasses `EvalError_InvalidSettings`, `EvalError_InvalidManifest`,
`EvalError_Internal` (module `wit_world.imports.decision`), each with one field, `value`. Any other
exception would trap, so every other exception is turned into `internal` here.

Everything is imported at the top: componentize-py runs this module at build time and snapshots
the interpreter; at run time the component has no file system (its WASI imports are trapping
stubs), so an import inside a function would trap.
"""

from componentize_py_types import Err
from wit_world import EvaluationContext, WitWorld as Policy
from wit_world.imports import decision as wit
from wit_world.imports.decision import (
    EvalError_Internal,
    EvalError_InvalidManifest,
    EvalError_InvalidSettings,
)

from release_evidence import assemble, catalogue, extension, settings

SUPPORTED_MANIFEST_VERSION = 1

STATUS = {
    "compliant": wit.ControlStatus.COMPLIANT,
    "non-compliant": wit.ControlStatus.NON_COMPLIANT,
    "not-applicable": wit.ControlStatus.NOT_APPLICABLE,
}
SEVERITY = {s.name.lower(): s for s in wit.Severity}
OUTCOME = {"approved": wit.Outcome.APPROVED, "denied": wit.Outcome.DENIED}


def _metadata() -> wit.PolicyMetadata:
    return wit.PolicyMetadata(
        id=catalogue.POLICY_ID,
        framework=catalogue.FRAMEWORK,
        version=catalogue.VERSION,
        description=catalogue.DESCRIPTION,
        controls=[
            wit.Control(
                id=c.id,
                title=c.title,
                description=c.description,
                references=[wit.RegulatoryReference(source=s, section=n) for s, n in c.references],
                rules=list(c.rules),
                relies_on=list(c.relies_on),
            )
            for c in catalogue.CONTROLS
        ],
        settings_schema=settings.SCHEMA_JSON,
        extensions=[
            wit.ExtensionSchema(
                namespace=extension.NAMESPACE,
                description=extension.DESCRIPTION,
                schema=extension.SCHEMA_JSON,
            )
        ],
    )


# Built once, at build time, into the snapshot.
METADATA = _metadata()


def _settings(text: str) -> settings.Settings:
    try:
        return settings.parse(text)
    except settings.SettingsError as error:
        raise Err(EvalError_InvalidSettings(str(error))) from None


def _decision(result: assemble.Outcome) -> wit.Decision:
    return wit.Decision(
        policy_id=catalogue.POLICY_ID,
        framework=catalogue.FRAMEWORK,
        applicable=result.applicable,
        outcome=OUTCOME[result.outcome],
        risk=None,  # no risk model (optional since 0.3.0)
        routing=None,  # routes no approvals (optional since 0.3.0)
        findings=[
            wit.Finding(
                rule_id=f.rule_id,
                control_id=f.control_id,
                severity=SEVERITY[f.severity],
                message=f.message,
                remediation=f.remediation,
                field_path=f.field_path,
            )
            for f in result.findings
        ],
        controls=[
            wit.ControlResult(control_id=c.control_id, status=STATUS[c.status], evidence=list(c.evidence))
            for c in result.controls
        ],
        obligations=[
            wit.Obligation(
                id=o.id,
                control_id=o.control_id,
                description=o.description,
                due_within_days=o.due_within_days,
            )
            for o in result.obligations
        ],
        summary=result.summary,
    )


class WitWorld(Policy):
    def metadata(self) -> wit.PolicyMetadata:
        return METADATA

    def validate_settings(self, settings_json: str) -> None:
        try:
            _settings(settings_json)
        except Err:
            raise
        except Exception as error:  # noqa: BLE001 - a bug must be an error, never a trap
            raise Err(EvalError_Internal(f"{type(error).__name__}: {error}")) from None

    def evaluate(self, manifest, settings_json: str, context: EvaluationContext) -> wit.Decision:
        try:
            if manifest.version != SUPPORTED_MANIFEST_VERSION:
                raise Err(
                    EvalError_InvalidManifest(
                        f"`version`: manifest version {manifest.version} is not supported "
                        f"(this pack reads version {SUPPORTED_MANIFEST_VERSION})"
                    )
                )
            parsed = _settings(settings_json)
            try:
                facts = extension.parse(context.extensions)
            except extension.ExtensionError as error:
                raise Err(EvalError_InvalidManifest(str(error))) from None
            return _decision(assemble.decide(manifest, parsed, facts))
        except Err:
            raise
        except Exception as error:  # noqa: BLE001 - a bug must be an error, never a trap
            raise Err(EvalError_Internal(f"{type(error).__name__}: {error}")) from None
