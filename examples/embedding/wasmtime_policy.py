"""Embedding a Tollgate policy component in Python with the `wasmtime` package. The component
implements `tollgate:policy@0.4.0` (wit/tollgate.wit).

Tested by tests/engines/test_wasmtime.py over every golden case; docs/embedding.md quotes the part
between the `embed:` markers.

The component takes the manifest as WIT records. wasmtime-py maps a record to an object whose
attributes are the WIT field names (kebab-case), an enum to its kebab-case case name, an option to
the value or None, and `result<T, E>` to the `ok` value or a `Variant` for `err`. The manifest here
is the JSON form of a manifest file with its defaults filled in; `to_wit` and `from_wit` convert
(the `provenance` mapping becomes a list of `fact-source` records). The manifest's `extensions`
object is not part of the `change-manifest` record: `extensions_for` turns the namespaces the policy
declared into the context's `extension` records. `from_wit_metadata` and `from_wit_decision` do what
the host does on its side of the contract: absent options and empty extension lists leave their keys
out, and each finding gets its control's regulatory references from the catalogue.
"""

import calendar
import json
import re
from datetime import datetime

from wasmtime import Engine, Store
from wasmtime.component import Component, Linker, Record, Variant

ENUM_FIELDS = {"ticket_status", "data_classes", "categories", "meaning", "strategy", "kind",
               "action", "outcome", "class", "score_class", "category_class", "severity", "status"}


class WitRecord(Record):
    """A record whose absent fields are absent options (None)."""

    def __getattr__(self, name):
        return None


def timestamp(text):
    """RFC 3339 text to the WIT `timestamp` record."""
    instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    fraction = re.search(r"\.(\d+)", text)
    record = WitRecord()
    record.seconds = calendar.timegm(instant.utctimetuple())
    record.nanoseconds = int(fraction.group(1).ljust(9, "0")[:9]) if fraction else 0
    return record


def to_wit(value, key=""):
    """A manifest (JSON form, snake_case) to the `change-manifest` record."""
    if isinstance(value, list):
        return [to_wit(v, key) for v in value]
    if key in ("at", "submitted_at") and value is not None:
        return timestamp(value)
    if isinstance(value, str) and key in ENUM_FIELDS:
        return value.replace("_", "-")
    if key == "provenance":  # field -> source mapping to the list of `fact-source` records
        return [to_wit({"field": field, "detail": None, **source}) for field, source in value.items()]
    if isinstance(value, dict):
        record = WitRecord()
        for k, v in value.items():
            setattr(record, k.replace("_", "-"), to_wit(v, k))
        return record
    return value


def from_wit(value, key=""):
    """A `decision` record (or any WIT value) back to the JSON form the CLI prints."""
    if isinstance(value, list):
        return [from_wit(v, key) for v in value]
    if isinstance(value, str) and key in ENUM_FIELDS:
        return value.replace("-", "_")
    if isinstance(value, Record):
        return {k.replace("-", "_"): from_wit(v, k.replace("-", "_")) for k, v in vars(value).items()}
    return value


def from_wit_metadata(record):
    """A `policy-metadata` record to the host's metadata JSON (`tollgate inspect --format json`, less its
    digest, size, imports and exports)."""
    metadata = from_wit(record)
    if metadata["settings_schema"] is None:
        del metadata["settings_schema"]
    if not metadata["extensions"]:
        del metadata["extensions"]
    return metadata


def from_wit_decision(record, metadata):
    """A `decision` record to the JSON form the CLI prints, with the references of `metadata`'s controls."""
    decision = from_wit(record)
    references = {control["id"]: control["references"] for control in metadata["controls"]}
    for finding in decision["findings"]:
        finding["references"] = references.get(finding["control_id"], [])
    for key in ("risk", "routing"):  # a policy without a risk model (or routing) leaves the key out
        if decision[key] is None:
            del decision[key]
    return decision


# embed:start
class Policy:
    """One policy component, instantiated once with an empty linker: it imports nothing."""

    def __init__(self, path):
        engine = Engine()
        self.store = Store(engine)
        component = Component.from_file(engine, path)
        self.instance = Linker(engine).instantiate(self.store, component)
        self.metadata = from_wit_metadata(self.call("metadata"))

    def call(self, name, *args):
        return self.instance.get_func(self.store, name)(self.store, *args)

    def evaluate(self, manifest, settings, now):
        manifest = {"provenance": {}, **manifest}
        context = WitRecord()
        context.now = timestamp(now)
        context.extensions = extensions_for(self.metadata, manifest.pop("extensions", None) or {})
        result = self.call("evaluate", to_wit(manifest), settings, context)
        if isinstance(result, Variant):  # `err`: the policy could not evaluate
            return {"error": {"kind": result.tag.replace("-", "_"), "message": result.payload}}
        return {"decision": from_wit_decision(result, self.metadata)}


def extensions_for(metadata, extensions):
    """The manifest's `extensions` namespaces the policy declared, by namespace, facts as JSON text."""
    declared = {schema["namespace"] for schema in metadata.get("extensions", [])}
    records = []
    for namespace in sorted(declared & extensions.keys()):
        record = WitRecord()
        record.namespace = namespace
        record.facts = json.dumps(extensions[namespace], separators=(",", ":"), ensure_ascii=False)
        records.append(record)
    return records

# sox = Policy("sox.wasm")
# print(sox.evaluate(manifest, "", "2026-06-01T00:00:00Z")["decision"]["outcome"])
# embed:end
