"""The pack's settings: their JSON Schema (declared in the metadata, so that the host validates a
settings document before any evaluation), their defaults, and the parser the pack itself runs.

The host validates against the schema first, but `validate-settings` and `evaluate` check again:
a pack must not trust its input, and some rules need more than a schema can say (`default_tier`
and `sbom_required_tiers` must name tiers of `required_suites_by_tier`). Errors name the field:
`` `field`: what is wrong ``, as the built-in packs do.
"""

import json
import re
from dataclasses import dataclass
from typing import Dict, Tuple

NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")

DEFAULTS = {
    # Shared with the built-in packs: a settings file's `defaults` section may set it for all.
    "production_environments": ["production"],
    "required_suites_by_tier": {
        "tier-1": ["unit", "integration", "e2e", "performance"],
        "tier-2": ["unit", "integration", "e2e"],
        "tier-3": ["unit"],
    },
    "default_tier": "tier-1",
    "sbom_required_tiers": ["tier-1", "tier-2"],
    "release_notes_locations": [],
    "evidence_retention_days": 2555,
    "emergency_documentation_days": 2,
    "require_full_commit_sha": True,
}

_NAMES = {
    "type": "array",
    "items": {"type": "string", "pattern": NAME.pattern},
    "uniqueItems": True,
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://tollgate.example/packs/acme-release-evidence/settings.schema.json",
    "title": "Acme Release Evidence settings",
    "description": "Every key is optional; an absent key takes its default.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "production_environments": {
            "description": "Environments the policy applies to (shared `defaults` key).",
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "uniqueItems": True,
            "default": DEFAULTS["production_environments"],
        },
        "required_suites_by_tier": {
            "description": "Test suites each service tier must pass; replaces the default map whole.",
            "type": "object",
            "propertyNames": {"pattern": NAME.pattern},
            "additionalProperties": _NAMES,
            "minProperties": 1,
            "default": DEFAULTS["required_suites_by_tier"],
        },
        "default_tier": {
            "description": "Tier of a release that names none; must be a key of required_suites_by_tier.",
            "type": "string",
            "pattern": NAME.pattern,
            "default": DEFAULTS["default_tier"],
        },
        "sbom_required_tiers": dict(
            _NAMES,
            description="Tiers whose releases must attach an SBOM.",
            default=DEFAULTS["sbom_required_tiers"],
        ),
        "release_notes_locations": {
            "description": "URL prefixes of the controlled document system; empty: any https URL.",
            "type": "array",
            "items": {"type": "string", "pattern": "^https://"},
            "uniqueItems": True,
            "default": DEFAULTS["release_notes_locations"],
        },
        "evidence_retention_days": {
            "description": "Minimum retention of the release evidence archive, in days.",
            "type": "integer",
            "minimum": 1,
            "maximum": 36500,
            "default": DEFAULTS["evidence_retention_days"],
        },
        "emergency_documentation_days": {
            "description": "Days an emergency change has to publish its release notes.",
            "type": "integer",
            "minimum": 1,
            "maximum": 30,
            "default": DEFAULTS["emergency_documentation_days"],
        },
        "require_full_commit_sha": {
            "description": "Whether an abbreviated commit id is a finding (medium).",
            "type": "boolean",
            "default": DEFAULTS["require_full_commit_sha"],
        },
    },
}

SCHEMA_JSON = json.dumps(SCHEMA, indent=None, sort_keys=True, separators=(",", ":"))


class SettingsError(Exception):
    """Invalid settings: `field` is the dotted path of the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"`{field}`: {message}" if field else message)
        self.field = field


@dataclass(frozen=True)
class Settings:
    """The settings after defaults and validation."""

    production_environments: Tuple[str, ...]
    required_suites_by_tier: Dict[str, Tuple[str, ...]]
    default_tier: str
    sbom_required_tiers: Tuple[str, ...]
    release_notes_locations: Tuple[str, ...]
    evidence_retention_days: int
    emergency_documentation_days: int
    require_full_commit_sha: bool

    def is_production(self, environment: str) -> bool:
        return environment in self.production_environments


def _string_list(field: str, value, pattern=None, prefix=None, min_items=0) -> Tuple[str, ...]:
    if not isinstance(value, list):
        raise SettingsError(field, "must be a list of strings")
    if len(value) < min_items:
        raise SettingsError(field, f"must name at least {min_items} entry")
    seen = set()
    for index, item in enumerate(value):
        path = f"{field}[{index}]"
        if not isinstance(item, str) or not item.strip():
            raise SettingsError(path, "must be a non-empty string")
        if pattern is not None and not pattern.match(item):
            raise SettingsError(path, f"`{item}` must match `{pattern.pattern}`")
        if prefix is not None and not item.startswith(prefix):
            raise SettingsError(path, f"`{item}` must start with `{prefix}`")
        if item in seen:
            raise SettingsError(path, f"`{item}` is listed twice")
        seen.add(item)
    return tuple(value)


def _integer(field: str, value, low: int, high: int) -> int:
    # bool is an int in Python; JSON true is not an integer.
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(field, "must be an integer")
    if not low <= value <= high:
        raise SettingsError(field, f"must be between {low} and {high}, got {value}")
    return value


def parse(text: str) -> Settings:
    """Parses and validates settings JSON text; blank text means every default."""
    raw = {}
    if text.strip():
        try:
            raw = json.loads(text)
        except ValueError as error:
            raise SettingsError("", f"not valid JSON: {error}") from None
        if not isinstance(raw, dict):
            raise SettingsError("", "settings must be a JSON object")
    for key in sorted(raw):
        if key not in DEFAULTS:
            raise SettingsError(key, "unknown setting (a misspelt setting must not fall back to a default)")
    value = dict(DEFAULTS, **raw)

    environments = _string_list("production_environments", value["production_environments"], min_items=1)

    tiers_raw = value["required_suites_by_tier"]
    if not isinstance(tiers_raw, dict) or not tiers_raw:
        raise SettingsError("required_suites_by_tier", "must be a non-empty object of tier -> suites")
    tiers = {}
    for tier in sorted(tiers_raw):
        if not NAME.match(tier):
            raise SettingsError(f"required_suites_by_tier.{tier}", f"tier name must match `{NAME.pattern}`")
        tiers[tier] = _string_list(f"required_suites_by_tier.{tier}", tiers_raw[tier], pattern=NAME)

    default_tier = value["default_tier"]
    if not isinstance(default_tier, str):
        raise SettingsError("default_tier", "must be a string")
    if default_tier not in tiers:
        raise SettingsError(
            "default_tier", f"`{default_tier}` is not a tier of required_suites_by_tier ({', '.join(tiers)})"
        )

    sbom_tiers = _string_list("sbom_required_tiers", value["sbom_required_tiers"], pattern=NAME)
    for index, tier in enumerate(sbom_tiers):
        if tier not in tiers:
            raise SettingsError(
                f"sbom_required_tiers[{index}]", f"`{tier}` is not a tier of required_suites_by_tier"
            )

    locations = _string_list("release_notes_locations", value["release_notes_locations"], prefix="https://")

    require_full = value["require_full_commit_sha"]
    if not isinstance(require_full, bool):
        raise SettingsError("require_full_commit_sha", "must be true or false")

    return Settings(
        production_environments=environments,
        required_suites_by_tier=tiers,
        default_tier=default_tier,
        sbom_required_tiers=sbom_tiers,
        release_notes_locations=locations,
        evidence_retention_days=_integer("evidence_retention_days", value["evidence_retention_days"], 1, 36500),
        emergency_documentation_days=_integer(
            "emergency_documentation_days", value["emergency_documentation_days"], 1, 30
        ),
        require_full_commit_sha=require_full,
    )
