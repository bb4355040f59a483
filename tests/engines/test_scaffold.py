"""`tollgate new policy --lang js|python`: each project, generated from scratch in a temporary
directory and built with its own `./build` (npm and componentize-js 0.23; a venv and
componentize-py 0.25), passes its golden cases with `tollgate test`, inspects as a 0.3.0 component
that imports nothing but the contract's types, builds again to the same bytes (JavaScript after a
fresh `npm ci`), signs, verifies, and is evaluated signed by `tollgate eval`. The Rust project is
built by `cargo test -p tollgate scaffold::`.

The binary is $TOLLGATE_BIN, else the newer of target/release/tollgate and target/debug/tollgate
(under $CARGO_TARGET_DIR if set). Needs Node 20+ and npm, Python 3 with venv, a C compiler, and the
npm and PyPI registries. Run alone: python3 -m pytest --noconftest tests/engines/test_scaffold.py
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAME = "acme-approval"


def tollgate_binary() -> Path:
    if os.environ.get("TOLLGATE_BIN"):
        return Path(os.environ["TOLLGATE_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    built = [p for p in (target / "release/tollgate", target / "debug/tollgate") if p.is_file()]
    if not built:
        pytest.fail(f"no tollgate binary under {target}: cargo build -p tollgate")
    return max(built, key=lambda p: p.stat().st_mtime)


BINARY = tollgate_binary()


def run(args, cwd, env, expect=0):
    result = subprocess.run(args, cwd=cwd, env=env, text=True, capture_output=True, timeout=900)
    assert result.returncode == expect, (
        f"{args} exited {result.returncode}, expected {expect}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory(prefix="tollgate-scaffold-") as name:
        yield Path(name)


@pytest.mark.parametrize("lang", ["js", "python"])
def test_new_policy_builds_passes_its_cases_and_loads_signed(lang, scratch):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")}
    env["TOLLGATE_CACHE_DIR"] = str(scratch / "cache")
    home = scratch / lang
    home.mkdir()
    project = home / NAME
    created = run([str(BINARY), "new", "policy", NAME, "--lang", lang], home, env)
    assert f"created policy `{NAME}`" in created
    for file in (".gitignore", "README.md", "build", "wit/tollgate.wit", "settings.yaml",
                 "tests/cases/01-independent-approval-approved.yaml"):
        assert (project / file).is_file(), file

    started = time.monotonic()
    built = run(["./build"], project, env)
    seconds = time.monotonic() - started
    print(f"scaffold: the {lang} project built in {seconds:.1f} s: {built.strip().splitlines()[-1]}")
    wasm = f"dist/{NAME}.wasm"
    assert (project / wasm).is_file()

    tested = run([str(BINARY), "test", "tests/cases", "--policy", wasm], project, env)
    assert "2 tests, 2 passed, 0 failed" in tested, tested
    inspected = run([str(BINARY), "inspect", wasm], project, env)
    for expected in (NAME, "CC-01", "AICPA TSC 2017", "tollgate:policy/decision@0.4.0 (types only"):
        assert expected in inspected, f"{expected}: {inspected}"
    imports = inspected.split("Imports")[1].split("Exports")[0].splitlines()[1:]
    assert all("types only" in line for line in imports if line.strip()), inspected

    # Deterministic: building again gives the same bytes (JavaScript: installed afresh with
    # `npm ci` from the package-lock.json the first build wrote).
    digest = built.strip().split("sha256 ")[-1]
    shutil.rmtree(project / "node_modules", ignore_errors=True)
    again = run(["./build"], project, env)
    assert again.strip().split("sha256 ")[-1] == digest, f"{built}\n{again}"
    run([str(BINARY), "policy", "keygen", "--name", "acme"], project, env)
    run([str(BINARY), "policy", "sign", wasm, "--key", "acme.key"], project, env)
    verified = run([str(BINARY), "policy", "verify", wasm, "--trusted-key", "acme.pub"], project, env)
    assert "trusted" in verified
    evaluated = run([str(BINARY), "eval", "manifests/change.yaml", "--policy", wasm,
                     "--settings", "settings.yaml", "--trusted-key", "acme.pub", "--require-signed",
                     "--dry-run", "--format", "json"], project, env)
    assert '"outcome": "approved"' in evaluated, evaluated


def test_a_javascript_mistake_is_an_internal_error_naming_the_field(scratch):
    """The JavaScript sample checks its decision against the WIT record before componentize-js
    lowers it (which would trap with only "unreachable"): an enum spelt `needs_approval` fails the
    case with the field's path, and the gate still fails closed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")}
    env["TOLLGATE_CACHE_DIR"] = str(scratch / "cache")
    home = scratch / "mistake"
    home.mkdir()
    project = home / NAME
    run([str(BINARY), "new", "policy", NAME, "--lang", "js"], home, env)
    index = project / "src" / "index.js"
    source = index.read_text()
    wrong = source.replace("denied ? 'denied' : 'approved'", "denied ? 'denied' : 'needs_approval'")
    assert wrong != source, "the sample no longer decides `denied ? 'denied' : 'approved'`"
    index.write_text(wrong)
    run(["./build"], project, env)
    tested = run([str(BINARY), "test", "tests/cases", "--policy", f"dist/{NAME}.wasm"], project, env, expect=4)
    assert "2 tests, 1 passed, 1 failed" in tested, tested
    assert "`decision.outcome`: expected one of approved, needs-approval, denied" in tested, tested
    assert "unreachable" not in tested, tested

    # A thrown Error keeps its name and message (checked on the module itself, in Node).
    probe = ("import('./src/contract.js').then(({ guarded }) => {"
             " try { guarded('evaluate', () => null.change); }"
             " catch (e) { console.log(JSON.stringify(e)); } });")
    thrown = run(["node", "--input-type=module", "-e", probe], project, env)
    assert '"tag":"internal"' in thrown and "evaluate: TypeError" in thrown, thrown


def test_a_javascript_debug_build_shows_its_console_output_only_under_trace(scratch):
    """`./build --debug` keeps componentize-js's stdio: the component imports WASI, which
    `tollgate test --trace` links closed and whose output it shows under each case; `tollgate
    test` without --trace and `tollgate eval` refuse it with the WASI imports named."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLLGATE_")}
    env["TOLLGATE_CACHE_DIR"] = str(scratch / "cache")
    home = scratch / "debug"
    home.mkdir()
    project = home / NAME
    run([str(BINARY), "new", "policy", NAME, "--lang", "js"], home, env)
    index = project / "src" / "index.js"
    source = index.read_text()
    traced = source.replace("  const change = manifest.change;\n",
                            "  const change = manifest.change;\n  console.error(`deciding ${change.id} for ${change.environment}`);\n", 1)
    assert traced != source, "the sample no longer starts its decision with `const change = manifest.change;`"
    index.write_text(traced)
    run(["./build", "--debug"], project, env)
    wasm = f"dist/{NAME}.debug.wasm"

    shown = run([str(BINARY), "test", "tests/cases", "--policy", wasm, "--trace"], project, env)
    assert "2 tests, 2 passed, 0 failed" in shown, shown
    assert "    | deciding CHG-" in shown, shown

    refused = subprocess.run([str(BINARY), "test", "tests/cases", "--policy", wasm], cwd=project, env=env,
                             text=True, capture_output=True, timeout=900)
    assert refused.returncode == 5, refused
    assert "wasi:cli/stderr" in refused.stderr, refused.stderr
    refused = subprocess.run([str(BINARY), "eval", "manifests/change.yaml", "--policy", wasm, "--dry-run"],
                             cwd=project, env=env, text=True, capture_output=True, timeout=900)
    assert refused.returncode == 5 and "wasi:" in refused.stderr, refused
