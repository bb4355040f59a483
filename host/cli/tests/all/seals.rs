//! Seals and automatic checkpoints through the built binary: a record forged by someone who can
//! only write the log (a framed and chained line in a file log, a row inserted by SQL as
//! `tollgate_writer`) is reported unsealed by `audit verify`, even against a signed checkpoint;
//! `tollgate serve` writes signed checkpoints after N lines, after T seconds and at shutdown.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{data, shared_cache_dir};
use serde_json::Value;
use tollgate_decision_log::{Record, frame, merkle};
use tollgate_test_support::postgres::{Database, Server};

const NOW: &str = "2026-05-21T00:00:00Z";
/// Bound of every wait: server start, requests, a checkpoint file.
const WAIT: Duration = Duration::from_secs(60);

/// A project directory with a writer key (`writer/audit.key`, `writer/audit.pub`) and a checkpoint
/// key (`.tollgate/audit.key`, `.tollgate/audit.pub`).
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(config: &str) -> Self {
        let project = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(project.path(".tollgate")).unwrap();
        std::fs::write(project.path(".tollgate/config.yaml"), config).unwrap();
        project.ok(&["audit", "keygen", "--name", "gateway-1", "--dir", "writer"]);
        project.ok(&["audit", "keygen", "--name", "checkpoints"]);
        project
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn tollgate(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
        command
            .current_dir(self.dir.path())
            .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
            .env_remove("TOLLGATE_AUDIT_LOG")
            .env_remove("TOLLGATE_WRITER_KEY")
            .env("NO_COLOR", "1");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.tollgate().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> Output {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// `tollgate audit LOG_ARGS verify --format json ARGS`: exit code and report.
    fn verify(&self, log_args: &[&str], args: &[&str]) -> (Option<i32>, Value) {
        let output = self.run(
            &[
                &["audit"][..],
                log_args,
                &["verify", "--format", "json"][..],
                args,
            ]
            .concat(),
        );
        (
            output.status.code(),
            serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
        )
    }
}

/// A forged record: a copy of the decision in `line` under a new id, approved, for another change.
fn forged_record(line: &[u8]) -> Record {
    let Record::Decision(mut decision) = frame::decode(line).unwrap().record else {
        panic!("not a decision")
    };
    decision.id = "forged-0000".into();
    decision.change.id = "CHG-FORGED".into();
    decision.outcome = tollgate_decision_log::RecordedOutcome::Approved;
    Record::Decision(decision)
}

/// The framed line of `record` after the last line `last`: correct sequence number, chain link
/// and checksum.
fn chained(last: &[u8], record: &Record) -> Vec<u8> {
    let seq = frame::decode(last).unwrap().seq + 1;
    frame::encode(seq, &merkle::leaf_hash(last), record).unwrap()
}

fn problems_of(report: &Value, kind: &str) -> Vec<Value> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["detail"]["kind"] == kind)
        .cloned()
        .collect()
}

#[test]
fn a_record_forged_in_a_file_log_is_unsealed_even_against_a_signed_checkpoint() {
    let project = Project::new("audit:\n  writer_key: writer/audit.key\n");
    let manifest = data("business-logic.yaml");
    let manifest = manifest.to_str().unwrap();
    project.ok(&["eval", manifest, "--now", NOW]);
    project.ok(&["eval", manifest, "--now", NOW]);
    // Someone with write access to the file appends a framed, chained decision.
    let log = project.path(".tollgate/audit.log");
    let text = std::fs::read(&log).unwrap();
    let lines: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 4, "two decisions, each with its seal");
    let forged = chained(lines[3], &forged_record(lines[0]));
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut file, &[&forged[..], b"\n"].concat()).unwrap();
    drop(file);

    // Without writers the forgery verifies, and a checkpoint signs it.
    assert_eq!(project.verify(&[], &[]).0, Some(0));
    project.ok(&["audit", "checkpoint", "--output", "checkpoint"]);
    let (code, report) = project.verify(
        &[],
        &["--checkpoint", "checkpoint", "--writer", "writer/audit.pub"],
    );
    assert_eq!(code, Some(6), "{report}");
    assert_eq!(report["checkpoint"]["consistent"], true, "{report}");
    let unsealed = problems_of(&report, "unsealed");
    assert_eq!(unsealed.len(), 1, "{report}");
    assert_eq!(unsealed[0]["detail"]["id"], "forged-0000");
    assert_eq!(unsealed[0]["detail"]["seq"], 4);
    assert_eq!(report["problems"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["seals"]["sealed"], 2, "{report}");

    // With the writers configured, `audit checkpoint` no longer signs the forged log.
    std::fs::write(
        project.path(".tollgate/config.yaml"),
        "audit:\n  writer_key: writer/audit.key\n  writers: [writer/audit.pub]\n",
    )
    .unwrap();
    let refused = project.run(&["audit", "checkpoint", "--output", "checkpoint-2"]);
    assert_eq!(refused.status.code(), Some(6));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("unsealed"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_row_forged_by_the_writer_role_is_unsealed_even_against_a_signed_checkpoint() {
    let server = Server::shared_or_private();
    let database = Database::create(&server);
    let url = database.url();
    let project = Project::new("audit:\n  writer_key: writer/audit.key\n");
    let manifest = data("business-logic.yaml");
    project.ok(&[
        "eval",
        manifest.to_str().unwrap(),
        "--now",
        NOW,
        "--audit-log",
        &url,
    ]);
    let rows = database.sql("SELECT encode(line, 'hex') FROM tollgate_recorder ORDER BY seq");
    let lines: Vec<Vec<u8>> = rows.lines().map(hex_decode).collect();
    assert_eq!(lines.len(), 2, "a decision and its seal");
    let forged = chained(&lines[1], &forged_record(&lines[0]));
    database.sql(&format!(
        "SET ROLE tollgate_writer; INSERT INTO tollgate_recorder (seq, line) VALUES (2, decode('{}', 'hex'))",
        hex_encode(&forged)
    ));

    project.ok(&[
        "audit",
        "--audit-log",
        &url,
        "checkpoint",
        "--output",
        "checkpoint",
    ]);
    assert_eq!(project.verify(&["--audit-log", &url], &[]).0, Some(0));
    let (code, report) = project.verify(
        &["--audit-log", &url],
        &["--checkpoint", "checkpoint", "--writer", "writer/audit.pub"],
    );
    assert_eq!(code, Some(6), "{report}");
    assert_eq!(report["checkpoint"]["consistent"], true, "{report}");
    let unsealed = problems_of(&report, "unsealed");
    assert_eq!(unsealed.len(), 1, "{report}");
    assert_eq!(unsealed[0]["detail"]["id"], "forged-0000");
}

/// A running `tollgate serve`, killed when dropped.
struct Gateway {
    child: Child,
    base: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Gateway {
    fn start(project: &Project, args: &[&str]) -> Self {
        let mut child = project
            .tollgate()
            .args(["serve", "--listen", "127.0.0.1:0", "--policy", "sox"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = send.send(line);
        });
        let line = receive.recv_timeout(WAIT).expect("the gateway starts");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, base }
    }

    fn evaluate(&self) {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(WAIT))
                .build(),
        );
        let text = std::fs::read_to_string(data("business-logic.yaml")).unwrap();
        let response = agent
            .post(format!("{}/v1/evaluate?now={NOW}", self.base))
            .send(&text)
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }

    /// Stops it with SIGTERM (a graceful shutdown) and waits, bounded, for it to exit.
    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + WAIT;
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the gateway did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Waits (bounded) for a checkpoint file covering at least `size` records, and returns its size.
fn wait_for_checkpoint(path: &Path, size: u64) -> u64 {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            let covered: u64 = text.lines().nth(1).unwrap().parse().unwrap();
            if covered >= size {
                return covered;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint of {size} records at `{}`",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_gateway_writes_a_checkpoint_after_n_records() {
    let project = Project::new("audit: {}\n");
    std::fs::create_dir(project.path("checkpoints")).unwrap();
    let gateway = Gateway::start(
        &project,
        &[
            "--checkpoint-key",
            ".tollgate/audit.key",
            "--checkpoint-output",
            "checkpoints",
            "--checkpoint-every",
            "3",
            "--checkpoint-interval",
            "3600",
        ],
    );
    for _ in 0..3 {
        gateway.evaluate();
    }
    let latest = project.path("checkpoints/latest");
    let size = wait_for_checkpoint(&latest, 3);
    assert!(
        project
            .path(&format!("checkpoints/checkpoint-{size:012}"))
            .is_file()
    );
    let (code, report) = project.verify(&[], &[]);
    assert_eq!(code, Some(0), "{report}");
    let (code, report) = project.verify(&[], &["--checkpoint", "checkpoints/latest"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["checkpoint"]["consistent"], true);
}

#[test]
fn the_gateway_seals_its_appends_and_writes_a_checkpoint_after_t_seconds() {
    let project = Project::new(
        "audit:\n  writer_key: writer/audit.key\n  writers: [writer/audit.pub]\n  signing_key: .tollgate/audit.key\n  checkpoints:\n    output: .tollgate/checkpoint\n    interval: 1\n",
    );
    let gateway = Gateway::start(&project, &[]);
    gateway.evaluate();
    wait_for_checkpoint(&project.path(".tollgate/checkpoint"), 2);
    let (code, report) = project.verify(&[], &["--checkpoint", ".tollgate/checkpoint"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["seals"]["sealed"], 1, "{report}");
    assert_eq!(report["seals"]["seals"], 1, "{report}");
}

#[test]
fn the_gateway_writes_a_checkpoint_at_a_graceful_shutdown() {
    let project = Project::new("audit: {}\n");
    let gateway = Gateway::start(
        &project,
        &[
            "--checkpoint-key",
            ".tollgate/audit.key",
            "--checkpoint-output",
            "final-checkpoint",
            "--checkpoint-interval",
            "3600",
        ],
    );
    gateway.evaluate();
    gateway.evaluate();
    gateway.terminate();
    let text = std::fs::read_to_string(project.path("final-checkpoint")).unwrap();
    assert_eq!(text.lines().nth(1), Some("2"), "{text}");
    let (code, report) = project.verify(&[], &["--checkpoint", "final-checkpoint"]);
    assert_eq!(code, Some(0), "{report}");
}
