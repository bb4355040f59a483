"""Checks of an example pack's component through the tollgate binary (see `run`):
   inspect TOLLGATE COMPONENT                the component imports only the contract's type interfaces
   eval    TOLLGATE COMPONENT CASES          `tollgate eval --policy` exits with each case's outcome
   gateway TOLLGATE COMPONENT CASES LOG      `tollgate serve --policy` answers each case's outcome
   corpus  TOLLGATE COMPONENT CASES OUT      every case with the host's result (`tollgate eval --policy`,
                                             settings included), as JSON for the browser preview's test
Cases with settings or an expected error are left to `tollgate test`, which passes settings."""

import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

EXIT = {"approved": 0, "needs_approval": 3, "denied": 4}


class TextLoader(yaml.SafeLoader):
    """YAML as the host reads it: a date-time stays the text it was written as."""


TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def all_cases(directory):
    for path in sorted(Path(directory).glob("*.yaml")):
        yield path.stem, yaml.load(path.read_text(), Loader=TextLoader)


def cases(directory):
    for name, case in all_cases(directory):
        if case.get("settings") is None and "error" not in case["expect"]:
            yield name, case


def now_of(case):
    return case["now"]


def inspect(tollgate, component):
    out = subprocess.run([tollgate, "inspect", component, "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    imports = [item["name"] for item in json.loads(out)["imports"]]
    allowed = ("tollgate:policy/manifest@0.3.0", "tollgate:policy/decision@0.3.0")
    stray = [name for name in imports if name not in allowed]
    if stray:
        print(f"imports outside the contract: {stray}")
        return False
    return True


def evaluate(tollgate, component, directory):
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name, case in cases(directory):
            manifest = Path(tmp) / f"{name}.json"
            manifest.write_text(json.dumps(case["manifest"]))
            result = subprocess.run(
                [tollgate, "eval", str(manifest), "--policy", component, "--now", now_of(case),
                 "--dry-run", "--format", "json"],
                capture_output=True, text=True)
            want = EXIT[case["expect"]["outcome"]]
            if result.returncode != want:
                print(f"{name}: exit {result.returncode}, expected {want}\n{result.stderr}")
                ok = False
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gateway(tollgate, component, directory, log):
    port = free_port()
    server = subprocess.Popen(
        [tollgate, "serve", "--policy", component, "--listen", f"127.0.0.1:{port}", "--audit-log", log],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    print(f"the gateway did not start: {server.stderr.read() if server.stderr else ''}")
                    return False
                time.sleep(0.5)
        ok = True
        count = 0
        for name, case in cases(directory):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/evaluate?now={now_of(case)}",
                data=json.dumps(case["manifest"]).encode(),
                headers={"Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(request, timeout=60) as response:
                outcome = response.headers["Tollgate-Outcome"]
            count += 1
            if outcome != case["expect"]["outcome"]:
                print(f"{name}: the gateway answered {outcome}, expected {case['expect']['outcome']}")
                ok = False
        if count == 0:
            print("no case went through the gateway")
            return False
        print(f"{count} cases through the gateway")
        return ok
    finally:
        server.terminate()
        server.wait(timeout=30)


def corpus(tollgate, component, directory, out):
    """The host's result for every case: `{decision}` as `tollgate eval --format json` reports the
    pack's decision, or `{error}` with the kind the case expects when the host refused to decide."""
    policy_id = json.loads(subprocess.run([tollgate, "inspect", component, "--format", "json"], check=True,
                                          capture_output=True, text=True).stdout)["id"]
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, case in all_cases(directory):
            manifest = Path(tmp) / f"{name}.json"
            manifest.write_text(json.dumps(case["manifest"]))
            command = [tollgate, "eval", str(manifest), "--policy", component, "--now", now_of(case),
                       "--dry-run", "--format", "json"]
            settings = case.get("settings")
            if settings is not None:
                settings_file = Path(tmp) / f"{name}.settings.json"
                settings_file.write_text(json.dumps({policy_id: settings}))
                command += ["--settings", str(settings_file)]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode in EXIT.values():
                [policy] = json.loads(result.stdout)["policies"]
                expected = {"decision": policy["decision"]}
            elif "error" in case["expect"]:
                expected = {"error": case["expect"]["error"]}
            else:
                print(f"{name}: the host exited {result.returncode} on a case that expects a decision\n{result.stderr}")
                return False
            entries.append({"name": name, "manifest": case["manifest"], "settings": settings,
                            "now": now_of(case), "expected": expected})
    Path(out).write_text(json.dumps({"policy": policy_id, "cases": entries}))
    print(f"{len(entries)} cases of {policy_id} with the host's results")
    return bool(entries)


def main():
    command, *args = sys.argv[1:]
    ok = {"inspect": inspect, "eval": evaluate, "gateway": gateway, "corpus": corpus}[command](*args)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
