"""The golden corpus exported by `cargo run -p tollgate-conformance --example export_corpus`
(every golden case with the decision the host reached through the component), for the Python runners."""

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINES = Path(os.environ.get("TOLLGATE_ENGINES_DIR", ROOT / "target" / "engines")).resolve()
sys.path.insert(0, str(ROOT / "examples" / "embedding"))


def load_corpus():
    path = ENGINES / "corpus.json"
    try:
        corpus = json.loads(path.read_text())
    except OSError as error:
        raise RuntimeError(f"cannot read the golden corpus {path} (run tests/engines/run): {error}") from error
    if not corpus["cases"]:
        raise RuntimeError("the golden corpus has no case")
    return corpus


CORPUS = load_corpus()


def case_params():
    return [pytest.param(c, id=f"{c['policy']}::{c['name']}") for c in CORPUS["cases"]]


def policy_params():
    return [pytest.param(p, id=p["id"]) for p in CORPUS["policies"]]


def declared_extensions(case):
    """The namespaces of a case's manifest `extensions` that its policy declares in its metadata."""
    entry = next(p for p in CORPUS["policies"] if p["id"] == case["policy"])
    declared = {e["namespace"] for e in entry["metadata"].get("extensions", [])}
    return [ns for ns in (case["manifest_normalized"].get("extensions") or {}) if ns in declared]
