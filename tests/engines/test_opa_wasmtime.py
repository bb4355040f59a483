"""Every golden case through each policy built as an OPA Wasm ABI 1.3 module, in opa-wasmtime (OPA
WebAssembly SDK for Python on wasmtime), compared with the host's decision; 10,000 evaluations on one
loaded instance keep its memory flat. Uses examples/embedding/opa_policy.py, the snippet docs/opa.md quotes."""

import pytest

from conftest import CORPUS, ENGINES, case_params
from opa_common import assert_same_as_host
from opa_policy import evaluate_wasmtime, load_wasmtime_policy

_policies = {}


def policy(policy_id):
    if policy_id not in _policies:
        _policies[policy_id] = load_wasmtime_policy(str(ENGINES / "opa" / f"{policy_id}.wasm"))
    return _policies[policy_id]


@pytest.mark.parametrize("case", case_params())
def test_golden_case(case):
    got = evaluate_wasmtime(policy(case["policy"]), case["policy"], case["manifest"], case["settings"], case["now"])
    assert_same_as_host(got, case["expected"])


def test_10000_evaluations_keep_memory_flat():
    # The `allow` entrypoint: the same evaluation as `decision` (the whole decision is made), with a
    # short result (opa-wasmtime reads results one byte per call).
    case = next(c for c in CORPUS["cases"] if c["policy"] == "pci" and "decision" in c["expected"])
    loaded = load_wasmtime_policy(str(ENGINES / "opa" / "pci.wasm"))
    loaded.set_data({"tollgate": {"now": case["now"]}})
    allow = case["expected"]["decision"]["outcome"] == "approved"
    for _ in range(100):
        loaded.evaluate(case["manifest"], "tollgate/pci/allow")
    before = loaded.memory.data_len(loaded.store)
    for _ in range(10_000):
        assert loaded.evaluate(case["manifest"], "tollgate/pci/allow") == [{"result": allow}]
    after = loaded.memory.data_len(loaded.store)
    print(f"opa-wasmtime linear memory: {before} bytes after 100 evaluations, {after} after 10,100")
    assert after == before
