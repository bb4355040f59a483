"""Every golden case through each policy built as an Extism plugin, in a real Extism host (the
Python Extism SDK and its native runtime), compared with the host's decision. Uses
examples/embedding/extism_policy.py, the snippet docs/embedding.md quotes."""

import json

import extism
import pytest

from conftest import CORPUS, ENGINES, case_params, policy_params
from extism_policy import evaluate

_plugins = {}


def plugin(policy_id):
    if policy_id not in _plugins:
        wasm = (ENGINES / "extism" / f"{policy_id}.wasm").read_bytes()
        _plugins[policy_id] = extism.Plugin(wasm, wasi=False)
    return _plugins[policy_id]


@pytest.mark.parametrize("entry", policy_params())
def test_metadata_equals_the_hosts(entry):
    assert json.loads(plugin(entry["id"]).call("metadata", b"")) == entry["metadata"]


@pytest.mark.parametrize("entry", policy_params())
def test_validate_settings(entry):
    ok = json.loads(plugin(entry["id"]).call("validate_settings", ""))
    assert ok == {"valid": True}
    bad = json.loads(plugin(entry["id"]).call("validate_settings", '{"key_rotation_max_days": "soon"}'))
    assert bad["valid"] is False
    assert bad["error"]["kind"] == "invalid_settings"
    assert "key_rotation_max_days" in bad["error"]["message"]


@pytest.mark.parametrize("entry", policy_params())
def test_a_misspelt_field_fails_the_call_with_its_path(entry):
    case = next(c for c in CORPUS["cases"] if c["policy"] == entry["id"])
    manifest = dict(case["manifest"], change=dict(case["manifest"]["change"]))
    manifest["change"]["ticket_stauts"] = manifest["change"].pop("ticket_status")
    got = evaluate(plugin(entry["id"]), manifest, None, case["now"])
    assert got["error"]["kind"] == "invalid_manifest"
    assert "`manifest.change.ticket_stauts`" in got["error"]["message"]


@pytest.mark.parametrize("case", case_params())
def test_golden_case(case):
    # The manifest as written in the case file: the plugin applies the defaults itself.
    got = evaluate(plugin(case["policy"]), case["manifest"], case["settings"], case["now"])
    assert got == case["expected"]
