"""Every golden case through each policy component in Python's `wasmtime` package, compared with
the host's decision; the manifest's extension facts reach the components that declare them
(`evaluation-context.extensions`, since tollgate:policy@0.3.0), and the 0.4.0 facts (the `gxp` data
class, signature meanings) reach them. Uses examples/embedding/wasmtime_policy.py, the snippet
docs/embedding.md quotes."""

import copy

import pytest
from wasmtime import WasmtimeError

from conftest import CORPUS, ENGINES, case_params, declared_extensions, policy_params
from wasmtime_policy import Policy, extensions_for, from_wit_metadata

_policies = {}


def policy(policy_id):
    if policy_id not in _policies:
        entry = next(p for p in CORPUS["policies"] if p["id"] == policy_id)
        _policies[policy_id] = Policy(str(ENGINES / entry["component"]))
    return _policies[policy_id]


@pytest.mark.parametrize("entry", policy_params())
def test_metadata_equals_the_hosts(entry):
    assert from_wit_metadata(policy(entry["id"]).call("metadata")) == entry["metadata"]


@pytest.mark.parametrize("case", case_params())
def test_golden_case(case):
    got = policy(case["policy"]).evaluate(case["manifest_normalized"], case["settings_json"], case["now"])
    assert got == case["expected"]


def test_the_context_carries_the_declared_namespaces_sorted_as_compact_json():
    metadata = {"extensions": [{"namespace": "zeta"}, {"namespace": "acme"}]}
    extensions = {"zeta": {"b": [1, 2], "a": "ü"}, "other": {"x": 1}, "acme": {"release": {"train": "R7"}}}
    records = extensions_for(metadata, extensions)
    assert [(r.namespace, r.facts) for r in records] == [
        ("acme", '{"release":{"train":"R7"}}'),
        ("zeta", '{"b":[1,2],"a":"ü"}'),
    ]
    assert extensions_for({"controls": []}, extensions) == []


def test_extension_facts_reach_the_policies_that_declare_them():
    # The golden cases whose manifest holds a namespace its policy declares: each equals the host's
    # decision (test_golden_case); withheld, the facts change at least one result, so they were read.
    cases = [c for c in CORPUS["cases"] if declared_extensions(c)]
    if not cases:  # the probe below checks the facts' delivery without the corpus
        pytest.skip("no golden case has extension facts for a policy that declares them")
    changed = [
        c["name"]
        for c in cases
        if policy(c["policy"]).evaluate({**c["manifest_normalized"], "extensions": {}}, c["settings_json"], c["now"])
        != c["expected"]
    ]
    assert changed, f"withholding the extension facts changes none of {[c['name'] for c in cases]}"


PROBE_EXTENSIONS = {"zulu": {"undeclared": True}, "beta": {"k": [1, "ü"]}, "acme": {"release": {"train": "R7"}}}
PROBE_EVIDENCE = ['acme {"release":{"train":"R7"}}', 'beta {"k":[1,"ü"]}']


def test_a_0_3_0_component_receives_exactly_the_declared_extension_facts():
    # extensions-probe/echo.js declares `beta` and `acme` and echoes what it receives as evidence.
    echo = Policy(str(ENGINES / "probe" / "echo.wasm"))
    case = CORPUS["cases"][0]
    manifest = {**case["manifest_normalized"], "extensions": PROBE_EXTENSIONS}
    decision = echo.evaluate(manifest, "", case["now"])["decision"]
    assert decision["controls"][0]["evidence"] == PROBE_EVIDENCE
    # No risk model, no routing: no keys; the finding's references come from the catalogue.
    assert "risk" not in decision and "routing" not in decision
    assert decision["findings"][0]["references"] == [{"source": "Tollgate contract", "section": "0.3.0"}]
    assert [e["namespace"] for e in echo.metadata["extensions"]] == ["beta", "acme"]
    assert '"mode"' in echo.metadata["settings_schema"]
    # A thrown `eval-error` variant is the `err` case; any other exception traps.
    assert echo.evaluate(manifest, '{"mode":"fail"}', case["now"]) == {
        "error": {"kind": "invalid_settings", "message": "mode `fail` asked for an error"}
    }
    with pytest.raises(WasmtimeError):
        echo.evaluate(manifest, '{"mode":"trap"}', case["now"])


def test_the_0_4_0_facts_reach_a_component():
    # SOX reads neither the gxp data class nor signature meanings, so its decision stays the case's;
    # a meaning that is none of the four is refused by the lowering, so the field is part of the
    # record the component receives. Last in the file: the failed call may leave the instance unusable.
    case = next(
        c
        for c in CORPUS["cases"]
        if c["policy"] == "sox" and "decision" in c["expected"] and c["manifest_normalized"]["change"]["approvals"]
    )
    manifest = copy.deepcopy(case["manifest_normalized"])
    manifest["change"]["data_classes"].append("gxp")
    for approval in manifest["change"]["approvals"]:
        approval["meaning"] = "approval"
    assert policy("sox").evaluate(manifest, case["settings_json"], case["now"]) == case["expected"]
    manifest["change"]["approvals"][0]["meaning"] = "consent"
    with pytest.raises(Exception):
        policy("sox").evaluate(manifest, case["settings_json"], case["now"])
