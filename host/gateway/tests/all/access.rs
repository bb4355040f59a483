//! Who may ask, what a refusal costs the decision log, and who asked — end to end: a real
//! gateway on a local port writing a real decision log, real HTTP clients (hyper, from a chosen
//! loopback address, so two sources can be told apart; ureq over mutual TLS).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, SanType,
};
use serde_json::Value;
use tollgate_decision_log::{AccessRecord, Project, Record};
use tollgate_gateway::Gateway;
use tollgate_gateway::access::RefusalLimits;
use tollgate_gateway::auth::{AccessLog, Refusal, Tokens};
use tollgate_gateway::tls::{Certificates, TlsFiles};
use tollgate_pipeline::{Candidate, Gate, NativePolicy, Pipeline, PipelineOptions};
use tollgate_recorder::LogRecorder;

const NOW: &str = "2026-06-01T00:00:00Z";

/// A token per role, each at least 32 characters.
const EVALUATE: &str = "evaluate-token-0123456789abcdef0123";
const READ: &str = "read-token-0123456789abcdef01234567";
const ADMIN: &str = "admin-token-0123456789abcdef0123456";

fn tokens() -> Tokens {
    let entry = |subject: &str, token: &str, role: &str| {
        format!(
            "  - subject: {subject}\n    sha256: {}\n    roles: [{role}]\n",
            Tokens::digest_hex(token)
        )
    };
    Tokens::parse(&format!(
        "tokens:\n{}{}{}",
        entry("gitlab-runner", EVALUATE, "evaluate"),
        entry("dashboards", READ, "read"),
        entry("operator", ADMIN, "admin"),
    ))
    .unwrap()
}

/// Refused requests as access records of the decision log, as `tollgate serve` writes them.
struct LogAccess(Project);

impl AccessLog for LogAccess {
    fn refused(&self, refusals: &[Refusal]) -> Result<(), tollgate_gateway::HostFailure> {
        let records: Vec<Record> = refusals
            .iter()
            .map(|r| {
                Record::Access(AccessRecord {
                    id: tollgate_decision_log::new_id(),
                    recorded_at: tollgate_decision_log::now(),
                    subject: r.subject.clone(),
                    method: r.method.clone(),
                    path: r.path.clone(),
                    source: r.source.clone(),
                    status: r.status,
                    reason: r.reason.clone(),
                    count: r.count,
                    first_at: Some(r.first_at),
                    last_at: Some(r.last_at),
                })
            })
            .collect();
        self.0
            .audit_log()
            .append_all(&records)
            .map(|_| ())
            .map_err(tollgate_gateway::HostFailure::from)
    }
}

/// A gateway with token authentication over a decision log in a directory of its own.
fn gateway(dir: &Path, limits: RefusalLimits) -> (Arc<Gateway>, PathBuf) {
    let log = dir.join("audit.log");
    let project = Project::discover(dir, Some(&log)).unwrap();
    let recorder = LogRecorder::new(project.clone(), &[], None).unwrap();
    let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
    let pipeline = Pipeline::new(vec![sox], PipelineOptions::default()).unwrap();
    let gateway = Gateway::new(
        Gate::new(pipeline, Box::new(recorder)),
        2,
        Duration::from_secs(30),
    )
    .with_tokens(tokens())
    .with_access_log(Box::new(LogAccess(project)))
    .with_refusal_limits(limits);
    (Arc::new(gateway), log)
}

/// A budget that does not refill while a test runs, and an interval that never comes: records
/// are written at shutdown.
fn limits(burst: u32) -> RefusalLimits {
    RefusalLimits {
        burst,
        refill: Duration::from_secs(3600),
        max_sources: 64,
        interval: Duration::from_secs(3600),
    }
}

/// A gateway serving on a free port until [`Server::stop`].
struct Server {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(gateway: Arc<Gateway>, tls: Option<tollgate_gateway::tls::ServerConfig>) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let shutdown = async move {
                    let _ = stopped.await;
                };
                match tls {
                    Some(config) => {
                        tollgate_gateway::tls::serve_tls(listener, gateway, config, shutdown).await
                    }
                    None => tollgate_gateway::serve(listener, gateway, shutdown).await,
                }
                .unwrap();
            });
        });
        Self {
            address,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Stops serving; returns once the gateway has written what it holds.
    fn stop(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut();
    }
}

/// An answer: status, `Retry-After`, body.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: String,
}

/// Plain HTTP requests from `from` (any 127.0.0.0/8 address reaches a loopback listener).
struct Client {
    runtime: tokio::runtime::Runtime,
    from: IpAddr,
    to: SocketAddr,
}

impl Client {
    fn new(from: [u8; 4], to: SocketAddr) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Self {
            runtime,
            from: IpAddr::from(from),
            to,
        }
    }

    fn send(&self, method: &str, path: &str, authorization: Option<&str>, body: &str) -> Answer {
        self.runtime.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::new(self.from, 0)).unwrap();
            let stream = socket.connect(self.to).await.unwrap();
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(connection);
            let mut request = hyper::Request::builder()
                .method(method)
                .uri(path)
                .header("host", self.to.to_string())
                .header("content-type", "application/yaml");
            if let Some(authorization) = authorization {
                request = request.header("authorization", authorization);
            }
            let request = request
                .body(Full::new(Bytes::from(body.to_owned())))
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            Answer {
                status,
                retry_after,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            }
        })
    }

    fn get(&self, path: &str, authorization: Option<&str>) -> Answer {
        self.send("GET", path, authorization, "")
    }
}

/// The records of a log, as JSON, after checking that the log verifies.
fn records(log: &Path, kind: &str) -> Vec<Value> {
    if !log.exists() {
        return Vec::new();
    }
    let project = Project::discover(log.parent().unwrap(), Some(log)).unwrap();
    let verification = project.audit_log().verify(None).unwrap();
    assert!(verification.is_intact(), "{:?}", verification.problems);
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["record"].clone())
        .filter(|record| record["type"] == kind)
        .collect()
}

fn metric(client: &Client, series: &str) -> u64 {
    let answer = client.get("/metrics", Some(&format!("Bearer {READ}")));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
        .body
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

fn example(name: &str) -> String {
    let path = format!(
        "{}/../../examples/manifests/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn a_flood_of_refusals_costs_a_bounded_number_of_records_with_exact_counts() {
    const FLOOD: u64 = 300;
    const BURST: u32 = 10;
    let dir = tempfile::tempdir().unwrap();
    let (gateway, log) = gateway(dir.path(), limits(BURST));
    let server = Server::start(Arc::clone(&gateway), None);
    let attacker = Client::new([127, 0, 0, 1], server.address);
    let answers: Vec<Answer> = (0..FLOOD)
        .map(|_| attacker.get("/v1/schema", None))
        .collect();
    // Within the budget 401 at once; past it 429 with Retry-After.
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    let refused = statuses.iter().take_while(|s| **s == 401).count();
    assert_eq!(refused, BURST as usize, "{statuses:?}");
    assert!(
        statuses[refused..].iter().all(|s| *s == 429),
        "{statuses:?}"
    );
    let limited = &answers[refused];
    let retry: u64 = limited.retry_after.as_deref().unwrap().parse().unwrap();
    assert!(retry > 0, "{limited:?}");
    assert!(
        limited.body.contains("too_many_requests"),
        "{}",
        limited.body
    );
    // A second source has its own budget.
    let neighbour = Client::new([127, 0, 0, 2], server.address);
    assert_eq!(neighbour.get("/v1/schema", None).status, 401);
    // A valid token from the flooding source is still served.
    let schema = attacker.get("/v1/schema", Some(&format!("Bearer {READ}")));
    assert_eq!(schema.status, 200, "{}", schema.body);
    // The metrics count every refusal.
    let counted = metric(
        &neighbour,
        "tollgate_unauthorized_requests_total{code=\"401\"}",
    ) + metric(
        &neighbour,
        "tollgate_unauthorized_requests_total{code=\"429\"}",
    );
    assert_eq!(counted, FLOOD + 1);
    assert_eq!(
        metric(
            &neighbour,
            "tollgate_unauthorized_requests_total{code=\"429\"}"
        ),
        FLOOD - u64::from(BURST)
    );
    // Nothing is written one by one: the records come at the interval, or at shutdown.
    assert!(records(&log, "access").is_empty());
    server.stop();

    let access = records(&log, "access");
    assert_eq!(
        access.len(),
        3,
        "one per source, status and reason: {access:#?}"
    );
    let total: u64 = access.iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(total, FLOOD + 1);
    let of = |source: &str, status: u64| {
        access
            .iter()
            .find(|r| r["source"] == source && r["status"] == status)
            .unwrap_or_else(|| panic!("no {status} record of {source}: {access:#?}"))
    };
    assert_eq!(of("127.0.0.1", 401)["count"], u64::from(BURST));
    assert_eq!(of("127.0.0.1", 429)["count"], FLOOD - u64::from(BURST));
    assert_eq!(of("127.0.0.2", 401)["count"], 1);
    let flood = of("127.0.0.1", 429);
    assert_eq!(flood["path"], "/v1/schema");
    assert!(
        flood["first_at"].as_str() <= flood["last_at"].as_str(),
        "{flood}"
    );
}

#[test]
fn the_bearer_scheme_is_case_insensitive_and_an_admin_reads_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let (gateway, _log) = gateway(dir.path(), limits(30));
    let server = Server::start(gateway, None);
    let client = Client::new([127, 0, 0, 1], server.address);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let answer = client.get("/v1/schema", Some(&format!("{scheme} {READ}")));
        assert_eq!(answer.status, 200, "{scheme}: {}", answer.body);
    }
    let admin = format!("Bearer {ADMIN}");
    let metrics = client.get("/metrics", Some(&admin));
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    // Administering is not deciding.
    let evaluate = client.send(
        "POST",
        &format!("/v1/evaluate?now={NOW}"),
        Some(&admin),
        &example("low-risk-config-auto-approved.yaml"),
    );
    assert_eq!(evaluate.status, 403, "{}", evaluate.body);
}

#[test]
fn decisions_and_rejected_attempts_name_the_token_subject_as_actor() {
    let dir = tempfile::tempdir().unwrap();
    let (gateway, log) = gateway(dir.path(), limits(30));
    let server = Server::start(gateway, None);
    let client = Client::new([127, 0, 0, 1], server.address);
    let token = format!("Bearer {EVALUATE}");
    let path = format!("/v1/evaluate?now={NOW}");
    let decided = client.send(
        "POST",
        &path,
        Some(&token),
        &example("low-risk-config-auto-approved.yaml"),
    );
    assert_eq!(decided.status, 200, "{}", decided.body);
    let refused = client.send("POST", &path, Some(&token), "change: [not, a, manifest");
    assert_eq!(refused.status, 400, "{}", refused.body);
    server.stop();
    let decisions = records(&log, "decision");
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions[0]["origin"]["actor"], "gitlab-runner");
    assert_eq!(decisions[0]["origin"]["actor_source"], "token");
    let rejected = records(&log, "rejected");
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert_eq!(rejected[0]["origin"]["actor"], "gitlab-runner");
    assert_eq!(rejected[0]["origin"]["actor_source"], "token");
}

type Issuer = CertifiedIssuer<'static, KeyPair>;

fn authority(name: &str) -> Issuer {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A certificate for `name` (PEM) and its key (PEM).
fn leaf(issuer: &Issuer, name: &str, purpose: ExtendedKeyUsagePurpose) -> (String, String) {
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params.extended_key_usages = vec![purpose];
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Acme Payments");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

#[test]
fn a_decision_over_mutual_tls_names_the_client_certificate_subject() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let project = Project::discover(dir.path(), Some(&log)).unwrap();
    let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
    let pipeline = Pipeline::new(vec![sox], PipelineOptions::default()).unwrap();
    let recorder = LogRecorder::new(project, &[], None).unwrap();
    let gateway = Arc::new(Gateway::new(
        Gate::new(pipeline, Box::new(recorder)),
        2,
        Duration::from_secs(30),
    ));
    let servers = authority("tollgate servers");
    let clients = authority("tollgate clients");
    let (server_cert, server_key) = leaf(&servers, "tollgate", ExtendedKeyUsagePurpose::ServerAuth);
    let files = TlsFiles {
        cert: dir.path().join("server.crt"),
        key: dir.path().join("server.key"),
        client_ca: Some(dir.path().join("clients.crt")),
    };
    std::fs::write(&files.cert, server_cert).unwrap();
    std::fs::write(&files.key, server_key).unwrap();
    std::fs::write(files.client_ca.as_ref().unwrap(), clients.pem()).unwrap();
    let config = Arc::new(Certificates::load(files).unwrap())
        .server_config()
        .unwrap();
    let server = Server::start(gateway, Some(config));

    use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
    let (cert, key) = leaf(&clients, "deploy-bot", ExtendedKeyUsagePurpose::ClientAuth);
    let tls = TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&[Certificate::from_der(
            servers.der(),
        )
        .to_owned()]))
        .client_cert(Some(ClientCert::new_with_certs(
            &[Certificate::from_pem(cert.as_bytes()).unwrap()],
            PrivateKey::from_pem(key.as_bytes()).unwrap(),
        )))
        .build();
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build(),
    );
    let mut response = agent
        .post(&format!(
            "https://127.0.0.1:{}/v1/evaluate?now={NOW}",
            server.address.port()
        ))
        .send(example("low-risk-config-auto-approved.yaml"))
        .unwrap();
    let body = response.body_mut().read_to_string().unwrap();
    assert_eq!(response.status().as_u16(), 200, "{body}");
    server.stop();
    let decisions = records(&log, "decision");
    assert_eq!(decisions.len(), 1);
    let origin = &decisions[0]["origin"];
    assert_eq!(origin["actor_source"], "tls_client_certificate", "{origin}");
    let actor = origin["actor"].as_str().unwrap();
    assert!(
        actor.contains("CN=deploy-bot") && actor.contains("O=Acme Payments"),
        "{actor}"
    );
}

#[test]
fn without_authentication_the_actor_is_anonymous_not_the_gateway_user() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let project = Project::discover(dir.path(), Some(&log)).unwrap();
    let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
    let pipeline = Pipeline::new(vec![sox], PipelineOptions::default()).unwrap();
    let recorder = LogRecorder::new(project, &[], None).unwrap();
    let gateway = Arc::new(Gateway::new(
        Gate::new(pipeline, Box::new(recorder)),
        2,
        Duration::from_secs(30),
    ));
    let server = Server::start(gateway, None);
    let client = Client::new([127, 0, 0, 1], server.address);
    let decided = client.send(
        "POST",
        &format!("/v1/evaluate?now={NOW}"),
        None,
        &example("low-risk-config-auto-approved.yaml"),
    );
    assert_eq!(decided.status, 200, "{}", decided.body);
    server.stop();
    let decisions = records(&log, "decision");
    assert_eq!(decisions[0]["origin"]["actor"], "anonymous");
    assert_eq!(decisions[0]["origin"]["actor_source"], "unauthenticated");
}
