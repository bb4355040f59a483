"""Every golden case through each policy built as an OPA Wasm ABI 1.3 module, in opa-py-wasm (OPA
Wasm SDK for Python on wasmtime), compared with the host's decision; the three entrypoints agree;
the OPA bundle written by `tollgate policies --export DIR --format opa-bundle` is read as OPA
documents the format and answers through its modules. Uses examples/embedding/opa_policy.py,
the snippet docs/opa.md quotes."""

import json
import tarfile

import pytest

from conftest import CORPUS, ENGINES, case_params, policy_params
from opa_common import assert_same_as_host, deny_messages
from opa_policy import evaluate, load_policy

_policies = {}


def policy(policy_id):
    if policy_id not in _policies:
        _policies[policy_id] = load_policy(ENGINES / "opa" / f"{policy_id}.wasm")
    return _policies[policy_id]


@pytest.mark.parametrize("case", case_params())
def test_golden_case(case):
    loaded = policy(case["policy"])
    got = evaluate(loaded, case["policy"], case["manifest"], case["settings"], case["now"])
    assert_same_as_host(got, case["expected"])
    if "decision" in got:
        decision = got["decision"]
        assert loaded.evaluate(case["manifest"], f"tollgate/{case['policy']}/allow") is (
            decision["outcome"] == "approved"
        )
        assert loaded.evaluate(case["manifest"], f"tollgate/{case['policy']}/deny") == deny_messages(decision)


@pytest.mark.parametrize("entry", policy_params())
def test_abi_and_entrypoints(entry):
    loaded = policy(entry["id"])
    assert loaded.abi_version == (1, 3)
    assert loaded.entrypoints == {f"tollgate/{entry['id']}/{name}": i for i, name in enumerate(["decision", "allow", "deny"])}
    assert loaded.builtins == {"time.now_ns": 0}


def read_bundle(path):
    with tarfile.open(path, "r:gz") as tar:
        return {member.name: tar.extractfile(member).read() for member in tar.getmembers() if member.isfile()}


def test_the_bundle_is_a_standard_opa_bundle_answering_through_its_modules():
    files = read_bundle(ENGINES / "opa" / "bundle.tar.gz")
    # `opa build` layout: /.manifest, /data.json, and Wasm modules named policy.wasm.
    assert set(files) == {"/.manifest", "/data.json"} | {f"/tollgate/{p['id']}/policy.wasm" for p in CORPUS["policies"]}
    manifest = json.loads(files["/.manifest"])
    assert manifest["roots"] == ["tollgate"]
    assert isinstance(manifest["revision"], str) and manifest["revision"]
    data = json.loads(files["/data.json"])  # root data.json: merged at the root of `data`
    assert set(data) == {"tollgate"}
    expected_entrypoints = {f"tollgate/{p['id']}/{e}" for p in CORPUS["policies"] for e in ("decision", "allow", "deny")}
    assert {w["entrypoint"] for w in manifest["wasm"]} == expected_entrypoints
    for resolver in manifest["wasm"]:
        # Entrypoints are slash-separated refs under a root; modules are files of the bundle.
        assert resolver["entrypoint"].split("/")[0] in manifest["roots"]
        assert resolver["module"].endswith("/policy.wasm") and resolver["module"] in files
    for entry in CORPUS["policies"]:
        module = files[f"/tollgate/{entry['id']}/policy.wasm"]
        assert module == (ENGINES / "opa" / f"{entry['id']}.wasm").read_bytes()
        case = next(c for c in CORPUS["cases"] if c["policy"] == entry["id"] and c["settings"] is None and "decision" in c["expected"])
        from opapywasm import OpaWasmPolicy

        loaded = OpaWasmPolicy.from_wasm_bytes(module)
        bundle_data = json.loads(files["/data.json"])
        bundle_data["tollgate"]["now"] = case["now"]
        loaded.set_data(bundle_data)  # the default settings of data.json
        decision = loaded.evaluate(case["manifest"], f"tollgate/{entry['id']}/decision")
        assert decision == case["expected"]["decision"]
        loaded.close()
