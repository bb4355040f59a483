"""Running a Tollgate policy as an OPA Wasm module with OPA's Python SDKs: opa-py-wasm
(`pip install opa-py-wasm`) and opa-wasmtime (`pip install opa-wasmtime`).

Tested by tests/engines/test_opa_py_wasm.py and test_opa_wasmtime.py over every golden case; docs/opa.md
quotes the parts between the `embed:` markers. The modules come from
`tollgate policies --export DIR --format opa-wasm`.
"""

import re

# embed:start
import time

from opapywasm import OpaAbortError, OpaWasmPolicy


def load_policy(path):
    policy = OpaWasmPolicy.from_wasm_file(path)
    # The evaluation time comes from `data.tollgate.now`, else from OPA's `time.now_ns` built-in.
    policy.register_builtin("time.now_ns", time.time_ns)
    return policy


def evaluate(policy, policy_id, manifest, settings, now):
    """`manifest`: the manifest as a JSON object; `settings`: the policy's settings or None."""
    policy.set_data({"tollgate": {"now": now, policy_id: {"settings": settings}}})
    try:
        return {"decision": policy.evaluate(manifest, f"tollgate/{policy_id}/decision")}
    except OpaAbortError as error:  # the policy could not evaluate: never an approval
        return {"error": abort_error(str(error))}

# sox = load_policy("sox.wasm")
# print(evaluate(sox, "sox", manifest, None, "2026-06-01T00:00:00Z")["decision"]["outcome"])
# print(sox.evaluate(manifest, "tollgate/sox/allow"))  # True only when approved
# embed:end

# embed-wasmtime:start
from opa_wasmtime import OPAPolicy


def load_wasmtime_policy(path):
    return OPAPolicy(path, builtins={"time.now_ns": time.time_ns})


def evaluate_wasmtime(policy, policy_id, manifest, settings, now):
    policy.set_data({"tollgate": {"now": now, policy_id: {"settings": settings}}})
    try:
        [result] = policy.evaluate(manifest, f"tollgate/{policy_id}/decision")
        return {"decision": result["result"]}
    except RuntimeError as error:  # "OPA Aborted with message: tollgate: ..."
        return {"error": abort_error(str(error))}
# embed-wasmtime:end

KINDS = {
    "invalid settings": "invalid_settings",
    "invalid manifest": "invalid_manifest",
    "internal policy error": "internal",
}


def abort_error(message):
    """The evaluation error of an abort message `tollgate: <kind>: <message>`."""
    found = re.search(r"tollgate: (invalid settings|invalid manifest|internal policy error): (.*)", message, re.S)
    if not found:
        return {"kind": "internal", "message": message}
    return {"kind": KINDS[found.group(1)], "message": found.group(2)}
