//! HTTPS end to end: a real rustls server ([`tollgate_gateway::tls::serve_tls`]) on a local port,
//! real HTTPS clients (ureq with rustls), certificates made for the test by rcgen.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, SanType,
};
use serde_json::{Value, json};
use tollgate_gateway::Gateway;
use tollgate_gateway::tls::{Certificates, TlsError, TlsFiles, serve_tls};
use tollgate_pipeline::{Candidate, Gate, NativePolicy, Pipeline, PipelineOptions};
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

use crate::common::Counting;

type Issuer = CertifiedIssuer<'static, KeyPair>;

fn authority(name: &str) -> Issuer {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A certificate and key, both PEM.
struct Leaf {
    cert: String,
    key: String,
}

fn leaf(issuer: &Issuer, purpose: ExtendedKeyUsagePurpose) -> Leaf {
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    params.extended_key_usages = vec![purpose];
    params
        .distinguished_name
        .push(DnType::CommonName, "tollgate test");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    Leaf {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

/// The server's files in a directory of their own.
struct ServerFiles {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
    client_ca: PathBuf,
}

impl ServerFiles {
    fn new(server: &Leaf, client_ca: &Issuer) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let files = Self {
            cert: dir.path().join("server.crt"),
            key: dir.path().join("server.key"),
            client_ca: dir.path().join("clients-ca.crt"),
            _dir: dir,
        };
        files.install(server);
        std::fs::write(&files.client_ca, client_ca.pem()).unwrap();
        files
    }

    /// Writes a certificate and key over the served ones (as a certificate renewal does).
    fn install(&self, server: &Leaf) {
        write_replacing(&self.key, &server.key);
        write_replacing(&self.cert, &server.cert);
    }

    fn tls_files(&self, mutual: bool) -> TlsFiles {
        TlsFiles {
            cert: self.cert.clone(),
            key: self.key.clone(),
            client_ca: mutual.then(|| self.client_ca.clone()),
        }
    }
}

/// Replaces a file by renaming a new one over it, as certificate managers do.
fn write_replacing(path: &Path, text: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, text).unwrap();
    std::fs::rename(&next, path).unwrap();
}

/// A gateway serving HTTPS on a free port until dropped.
struct Server {
    address: SocketAddr,
    gateway: Arc<Gateway>,
    certificates: Arc<Certificates>,
    records: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(files: TlsFiles) -> Self {
        let records = Arc::new(AtomicUsize::new(0));
        let sox = Candidate::Loaded(Box::new(NativePolicy::new(tollgate_policy_sox::SoxPolicy)));
        let pipeline = Pipeline::new(vec![sox], PipelineOptions::default()).unwrap();
        let gateway = Arc::new(Gateway::new(
            Gate::new(pipeline, Box::new(Counting(Arc::clone(&records)))),
            2,
            Duration::from_secs(30),
        ));
        let certificates = Arc::new(Certificates::load(files).unwrap());
        let config = certificates.server_config().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = Arc::clone(&gateway);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                serve_tls(listener, served, config, async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        Self {
            address,
            gateway,
            certificates,
            records,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.address.port())
    }

    /// Waits until `count` handshakes have failed on the server (the client may see its refusal
    /// before the server has counted it).
    fn wait_for_handshake_failures(&self, count: u64) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.gateway.metrics().tls_handshake_failures.get() < count {
            assert!(
                Instant::now() < deadline,
                "{count} failed handshakes expected, {} counted",
                self.gateway.metrics().tls_handshake_failures.get()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An HTTPS client trusting only `root`, presenting `identity` when given.
fn client(root: &Issuer, identity: Option<&Leaf>) -> ureq::Agent {
    let roots = RootCerts::new_with_certs(&[Certificate::from_der(root.der()).to_owned()]);
    let identity = identity.map(|leaf| {
        ClientCert::new_with_certs(
            &[Certificate::from_pem(leaf.cert.as_bytes()).unwrap()],
            PrivateKey::from_pem(leaf.key.as_bytes()).unwrap(),
        )
    });
    let tls = TlsConfig::builder()
        .root_certs(roots)
        .client_cert(identity)
        .build();
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build(),
    )
}

fn manifest_input(name: &str) -> Value {
    let path = format!(
        "{}/../../examples/manifests/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let manifest: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json!({ "input": manifest })
}

fn health(agent: &ureq::Agent, server: &Server) -> Result<u16, ureq::Error> {
    agent
        .get(&server.url("/health"))
        .call()
        .map(|response| response.status().as_u16())
}

#[test]
fn a_client_with_a_certificate_of_the_client_ca_gets_a_recorded_decision() {
    let server_ca = authority("server CA");
    let client_ca = authority("client CA");
    let files = ServerFiles::new(
        &leaf(&server_ca, ExtendedKeyUsagePurpose::ServerAuth),
        &client_ca,
    );
    let server = Server::start(files.tls_files(true));
    let pipeline = leaf(&client_ca, ExtendedKeyUsagePurpose::ClientAuth);
    let agent = client(&server_ca, Some(&pipeline));

    assert_eq!(health(&agent, &server).unwrap(), 200);
    let mut response = agent
        .post(&server.url("/v1/data/tollgate/sox/decision"))
        .send_json(manifest_input("business-logic-needs-tech-lead.yaml"))
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answer: Value = response.body_mut().read_json().unwrap();
    assert_eq!(answer["result"]["outcome"], "needs_approval", "{answer}");
    assert_eq!(answer["decision_id"], "record-1");
    assert_eq!(server.records.load(Ordering::SeqCst), 1);
    assert_eq!(server.gateway.metrics().tls_handshake_failures.get(), 0);
}

#[test]
fn a_client_without_a_trusted_certificate_is_refused_counted_and_decides_nothing() {
    let server_ca = authority("server CA");
    let client_ca = authority("client CA");
    let stranger_ca = authority("another CA");
    let files = ServerFiles::new(
        &leaf(&server_ca, ExtendedKeyUsagePurpose::ServerAuth),
        &client_ca,
    );
    let server = Server::start(files.tls_files(true));

    let anonymous = client(&server_ca, None);
    assert!(
        anonymous
            .post(&server.url("/v1/data/tollgate/sox/allow"))
            .send_json(manifest_input("business-logic-needs-tech-lead.yaml"))
            .is_err(),
        "a client without a certificate must not be answered"
    );
    server.wait_for_handshake_failures(1);

    let stranger = leaf(&stranger_ca, ExtendedKeyUsagePurpose::ClientAuth);
    assert!(
        client(&server_ca, Some(&stranger))
            .post(&server.url("/v1/data/tollgate/sox/allow"))
            .send_json(manifest_input("business-logic-needs-tech-lead.yaml"))
            .is_err(),
        "a certificate of another CA must not be accepted"
    );
    server.wait_for_handshake_failures(2);
    assert_eq!(server.records.load(Ordering::SeqCst), 0);

    let metrics = client(
        &server_ca,
        Some(&leaf(&client_ca, ExtendedKeyUsagePurpose::ClientAuth)),
    )
    .get(&server.url("/metrics"))
    .call()
    .unwrap()
    .body_mut()
    .read_to_string()
    .unwrap();
    assert!(
        metrics.contains("tollgate_tls_handshake_failures_total 2"),
        "{metrics}"
    );
}

#[test]
fn a_renewed_certificate_is_served_without_a_restart() {
    let old_ca = authority("old server CA");
    let new_ca = authority("new server CA");
    let client_ca = authority("client CA");
    let files = ServerFiles::new(
        &leaf(&old_ca, ExtendedKeyUsagePurpose::ServerAuth),
        &client_ca,
    );
    let server = Server::start(files.tls_files(false));
    let trusts_old = client(&old_ca, None);
    let trusts_new = client(&new_ca, None);
    assert_eq!(health(&trusts_old, &server).unwrap(), 200);
    assert!(health(&trusts_new, &server).is_err());

    files.install(&leaf(&new_ca, ExtendedKeyUsagePurpose::ServerAuth));

    assert_eq!(health(&trusts_new, &server).unwrap(), 200);
    assert!(health(&client(&old_ca, None), &server).is_err());
}

#[test]
fn a_certificate_that_does_not_match_its_key_is_refused_and_the_old_pair_keeps_serving() {
    let server_ca = authority("server CA");
    let client_ca = authority("client CA");
    let files = ServerFiles::new(
        &leaf(&server_ca, ExtendedKeyUsagePurpose::ServerAuth),
        &client_ca,
    );
    let server = Server::start(files.tls_files(false));
    let agent = client(&server_ca, None);
    assert_eq!(health(&agent, &server).unwrap(), 200);

    // Only the certificate is renewed: its key is not the one on disk.
    let renewed = leaf(&server_ca, ExtendedKeyUsagePurpose::ServerAuth);
    write_replacing(&files.cert, &renewed.cert);

    let refused = server.certificates.reload().unwrap_err();
    assert!(
        matches!(&refused, TlsError::KeyMismatch { cert, .. } if cert == &files.cert),
        "{refused}"
    );
    assert!(refused.to_string().contains("server.key"), "{refused}");
    assert_eq!(health(&agent, &server).unwrap(), 200);
    assert_eq!(health(&client(&server_ca, None), &server).unwrap(), 200);
}

#[test]
fn unreadable_or_empty_files_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = TlsFiles {
        cert: dir.path().join("absent.crt"),
        key: dir.path().join("absent.key"),
        client_ca: None,
    };
    let error = Certificates::load(missing).unwrap_err();
    assert!(matches!(error, TlsError::Read { .. }), "{error}");
    assert!(error.to_string().contains("absent.crt"), "{error}");

    let empty = dir.path().join("empty.crt");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let error = Certificates::load(TlsFiles {
        cert: empty,
        key: dir.path().join("absent.key"),
        client_ca: None,
    })
    .unwrap_err();
    assert!(
        matches!(error, TlsError::Pem { expected, .. } if expected == "certificate chain"),
        "{error}"
    );
}
