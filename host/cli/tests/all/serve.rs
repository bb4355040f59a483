//! `tollgate serve`: the HTTP gateway, driven through the built binary on a loopback port.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::{data, fixtures, shared_cache_dir};
use serde_json::Value;

const NOW: &str = "2026-05-21T00:00:00Z";
/// Bound of every wait: server start, any request.
const WAIT: Duration = Duration::from_secs(60);

/// A running `tollgate serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(args: &[&str], audit_log: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    command
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .arg("--audit-log")
        .arg(audit_log)
        .args(args)
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env_remove("TOLLGATE_AUDIT_LOG")
        .env("NO_COLOR", "1");
    command
}

/// Starts the server and waits (bounded) for the address it prints.
fn start(args: &[&str], audit_log: &Path) -> Server {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(WAIT))
            .build(),
    );
    launch(args, audit_log, agent, "http")
}

/// Starts the server with `args`, to be called with `agent`, and waits (bounded) for the
/// `scheme://` address it prints.
fn launch(args: &[&str], audit_log: &Path, agent: ureq::Agent, scheme: &str) -> Server {
    let mut child = command(args, audit_log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn tollgate serve");
    let stdout = child.stdout.take().expect("stdout");
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = send.send(line);
    });
    let mut server = Server {
        child,
        base: String::new(),
        agent,
    };
    let line = receive
        .recv_timeout(WAIT)
        .expect("the server prints its address in time");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert!(
        base.starts_with(&format!("{scheme}://127.0.0.1:")),
        "{base}"
    );
    server.base = base.to_owned();
    server
}

struct Answer {
    status: u16,
    outcome: Option<String>,
    body: Value,
}

fn answer(response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let outcome = response
        .headers()
        .get("tollgate-outcome")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let mut body = response.into_body();
    let text = body
        .with_config()
        .limit(16 << 20)
        .read_to_string()
        .expect("body");
    assert_eq!(
        content_type.as_deref(),
        Some("application/json"),
        "status {status}: {text}"
    );
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    Answer {
        status,
        outcome,
        body,
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn get(&self, path: &str) -> Answer {
        answer(self.agent.get(self.url(path)).call().expect("request"))
    }

    fn evaluate(&self, text: &str, content_type: Option<&str>) -> Answer {
        let mut request = self
            .agent
            .post(self.url(&format!("/v1/evaluate?now={NOW}")));
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        answer(request.send(text).expect("request"))
    }

    fn evaluate_file(&self, name: &str) -> Answer {
        self.evaluate(
            &std::fs::read_to_string(data(name)).expect("manifest"),
            None,
        )
    }
}

/// The JSON report of `tollgate eval` for the same manifest and time.
fn eval_json(name: &str, audit_log: &Path) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .arg("eval")
        .arg(data(name))
        .args(["--now", NOW, "--format", "json", "--audit-log"])
        .arg(audit_log)
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .env_remove("TOLLGATE_AUDIT_LOG")
        .output()
        .expect("tollgate eval");
    serde_json::from_slice(&output.stdout).expect("eval prints JSON")
}

/// A report without the manifest's path (a file for `eval`, the request for `serve`).
fn without_path(mut report: Value) -> Value {
    report["manifest"]
        .as_object_mut()
        .expect("manifest")
        .remove("path");
    report
}

fn records(audit_log: &Path) -> usize {
    std::fs::read_to_string(audit_log)
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

fn log_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("audit.log")
}

#[test]
fn every_outcome_is_a_200_with_the_report_of_eval() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let server = start(&[], &log);
    let eval_log = dir.path().join("eval-audit.log");
    for (name, outcome, exit_code) in [
        ("business-logic.yaml", "approved", 0),
        ("no-approval.yaml", "needs_approval", 3),
        ("self-approval.yaml", "denied", 4),
    ] {
        let answer = server.evaluate_file(name);
        assert_eq!(answer.status, 200, "{name}: {}", answer.body);
        assert_eq!(answer.outcome.as_deref(), Some(outcome), "{name}");
        assert_eq!(answer.body["outcome"], outcome, "{name}");
        assert_eq!(answer.body["exit_code"], exit_code, "{name}");
        assert_eq!(answer.body["manifest"]["path"], "<request>");
        assert_eq!(
            without_path(answer.body),
            without_path(eval_json(name, &eval_log)),
            "{name}"
        );
    }
    // One durable record per evaluation, written before each answer.
    assert_eq!(records(&log), 3);
}

#[test]
fn a_json_body_is_read_as_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let server = start(&["--policy", "sox"], &log);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/manifests");
    let json = std::fs::read_to_string(examples.join("business-logic-needs-tech-lead.json"))
        .expect("manifest");
    let yaml = std::fs::read_to_string(examples.join("business-logic-needs-tech-lead.yaml"))
        .expect("manifest");
    let answer = server.evaluate(&json, Some("application/json; charset=utf-8"));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let outcome = answer.outcome.expect("outcome");
    // The same manifest as YAML, detected without a content type, decides the same.
    let answer = server.evaluate(&yaml, None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.outcome, Some(outcome));
    // YAML sent as JSON is invalid JSON, located.
    let answer = server.evaluate(&yaml, Some("application/json"));
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["error"]["kind"], "invalid_manifest");
    assert_eq!(answer.body["error"]["line"], 1);
    // Two decisions and the refused manifest, on record as a rejected attempt.
    assert_eq!(records(&log), 3);
}

#[test]
fn a_malformed_manifest_is_a_400_naming_the_path_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let server = start(&[], &log);
    let answer = server.evaluate_file("bad-timestamp.yaml");
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.outcome, None);
    let error = &answer.body["error"];
    assert_eq!(error["kind"], "invalid_manifest");
    assert!(
        error["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("change.")),
        "{error}"
    );
    assert!(error["line"].as_u64().is_some_and(|l| l > 1), "{error}");
    assert!(error["column"].as_u64().is_some(), "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid manifest")),
        "{error}"
    );
    let answer = server.evaluate("version: 1\nchange: 3\n", None);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"]["path"], "change");
    assert_eq!(answer.body["error"]["line"], 2);
    // A bad `now` is refused too, as a bad request rather than a refused manifest.
    let answer = answer_of(
        server
            .agent
            .post(server.url("/v1/evaluate?now=yesterday"))
            .send("version: 1\n"),
    );
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"]["kind"], "invalid_request");
    // Each refused manifest is on record as a rejected attempt; the bad request is not.
    assert_eq!(records(&log), 2);
}

fn answer_of(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    answer(result.expect("request"))
}

/// Sends the head of a request only, announcing `length` bytes, and reads the whole answer.
fn raw_head(base: &str, length: usize) -> String {
    let address = base.strip_prefix("http://").expect("http");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    stream.set_write_timeout(Some(WAIT)).expect("timeout");
    write!(
        stream,
        "POST /v1/evaluate HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/yaml\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read the answer");
    text
}

#[test]
fn an_oversized_body_is_a_413_before_it_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let server = start(&[], &log);
    // Only the head is sent: the answer comes from the announced length alone.
    let text = raw_head(&server.base, tollgate_manifest::MAX_DOCUMENT_BYTES + 1);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"kind\": \"too_large\""), "{text}");
    // A body of exactly the limit is read (and refused as a manifest, not for its size).
    let body = format!(
        "version: 1\n#{}\n",
        "x".repeat(tollgate_manifest::MAX_DOCUMENT_BYTES - 13)
    );
    assert_eq!(body.len(), tollgate_manifest::MAX_DOCUMENT_BYTES);
    let answer = server.evaluate(&body, None);
    assert_eq!(answer.status, 400, "{}", answer.body);
    // The oversized body was never read; the refused manifest is a rejected attempt on record.
    assert_eq!(records(&log), 1);
}

#[test]
fn a_hostile_policy_is_a_policy_failure_never_an_approval() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let server = start(&["--policy", "sox", "--policy", fixtures::SPIN], &log);
    let answer = server.evaluate_file("business-logic.yaml");
    assert_eq!(answer.status, 500, "{}", answer.body);
    assert_eq!(answer.outcome.as_deref(), Some("policy_failure"));
    let error = &answer.body["error"];
    assert_eq!(error["kind"], "policy_failure");
    assert_eq!(error["failures"][0]["policy"], "spin");
    assert_eq!(error["failures"][0]["kind"], "timeout");
    let report = &answer.body["report"];
    assert_ne!(report["outcome"], "approved");
    assert_eq!(report["exit_code"], 5);
    assert_eq!(report["policies"][0]["id"], "sox");
    // The failure is recorded like any decision.
    assert_eq!(records(&log), 1);
}

/// `serve --service NAME` is the service of every request that names none, so service-scoped
/// waivers apply over HTTP; `?service=` of a request wins.
#[test]
fn the_default_service_applies_service_scoped_waivers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let waivers = dir.path().join("waivers.yaml");
    std::fs::write(
        &waivers,
        "version: 1\nwaivers:\n  - id: WVR-9\n    rule: sod-self-approval\n    scope: { service: payments }\n    justification: the approver was reassigned; a second review is booked\n    ticket: CHG-2041\n    approved_by: dave\n    expires: 2026-06-30\n",
    )
    .expect("waivers");
    let waivers = waivers.to_str().expect("utf-8 path");
    // Self-approval is non-waivable by default; this team's settings allow waiving it.
    let settings = dir.path().join("settings.yaml");
    std::fs::write(&settings, "defaults:\n  waivers:\n    non_waivable: []\n").expect("settings");
    let settings = settings.to_str().expect("utf-8 path");
    let server = start(
        &[
            "--waivers",
            waivers,
            "--service",
            "payments",
            "--settings",
            settings,
        ],
        &log,
    );
    let answer = server.evaluate_file("self-approval.yaml");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["outcome_before_waivers"], "denied",
        "{}",
        answer.body
    );
    assert_eq!(
        answer.outcome.as_deref(),
        Some("needs_approval"),
        "{}",
        answer.body
    );
    assert_eq!(answer.body["waivers"]["waived"][0]["waiver"]["id"], "WVR-9");
    // A request naming another service is not covered by the waiver.
    let text = std::fs::read_to_string(data("self-approval.yaml")).expect("manifest");
    let other = answer_of(
        server
            .agent
            .post(server.url(&format!("/v1/evaluate?now={NOW}&service=ledger")))
            .send(&text),
    );
    assert_eq!(other.status, 200, "{}", other.body);
    assert_eq!(other.outcome.as_deref(), Some("denied"), "{}", other.body);
    assert_eq!(records(&log), 2);
}

#[test]
fn an_unwritable_decision_log_is_a_503_without_a_decision() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("missing").join("audit.log");
    let server = start(&[], &log);
    let answer = server.evaluate_file("business-logic.yaml");
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(answer.outcome, None);
    assert_eq!(answer.body["error"]["kind"], "audit_unavailable");
    assert!(answer.body.get("outcome").is_none());
    assert!(answer.body.get("report").is_none());
    assert!(!log.exists());
}

#[test]
fn policies_schema_and_health_describe_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let server = start(&["--policy", "sox", "--policy", "pci"], &log);

    let health = server.get("/health");
    assert_eq!(health.status, 200);
    assert_eq!(
        health.body,
        serde_json::json!({ "status": "ok", "policies": ["sox", "pci"] })
    );

    let policies = server.get("/v1/policies");
    assert_eq!(policies.status, 200);
    // OPA's shape: one module per package, Tollgate's metadata under `tollgate`.
    let modules = policies.body["result"].as_array().expect("array");
    assert_eq!(modules.len(), 3);
    assert_eq!(modules[0]["id"], "tollgate");
    assert_eq!(modules[1]["id"], "tollgate/sox");
    let list: Vec<&Value> = modules[1..].iter().map(|m| &m["tollgate"]).collect();
    assert_eq!(list[0]["id"], "sox");
    assert_eq!(list[0]["framework"], "SOX");
    assert!(
        list[0]["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    assert!(list[0]["version"].is_string());
    assert!(
        list[1]["controls"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );

    let schema = server.get("/v1/schema");
    assert_eq!(schema.status, 200);
    let expected: Value =
        serde_json::from_str(&tollgate_manifest::Manifest::json_schema()).expect("schema");
    assert_eq!(schema.body, expected);

    let missing = server.get("/v2/nothing");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"]["kind"], "not_found");
    let wrong = server.get("/v1/evaluate");
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.body["error"]["kind"], "method_not_allowed");
    let wrong = answer_of(server.agent.post(server.url("/health")).send(""));
    assert_eq!(wrong.status, 405);
    assert_eq!(records(&log), 0);
}

/// Runs `tollgate serve` expecting it to refuse to start; returns its exit code and stderr.
fn refused(args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = command(args, &log_in(&dir))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut stderr)
                .expect("stderr");
            return (status.code(), stderr);
        }
        if start.elapsed() > WAIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server did not refuse to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn invalid_settings_or_a_broken_policy_stop_the_server_from_starting() {
    let settings = data("settings-invalid.yaml");
    let (code, stderr) = refused(&["--settings", settings.to_str().expect("utf-8")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("invalid settings for policy"), "{stderr}");

    // Not a component: it cannot be loaded, so nothing is served.
    let manifest = data("business-logic.yaml");
    let (code, stderr) = refused(&["--policy", manifest.to_str().expect("utf-8")]);
    assert_eq!(code, Some(5), "{stderr}");
    assert!(stderr.contains("not serving"), "{stderr}");
    assert!(stderr.contains("could not be loaded"), "{stderr}");
}

/// A rough throughput figure, not an assertion: `cargo test -p tollgate serve:: -- --ignored
/// --nocapture` (with `--release` for meaningful numbers).
#[test]
#[ignore = "measurement, run by hand"]
fn measure_sequential_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&[], &log_in(&dir));
    let text = std::fs::read_to_string(data("business-logic.yaml")).expect("manifest");
    for _ in 0..10 {
        assert_eq!(server.evaluate(&text, None).status, 200);
    }
    let mut latencies = Vec::new();
    let start = Instant::now();
    for _ in 0..200 {
        let begin = Instant::now();
        assert_eq!(server.evaluate(&text, None).status, 200);
        latencies.push(begin.elapsed());
    }
    let total = start.elapsed();
    latencies.sort();
    println!(
        "200 sequential evaluations: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
        200.0 / total.as_secs_f64(),
        latencies[100].as_secs_f64() * 1e3,
        latencies[197].as_secs_f64() * 1e3
    );
}

#[test]
fn a_deployment_without_an_approved_decision_is_counted_as_a_direct_production_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let denied = server_change(&log, "self-approval.yaml");
    let server = start(&[], &log);
    let metric = |server: &Server| -> String {
        let mut response = server
            .agent
            .get(server.url("/metrics"))
            .call()
            .expect("metrics");
        let text = response.body_mut().read_to_string().expect("text");
        text.lines()
            .find(|l| l.starts_with("production_changes_without_ticket_total "))
            .expect("the counter is exported")
            .to_owned()
    };
    assert_eq!(metric(&server), "production_changes_without_ticket_total 0");
    let mark = |change: &str| {
        answer(
            server
                .agent
                .post(server.url("/v1/marks"))
                .header("content-type", "application/json")
                .send(serde_json::json!({ "change": change, "status": "deployed" }).to_string())
                .expect("request"),
        )
    };
    let answer = mark(&denied);
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["direct_production_change"], true);
    let answer = mark("CHG-never-decided");
    assert_eq!(answer.body["direct_production_change"], true);
    assert_eq!(answer.body["decision_id"], Value::Null);
    assert_eq!(metric(&server), "production_changes_without_ticket_total 2");
    let bad = answer_of(
        server
            .agent
            .post(server.url("/v1/marks"))
            .send(r#"{"change": "X", "status": "shipped"}"#),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    // A staging deployment without an approved decision is no direct production change.
    let staging = std::fs::read_to_string(data("self-approval.yaml"))
        .expect("manifest")
        .replace("id: CHG-2041", "id: CHG-staging-1")
        .replace("environment: production", "environment: staging");
    let decided = server.evaluate(&staging, None);
    assert_eq!(decided.body["outcome"], "denied", "{}", decided.body);
    let answer = mark("CHG-staging-1");
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["direct_production_change"], false);
    assert_eq!(metric(&server), "production_changes_without_ticket_total 2");
    // A mark written by `tollgate audit mark` to the same log reaches the running gateway's
    // counter (at its next look at the log: here, the next mark), and counts once.
    let cli = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .current_dir(dir.path())
        .args(["audit", "mark", "CHG-cli-only", "--status", "deployed"])
        .env("TOLLGATE_AUDIT_LOG", &log)
        .env("TOLLGATE_CACHE_DIR", shared_cache_dir())
        .output()
        .expect("tollgate audit mark");
    assert_eq!(cli.status.code(), Some(2), "an unknown change: {cli:?}");
    let answer = mark(&denied);
    assert_eq!(answer.body["direct_production_change"], true);
    assert_eq!(metric(&server), "production_changes_without_ticket_total 4");
    drop(server);
    // A restarted gateway counts the direct changes already in its log.
    let server = start(&[], &log);
    assert_eq!(metric(&server), "production_changes_without_ticket_total 4");
}

/// Decides `name` once through a short-lived server; returns its change id.
fn server_change(log: &Path, name: &str) -> String {
    let server = start(&[], log);
    let answer = server.evaluate_file(name);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let text = std::fs::read_to_string(log).expect("log");
    let last: Value = serde_json::from_str(text.lines().last().expect("a record")).expect("json");
    last["record"]["change"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

#[test]
fn refused_requests_are_401_or_403_counted_and_recorded_without_the_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let evaluate = "e".repeat(40);
    let reader = "r".repeat(40);
    let digest = |token: &str| tollgate_gateway::auth::Tokens::digest_hex(token);
    let tokens = dir.path().join("tokens.yaml");
    std::fs::write(
        &tokens,
        format!(
            "tokens:\n  - subject: deploy-pipeline\n    sha256: {}\n    roles: [evaluate]\n  - subject: dashboards\n    sha256: {}\n    roles: [read]\n",
            digest(&evaluate),
            digest(&reader)
        ),
    )
    .expect("tokens");
    let server = start(
        &[
            "--authentication",
            "token",
            "--tokens",
            tokens.to_str().expect("utf-8"),
        ],
        &log,
    );
    let manifest = std::fs::read_to_string(data("self-approval.yaml")).expect("manifest");
    let post = |token: Option<&str>| {
        let mut request = server
            .agent
            .post(server.url(&format!("/v1/evaluate?now={NOW}")));
        if let Some(token) = token {
            request = request.header("authorization", &format!("Bearer {token}"));
        }
        answer_of(request.send(&manifest))
    };
    let none = post(None);
    assert_eq!(none.status, 401, "{}", none.body);
    assert_eq!(none.body["error"]["kind"], "unauthorized");
    let wrong = post(Some(&"x".repeat(40)));
    assert_eq!(wrong.status, 401);
    let forbidden = post(Some(&reader));
    assert_eq!(forbidden.status, 403, "{}", forbidden.body);
    let allowed = post(Some(&evaluate));
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    // OPA's routes answer OPA's error shape.
    let opa = answer_of(
        server
            .agent
            .post(server.url("/v1/data/tollgate/decision"))
            .send("{}"),
    );
    assert_eq!(
        (opa.status, &opa.body["code"]),
        (401, &Value::from("unauthorized"))
    );
    assert_eq!(server.get("/health").status, 200);

    let mut metrics = server
        .agent
        .get(server.url("/metrics"))
        .header("authorization", &format!("Bearer {reader}"))
        .call()
        .expect("metrics");
    assert_eq!(metrics.status().as_u16(), 200);
    let metrics = metrics.body_mut().read_to_string().expect("text");
    assert!(
        metrics.contains("tollgate_unauthorized_requests_total{code=\"401\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tollgate_unauthorized_requests_total{code=\"403\"} 1"),
        "{metrics}"
    );

    // Refusals are aggregated and written each interval, and at shutdown.
    let mut server = server;
    let terminated = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(terminated.success());
    assert!(server.child.wait().expect("wait").success());
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains(&evaluate) && !text.contains(&reader) && !text.contains("xxxx"));
    let access: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json")["record"].clone())
        .filter(|r| r["type"] == "access")
        .collect();
    // One record per source, status and reason: the two requests without a token share one.
    assert_eq!(access.len(), 3, "{access:?}");
    let by_reason = |reason: &str| {
        access
            .iter()
            .find(|r| r["reason"] == reason)
            .unwrap_or_else(|| panic!("no access record for `{reason}`: {access:?}"))
    };
    assert_eq!(by_reason("no bearer token")["count"], 2, "{access:?}");
    assert_eq!(by_reason("unknown token")["count"], 1, "{access:?}");
    assert_eq!(
        by_reason("the role `evaluate` is missing")["subject"],
        "dashboards"
    );
    let forbidden = by_reason("the role `evaluate` is missing");
    assert_eq!(forbidden["status"], 403);
    assert_eq!(forbidden["path"], "/v1/evaluate");
    let without_token = by_reason("no bearer token");
    assert_eq!(without_token["source"], "127.0.0.1", "{access:?}");
    assert!(without_token.get("subject").is_none());
    let show = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args([
            "audit",
            "show",
            without_token["id"].as_str().expect("id"),
            "--audit-log",
        ])
        .arg(&log)
        .output()
        .expect("show");
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(shown.contains("(2 requests, "), "{shown}");
    // The log with access records still verifies.
    let verify = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["audit", "verify", "--audit-log"])
        .arg(&log)
        .output()
        .expect("verify");
    assert_eq!(verify.status.code(), Some(0), "{verify:?}");
}

#[test]
fn a_non_loopback_address_needs_authentication_or_insecure_no_auth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["serve", "--listen", "0.0.0.0:0", "--audit-log"])
        .arg(log_in(&dir))
        .env_remove("TOLLGATE_AUDIT_LOG")
        .output()
        .expect("serve");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without authentication"), "{stderr}");
    assert!(stderr.contains("--insecure-no-auth"), "{stderr}");
}

/// The `policy_set_digest` of every decision record of the log, in order.
fn set_digests(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .expect("log")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json")["record"].clone())
        .filter(|r| r["type"] == "decision")
        .map(|r| r["policy_set_digest"].as_str().expect("digest").to_owned())
        .collect()
}

#[test]
fn a_reload_swaps_the_policy_set_and_a_bad_one_leaves_the_old_serving() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let settings = dir.path().join("settings.yaml");
    std::fs::copy(data("settings-strict-rotation.yaml"), &settings).expect("settings");
    let server = start(&["--settings", settings.to_str().expect("utf-8")], &log);
    assert_eq!(server.evaluate_file("business-logic.yaml").status, 200);

    // A set that fails to validate is refused; the old one keeps serving.
    std::fs::copy(data("settings-invalid.yaml"), &settings).expect("settings");
    let refused = answer_of(server.agent.post(server.url("/v1/admin/reload")).send(""));
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert_eq!(refused.body["error"]["kind"], "reload_failed");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid settings")),
        "{}",
        refused.body
    );
    assert_eq!(server.evaluate_file("business-logic.yaml").status, 200);

    // A good set is taken by the next request, by POST and by SIGHUP alike.
    std::fs::remove_file(&settings).expect("rm");
    std::fs::write(&settings, "{}\n").expect("settings");
    let reloaded = answer_of(server.agent.post(server.url("/v1/admin/reload")).send(""));
    assert_eq!(reloaded.status, 200, "{}", reloaded.body);
    assert_eq!(server.evaluate_file("business-logic.yaml").status, 200);
    std::fs::copy(data("settings-strict-rotation.yaml"), &settings).expect("settings");
    let hangup = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(hangup.success());
    let deadline = Instant::now() + WAIT;
    let metrics = loop {
        let mut response = server
            .agent
            .get(server.url("/metrics"))
            .call()
            .expect("metrics");
        let text = response.body_mut().read_to_string().expect("text");
        if text.contains("tollgate_reloads_total{result=\"success\"} 2")
            || Instant::now() > deadline
        {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        metrics.contains("tollgate_reloads_total{result=\"success\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tollgate_reloads_total{result=\"failure\"} 1"),
        "{metrics}"
    );
    assert_eq!(server.evaluate_file("business-logic.yaml").status, 200);

    // Every record names the set that decided it.
    let digests = set_digests(&log);
    assert_eq!(digests.len(), 4);
    assert_eq!(digests[0], digests[1], "the refused set never decided");
    assert_ne!(
        digests[1], digests[2],
        "the reloaded settings are another set"
    );
    assert_eq!(digests[0], digests[3], "the same files make the same set");
}

#[test]
fn concurrent_decisions_share_group_commits_and_each_has_its_own_durable_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    // Four evaluation slots (sixteen may wait): every request is decided, and the policies'
    // 100 ms deadline holds on a busy two-core machine.
    let server = std::sync::Arc::new(start(&["--max-concurrent", "4"], &log));
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let server = std::sync::Arc::clone(&server);
            std::thread::spawn(move || {
                let answer = answer_of(
                    server
                        .agent
                        .post(server.url("/v1/data/tollgate/sox/allow"))
                        .send(
                            serde_json::json!({ "input": serde_json::from_str::<Value>(
                                &std::fs::read_to_string(format!(
                                    "{}/../../examples/manifests/business-logic-needs-tech-lead.json",
                                    env!("CARGO_MANIFEST_DIR")
                                ))
                                .expect("manifest"),
                            )
                            .expect("json") })
                            .to_string(),
                        ),
                );
                assert_eq!(answer.status, 200, "{}", answer.body);
                answer.body["decision_id"].as_str().expect("id").to_owned()
            })
        })
        .collect();
    let ids: std::collections::BTreeSet<String> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    assert_eq!(ids.len(), 16);
    let recorded: std::collections::BTreeSet<String> = std::fs::read_to_string(&log)
        .expect("log")
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("json")["record"]["id"]
                .as_str()
                .expect("id")
                .to_owned()
        })
        .collect();
    assert_eq!(ids, recorded);
    let verify = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["audit", "verify", "--audit-log"])
        .arg(&log)
        .output()
        .expect("verify");
    assert_eq!(verify.status.code(), Some(0), "{verify:?}");
}

/// A test PKI in `dir`: `ca.crt` (the CA of servers and clients), `server.crt` and `server.key`
/// for 127.0.0.1; returns an HTTPS client trusting the CA, with a client certificate when
/// `identify` is true.
fn pki(dir: &Path) -> (rcgen::CertifiedIssuer<'static, rcgen::KeyPair>, ureq::Agent) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
        IsCa, KeyPair, SanType,
    };
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "pipelines CA");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("ca");
    let leaf = |purpose| {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params.extended_key_usages = vec![purpose];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &ca).expect("signed");
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) = leaf(ExtendedKeyUsagePurpose::ServerAuth);
    std::fs::write(dir.join("ca.crt"), ca.pem()).expect("write");
    std::fs::write(dir.join("server.crt"), server_cert).expect("write");
    std::fs::write(dir.join("server.key"), server_key).expect("write");
    let (client_cert, client_key) = leaf(ExtendedKeyUsagePurpose::ClientAuth);
    let agent = https_agent(&ca, Some((&client_cert, &client_key)));
    (ca, agent)
}

fn https_agent(
    ca: &rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    identity: Option<(&str, &str)>,
) -> ureq::Agent {
    use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
    let roots = RootCerts::new_with_certs(&[Certificate::from_der(ca.der()).to_owned()]);
    let identity = identity.map(|(cert, key)| {
        ClientCert::new_with_certs(
            &[Certificate::from_pem(cert.as_bytes()).expect("cert")],
            PrivateKey::from_pem(key.as_bytes()).expect("key"),
        )
    });
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .tls_config(
                TlsConfig::builder()
                    .root_certs(roots)
                    .client_cert(identity)
                    .build(),
            )
            .http_status_as_error(false)
            .timeout_global(Some(WAIT))
            .build(),
    )
}

#[test]
fn https_with_client_certificates_decides_only_for_clients_of_the_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let (ca, agent) = pki(dir.path());
    let file = |name: &str| dir.path().join(name).display().to_string();
    let (cert, key, client_ca) = (file("server.crt"), file("server.key"), file("ca.crt"));
    let server = launch(
        &[
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--tls-client-ca",
            &client_ca,
        ],
        &log,
        agent,
        "https",
    );

    let answer = server.evaluate_file("business-logic.yaml");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(records(&log), 1);

    let anonymous = https_agent(&ca, None);
    assert!(
        anonymous.get(server.url("/health")).call().is_err(),
        "a client without a certificate is refused at the handshake"
    );
    let metrics = server
        .agent
        .get(server.url("/metrics"))
        .call()
        .expect("metrics")
        .body_mut()
        .read_to_string()
        .expect("text");
    assert!(
        metrics.contains("tollgate_tls_handshake_failures_total 1"),
        "{metrics}"
    );
    assert_eq!(records(&log), 1, "a refused handshake decides nothing");
}

#[test]
fn https_needs_both_certificate_and_key_and_refuses_unreadable_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("absent.crt").display().to_string();
    let (code, stderr) = refused(&["--tls-cert", &missing]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--tls-key"), "{stderr}");
    let key = dir.path().join("absent.key").display().to_string();
    let (code, stderr) = refused(&["--tls-cert", &missing, "--tls-key", &key]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("absent.crt"), "{stderr}");
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_with_its_record_then_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_in(&dir);
    let mut server = start(&[], &log);
    let body = std::fs::read_to_string(data("business-logic.yaml")).expect("manifest");
    let address = server
        .base
        .strip_prefix("http://")
        .expect("http")
        .to_owned();
    let mut stream = TcpStream::connect(&address).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let (first, rest) = body.split_at(body.len() / 2);
    write!(
        stream,
        "POST /v1/evaluate?now={NOW} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/yaml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .expect("write");
    stream.flush().expect("flush");
    // The server is reading the request when the signal arrives.
    std::thread::sleep(Duration::from_millis(300));
    let terminated = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(terminated.success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server.child.try_wait().expect("wait").is_none(),
        "the server waits for the request in flight"
    );

    stream.write_all(rest.as_bytes()).expect("write the rest");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"outcome\""), "{answer}");

    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit after draining"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    assert_eq!(records(&log), 1, "the drained request was recorded");
}
