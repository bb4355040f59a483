"""Smoke test of dist/acme-release-evidence.wasm in Python's `wasmtime` package, without the
Tollgate host: the component imports nothing but the contract's type-only interfaces, its metadata
declares the settings schema and the `acme_release` extension, every golden case in tests/cases gives
its expected result, and every decision keeps the decision contract the host enforces
(crates/pipeline/src/contract.rs). It also times instantiation and evaluation under the host's
default limits (64 MiB of linear memory, 20 000 table elements, a fresh instance per evaluation).

    .venv-test/bin/python test/smoke.py        # after ./build; needs wasmtime==50.0.1 and PyYAML

It calls the component through examples/embedding/wasmtime_policy.py, the project's own Python
embedding, which converts manifests and decisions the way the host does.
"""

import json
import statistics
import sys
import time
from pathlib import Path

import yaml
from wasmtime import Engine, Store
from wasmtime.component import Component, Linker

PACK = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PACK.parent.parent / "embedding"))
from wasmtime_policy import Policy, WitRecord, extensions_for, timestamp, to_wit  # noqa: E402

COMPONENT = PACK / "dist" / "acme-release-evidence.wasm"
CASES = sorted((PACK / "tests" / "cases").glob("*.yaml"))
TYPE_ONLY = {"tollgate:policy/manifest@0.3.0", "tollgate:policy/decision@0.3.0"}
DENYING = {"high", "critical"}

failures = []


def fail(name, message):
    failures.append(f"{name}: {message}")


def check_imports(engine, component):
    imports = set(component.type.imports(engine))  # name -> item
    extra = imports - TYPE_ONLY
    if extra:
        fail("imports", f"the component imports {sorted(extra)}")
    return sorted(imports)


def check_metadata(metadata):
    assert metadata["id"] == "acme-release-evidence", metadata["id"]
    assert metadata["framework"] == "Acme Release Evidence"
    schema = json.loads(metadata["settings_schema"])
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "production_environments" in schema["properties"]
    [ext] = metadata["extensions"]
    assert ext["namespace"] == "acme_release"
    assert json.loads(ext["schema"])["type"] == "object"
    ids = [c["id"] for c in metadata["controls"]]
    assert len(ids) == len(set(ids)), "control ids repeat"
    for control in metadata["controls"]:
        assert control["references"], f"{control['id']} has no references"
        assert control["rules"], f"{control['id']} has no rules"


def check_contract(name, metadata, decision):
    """What crates/pipeline/src/contract.rs checks, for a pack without risk and routing."""
    catalogue = {c["id"]: c for c in metadata["controls"]}
    if (decision["policy_id"], decision["framework"]) != (metadata["id"], metadata["framework"]):
        fail(name, "decision names another policy")
    answered = [c["control_id"] for c in decision["controls"]]
    if answered != list(catalogue):
        fail(name, f"controls answered {answered}, catalogue {list(catalogue)}")
    status = {c["control_id"]: c["status"] for c in decision["controls"]}
    for finding in decision["findings"]:
        control = catalogue.get(finding["control_id"])
        if control is None or finding["rule_id"] not in control["rules"]:
            fail(name, f"finding {finding['rule_id']}@{finding['control_id']} is not a rule of its control")
        elif status.get(finding["control_id"]) != "non_compliant":
            fail(name, f"finding {finding['rule_id']} on a control that is not non-compliant")
    if "risk" in decision or "routing" in decision:
        fail(name, "a pack without a risk model returns no risk and no routing")
    denies = any(f["severity"] in DENYING for f in decision["findings"])
    if not decision["applicable"]:
        if decision["findings"] or decision["outcome"] != "approved" or set(status.values()) != {"not_applicable"}:
            fail(name, "a policy that does not apply approves, finds nothing, and marks every control not applicable")
    if decision["outcome"] != ("denied" if denies else "approved"):
        fail(name, f"outcome {decision['outcome']} with denying findings: {denies}")
    if not decision["summary"].strip():
        fail(name, "empty summary")


def check_case(name, case, metadata, result):
    expect = case["expect"]
    if "error" in expect:
        got = result.get("error", {}).get("kind")
        if got != expect["error"]:
            fail(name, f"expected error {expect['error']}, got {result}")
        return
    if "error" in result:
        fail(name, f"evaluation failed: {result['error']}")
        return
    decision = result["decision"]
    check_contract(name, metadata, decision)
    if decision["outcome"] != expect["outcome"]:
        fail(name, f"outcome {decision['outcome']}, expected {expect['outcome']}")
    if "applicable" in expect and decision["applicable"] != expect["applicable"]:
        fail(name, f"applicable {decision['applicable']}, expected {expect['applicable']}")
    if "findings" in expect:
        got = sorted(f"{f['rule_id']}@{f['control_id']}" for f in decision["findings"])
        if got != sorted(expect["findings"]):
            fail(name, f"findings {got}, expected {sorted(expect['findings'])}")
    if "obligations" in expect:
        got = [o["id"] for o in decision["obligations"]]
        if got != expect["obligations"]:
            fail(name, f"obligations {got}, expected {expect['obligations']}")
    default = "compliant" if decision["applicable"] else "not_applicable"
    for control in decision["controls"]:
        want = expect.get("controls", {}).get(control["control_id"], default)
        if control["status"] != want:
            fail(name, f"control {control['control_id']} is {control['status']}, expected {want}")


def with_defaults(manifest):
    """Fills the manifest defaults the cases leave out (the host does it when it parses a manifest)."""
    manifest = json.loads(json.dumps(manifest, default=str))
    change = manifest["change"]
    for key in ("reason", "security_impact", "submitted_at", "commit", "pipeline_id"):
        change.setdefault(key, None)
    manifest["evidence"].setdefault("infrastructure", None)
    manifest["evidence"]["rollback_plan"].setdefault("strategy", None)
    return manifest


def timing(engine, component, case):
    """Fresh instance per evaluation, as the host does, under its default limits."""
    linker = Linker(engine)
    manifest = with_defaults(case["manifest"])
    extensions = manifest.pop("extensions", {})
    policy_metadata = {"extensions": [{"namespace": "acme_release"}]}
    context = WitRecord()
    context.now = timestamp(str(case["now"]).replace(" ", "T").replace("+00:00", "Z"))
    context.extensions = extensions_for(policy_metadata, extensions)
    record = to_wit({"provenance": {}, **manifest})
    settings = json.dumps(case.get("settings")) if case.get("settings") is not None else ""
    instantiate, evaluate = [], []
    for _ in range(50):
        store = Store(engine)
        store.set_limits(memory_size=64 << 20, table_elements=20_000)
        t0 = time.perf_counter()
        instance = linker.instantiate(store, component)
        t1 = time.perf_counter()
        instance.get_func(store, "evaluate")(store, record, settings, context)
        t2 = time.perf_counter()
        instantiate.append((t1 - t0) * 1e3)
        evaluate.append((t2 - t1) * 1e3)
    return statistics.median(instantiate), statistics.median(evaluate), max(i + e for i, e in zip(instantiate, evaluate))


def main():
    if not COMPONENT.exists():
        sys.exit(f"{COMPONENT} is missing: run ./build first")
    engine = Engine()
    t0 = time.perf_counter()
    component = Component.from_file(engine, str(COMPONENT))
    compile_s = time.perf_counter() - t0
    imports = check_imports(engine, component)

    policy = Policy(str(COMPONENT))
    metadata = policy.metadata
    check_metadata(metadata)

    for path in CASES:
        case = yaml.safe_load(path.read_text())
        settings = json.dumps(case["settings"]) if case.get("settings") is not None else ""
        now = case["now"]
        now = now if isinstance(now, str) else now.strftime("%Y-%m-%dT%H:%M:%SZ")
        result = policy.evaluate(with_defaults(case["manifest"]), settings, now)
        before = len(failures)
        check_case(path.stem, case, metadata, result)
        print(("PASS " if len(failures) == before else "FAIL ") + path.stem)

    bad = policy.call("validate-settings", '{"evidence_retention_days": 0}')
    if getattr(bad, "tag", None) != "invalid-settings":
        fail("validate-settings", f"retention 0 accepted: {bad}")
    ok = policy.call("validate-settings", "")
    if ok is not None:
        fail("validate-settings", f"blank settings refused: {ok}")

    first = yaml.safe_load(CASES[0].read_text())
    inst_ms, eval_ms, worst_ms = timing(engine, component, first)
    print(f"\ncomponent  {COMPONENT.stat().st_size} bytes; imports {imports} (type-only)")
    print(f"compile    {compile_s:.1f} s (once per digest; the host caches compiled components)")
    print(f"per call   instantiate {inst_ms:.2f} ms + evaluate {eval_ms:.2f} ms (medians of 50, fresh instance,"
          f" 64 MiB / 20 000 table elements); worst {worst_ms:.2f} ms")
    if failures:
        print("\n" + "\n".join(failures))
        sys.exit(1)
    print(f"\n{len(CASES)} cases passed")


if __name__ == "__main__":
    main()
