"""Running a Tollgate policy as an Extism plugin, with the Python Extism SDK.

Tested by tests/engines/test_extism.py over every golden case; docs/embedding.md quotes the part
between the `embed:` markers. The plugins are built by tests/engines/run
(`cargo build -p tollgate-extism-sox --target wasm32-unknown-unknown --profile policy`).
"""

# embed:start
import json

import extism


def evaluate(plugin, manifest, settings, now):
    """`manifest`: the manifest as a JSON object; `settings`: the policy's settings or None."""
    request = json.dumps({"manifest": manifest, "settings": settings, "now": now})
    try:
        return {"decision": json.loads(plugin.call("evaluate", request))}
    except extism.Error as error:  # the policy could not evaluate: never an approval
        return {"error": json.loads(str(error))}

# plugin = extism.Plugin(open("tollgate_extism_sox.wasm", "rb").read(), wasi=False)
# print(evaluate(plugin, manifest, None, "2026-06-01T00:00:00Z")["decision"]["outcome"])
# embed:end
