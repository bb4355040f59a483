//! Several processes: appenders killed with SIGKILL mid-loop, and concurrent appenders.
//!
//! The child processes are this test binary run again with `TOLLGATE_AUDIT_CHILD` set: the
//! `child` test then appends records in a loop and prints `ack <id>` after each append returns.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::mark;
use tollgate_decision_log::AuditLog;

const CHILD_ENV: &str = "TOLLGATE_AUDIT_CHILD";

/// Entry point of a child process; does nothing in a normal test run.
#[test]
fn child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    // `<log path>|<name>|<count>|<padding>`
    let parts: Vec<&str> = spec.split('|').collect();
    let log = AuditLog::new(parts[0]);
    let name = parts[1];
    let count: usize = parts[2].parse().unwrap();
    let padding: usize = parts[3].parse().unwrap();
    let stdout = std::io::stdout();
    for i in 0..count {
        let id = format!("{name}-{i}");
        log.append(&mark(&id, padding)).unwrap();
        let mut out = stdout.lock();
        writeln!(out, "ack {id}").unwrap();
        out.flush().unwrap();
    }
}

fn spawn(log: &Path, name: &str, count: usize, padding: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "processes::child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!("{}|{name}|{count}|{padding}", log.display()),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn acks(text: &str) -> impl Iterator<Item = String> + '_ {
    // libtest may print `test child ... ` on the same line as the first acknowledgement.
    text.lines()
        .filter_map(|l| l.split_once("ack ").map(|(_, id)| id))
        .map(str::to_owned)
}

#[test]
fn records_acknowledged_before_a_sigkill_survive_and_the_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = AuditLog::new(&path);
    let mut acknowledged = BTreeSet::new();
    let (mut torn_tails, mut kills) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    for round in 0..40 {
        if Instant::now() > deadline {
            break;
        }
        // Large records make a kill in the middle of a write likely.
        let mut child = spawn(&path, &format!("k{round}"), 1_000, 64 * 1024);
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // Wait for a varying number of acknowledgements, then kill at once.
        let wait_for = 1 + round % 7;
        let mut line = String::new();
        let mut seen = 0;
        while seen < wait_for {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                break;
            }
            if let Some((_, id)) = line.trim_end().split_once("ack ") {
                acknowledged.insert(id.to_owned());
                seen += 1;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        // Acknowledgements already in the pipe were printed after their appends returned.
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        acknowledged.extend(acks(&rest));

        let verification = log.verify(None).unwrap();
        assert!(
            verification.is_intact(),
            "round {round}: {:?}",
            verification.problems
        );
        torn_tails += usize::from(verification.torn_tail.is_some());
        let present: BTreeSet<&str> = verification.records.iter().map(|r| r.record.id()).collect();
        for id in &acknowledged {
            assert!(
                present.contains(id.as_str()),
                "round {round}: acknowledged {id} is missing"
            );
        }
    }
    assert!(kills >= 5, "only {kills} kills in the time allowed");
    eprintln!(
        "{kills} kills, {} acknowledged records, {torn_tails} torn tails seen",
        acknowledged.len()
    );
}

#[test]
fn concurrent_appenders_never_interleave_or_lose_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (processes, each) = (4, 40);
    let children: Vec<Child> = (0..processes)
        .map(|p| spawn(&path, &format!("p{p}"), each, 2_000))
        .collect();
    let mut acknowledged = BTreeSet::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        acknowledged.extend(acks(&String::from_utf8(output.stdout).unwrap()));
    }
    assert_eq!(acknowledged.len(), processes * each);
    let verification = AuditLog::new(&path).verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    assert!(verification.torn_tail.is_none());
    assert_eq!(verification.size(), (processes * each) as u64);
    let present: BTreeSet<String> = verification
        .records
        .iter()
        .map(|r| r.record.id().to_owned())
        .collect();
    assert_eq!(present, acknowledged);
    // Each process's records keep their order.
    for p in 0..processes {
        let mine: Vec<usize> = verification
            .records
            .iter()
            .filter_map(|r| r.record.id().strip_prefix(&format!("p{p}-")))
            .map(|i| i.parse().unwrap())
            .collect();
        assert_eq!(mine, (0..each).collect::<Vec<_>>());
    }
}
