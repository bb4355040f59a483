"""Writes the cases of the OPA client tests: every example manifest as an OPA `input` (JSON), with
the decisions `tollgate eval --format json` reaches for it (the whole gate and each policy).
Usage: opa_cases.py TOLLGATE_BIN OUT_DIR  (writes OUT_DIR/cases.json)."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


class _Loader(yaml.SafeLoader):
    """YAML as the manifest parser reads it: timestamps stay strings."""


_Loader.yaml_implicit_resolvers = {
    key: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def main(binary: str, out: Path) -> None:
    cases = []
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ, TOLLGATE_AUDIT_LOG=str(Path(scratch) / "audit.log"))
        for manifest in sorted((ROOT / "examples" / "manifests").iterdir()):
            if manifest.name == "expected.yaml" or manifest.suffix not in (".yaml", ".json"):
                continue
            text = manifest.read_text()
            document = json.loads(text) if manifest.suffix == ".json" else yaml.load(text, Loader=_Loader)
            run = subprocess.run(
                [binary, "eval", "--format", "json", str(manifest)],
                capture_output=True, text=True, env=env, check=False,
            )
            if run.returncode not in (0, 3, 4):
                raise SystemExit(f"tollgate eval {manifest.name} exited {run.returncode}: {run.stderr}")
            report = json.loads(run.stdout)
            cases.append({
                "name": manifest.name,
                "input": document,
                "outcome": report["outcome"],
                "policies": {
                    p["id"]: {
                        "outcome": p["outcome"],
                        "deny": [
                            f["message"] for f in p["decision"]["findings"]
                            if f["severity"] in ("high", "critical")
                        ],
                    }
                    for p in report["policies"]
                },
            })
    if not cases:
        raise SystemExit("no example manifest found")
    out.mkdir(parents=True, exist_ok=True)
    (out / "cases.json").write_text(json.dumps({"cases": cases}, indent=2))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
