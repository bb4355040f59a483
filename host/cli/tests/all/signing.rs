//! Signed policies through the CLI: `tollgate policy keygen | sign | verify`, and `eval` refusing an
//! unsigned, altered or untrusted component under `--require-signed` / `--trusted-key` (exit 5, the
//! reason named, the refusal recorded), with the signer's key id in every decision record.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::path::Path;

use crate::common::{data, shared_cache_dir};
use assert_cmd::Command;
use serde_json::Value;

const NOW: &str = "2026-05-21T00:00:00Z";

fn tollgate(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .current_dir(dir)
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env_remove("TOLLGATE_AUDIT_LOG")
        .env("TOLLGATE_ACTOR", "ci-bot")
        .env("NO_COLOR", "1");
    command
}

fn stdout(dir: &Path, args: &[&str]) -> String {
    let output = tollgate(dir).args(args).output().unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn last_record(dir: &Path) -> Value {
    let output = tollgate(dir)
        .args(["audit", "list", "--format", "json"])
        .output()
        .unwrap();
    let all: Value = serde_json::from_slice(&output.stdout).unwrap();
    all.as_array().unwrap().last().unwrap()["record"].clone()
}

/// A project with the SOX component exported, signed by `k`, and another key `o`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::create_dir(path.join(".tollgate")).unwrap();
    stdout(path, &["policies", "--export", "."]);
    stdout(path, &["policy", "keygen", "--name", "k"]);
    stdout(path, &["policy", "keygen", "--name", "o"]);
    let signed = stdout(path, &["policy", "sign", "sox.wasm", "--key", "k.key"]);
    assert!(signed.contains("ed25519:"), "{signed}");
    dir
}

fn eval(dir: &Path, policy: &str, trusted: &str) -> std::process::Output {
    tollgate(dir)
        .arg("eval")
        .arg(data("business-logic.yaml"))
        .args(["--now", NOW, "--policy", policy, "--require-signed"])
        .args(["--trusted-key", trusted])
        .output()
        .unwrap()
}

#[test]
fn a_signed_policy_runs_and_its_signer_is_in_the_record() {
    let dir = project();
    let path = dir.path();
    let key: Value =
        serde_json::from_str(&std::fs::read_to_string(path.join("k.pub")).unwrap()).unwrap();
    let keyid = key["keyid"].as_str().unwrap();
    let verified = stdout(
        path,
        &["policy", "verify", "sox.wasm", "--trusted-key", "k.pub"],
    );
    assert!(verified.contains(keyid), "{verified}");

    let output = eval(path, "sox.wasm", "k.pub");
    assert_ne!(output.status.code(), Some(5), "{output:?}");
    assert_eq!(last_record(path)["policies"][0]["signer"], keyid);

    // Built-in packs are vouched for by their embedded digests.
    tollgate(path)
        .arg("eval")
        .arg(data("business-logic.yaml"))
        .args(["--now", NOW, "--policy", "sox"])
        .assert()
        .code(0);
    assert_eq!(last_record(path)["policies"][0]["signer"], "builtin");
}

#[test]
fn unsigned_altered_and_untrusted_policies_are_refused_before_they_run() {
    let dir = project();
    let path = dir.path();
    let wasm = std::fs::read(path.join("sox.wasm")).unwrap();
    let signature = std::fs::read(path.join("sox.wasm.sig")).unwrap();
    std::fs::write(path.join("unsigned.wasm"), &wasm).unwrap();
    let mut altered = wasm.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x55;
    std::fs::write(path.join("altered.wasm"), &altered).unwrap();
    std::fs::write(path.join("altered.wasm.sig"), &signature).unwrap();

    for (policy, trusted, reason) in [
        ("unsigned.wasm", "k.pub", "is unsigned"),
        ("altered.wasm", "k.pub", "was altered"),
        ("sox.wasm", "o.pub", "not signed by a trusted key"),
    ] {
        let output = eval(path, policy, trusted);
        assert_eq!(output.status.code(), Some(5), "{policy}: {output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{policy}: {stderr}");
        assert!(stderr.contains("refused before it ran"), "{stderr}");
        let record = last_record(path);
        assert_eq!(record["outcome"], "error");
        assert_eq!(record["failures"][0]["kind"], "untrusted");
        let verify = tollgate(path)
            .args(["policy", "verify", policy, "--trusted-key", trusted])
            .output()
            .unwrap();
        assert_eq!(verify.status.code(), Some(5), "{policy}: {verify:?}");
    }
    // The trust can live in `.tollgate/config.yaml` (`policies.trust`).
    std::fs::write(
        path.join(".tollgate/config.yaml"),
        "policies:\n  trust:\n    keys: [k.pub]\n    require_signed: true\n",
    )
    .unwrap();
    let configured = tollgate(path)
        .arg("eval")
        .arg(data("business-logic.yaml"))
        .args(["--now", NOW, "--policy", "unsigned.wasm"])
        .output()
        .unwrap();
    assert_eq!(configured.status.code(), Some(5), "{configured:?}");
    tollgate(path)
        .arg("eval")
        .arg(data("business-logic.yaml"))
        .args(["--now", NOW, "--policy", "sox.wasm"])
        .assert()
        .code(0);
    std::fs::remove_file(path.join(".tollgate/config.yaml")).unwrap();
    // Without any trust requirement, a component file runs as before.
    tollgate(path)
        .arg("eval")
        .arg(data("business-logic.yaml"))
        .args(["--now", NOW, "--policy", "unsigned.wasm"])
        .assert()
        .code(0);
}
