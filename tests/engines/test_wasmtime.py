"""Every golden case through each policy component in Python's `wasmtime` package, compared with
the host's decision. Uses examples/embedding/wasmtime_policy.py, the snippet docs/embedding.md quotes."""

import pytest

from conftest import CORPUS, ENGINES, case_params, policy_params
from wasmtime_policy import Policy, from_wit

_policies = {}


def policy(policy_id):
    if policy_id not in _policies:
        entry = next(p for p in CORPUS["policies"] if p["id"] == policy_id)
        _policies[policy_id] = Policy(str(ENGINES / entry["component"]))
    return _policies[policy_id]


@pytest.mark.parametrize("entry", policy_params())
def test_metadata_equals_the_hosts(entry):
    assert from_wit(policy(entry["id"]).call("metadata")) == entry["metadata"]


@pytest.mark.parametrize("case", case_params())
def test_golden_case(case):
    got = policy(case["policy"]).evaluate(case["manifest_normalized"], case["settings_json"], case["now"])
    assert got == case["expected"]
