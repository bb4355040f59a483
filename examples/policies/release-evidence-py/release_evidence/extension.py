"""The `acme_release` manifest extension: release facts the core manifest does not carry.

A manifest holds them under `extensions.acme_release`; the host validates the object against
`SCHEMA` (declared in the pack's metadata) before any policy runs, and passes it to this pack as
JSON text in `evaluation-context.extensions`. The pack parses it again and treats a malformed
object as an invalid manifest, never as absent evidence.

Every fact is optional: an absent fact is absent evidence, and the controls that rest on it fail
closed (a finding), they do not pass.
"""

import json
import re
from dataclasses import dataclass
from typing import Optional

NAMESPACE = "acme_release"
DESCRIPTION = "Acme release facts: service tier, release notes, artifact digest and SBOM, evidence archive"

TIER = re.compile(r"^[a-z0-9][a-z0-9-]*$")
HTTPS_URL = re.compile(r"^https://\S+$")
DIGEST = re.compile(r"^sha(256:[0-9a-f]{64}|512:[0-9a-f]{128})$")

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://tollgate.example/packs/acme-release-evidence/acme_release.schema.json",
    "title": "acme_release",
    "description": DESCRIPTION,
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "service_tier": {
            "description": "Service tier of the released service (a key of required_suites_by_tier).",
            "type": "string",
            "pattern": TIER.pattern,
        },
        "release_notes_url": {
            "description": "Where the release notes are published.",
            "type": "string",
            "pattern": HTTPS_URL.pattern,
        },
        "artifact_digest": {
            "description": "Content digest of the artifact released, e.g. an OCI image digest.",
            "type": "string",
            "pattern": DIGEST.pattern,
        },
        "sbom_attached": {
            "description": "Whether the artifact's SBOM (SPDX or CycloneDX) is attached to the release.",
            "type": "boolean",
        },
        "evidence_archive": {
            "description": "Where the release's evidence is archived.",
            "type": "object",
            "additionalProperties": False,
            "required": ["uri", "retention_days", "immutable"],
            "properties": {
                "uri": {"type": "string", "minLength": 1},
                "retention_days": {"type": "integer", "minimum": 0},
                "immutable": {"type": "boolean", "description": "WORM storage (object lock)."},
            },
        },
    },
}

SCHEMA_JSON = json.dumps(SCHEMA, indent=None, sort_keys=True, separators=(",", ":"))


class ExtensionError(Exception):
    """The extension's facts do not have the declared shape."""


@dataclass(frozen=True)
class Archive:
    uri: str
    retention_days: int
    immutable: bool


@dataclass(frozen=True)
class ReleaseFacts:
    """The `acme_release` facts; `present` is false when the manifest has no such namespace."""

    present: bool = False
    service_tier: Optional[str] = None
    release_notes_url: Optional[str] = None
    artifact_digest: Optional[str] = None
    sbom_attached: Optional[bool] = None
    evidence_archive: Optional[Archive] = None


def _field(facts: dict, key: str, kind, pattern=None):
    value = facts.get(key)
    if value is None:
        return None
    path = f"extensions.{NAMESPACE}.{key}"
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ExtensionError(f"`{path}`: must be a {kind.__name__}")
    if pattern is not None and not pattern.match(value):
        raise ExtensionError(f"`{path}`: `{value}` must match `{pattern.pattern}`")
    return value


def parse(extensions) -> ReleaseFacts:
    """The `acme_release` facts out of the context's extensions (a list of namespace and JSON text)."""
    texts = [e.facts for e in extensions if e.namespace == NAMESPACE]
    if not texts:
        return ReleaseFacts()
    if len(texts) > 1:
        raise ExtensionError(f"`extensions.{NAMESPACE}`: passed more than once")
    try:
        facts = json.loads(texts[0])
    except ValueError as error:
        raise ExtensionError(f"`extensions.{NAMESPACE}`: not valid JSON: {error}") from None
    if not isinstance(facts, dict):
        raise ExtensionError(f"`extensions.{NAMESPACE}`: must be an object")
    unknown = sorted(set(facts) - set(SCHEMA["properties"]))
    if unknown:
        raise ExtensionError(f"`extensions.{NAMESPACE}.{unknown[0]}`: not a fact of this namespace")
    archive = None
    raw_archive = facts.get("evidence_archive")
    if raw_archive is not None:
        path = f"extensions.{NAMESPACE}.evidence_archive"
        if not isinstance(raw_archive, dict):
            raise ExtensionError(f"`{path}`: must be an object")
        uri = raw_archive.get("uri")
        days = raw_archive.get("retention_days")
        immutable = raw_archive.get("immutable")
        if not isinstance(uri, str) or not uri:
            raise ExtensionError(f"`{path}.uri`: must be a non-empty string")
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ExtensionError(f"`{path}.retention_days`: must be a non-negative integer")
        if not isinstance(immutable, bool):
            raise ExtensionError(f"`{path}.immutable`: must be true or false")
        archive = Archive(uri=uri, retention_days=days, immutable=immutable)
    return ReleaseFacts(
        present=True,
        service_tier=_field(facts, "service_tier", str, TIER),
        release_notes_url=_field(facts, "release_notes_url", str, HTTPS_URL),
        artifact_digest=_field(facts, "artifact_digest", str, DIGEST),
        sbom_attached=_field(facts, "sbom_attached", bool),
        evidence_archive=archive,
    )
