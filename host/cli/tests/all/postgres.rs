//! The decision log on PostgreSQL through the built binary: several `tollgate serve` processes
//! sharing one log while one is killed and the database restarts, fail-closed answers while the
//! database is away, and moving a log between a file and a database.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{data, shared_cache_dir};
use serde_json::{Value, json};
use tollgate_test_support::postgres::{Database, Server};

const NOW: &str = "2026-05-21T00:00:00Z";
const WAIT: Duration = Duration::from_secs(60);

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

fn tollgate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env_remove("TOLLGATE_AUDIT_LOG")
        .env("NO_COLOR", "1");
    command
}

fn serve(log: &str, args: &[&str]) -> Gateway {
    let mut child = tollgate()
        .args(["serve", "--listen", "127.0.0.1:0", "--audit-log", log])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tollgate serve");
    let stdout = child.stdout.take().expect("stdout");
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
    Gateway { child, base }
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(WAIT))
            .build(),
    )
}

/// The OPA input of an example manifest.
fn input() -> String {
    let path = format!(
        "{}/../../examples/manifests/business-logic-needs-tech-lead.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("manifest")).expect("json");
    json!({ "input": manifest }).to_string()
}

/// Asks a gateway for the gate's decision: the status and the decision id, when there is one.
fn decide(
    agent: &ureq::Agent,
    base: &str,
    body: &str,
) -> Result<(u16, Option<String>), ureq::Error> {
    let response = agent
        .post(format!("{base}/v1/data/tollgate/decision?now={NOW}"))
        .header("content-type", "application/json")
        .send(body)?;
    let status = response.status().as_u16();
    let text = response.into_body().read_to_string()?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok((status, value["decision_id"].as_str().map(str::to_owned)))
}

fn metric(agent: &ureq::Agent, base: &str, name: &str) -> Option<f64> {
    let text = agent
        .get(format!("{base}/metrics"))
        .call()
        .ok()?
        .into_body()
        .read_to_string()
        .ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// `tollgate audit verify --format json` of a log.
fn verify(log: &str) -> (Option<i32>, Value) {
    let output = tollgate()
        .args(["audit", "--audit-log", log, "verify", "--format", "json"])
        .output()
        .expect("run audit verify");
    (
        output.status.code(),
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null),
    )
}

#[test]
fn three_gateways_share_one_log_through_a_kill_and_a_database_restart() {
    const CLIENTS_PER_GATEWAY: usize = 100;
    const DECISIONS: usize = 3000;
    let server = Server::private();
    let database = Database::create(&server);
    let url = database.url();
    let gateways: Vec<Gateway> = (0..3)
        .map(|_| serve(&url, &["--policy", "sox", "--max-concurrent", "4"]))
        .collect();
    let bases: Arc<Vec<String>> = Arc::new(gateways.iter().map(|g| g.base.clone()).collect());
    let dead: Arc<Vec<AtomicBool>> = Arc::new((0..3).map(|_| AtomicBool::new(false)).collect());
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::with_capacity(DECISIONS)));
    let claimed = Arc::new(AtomicUsize::new(0));
    let body = Arc::new(input());
    let deadline = Instant::now() + Duration::from_secs(600);

    let clients: Vec<_> = (0..3 * CLIENTS_PER_GATEWAY)
        .map(|client| {
            let (bases, dead, acknowledged, claimed, body) = (
                Arc::clone(&bases),
                Arc::clone(&dead),
                Arc::clone(&acknowledged),
                Arc::clone(&claimed),
                Arc::clone(&body),
            );
            std::thread::spawn(move || {
                let agent = agent();
                let mut target = client % 3;
                // Each client takes a decision to make, and keeps trying until it is acknowledged.
                while claimed.fetch_add(1, Ordering::SeqCst) < DECISIONS {
                    loop {
                        assert!(Instant::now() < deadline, "the decisions did not complete");
                        if dead[target].load(Ordering::SeqCst) {
                            target = (target + 1) % 3;
                            continue;
                        }
                        match decide(&agent, &bases[target], &body) {
                            Ok((_, Some(id))) => {
                                acknowledged.lock().unwrap().push(id);
                                break;
                            }
                            // 503: overloaded, or the log is unavailable: not acknowledged;
                            // back off as a pipeline's retry would.
                            Ok((_, None)) => std::thread::sleep(Duration::from_millis(
                                200 + (client as u64 * 7) % 100,
                            )),
                            // The gateway is gone: as a load balancer would, try another.
                            Err(_) => {
                                target = (target + 1) % 3;
                                std::thread::sleep(Duration::from_millis(20));
                            }
                        }
                    }
                }
            })
        })
        .collect();

    let progress = |count: usize| {
        while acknowledged.lock().unwrap().len() < count {
            assert!(Instant::now() < deadline, "no progress");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    progress(DECISIONS / 3);
    let mut gateways = gateways;
    dead[0].store(true, Ordering::SeqCst);
    gateways[0].child.kill().expect("SIGKILL the first gateway");
    progress(2 * DECISIONS / 3);
    server.stop();
    std::thread::sleep(Duration::from_millis(500));
    server.start();
    for client in clients {
        client.join().expect("client");
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert_eq!(acknowledged.len(), DECISIONS);
    let ids = database.sql(
        "SELECT convert_from(line, 'UTF8')::jsonb -> 'record' ->> 'id' FROM tollgate_recorder ORDER BY seq",
    );
    let mut in_log: BTreeMap<&str, usize> = BTreeMap::new();
    for id in ids.lines() {
        *in_log.entry(id).or_default() += 1;
    }
    for id in &acknowledged {
        assert_eq!(
            in_log.get(id.as_str()),
            Some(&1),
            "decision {id} must be in the log once"
        );
    }
    let (count, first, last) = {
        let row = database
            .sql("SELECT count(*) || ' ' || min(seq) || ' ' || max(seq) FROM tollgate_recorder");
        let parts: Vec<u64> = row.split(' ').map(|p| p.parse().unwrap()).collect();
        (parts[0], parts[1], parts[2])
    };
    assert_eq!(
        (first, last),
        (0, count - 1),
        "sequence numbers without gaps"
    );
    let (code, report) = verify(&url);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["intact"], true);
    assert_eq!(report["records"], count);
}

#[test]
fn while_the_database_is_away_decisions_are_503_and_the_gauge_is_0_until_it_returns() {
    let server = Server::private();
    let database = Database::create(&server);
    let url = database.url();
    let gateway = serve(&url, &["--policy", "sox"]);
    let agent = agent();
    let body = input();
    assert_eq!(decide(&agent, &gateway.base, &body).unwrap().0, 200);
    assert_eq!(
        metric(&agent, &gateway.base, "tollgate_audit_log_up"),
        Some(1.0)
    );

    server.stop();
    let (status, id) = decide(&agent, &gateway.base, &body).unwrap();
    assert_eq!(status, 503);
    assert_eq!(id, None, "no decision without its record");
    assert_eq!(
        metric(&agent, &gateway.base, "tollgate_audit_log_up"),
        Some(0.0)
    );
    let eval = tollgate()
        .args(["eval", "--now", NOW, "--policy", "sox", "--audit-log", &url])
        .arg(data("business-logic.yaml"))
        .output()
        .expect("eval");
    assert_eq!(
        eval.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );

    server.start();
    // The gateway reconnects after its backoff (10 s at most), by itself.
    let deadline = Instant::now() + WAIT;
    while !decide(&agent, &gateway.base, &body).is_ok_and(|(status, _)| status == 200) {
        assert!(Instant::now() < deadline, "decisions resume by themselves");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        metric(&agent, &gateway.base, "tollgate_audit_log_up"),
        Some(1.0)
    );
    assert_eq!(verify(&url).0, Some(0));
}

#[test]
fn a_log_moves_between_a_file_and_a_database_and_verifies_the_same_on_both() {
    let server = Server::shared_or_private();
    let database = Database::create(&server);
    let url = database.url();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("audit.log");
    let file = file.to_str().expect("utf-8 path");
    for manifest in ["business-logic.yaml", "self-approval.yaml"] {
        let status = tollgate()
            .args(["eval", "--now", NOW, "--audit-log", file])
            .arg(data(manifest))
            .output()
            .expect("eval")
            .status;
        assert!(status.code().is_some_and(|c| c != 6), "{status}");
    }
    let (_, before) = verify(file);

    let export = tollgate()
        .args([
            "audit",
            "--audit-log",
            file,
            "export",
            "--to",
            &url,
            "--format",
            "json",
        ])
        .output()
        .expect("export");
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let exported: Value = serde_json::from_slice(&export.stdout).expect("json");
    assert_eq!(exported["root"], before["root"]);
    let (code, in_database) = verify(&url);
    assert_eq!(code, Some(0));
    assert_eq!(in_database["root"], before["root"]);
    assert_eq!(in_database["records"], before["records"]);

    let back = dir.path().join("back.log");
    let import = tollgate()
        .args([
            "audit",
            "--audit-log",
            back.to_str().unwrap(),
            "import",
            "--from",
            &url,
        ])
        .output()
        .expect("import");
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    assert_eq!(
        std::fs::read(&back).unwrap(),
        std::fs::read(file).unwrap(),
        "the same bytes, record for record"
    );

    let again = tollgate()
        .args(["audit", "--audit-log", file, "export", "--to", &url])
        .output()
        .expect("export again");
    assert_eq!(again.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds records"));
}

#[test]
fn audit_verify_on_a_new_database_migrates_it_and_reports_an_empty_intact_log() {
    let server = Server::shared_or_private();
    let database = Database::create(&server);
    let (code, report) = verify(&database.url());
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["intact"], true);
    assert_eq!(report["records"], 0);
    assert_eq!(
        database.sql("SELECT to_regclass('tollgate_recorder') IS NOT NULL"),
        "t",
        "the read migrated the schema"
    );
}

#[test]
fn readme_urls_and_libpq_tls_variables_work_against_a_self_signed_server() {
    let server = Server::shared_or_private();
    assert!(
        server.offers_snakeoil_tls(),
        "the server must offer TLS with {}",
        tollgate_test_support::postgres::SNAKEOIL_CERT
    );
    let database = Database::create(&server);
    let eval = |url: &str, env: &[(&str, &str)]| {
        let output = tollgate()
            .env("HOME", "/nonexistent")
            .env_remove("PGSSLMODE")
            .env_remove("PGSSLROOTCERT")
            .envs(env.iter().copied())
            .args(["eval", "--now", NOW, "--policy", "sox", "--audit-log", url])
            .arg(data("business-logic.yaml"))
            .output()
            .expect("eval");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // README's URLs: the default (`prefer`) and `sslmode=require` encrypt without verifying.
    for query in ["", "?sslmode=require"] {
        let url = format!(
            "postgres://postgres@127.0.0.1:{}/{}{query}",
            server.port(),
            database.name()
        );
        let (code, stderr) = eval(&url, &[]);
        assert_ne!(code, Some(6), "{url}: {stderr}");
    }
    // PGSSLMODE and PGSSLROOTCERT when the URL says nothing: the certificate names `localhost`.
    let verify_full = [
        ("PGSSLMODE", "verify-full"),
        (
            "PGSSLROOTCERT",
            tollgate_test_support::postgres::SNAKEOIL_CERT,
        ),
    ];
    let (code, stderr) = eval(
        &database.url_to("localhost", "application_name=t"),
        &verify_full,
    );
    assert_ne!(code, Some(6), "{stderr}");
    let (code, stderr) = eval(
        &database.url_to("127.0.0.1", "application_name=t"),
        &verify_full,
    );
    assert_eq!(code, Some(6), "{stderr}");
    assert!(
        stderr.contains("not valid for name \"127.0.0.1\"")
            && stderr.contains("sslmode=verify-full"),
        "{stderr}"
    );
    let (code, report) = verify(&database.url());
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["records"], 3);
}

#[test]
fn readme_setup_on_a_new_server_works_as_written() {
    // A new cluster: no `tollgate_writer` yet, as on a stock server.
    let server = Server::private();
    let admin = |sql: &str| server.sql("postgres", sql);
    admin("CREATE ROLE tollgate_owner LOGIN CREATEROLE PASSWORD 'owner-secret'");
    admin("CREATE DATABASE tollgate OWNER tollgate_owner");
    let url = |role: &str, query: &str| {
        format!(
            "postgres://{role}:{role}-secret@127.0.0.1:{}/tollgate{query}",
            server.port()
        )
    };
    let (code, report) = verify(&url("tollgate_owner", ""));
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(
        (&report["intact"], &report["records"]),
        (&json!(true), &json!(0))
    );
    admin("CREATE ROLE tollgate_gateway LOGIN PASSWORD 'gateway-secret' IN ROLE tollgate_writer");

    let gateway = url("tollgate_gateway", "?sslmode=require");
    let eval = tollgate()
        .args([
            "eval",
            "--now",
            NOW,
            "--policy",
            "sox",
            "--audit-log",
            &gateway,
        ])
        .arg(data("business-logic.yaml"))
        .output()
        .expect("eval");
    assert_ne!(
        eval.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let (code, report) = verify(&gateway);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report["records"].as_u64().is_some_and(|n| n > 0),
        "{report}"
    );
    assert!(!report.to_string().contains("gateway-secret"), "{report}");
}
