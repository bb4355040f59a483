"""OPA's Python client (PyPI `opa-python-client`), unchanged, against a real `tollgate serve`: every
example manifest gets the decisions `tollgate eval` reached (tests/engines/opa_cases.py), and every
`decision_id` is the id of a durable record in the decision log."""

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from opa_client.opa import OpaClient

from conftest import ENGINES

CASES = json.loads((ENGINES / "opa-clients" / "cases.json").read_text())["cases"]


@pytest.fixture(scope="module")
def server():
    binary = os.environ["TOLLGATE_BIN"]
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "audit.log"
        process = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--audit-log", str(log)],
            stdout=subprocess.PIPE, text=True,
        )
        try:
            line = process.stdout.readline()
            match = re.search(r"listening on http://([\d.]+):(\d+)", line)
            assert match, f"tollgate serve printed {line!r}"
            client = OpaClient(host=match.group(1), port=int(match.group(2)), timeout=60)
            yield client, log
            client.close_connection()
        finally:
            process.terminate()
            process.wait(timeout=30)


def record_ids(log: Path) -> set:
    return {json.loads(line)["record"]["id"] for line in log.read_text().splitlines() if line}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_query_rule_decides_as_tollgate_eval(server, case):
    client, log = server
    gate = client.query_rule(case["input"], "tollgate", "decision")
    assert gate["result"]["outcome"] == case["outcome"]
    ids = [gate["decision_id"]]
    for policy, expected in case["policies"].items():
        decision = client.query_rule(case["input"], f"tollgate.{policy}", "decision")
        assert decision["result"]["outcome"] == expected["outcome"], policy
        allow = client.query_rule(case["input"], f"tollgate.{policy}", "allow")
        assert allow["result"] is (expected["outcome"] == "approved"), policy
        deny = client.query_rule(case["input"], f"tollgate.{policy}", "deny", {"metrics": True})
        assert deny["result"] == expected["deny"], policy
        assert deny["metrics"]["timer_rego_query_eval_ns"] > 0
        ids += [decision["decision_id"], allow["decision_id"], deny["decision_id"]]
    assert set(ids) <= record_ids(log)
    assert len(set(ids)) == len(ids)


def test_health_policies_and_data_without_input(server):
    client, _ = server
    assert client.check_health()
    assert client.check_health({"bundles": True, "plugins": True})
    assert client.check_connection()
    info = client.get_policies_info()
    assert info["tollgate/sox"]["path"].endswith("/v1/data/tollgate/sox")
    assert sorted(r.rsplit("/", 1)[1] for r in info["tollgate/sox"]["rules"]) == ["allow", "decision", "deny"]
    assert set(client.get_policies_list()) == {"tollgate", "tollgate/sox", "tollgate/hipaa", "tollgate/pci", "tollgate/fda"}
    # Without input every rule is undefined and every package empty, as in OPA.
    assert client.get_data("tollgate") == {"result": {"fda": {}, "hipaa": {}, "pci": {}, "sox": {}}}


def test_an_invalid_manifest_is_opas_invalid_parameter(server):
    client, _ = server
    bad = json.loads(json.dumps(CASES[0]["input"]))
    bad["change"]["ticket_stauts"] = bad["change"].pop("ticket_status")
    response = client._session.post(
        f"{client.root_url}/data/tollgate/decision", json={"input": bad}, timeout=60
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert "ticket_stauts" in body["message"]
